package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"litequant/core/npy"
)

// The outlier sample of TestQuantizeOutlierSampleWarning under each
// method: the text report names the method (and auto's picks and kept
// model), the JSON report has calibration.method, and a method that clips
// the outlier's values leaves no warning about it.
func TestQuantizeCalibrationMethods(t *testing.T) {
	dir := t.TempDir()
	in := fcModelFile(t, dir, 32)
	r := rand.New(rand.NewPCG(3, 4))
	v := make([]float32, 64*64)
	for i := range v {
		v[i] = 2*r.Float32() - 1
		if i/64 == 5 && i%64 < 2 {
			v[i] *= 40 // two values of sample 5
		}
	}
	cal := filepath.Join(dir, "calib.npy")
	if err := npy.WriteFile(cal, npy.FromFloat32([]int{64, 64}, v)); err != nil {
		t.Fatal(err)
	}
	out, rep := filepath.Join(dir, "out.tflite"), filepath.Join(dir, "r.json")
	for _, c := range []struct {
		args []string
		line string
		warn int // 1: warns (min/max), 0: no warning, -1: either, but a warning says what the method kept
	}{
		{nil, "", 1},
		{[]string{"--calibration", "percentile", "--percentile", "99.9"}, "ranges: percentile 99.9", 0},
		{[]string{"--calibration", "entropy"}, "ranges: entropy", -1},
		{[]string{"--calibration", "auto"}, "ranges: auto; per tensor (least quantization error):", -1},
		{[]string{"--calibration", "auto", "--verify-split", "0.25"}, "; whole model kept: ", -1},
	} {
		args := append([]string{"quantize", "--mode", "int8", "--calib", cal, "--report", rep, "-o", out}, c.args...)
		status, stdout, stderr := runCmd(append(args, in)...)
		if status != 0 {
			t.Fatalf("%v: %s", c.args, stderr)
		}
		if c.line != "" && !strings.Contains(stdout, c.line) || c.line == "" && strings.Contains(stdout, "ranges:") {
			t.Errorf("%v: want %q in\n%s", c.args, c.line, stdout)
		}
		got := strings.Contains(stdout, "set by a few samples")
		if c.warn >= 0 && got != (c.warn == 1) || c.warn < 0 && got && !strings.Contains(stdout, "kept a range reaching") {
			t.Errorf("%v: outlier warning %v, want %d:\n%s", c.args, got, c.warn, stdout)
		}
		js, err := os.ReadFile(rep)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Calibration struct {
				Method string `json:"method"`
			} `json:"calibration"`
		}
		if err := json.Unmarshal(js, &r); err != nil {
			t.Fatal(err)
		}
		want := "minmax"
		if len(c.args) > 1 {
			want = c.args[1]
		}
		if r.Calibration.Method != want {
			t.Errorf("%v: calibration.method %q", c.args, r.Calibration.Method)
		}
	}
}
