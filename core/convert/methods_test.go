package convert

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"litequant/core/samples"
)

// TestMethodsReuseStats: the statistics of one calibration, through the
// cache encoding (the browser's IndexedDB entry), serve every method and
// percentile without a forward pass; min/max gives the same bytes as
// leaving the method unset; the report names the method.
func TestMethodsReuseStats(t *testing.T) {
	model := imageNet()
	files := []samples.File{pixels(t, 12)}
	first, err := Convert(context.Background(), Request{Model: model, Calib: files, Options: Options{Mode: "int8"}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Report.Calibration.Method != "minmax" {
		t.Errorf("default method %q", first.Report.Calibration.Method)
	}
	enc, err := EncodeStats(first.Stats)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(enc, []byte(`"hist":{"exp":`)) {
		t.Fatalf("the cached statistics hold no histograms: %.300s", enc)
	}
	for _, tc := range []struct {
		mode       Mode
		method     string
		percentile float64
	}{
		{"int8", "minmax", 0}, {"int8", "percentile", 0}, {"int8", "percentile", 90}, {"int8", "mse", 0}, {"int8", "entropy", 0}, {"int8", "auto", 0},
		{"int16x8", "percentile", 99}, {"int16x8", "mse", 0}, {"int16x8", "entropy", 0}, {"int16x8", "auto", 0},
		{"uint8", "mse", 0}, {"uint8", "auto", 99.9},
	} {
		st, err := DecodeStats(enc)
		if err != nil {
			t.Fatal(err)
		}
		var phases []string
		opts := Options{Mode: tc.mode, Calibration: tc.method, Percentile: tc.percentile}
		if CalibrationKey("b", model, files, opts) != CalibrationKey("b", model, files, Options{Mode: "int8"}) {
			t.Errorf("%+v: the method changes the calibration key", opts)
		}
		res, err := Convert(context.Background(), Request{Model: model, Calib: files, Stats: st, Options: opts,
			Progress: func(p Progress) { phases = append(phases, p.Phase) }})
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		if strings.Contains(strings.Join(phases, ","), "calibrating") {
			t.Errorf("%+v: calibrated again: %v", opts, phases)
		}
		c := res.Report.Calibration
		if !c.Cached || c.Method != tc.method {
			t.Errorf("%+v: calibration report %+v", opts, c)
		}
		if tc.method == "auto" {
			if len(c.Methods) == 0 || c.Auto == nil || c.Auto.Kept != "auto" || !strings.Contains(c.Auto.Note, "no verification samples") {
				t.Errorf("%+v: auto's report %+v %+v", opts, c.Methods, c.Auto)
			}
			for _, ch := range c.Methods {
				if ch.Tensor == "" || ch.MSE > ch.MinMaxMSE || !(ch.Min <= ch.Max) {
					t.Errorf("%+v: choice %+v", opts, ch)
				}
			}
		}
		if tc.mode == "int8" && tc.method == "minmax" && !bytes.Equal(res.Model, first.Model) {
			t.Error("--calibration minmax gave other bytes than the default")
		}
	}
}

// TestMethodsAutoVerified: with verification samples auto compares whole
// models and says which it kept.
func TestMethodsAutoVerified(t *testing.T) {
	model := imageNet()
	res, err := Convert(context.Background(), Request{Model: model, Calib: []samples.File{pixels(t, 12)},
		Options: Options{Mode: "int8", Calibration: "auto", VerifySplit: 0.25}})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Report.Calibration.Auto
	if a == nil || a.Note != "" || len(a.Candidates) != 5 || res.Report.Verification == nil {
		t.Fatalf("auto check %+v, verification %+v", a, res.Report.Verification)
	}
	kept := false
	for _, c := range a.Candidates {
		kept = kept || c.Method == a.Kept
		if len(c.Outputs) != 1 || c.Error != "" {
			t.Errorf("candidate %+v", c)
		}
	}
	if !kept {
		t.Errorf("kept %q is no candidate", a.Kept)
	}
}

func TestMethodErrors(t *testing.T) {
	model := imageNet()
	files := []samples.File{pixels(t, 2)}
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Mode: "int8", Calibration: "histogram"}, `--calibration "histogram" is not a method: want one of minmax, percentile, mse, entropy, auto`},
		{Options{Mode: "int8", Calibration: "percentile", Percentile: 0.0 - 5}, "--percentile must be in (0, 100], got -5"},
		{Options{Mode: "int8", Calibration: "percentile", Percentile: 101}, "--percentile must be in (0, 100], got 101"},
		{Options{Mode: "int8", Calibration: "entropy", Percentile: 99}, "--percentile applies to --calibration percentile or auto, not --calibration entropy"},
		{Options{Mode: "int8", Percentile: 99}, "not --calibration minmax"},
		{Options{Mode: "float16", Calibration: "mse"}, "--calibration applies to the full-integer modes (int8, int16x8, uint8), not --mode float16"},
	} {
		_, err := Convert(context.Background(), Request{Model: model, Calib: files, Options: c.opts})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: got %v, want %q", c.opts, err, c.want)
		}
	}
}
