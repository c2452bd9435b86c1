package convert

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"

	"litequant/core/samples"
)

// Cache keys name the outcome of a conversion by the content that decides
// it, so a front end can keep results and calibration statistics (the
// browser keeps them in IndexedDB) and never repeat the expensive step for
// the same input. A key is the hex SHA-256 of a framed stream of parts:
// each part is a one-byte tag, its length as a little-endian uint64 and its
// bytes, so no two different inputs share a stream.
//
// build names the converter's build (the browser uses the SHA-256 of its
// WebAssembly module): a new build gives new keys, so a fixed bug never
// serves a stale result.

// ResultKey returns the key of the result of converting model with files
// and o: every part of the request and every option counts.
func ResultKey(build string, model []byte, files []samples.File, o Options) string {
	o.Mode = o.EffectiveMode()
	o = o.resolvedMethod()
	opts, err := json.Marshal(o)
	if err != nil {
		panic("convert: options do not encode: " + err.Error()) // plain data: cannot happen
	}
	h := sha256.New()
	part(h, 'v', []byte("litequant result v1"))
	part(h, 'b', []byte(build))
	part(h, 'm', model)
	// Samples only enter conversions that calibrate: a dynamic request
	// rejects them, so they never make a different result there.
	filesPart(h, files)
	part(h, 'o', opts)
	return hex.EncodeToString(h.Sum(nil))
}

// CalibrationKey returns the key of the calibration statistics of model on
// files under o. Only the settings that change the statistics count
// (CalibrationSettings): requests that differ in output options alone (I/O
// types, skip lists, integer-only, ...) share their calibration.
func CalibrationKey(build string, model []byte, files []samples.File, o Options) string {
	cs := o.CalibrationSettings()
	cs.ModelNormalization = modelNormalization(model, o)
	settings, err := json.Marshal(cs)
	if err != nil {
		panic("convert: calibration settings do not encode: " + err.Error())
	}
	h := sha256.New()
	part(h, 'v', []byte("litequant calibration v1"))
	part(h, 'b', []byte(build))
	part(h, 'm', model)
	filesPart(h, files)
	part(h, 'c', settings)
	return hex.EncodeToString(h.Sum(nil))
}

// CalibrationSettings are the options that change calibration statistics:
// which samples are used and how image pixels become input values. An
// option added later that changes what calibration records (another
// sample normalisation, say) must be added here, or the cache would hand
// out statistics computed under other settings.
type CalibrationSettings struct {
	CalibCount int     `json:"calib_count"`
	ImageMean  float32 `json:"image_mean"`
	ImageStd   float32 `json:"image_std"`
	// VerifySplit decides which samples calibrate.
	VerifySplit float64 `json:"verify_split,omitempty"`
	// ModelNormalization is the model metadata's image normalization,
	// which takes the place of ImageMean/ImageStd when the options leave
	// them unset (set by CalibrationKey, which has the model).
	ModelNormalization string `json:"model_normalization,omitempty"`
	// InputShapes fix dynamic input dimensions, so the samples' sizes.
	InputShapes string `json:"input_shapes,omitempty"`
}

// CalibrationSettings returns o's calibration settings with the defaults
// resolved, so that spelling a default out gives the same key as leaving
// it unset. The calibration method and percentile are not among them:
// one calibration records what every method needs (histograms).
func (o Options) CalibrationSettings() CalibrationSettings {
	s := CalibrationSettings{CalibCount: o.CalibCount, ImageMean: o.ImageMean, ImageStd: o.ImageStd, VerifySplit: o.VerifySplit, InputShapes: strings.Join(o.InputShapes, " ")}
	if s.CalibCount == 0 {
		s.CalibCount = samples.MaxSamples
	}
	if s.ImageStd == 0 {
		if s.ImageMean == 0 {
			s.ImageMean = samples.DefaultImageMean
		}
		s.ImageStd = samples.DefaultImageStd
	}
	return s
}

func filesPart(h hash.Hash, files []samples.File) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(files)))
	part(h, 'n', n[:])
	for _, f := range files {
		// The name counts: the file kind falls back to its extension.
		part(h, 'f', []byte(f.Name))
		part(h, 'd', f.Data)
	}
}

func part(h hash.Hash, tag byte, b []byte) {
	var hdr [9]byte
	hdr[0] = tag
	binary.LittleEndian.PutUint64(hdr[1:], uint64(len(b)))
	h.Write(hdr[:])
	h.Write(b)
}
