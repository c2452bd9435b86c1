package convert

import (
	"context"
	"math"
	"os"
	"testing"
	"time"

	"litequant/core/fixtures"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/runtimetest/litert"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// TestTargetSQNRShared is issue 13's acceptance of the float fallback: on
// the shared iris_landmark and mobilenet float models in int8, calibrated
// on three quarters of the 48 shared image crops and verified on the other
// quarter (never calibrated on), --target-sqnr starts below the target,
// reaches it with a few operators left float, and the real runtime (the
// pinned TensorFlow Lite and LiteRT.js) agrees: the written model's
// outputs, measured against the float model run in the same runtime, are
// at the target too.
func TestTargetSQNRShared(t *testing.T) {
	fixtures.RequireShared(t)
	runtimetest.Require(t)
	if testing.Short() {
		t.Skip("quantizes and verifies mobilenet and iris_landmark tens of times")
	}
	r := litert.Start(t)
	cases := []struct {
		model  string
		target float64
		// maxFloat bounds the operators left float (issue 13: reached with
		// a list of float or int16 operators, not by giving the whole
		// model back).
		maxFloat int
	}{
		{"iris_landmark", 30, 12},
		{"mobilenet_v1_0.25_224_float", 20, 6},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			data, err := os.ReadFile(fixtures.Model(t, tc.model+".tflite"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			all, err := fixtures.Samples(m, tc.model+".tflite", 48)
			if err != nil {
				t.Fatal(err)
			}
			var cal, held []fixtures.Sample
			for i, s := range all {
				if i%4 == 3 {
					held = append(held, s)
				} else {
					cal = append(cal, s)
				}
			}
			calArr, heldArr := fixtures.Stack(cal), fixtures.Stack(held)
			start := time.Now()
			res, err := Convert(context.Background(), Request{Model: data,
				Calib:   []samples.File{npyFile(t, "calib.npy", calArr[0])},
				Verify:  []samples.File{npyFile(t, "held.npy", heldArr[0])},
				Options: Options{Mode: Int8, TargetSQNR: tc.target}})
			if err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			fr := res.Report.Fallback
			if fr == nil || !fr.Reached {
				t.Fatalf("fallback %+v", fr)
			}
			startWorst := math.Inf(1)
			for _, o := range fr.Start {
				startWorst = min(startWorst, float64(o.SQNR))
			}
			if startWorst >= tc.target {
				t.Fatalf("the int8 model is at %.1f dB before any fallback: the case does not test the fallback", startWorst)
			}
			if got := worstSQNR(res.Report.Verification); got < tc.target {
				t.Errorf("verification: worst output %.2f dB < target %g", got, tc.target)
			}
			if n := len(fr.FloatOps); n+len(fr.Int16Ops) == 0 || n > tc.maxFloat {
				t.Errorf("%d operators left float (%v), %d made int16, want 1..%d float or some int16", n, fr.FloatOps, len(fr.Int16Ops), tc.maxFloat)
			}
			// The pass report lists them float, with the reason.
			reasons := map[string]string{}
			for _, f := range res.Report.Quantize.FloatOps {
				reasons[f.Tensor] = f.Reason
			}
			for _, n := range fr.FloatOps {
				if reasons[n] != "left float for --target-sqnr" {
					t.Errorf("%q: report reason %q", n, reasons[n])
				}
			}
			last := fr.Steps[len(fr.Steps)-1]
			if last.Size != len(res.Model) || last.IntegerShare != integerShare(res.Report.Quantize) {
				t.Errorf("last step %+v, model %d bytes", last, len(res.Model))
			}
			// The real runtimes, each against its own float outputs.
			fOut := runtimetest.RunBytes(t, data, heldArr...)
			qOut := runtimetest.RunBytes(t, res.Model, heldArr...)
			lf, err := r.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			lfOut, err := lf.Run(heldArr...)
			lf.Close()
			if err != nil {
				t.Fatal(err)
			}
			lq, err := r.Load(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			lqOut, err := lq.Run(heldArr...)
			lq.Close()
			if err != nil {
				t.Fatal(err)
			}
			for k, o := range res.Report.Verification.Outputs {
				pinned, lite := sqnrOf(t, fOut[k], qOut[k]), sqnrOf(t, lfOut[k], lqOut[k])
				t.Logf("output %q: litequant %.2f dB, TensorFlow Lite %.2f dB, LiteRT.js %.2f dB", o.Name, float64(o.Metrics.SQNR), pinned, lite)
				// The runtimes' float kernels (the operators left float)
				// round differently from litequant's interpreter: measured,
				// iris's output_iris is 30.01 dB in litequant and LiteRT.js,
				// 29.95 in the pinned runtime; mobilenet 20.53 in litequant,
				// 20.17 in the pinned runtime, 21.45 in LiteRT.js. A quarter
				// dB of slack under the target, 1 dB between them.
				if pinned < tc.target-0.25 || lite < tc.target-0.25 {
					t.Errorf("output %q below the target %g dB in a real runtime: TensorFlow Lite %.2f, LiteRT.js %.2f", o.Name, tc.target, pinned, lite)
				}
				for _, rt := range []struct {
					name string
					sqnr float64
				}{{"TensorFlow Lite", pinned}, {"LiteRT.js", lite}} {
					if d := math.Abs(rt.sqnr - float64(o.Metrics.SQNR)); d > 1 {
						t.Errorf("output %q: %s %.2f dB, litequant's verification %.2f dB", o.Name, rt.name, rt.sqnr, float64(o.Metrics.SQNR))
					}
				}
			}
			actions := map[string]int{}
			for _, s := range fr.Steps {
				actions[s.Action]++
			}
			t.Logf("%s int8 --target-sqnr %g: start %.1f dB, %d steps (%v; %d tried back), %d left float %v, %d int16 %v, %.0f%% integer, %d bytes, %.1f s (fallback %.1f s)",
				tc.model, tc.target, startWorst, len(fr.Steps), actions, fr.Tried, len(fr.FloatOps), fr.FloatOps, len(fr.Int16Ops), fr.Int16Ops, 100*last.IntegerShare, len(res.Model), elapsed.Seconds(), fr.ElapsedMS/1000)
		})
	}
}

// sqnrOf is 10·log10(Σ ref² / Σ (got − ref)²) over two float32 arrays.
func sqnrOf(t *testing.T, ref, got *npy.Array) float64 {
	t.Helper()
	a, err := ref.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	b, err := got.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d values against %d", len(b), len(a))
	}
	var sig, noise float64
	for i := range a {
		d := float64(b[i]) - float64(a[i])
		sig += float64(a[i]) * float64(a[i])
		noise += d * d
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}
