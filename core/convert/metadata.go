package convert

import (
	"fmt"
	"path"
	"strings"

	"litequant/core/metadata"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// MetadataReport is the report's account of the model's TFLite metadata:
// where the image normalization of the samples came from, which tensor
// metadata the conversion updated, and the associated files kept.
type MetadataReport struct {
	// Normalization says what image samples were normalized with and
	// why: the options, the model's NormalizationOptions, or the 127.5
	// default.
	Normalization string `json:"normalization,omitempty"`
	// Updated names the input/output tensor metadata changed because the
	// tensor's type changed (their stats, as TFLite's metadata writer
	// sets them).
	Updated []string `json:"updated,omitempty"`
	// Files are the associated files (label files) kept in the output.
	Files []string `json:"files,omitempty"`
	// Warning is set when the metadata could not be read or updated; the
	// conversion goes on without it.
	Warning string `json:"warning,omitempty"`
}

// sampleOptions are the image normalization options for m's samples: the
// options' image mean and std when set, else the model's metadata
// NormalizationOptions, else the defaults. note says which.
func sampleOptions(m *tflite.Model, o Options, pixels bool) (so samples.Options, note string) {
	so = samples.Options{CalibCount: o.CalibCount, ImageMean: o.ImageMean, ImageStd: o.ImageStd, Uint8AsPixels: pixels}
	if o.ImageMean != 0 || o.ImageStd != 0 {
		return so, fmt.Sprintf("image mean %g, std %g (from the options)", o.ImageMean, orDefault(o.ImageStd, samples.DefaultImageStd))
	}
	info, err := metadata.Read(m, nil)
	if mean, std, input, ok := info.Normalization(); err == nil && ok {
		so.ImageMeans, so.ImageStds = mean, std
		return so, fmt.Sprintf("image mean %v, std %v per channel (from the model's metadata, NormalizationOptions of input %d)", mean, std, input)
	}
	return so, fmt.Sprintf("image mean %g, std %g (the default; the model's metadata has no NormalizationOptions)", samples.DefaultImageMean, samples.DefaultImageStd)
}

func orDefault(v, d float32) float32 {
	if v == 0 {
		return d
	}
	return v
}

// metaIOTypes are the types of the first subgraph's inputs and outputs.
func metaIOTypes(m *tflite.Model) (in, out []fb.TensorType) {
	if len(m.Subgraphs) == 0 {
		return nil, nil
	}
	sg := m.Subgraphs[0]
	for _, i := range sg.Inputs {
		in = append(in, sg.Tensors[i].Type)
	}
	for _, o := range sg.Outputs {
		out = append(out, sg.Tensors[o].Type)
	}
	return in, out
}

// updateMetadata brings m's metadata in line with the quantized model
// (whose I/O types were in, out before), into r.
func updateMetadata(m *tflite.Model, in, out []fb.TensorType, r *MetadataReport) {
	updated, err := metadata.Update(m, in, out)
	if err != nil {
		r.Warning = err.Error()
		return
	}
	r.Updated = updated
}

// hasImages says whether the set holds image files (normalized samples).
func hasImages(set *samples.Set) bool {
	for _, k := range set.Summary().Kinds {
		if k.Kind == "image" {
			return true
		}
	}
	return false
}

// keepFiles appends the input's associated files (its zip) to the output.
func keepFiles(in, out []byte, r *MetadataReport) ([]byte, error) {
	kept, names, err := metadata.KeepFiles(in, out)
	if err != nil {
		r.Warning = err.Error()
		return out, nil
	}
	r.Files = names
	return kept, nil
}

// modelNormalization describes the normalization the model's metadata
// gives image samples when o leaves the image mean and std unset ("" when
// it gives none, or they are set), for the calibration cache key.
func modelNormalization(model []byte, o Options) string {
	if o.ImageMean != 0 || o.ImageStd != 0 {
		return ""
	}
	m, err := tflite.Load(model)
	if err != nil {
		return ""
	}
	info, err := metadata.Read(m, nil)
	if mean, std, _, ok := info.Normalization(); err == nil && ok {
		return fmt.Sprintf("mean %v std %v", mean, std)
	}
	return ""
}

// cachedNormalization says, for statistics from the cache, how the image
// samples they were computed on were normalized (the cache key holds it).
func cachedNormalization(m *tflite.Model, req Request, meta *MetadataReport) {
	if meta.Normalization != "" {
		return
	}
	for _, f := range req.Calib {
		switch strings.ToLower(path.Ext(f.Name)) {
		case ".png", ".jpg", ".jpeg", ".gif", ".bmp":
			_, pixels := ModelInputs(m)
			_, meta.Normalization = sampleOptions(m, req.Options, pixels)
			return
		}
	}
}

// saveWithMetadata writes quantized model m, made from the model bytes in,
// with its TFLite metadata updated for the I/O types the quantization
// changed and in's associated files kept (every model a conversion writes,
// the fallback's steps too, goes through here).
func saveWithMetadata(in []byte, m *tflite.Model, typesIn, typesOut []fb.TensorType, meta *MetadataReport) ([]byte, error) {
	updateMetadata(m, typesIn, typesOut, meta)
	b, err := m.Save()
	if err != nil {
		return nil, err
	}
	return keepFiles(in, b, meta)
}
