package convert

import (
	"testing"

	"litequant/core/samples"
)

func TestCacheKeys(t *testing.T) {
	model := []byte("model")
	files := []samples.File{{Name: "a.png", Data: []byte{1, 2}}, {Name: "b.png", Data: []byte{3}}}
	base := Options{Mode: "int8", CalibCount: 10}
	rk := ResultKey("b1", model, files, base)
	ck := CalibrationKey("b1", model, files, base)
	if len(rk) != 64 || len(ck) != 64 || rk == ck {
		t.Fatalf("keys %q %q", rk, ck)
	}

	tests := []struct {
		name              string
		build             string
		model             []byte
		files             []samples.File
		opts              Options
		sameResult, sameC bool
	}{
		{"same request", "b1", model, files, base, true, true},
		{"other build", "b2", model, files, base, false, false},
		{"other model", "b1", []byte("model2"), files, base, false, false},
		{"renamed sample", "b1", model, []samples.File{{Name: "a.npy", Data: []byte{1, 2}}, files[1]}, base, false, false},
		{"sample bytes moved between files", "b1", model, []samples.File{{Name: "a.png", Data: []byte{1}}, {Name: "b.png", Data: []byte{2, 3}}}, base, false, false},
		{"sample order", "b1", model, []samples.File{files[1], files[0]}, base, false, false},
		{"output option only", "b1", model, files, Options{Mode: "int8", CalibCount: 10, SkipOps: "CONV_2D"}, false, true},
		{"other mode", "b1", model, files, Options{Mode: "int16x8", CalibCount: 10}, false, true},
		{"calib count", "b1", model, files, Options{Mode: "int8", CalibCount: 11}, false, false},
		{"image std", "b1", model, files, Options{Mode: "int8", CalibCount: 10, ImageStd: 1}, false, false},
		{"method", "b1", model, files, Options{Mode: "int8", CalibCount: 10, Calibration: "mse"}, false, true},
		{"percentile", "b1", model, files, Options{Mode: "int8", CalibCount: 10, Calibration: "percentile", Percentile: 99}, false, true},
		{"default method spelled out", "b1", model, files, Options{Mode: "int8", CalibCount: 10, Calibration: "minmax"}, true, true},
		{"image defaults spelled out", "b1", model, files, Options{Mode: "int8", CalibCount: 10, ImageMean: 127.5, ImageStd: 127.5}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ResultKey(tc.build, tc.model, tc.files, tc.opts)
			c := CalibrationKey(tc.build, tc.model, tc.files, tc.opts)
			if (r == rk) != tc.sameResult {
				t.Errorf("result key same=%v, want %v", r == rk, tc.sameResult)
			}
			if (c == ck) != tc.sameC {
				t.Errorf("calibration key same=%v, want %v", c == ck, tc.sameC)
			}
		})
	}
	if ResultKey("b", model, nil, Options{}) != ResultKey("b", model, nil, Options{Mode: "dynamic"}) {
		t.Error("the default mode spelled out changes the result key")
	}
	if ResultKey("b", model, files, Options{Mode: "int8", Calibration: "percentile"}) != ResultKey("b", model, files, Options{Mode: "int8", Calibration: "percentile", Percentile: 99.99}) {
		t.Error("the default percentile spelled out changes the result key")
	}
	if (Options{}).CalibrationSettings() != (Options{CalibCount: samples.MaxSamples, ImageMean: 127.5, ImageStd: 127.5}).CalibrationSettings() {
		t.Error("calibration defaults not resolved")
	}
}
