// Package metadata reads and updates the TensorFlow Lite model metadata
// that Model Maker, TF Hub and MediaPipe models carry: the TFLITE_METADATA
// buffer (a ModelMetadata flatbuffer, core/schema/metadata_schema.fbs) with
// each input's normalization (mean and std per channel), image size and
// colour space, and the associated files (label files) packed as a zip
// appended to the model.
//
// The bytes are untrusted: they pass core/schema/metaverify before the
// flatc package metadatafb reads them.
package metadata

import (
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"

	mfb "litequant/core/schema/metadatafb"
	"litequant/core/schema/metaverify"
	"litequant/core/tflite"
)

// Name is the name of the model metadata entry holding the ModelMetadata
// flatbuffer.
const Name = "TFLITE_METADATA"

// identifier is metadata_schema.fbs's file_identifier.
const identifier = "M001"

// Info is what the page and the CLI use of a model's metadata.
type Info struct {
	Name             string   `json:"name,omitempty"`
	Description      string   `json:"description,omitempty"`
	Version          string   `json:"version,omitempty"`
	MinParserVersion string   `json:"min_parser_version,omitempty"`
	Inputs           []Tensor `json:"inputs"`
	Outputs          []Tensor `json:"outputs"`
	// Files are the associated files the metadata names (model-wide and
	// per tensor), Packed the names of the files in the zip appended to
	// the model.
	Files  []File   `json:"files,omitempty"`
	Packed []string `json:"packed,omitempty"`
	// Labels are the lines of the first output's TENSOR_AXIS_LABELS file
	// (read from the appended zip), LabelsFile its name.
	Labels     []string `json:"labels,omitempty"`
	LabelsFile string   `json:"labels_file,omitempty"`
}

// Tensor is one input's or output's metadata.
type Tensor struct {
	Name string `json:"name,omitempty"`
	// Mean and Std are the NormalizationOptions: values become
	// (x - mean) / std per channel (one value: every channel).
	Mean []float32 `json:"mean,omitempty"`
	Std  []float32 `json:"std,omitempty"`
	// ColorSpace ("RGB", "GRAYSCALE") and Width, Height from
	// ImageProperties.
	ColorSpace string `json:"color_space,omitempty"`
	Width      uint32 `json:"width,omitempty"`
	Height     uint32 `json:"height,omitempty"`
	// Min and Max are the tensor's Stats.
	Min []float32 `json:"min,omitempty"`
	Max []float32 `json:"max,omitempty"`
}

// File is an associated file the metadata names.
type File struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Tensor string `json:"tensor,omitempty"` // the output it labels, "" for the model
}

// Raw returns the model's TFLITE_METADATA bytes, nil when it has none.
func Raw(m *tflite.Model) []byte {
	for _, md := range m.Metadata {
		if md != nil && md.Name == Name && int(md.Buffer) < len(m.Buffers) && m.Buffers[md.Buffer] != nil {
			return m.Buffers[md.Buffer].Data
		}
	}
	return nil
}

// parse verifies raw and unpacks it.
func parse(raw []byte) (md *mfb.ModelMetadataT, err error) {
	if err := metaverify.Verify(raw); err != nil {
		return nil, fmt.Errorf("%s is malformed: %w", Name, err)
	}
	defer func() {
		if r := recover(); r != nil { // a verifier gap, not a code path
			md, err = nil, fmt.Errorf("%s is malformed: reading it failed: %v", Name, r)
		}
	}()
	return mfb.GetRootAsModelMetadata(raw, 0).UnPack(), nil
}

// pack encodes md with the metadata file identifier.
func pack(md *mfb.ModelMetadataT) []byte {
	b := flatbuffers.NewBuilder(1024)
	b.FinishWithFileIdentifier(md.Pack(b), []byte(identifier))
	return b.FinishedBytes()
}

// Read returns the metadata of m; file is the whole model file (the
// appended zip of associated files is read from it). It returns nil, nil
// for a model without metadata.
func Read(m *tflite.Model, file []byte) (*Info, error) {
	raw := Raw(m)
	if raw == nil {
		return nil, nil
	}
	md, err := parse(raw)
	if err != nil {
		return nil, err
	}
	info := &Info{Name: md.Name, Description: md.Description, Version: md.Version, MinParserVersion: md.MinParserVersion,
		Inputs: []Tensor{}, Outputs: []Tensor{}}
	for _, f := range md.AssociatedFiles {
		if f != nil {
			info.Files = append(info.Files, File{Name: f.Name, Type: mfb.EnumNamesAssociatedFileType[f.Type]})
		}
	}
	if len(md.SubgraphMetadata) > 0 && md.SubgraphMetadata[0] != nil {
		sg := md.SubgraphMetadata[0]
		for _, t := range sg.InputTensorMetadata {
			info.Inputs = append(info.Inputs, tensorInfo(t))
		}
		for _, t := range sg.OutputTensorMetadata {
			info.Outputs = append(info.Outputs, tensorInfo(t))
			if t == nil {
				continue
			}
			for _, f := range t.AssociatedFiles {
				if f == nil {
					continue
				}
				info.Files = append(info.Files, File{Name: f.Name, Type: mfb.EnumNamesAssociatedFileType[f.Type], Tensor: t.Name})
				if f.Type == mfb.AssociatedFileTypeTENSOR_AXIS_LABELS && info.LabelsFile == "" {
					info.LabelsFile = f.Name
				}
			}
		}
	}
	files, err := packedFiles(file)
	if err != nil {
		return info, err
	}
	for _, f := range files {
		info.Packed = append(info.Packed, f.Name)
	}
	if info.LabelsFile != "" {
		if info.Labels, err = labels(files, info.LabelsFile); err != nil {
			return info, err
		}
	}
	return info, nil
}

func tensorInfo(t *mfb.TensorMetadataT) Tensor {
	var out Tensor
	if t == nil {
		return out
	}
	out.Name = t.Name
	for _, pu := range t.ProcessUnits {
		if pu == nil || pu.Options == nil || pu.Options.Type != mfb.ProcessUnitOptionsNormalizationOptions {
			continue
		}
		if n, ok := pu.Options.Value.(*mfb.NormalizationOptionsT); ok && n != nil {
			out.Mean, out.Std = n.Mean, n.Std
		}
	}
	if c := t.Content; c != nil && c.ContentProperties != nil && c.ContentProperties.Type == mfb.ContentPropertiesImageProperties {
		if ip, ok := c.ContentProperties.Value.(*mfb.ImagePropertiesT); ok && ip != nil {
			if ip.ColorSpace != mfb.ColorSpaceTypeUNKNOWN {
				out.ColorSpace = mfb.EnumNamesColorSpaceType[ip.ColorSpace]
			}
			if ip.DefaultSize != nil {
				out.Width, out.Height = ip.DefaultSize.Width, ip.DefaultSize.Height
			}
		}
	}
	if t.Stats != nil {
		out.Min, out.Max = t.Stats.Min, t.Stats.Max
	}
	return out
}

// Normalization returns the first input's normalization with a mean and
// a std, and that input's index; ok is false when no input has one.
func (i *Info) Normalization() (mean, std []float32, input int, ok bool) {
	if i == nil {
		return nil, nil, 0, false
	}
	for k, in := range i.Inputs {
		if len(in.Mean) > 0 && len(in.Std) > 0 {
			return in.Mean, in.Std, k, true
		}
	}
	return nil, nil, 0, false
}
