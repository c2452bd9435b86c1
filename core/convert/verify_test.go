package convert

import (
	"context"
	"math"
	"strings"
	"testing"

	"litequant/core/npy"
	"litequant/core/samples"
)

func TestVerifyOptionErrors(t *testing.T) {
	model := imageNet()
	files := []samples.File{pixels(t, 12)}
	cases := []struct {
		name string
		req  Request
		want string
	}{
		{"split outside (0, 1)", Request{Model: model, Calib: files, Options: Options{Mode: Int8, VerifySplit: 1.5}}, "--verify-split must be a fraction between 0 and 1, got 1.5"},
		{"split in dynamic mode", Request{Model: model, Options: Options{Mode: Dynamic, VerifySplit: 0.2}}, "--verify-split holds back calibration samples, which --mode dynamic does not take"},
		{"two sources", Request{Model: model, Calib: files, Verify: files, Options: Options{Mode: Int8, VerifySplit: 0.2}}, "give one of --verify, --verify-split and --verify-random"},
		{"negative random", Request{Model: model, Options: Options{Mode: Float16, VerifyRandom: -1}}, "--verify-random must be between 1 and 500"},
		{"split too small", Request{Model: model, Calib: []samples.File{pixels(t, 2)}, Options: Options{Mode: Int8, VerifySplit: 0.1}}, "--verify-split 0.1 of 2 samples leaves no sample to hold back"},
		{"verify files of the wrong shape", Request{Model: model, Verify: []samples.File{npyFile(t, "odd.npy", npyFloat([]int{3, 5}))}, Options: Options{Mode: Float16}}, "--verify: "},
	}
	for _, tc := range cases {
		_, err := Convert(context.Background(), tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestVerifyFloat16Random: without samples, float16 verifies on random
// inputs, says so, and finds the float16 weights' small error.
func TestVerifyFloat16Random(t *testing.T) {
	res, err := Convert(context.Background(), Request{Model: imageNet(), Options: Options{Mode: Float16, MinWeightElements: 1, VerifyRandom: 5}})
	if err != nil {
		t.Fatal(err)
	}
	v := res.Report.Verification
	if v == nil || v.Error != "" || v.Samples != 5 || !strings.Contains(v.Source, "5 random inputs") || !strings.Contains(v.Source, `"x" in [-1, 1] (default)`) {
		t.Fatalf("verification %+v", v)
	}
	if len(v.Outputs) != 1 || len(v.Layers) != 1 || v.Layers[0].Operator != "CONV_2D" || v.Layers[0].Isolated == nil {
		t.Fatalf("outputs %+v layers %+v", v.Outputs, v.Layers)
	}
	// float16 weights: about 60-70 dB, finite (not exact).
	if s := float64(v.Outputs[0].Metrics.SQNR); math.IsInf(s, 0) || s < 50 {
		t.Errorf("float16 SQNR %v", s)
	}
	var text strings.Builder
	if err := v.WriteText(&text); err != nil || !strings.Contains(text.String(), "verification on 5 random inputs") {
		t.Errorf("text %q, %v", text.String(), err)
	}
}

// TestVerifySplitHoldsBack: the held-back samples are not calibrated on,
// and cached statistics (computed on the same split) give the same model
// and verification.
func TestVerifySplitHoldsBack(t *testing.T) {
	req := Request{Model: imageNet(), Calib: []samples.File{pixels(t, 16)}, Options: Options{Mode: Int8, VerifySplit: 0.25}}
	res, err := Convert(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Report.Calibration; c == nil || c.Samples != 12 {
		t.Fatalf("calibration %+v, want 12 samples (16 less 4 held back)", c)
	}
	v := res.Report.Verification
	if v == nil || v.Samples != 4 || !strings.Contains(v.Source, "4 held-back calibration samples") {
		t.Fatalf("verification %+v", v)
	}
	if v.Error != "" {
		t.Fatalf("verification could not run: %s", v.Error)
	}
	if len(v.Outputs) != 1 || float64(v.Outputs[0].Metrics.SQNR) < 20 {
		t.Errorf("int8 1×1 convolution on held-back samples: %+v", v.Outputs[0].Metrics)
	}
	req.Stats = res.Stats
	again, err := Convert(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Model) != string(res.Model) || again.Report.Verification == nil || again.Report.Verification.Samples != 4 {
		t.Errorf("cached run: verification %+v", again.Report.Verification)
	}
	if CalibrationKey("b", req.Model, req.Calib, req.Options) == CalibrationKey("b", req.Model, req.Calib, Options{Mode: Int8}) {
		t.Error("the split does not enter the calibration key")
	}
}

func npyFloat(shape []int) *npy.Array {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return npy.FromFloat32(shape, make([]float32, n))
}
