package convert

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
)

// cancelNet is x [1, 16] -> FULLY_CONNECTED "a" -> ya, and x -> "h" ->
// "yb": h is x plus an offset of 100 and yb takes the offset away again,
// so yb is small beside the range h's int8 steps are cut from, and int8
// ruins it (catastrophic cancellation), while ya is fine.
func cancelNet() []byte {
	f := fb.TensorTypeFLOAT32
	b := modelbuild.New()
	x := b.Tensor("x", f, 1, 16)
	wa := make([]float32, 4*16)
	for i := range wa {
		wa[i] = float32(i%7)/7 - 0.4
	}
	eye := make([]float32, 16*16)
	off, neg := make([]float32, 16), make([]float32, 4)
	for i := 0; i < 16; i++ {
		eye[i*16+i] = 1
		off[i] = 100
	}
	wb := make([]float32, 4*16)
	for i := range wb {
		wb[i] = float32(i%5)/5 - 0.3
	}
	for o := 0; o < 4; o++ {
		for i := 0; i < 16; i++ {
			neg[o] -= 100 * wb[o*16+i]
		}
	}
	fc := &fb.FullyConnectedOptionsT{}
	ya := b.Tensor("ya", f, 1, 4)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, fc, []int32{x, b.ConstFloat32("wa", []int32{4, 16}, wa), -1}, []int32{ya})
	h := b.Tensor("h", f, 1, 16)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, fc, []int32{x, b.ConstFloat32("eye", []int32{16, 16}, eye), b.ConstFloat32("off", []int32{16}, off)}, []int32{h})
	yb := b.Tensor("yb", f, 1, 4)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, fc, []int32{h, b.ConstFloat32("wb", []int32{4, 16}, wb), b.ConstFloat32("neg", []int32{4}, neg)}, []int32{yb})
	b.Inputs(x)
	b.Outputs(ya, yb)
	return b.Bytes()
}

// uniform returns n samples of [1, 16] uniform in [-1, 1).
func uniform(n int, seed uint64) *npy.Array {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float32, n*16)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	return npy.FromFloat32([]int{n, 16}, v)
}

// TestTargetSQNRBuilt: the int8 cancelNet misses 30 dB on yb; the
// fallback leaves float what yb needs (both of its operators: yb's own
// reads h's coarse int8 values otherwise), keeps "a" integer, and the
// pinned runtime gives the same figures.
func TestTargetSQNRBuilt(t *testing.T) {
	model := cancelNet()
	held := uniform(8, 2)
	req := Request{Model: model, Calib: []samples.File{npyFile(t, "calib.npy", uniform(32, 1))},
		Verify: []samples.File{npyFile(t, "held.npy", held)}}
	var runs []int // the distinct fallback counts, in order
	req.Progress = func(p Progress) {
		if p.Phase == "fallback" && (len(runs) == 0 || runs[len(runs)-1] != p.Done) {
			runs = append(runs, p.Done)
		}
	}
	cases := []struct {
		name      string
		target    float64
		reached   bool
		floatOps  []string
		int16Ops  []string
		steps     string // action:operator, in order
		share     float64
		warning   string
		integerOK bool // --integer-only passes
	}{
		// yb gains nothing in int16 (nor float: h's int8 steps are what
		// ruin it), ya neither; h in int16 reaches the target, and ya goes
		// back to integer; yb cannot (it would read h requantized to int8).
		{name: "reachable", target: 30, reached: true, floatOps: []string{"yb"}, int16Ops: []string{"h"}, steps: "float:yb float:ya int16:h integer:ya", share: 2.0 / 3},
		{name: "already met", target: 1, reached: true, floatOps: []string{}, steps: "", share: 1, integerOK: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runs = nil
			req.Options = Options{Mode: Int8, TargetSQNR: tc.target}
			res, err := Convert(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			fr := res.Report.Fallback
			if fr == nil || fr.Reached != tc.reached || strings.Join(fr.FloatOps, ",") != strings.Join(tc.floatOps, ",") || strings.Join(fr.Int16Ops, ",") != strings.Join(tc.int16Ops, ",") {
				t.Fatalf("fallback %+v, want reached %v, float %v, int16 %v", fr, tc.reached, tc.floatOps, tc.int16Ops)
			}
			var steps []string
			for _, s := range fr.Steps {
				steps = append(steps, s.Action+":"+s.Operator)
				if s.Builtin != "FULLY_CONNECTED" {
					t.Errorf("step %+v", s)
				}
			}
			if got := strings.Join(steps, " "); got != tc.steps {
				t.Errorf("steps %q, want %q", got, tc.steps)
			}
			forward := 0
			for _, s := range fr.Steps {
				if s.Action == "float" || s.Action == "int16" {
					forward++
				}
			}
			if len(runs) != forward+fr.Tried || (len(runs) > 0 && runs[len(runs)-1] != len(runs)) {
				t.Errorf("fallback progress counts %v for %d steps forward and %d tries back", runs, forward, fr.Tried)
			}
			var reasons []string
			for _, f := range res.Report.Quantize.FloatOps {
				reasons = append(reasons, f.Tensor+": "+f.Reason)
			}
			if want := len(tc.floatOps); len(reasons) != want || (want > 0 && reasons[0] != tc.floatOps[0]+": left float for --target-sqnr") {
				t.Errorf("report float ops %q", reasons)
			}
			if got := integerShare(res.Report.Quantize); math.Abs(got-tc.share) > 1e-9 {
				t.Errorf("integer share %v, want %v", got, tc.share)
			}
			if len(fr.Start) != 2 || (tc.target > 1 && float64(fr.Start[1].SQNR) >= tc.target) {
				t.Errorf("start %+v: yb should miss %g dB in int8", fr.Start, tc.target)
			}
			outs := res.Report.Verification.Outputs
			for _, l := range res.Report.Verification.Layers {
				if l.Isolated == nil {
					t.Errorf("layer %q of the model written has no isolated figures", l.Name)
				}
			}
			if worstSQNR(res.Report.Verification) < tc.target {
				t.Errorf("outputs %+v below %g dB", outs, tc.target)
			}
			// The pinned runtime agrees with the verification.
			runtimetest.Require(t)
			fOut := runtimetest.RunBytes(t, model, held)
			qOut := runtimetest.RunBytes(t, res.Model, held)
			for k, o := range outs {
				got := sqnrOf(t, fOut[k], qOut[k])
				if want := float64(o.Metrics.SQNR); !(math.IsInf(got, 1) && math.IsInf(want, 1)) && math.Abs(got-want) > 0.1 {
					t.Errorf("output %q: TensorFlow Lite %.2f dB, verification %.2f dB", o.Name, got, want)
				}
			}
			var text strings.Builder
			if err := fr.WriteText(&text); err != nil || !strings.Contains(text.String(), "reached after") {
				t.Errorf("text %q", text.String())
			}
			// --integer-only: the same target fails, naming the operators.
			req.Options.IntegerOnly = true
			_, err = Convert(context.Background(), req)
			req.Options.IntegerOnly = false
			switch {
			case tc.integerOK && err != nil:
				t.Errorf("--integer-only: %v", err)
			case !tc.integerOK && (err == nil || !strings.Contains(err.Error(), `--integer-only: --target-sqnr 30 needs 1 operator(s) left float: FULLY_CONNECTED "yb"`)):
				t.Errorf("--integer-only: err = %v", err)
			}
		})
	}
}

// TestFloatOpsOption: --float-ops alone keeps the operator float, and the
// report says why.
func TestFloatOpsOption(t *testing.T) {
	model := cancelNet()
	req := Request{Model: model, Calib: []samples.File{npyFile(t, "calib.npy", uniform(32, 1))},
		Options: Options{Mode: Int8, FloatOps: []string{"h"}}}
	res, err := Convert(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Report.Quantize.FloatOps {
		got = append(got, f.Tensor+": "+f.Reason)
	}
	if strings.Join(got, ";") != "h: asked with --float-ops" || res.Report.Quantize.IntegerOps != 2 {
		t.Errorf("float ops %v, %d integer", got, res.Report.Quantize.IntegerOps)
	}
}

func TestFallbackOptionErrors(t *testing.T) {
	model := cancelNet()
	cal := []samples.File{npyFile(t, "calib.npy", uniform(32, 1))}
	cases := []struct {
		name string
		req  Request
		want string
	}{
		{"target without verification samples", Request{Model: model, Calib: cal, Options: Options{Mode: Int8, TargetSQNR: 30}},
			"--target-sqnr 30 needs verification samples to measure on: give --verify PATH or --verify-split F"},
		{"negative target", Request{Model: model, Calib: cal, Options: Options{Mode: Int8, TargetSQNR: -3, VerifySplit: 0.25}},
			"--target-sqnr must be a positive number of dB, got -3"},
		{"target in dynamic mode", Request{Model: model, Options: Options{Mode: Dynamic, TargetSQNR: 30, VerifyRandom: 4}},
			"--target-sqnr applies to the full-integer modes"},
		{"float ops in float16 mode", Request{Model: model, Options: Options{Mode: Float16, FloatOps: []string{"h"}}},
			"--float-ops applies to the full-integer modes"},
		{"unknown operators", Request{Model: model, Calib: cal, Options: Options{Mode: Int8, FloatOps: []string{"h", "nope", "x"}}},
			`--float-ops: no operator writes "nope", "x" first`},
		{"int16 ops in int16x8 mode", Request{Model: model, Calib: cal, Options: Options{Mode: Int16x8, Int16Ops: []string{"h"}}},
			"--int16-ops applies to --mode int8 (mixed int8/int16 activations), not --mode int16x8"},
		{"int16 ops in dynamic mode", Request{Model: model, Options: Options{Mode: Dynamic, Int16Ops: []string{"h"}}},
			"--int16-ops applies to the full-integer modes"},
		{"unknown int16 ops", Request{Model: model, Calib: cal, Options: Options{Mode: Int8, Int16Ops: []string{"h", "nope"}}},
			`--int16-ops: no operator writes "nope" first`},
		{"int16 and float", Request{Model: model, Calib: cal, Options: Options{Mode: Int8, Int16Ops: []string{"h"}, FloatOps: []string{"h"}}},
			`--int16-ops: "h" is also in --float-ops`},
		{"float ops with --integer-only", Request{Model: model, Calib: cal, Options: Options{Mode: Int8, FloatOps: []string{"h"}, IntegerOnly: true}},
			"FULLY_CONNECTED (subgraph 0, operator 1: asked with --float-ops)"},
	}
	for _, tc := range cases {
		_, err := Convert(context.Background(), tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want %q on one line", tc.name, err, tc.want)
		}
	}
}

// TestTargetSQNRUnreachable: with int8 model input, the input's own
// quantization error stays whatever is left float, so 200 dB is never
// reached: a warning, and the best model found.
func TestTargetSQNRUnreachable(t *testing.T) {
	req := Request{Model: cancelNet(), Calib: []samples.File{npyFile(t, "calib.npy", uniform(32, 1))},
		Verify: []samples.File{npyFile(t, "held.npy", uniform(8, 2))}, Options: Options{Mode: Int8, InputType: "int8", TargetSQNR: 200}}
	res, err := Convert(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	fr := res.Report.Fallback
	if fr == nil || fr.Reached || len(fr.Steps) != 3 || fr.Best != 3 || strings.Join(fr.FloatOps, ",") != "yb,ya" || strings.Join(fr.Int16Ops, ",") != "h" {
		t.Fatalf("fallback %+v", fr)
	}
	// Leaving yb then ya float does not help yb (its input h stays int8);
	// the last operator cannot go float (the input would turn float), but
	// it can go int16, which gives yb its precision back: the last step is
	// the best, and is the one written.
	kept := fr.Start
	if fr.Best > 0 {
		kept = fr.Steps[fr.Best-1].Outputs
		if len(res.Model) != fr.Steps[fr.Best-1].Size {
			t.Errorf("the model written is not the best step's: %d bytes, step %+v", len(res.Model), fr.Steps[fr.Best-1])
		}
	}
	if worstSQNR(res.Report.Verification) != worstOf(kept) {
		t.Errorf("verification %+v, kept %+v", res.Report.Verification.Outputs, kept)
	}
	for _, s := range append([]FallbackStep{{Outputs: fr.Start}}, fr.Steps...) {
		if worstOf(s.Outputs) > worstOf(kept) {
			t.Errorf("step %+v beats the kept step %d", s, fr.Best)
		}
	}
	warned := false
	for _, w := range res.Report.Quantize.Warnings {
		warned = warned || strings.HasPrefix(w, "--target-sqnr 200 dB not reached: the best model found")
	}
	if !warned {
		t.Errorf("warnings %q", res.Report.Quantize.Warnings)
	}
}

func worstOf(outs []OutputSQNR) float64 {
	w := math.Inf(1)
	for _, o := range outs {
		w = min(w, float64(o.SQNR))
	}
	return w
}

// TestTargetSQNRCancel: cancelling during the fallback stops it with the
// context's error.
func TestTargetSQNRCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	req := Request{Model: cancelNet(), Calib: []samples.File{npyFile(t, "calib.npy", uniform(32, 1))},
		Verify: []samples.File{npyFile(t, "held.npy", uniform(8, 2))}, Options: Options{Mode: Int8, TargetSQNR: 30},
		Progress: func(p Progress) {
			if p.Phase == "fallback" {
				calls++
				cancel()
			}
		}}
	res, err := Convert(ctx, req)
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("err = %v, result %v", err, res)
	}
	if calls == 0 || calls > 2 {
		t.Errorf("%d fallback progress calls after the cancel, want it to stop at once", calls)
	}
}
