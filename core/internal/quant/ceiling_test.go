package quant

import (
	"math"
	"sort"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/internal/qparams"
	"litequant/core/interp"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/runtimetest/litert"
	fb "litequant/core/schema/tflitefb"
)

// These tests measure what limits mobilenet_v1_0.25_224 under full-integer
// quantization regardless of how weights are rounded, and check that the
// limits cited for issues 5 and 6 still hold (if one fails, the target it
// blocks may have become reachable: revisit it).

// splitEvenOdd returns the even samples (calibration) and the odd ones
// (judged).
func splitEvenOdd(s []fixtures.Sample) (even, odd []fixtures.Sample) {
	for i, x := range s {
		if i%2 == 0 {
			even = append(even, x)
		} else {
			odd = append(odd, x)
		}
	}
	return even, odd
}

// TestInt16SoftmaxCeiling: the runtime's int16 SOFTMAX (the same algorithm
// in current TensorFlow Lite) gives every class more than 10 below the
// largest logit exp(-10), about one output step, instead of ~0. Mobilenet
// has 1001 classes and most of them are that far below on a confident
// crop, so the sum is inflated by a few percent and every probability
// shrinks by as much. Fed mobilenet's exact float logits, that operator
// alone stays under the 30 dB for int16x8, in the pinned runtime
// and in current LiteRT alike.
func TestInt16SoftmaxCeiling(t *testing.T) {
	runtimetest.Require(t)
	if testing.Short() {
		t.Skip("runs mobilenet on 48 crops")
	}
	data, s := sharedSamples(t, "mobilenet_v1_0.25_224_float.tflite", 48)
	m := mustLoad(t, data)
	sg := m.Subgraphs[0]
	logitsT := -1
	for _, op := range sg.Operators {
		if m.Builtin(op) == fb.BuiltinOperatorSOFTMAX {
			logitsT = int(op.Inputs[0])
		}
	}
	if logitsT < 0 {
		t.Fatal("mobilenet has no SOFTMAX")
	}
	it, err := interp.New(m, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cur []float32
	it.SetObserver(func(x *interp.Tensor) {
		if x.Index == logitsT {
			cur = append([]float32(nil), x.F32()...)
		}
	})
	var logits []fixtures.Sample
	far := 0
	for _, x := range s {
		if err := it.SetInput(0, x[0].Shape, x[0].Data); err != nil {
			t.Fatal(err)
		}
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		if len(cur) != 1001 {
			t.Fatalf("logits: %d values, want 1001", len(cur))
		}
		top := float32(math.Inf(-1))
		for _, v := range cur {
			top = max(top, v)
		}
		for _, v := range cur {
			if v < top-10 {
				far++
			}
		}
		logits = append(logits, fixtures.Sample{npy.FromFloat32([]int{1, 1001}, cur)})
	}
	b := modelbuild.New()
	in := b.Tensor("logits", fb.TensorTypeFLOAT32, 1, 1001)
	out := b.Tensor("probabilities", fb.TensorTypeFLOAT32, 1, 1001)
	b.Op(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, []int32{in}, []int32{out})
	b.Inputs(in)
	b.Outputs(out)
	softmax := b.Bytes()
	even, odd := splitEvenOdd(logits)
	st := calibrate(t, mustLoad(t, softmax), even)
	ref := runtimetest.RunBytes(t, softmax, stack(odd)...)
	got := map[FullMode]float64{}
	var int16Model []byte
	for _, mode := range []FullMode{ModeInt8, ModeInt16x8} {
		q, _ := quantizeFull(t, softmax, mode, st, Options{IntegerOnly: true})
		got[mode] = sqnr(t, ref, runtimetest.RunBytes(t, q, stack(odd)...))
		if mode == ModeInt16x8 {
			int16Model = q
		}
	}
	// The same int16 operator in current LiteRT (LiteRT.js, XNNPack).
	r := litert.Start(t)
	current := sqnr(t, r.RunBytes(t, softmax, stack(odd)...), r.RunBytes(t, int16Model, stack(odd)...))
	t.Logf("SOFTMAX alone on mobilenet's logits: int16 %.1f dB (LiteRT.js 2.5.3: %.1f dB), int8 %.1f dB; %.0f of 1001 classes per crop are more than 10 below the top",
		got[ModeInt16x8], current, got[ModeInt8], float64(far)/float64(len(s)))
	for _, db := range []float64{got[ModeInt16x8], current} {
		if db >= 30 || db < 20 {
			t.Errorf("int16 SOFTMAX alone gives %.1f dB: the ceiling cited for issue 5 (about 27 dB) no longer holds", db)
		}
	}
}

// TestEightBitActivationCeiling: mobilenet with float weights and only its
// activations rounded to TensorFlow's calibrated uint8 (or int8: the same
// grid) parameters, in our float interpreter. Four of the 24 judged crops
// are near ties (top-1/top-2 probability ratio under 1.05), so 8-bit
// activation noise alone already changes the top-1 class of more than one
// in ten of them: issue 6's 90% cannot be reached by rounding weights
// better.
func TestEightBitActivationCeiling(t *testing.T) {
	runtimetest.Require(t)
	if testing.Short() {
		t.Skip("runs mobilenet on 48 crops")
	}
	data, s := sharedSamples(t, "mobilenet_v1_0.25_224_float.tflite", 48)
	m := mustLoad(t, data)
	even, odd := splitEvenOdd(s)
	st := calibrate(t, m, even)
	ref := runtimetest.RunBytes(t, data, stack(odd)...)
	rv, err := ref[0].Float32s()
	if err != nil {
		t.Fatal(err)
	}
	ties := 0
	for i := range odd {
		row := append([]float32(nil), rv[i*1001:(i+1)*1001]...)
		sort.Slice(row, func(a, b int) bool { return row[a] > row[b] })
		if row[0] < 1.05*row[1] {
			ties++
		}
	}
	// The float model's own probabilities rounded to SOFTMAX's 8-bit
	// output grid (1/256; the kernel demands it): a model that computed
	// everything else exactly would still output these.
	grid := make([]float32, len(rv))
	for i, p := range rv {
		grid[i] = float32(min(255, math.Round(float64(p)*256))) / 256
	}
	gridAgree := top1(t, ref[0], npy.FromFloat32(ref[0].Shape, grid))
	t.Logf("exact probabilities on the 8-bit output grid: top-1 %.1f%% (%d/%d)", 100*gridAgree,
		int(math.Round(gridAgree*float64(len(odd)))), len(odd))
	for _, bits := range []int{8, 12} {
		it, err := interp.New(m, interp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		qmax := int64(1)<<bits - 1
		it.SetObserver(func(x *interp.Tensor) {
			if x.Type != fb.TensorTypeFLOAT32 || x.IsConst() {
				return
			}
			lo, hi, ok := st.Range(0, x.Index)
			if !ok {
				return
			}
			scale, zp := qparams.Asymmetric(min(lo, 0), max(hi, 0), 0, int(qmax))
			v := x.F32()
			for i, f := range v {
				v[i] = float32(qparams.Quantize(f, scale, zp, 0, qmax)-zp) * scale
			}
		})
		var outs []float32
		for _, x := range odd {
			if err := it.SetInput(0, x[0].Shape, x[0].Data); err != nil {
				t.Fatal(err)
			}
			if err := it.Invoke(); err != nil {
				t.Fatal(err)
			}
			outs = append(outs, it.Output(0).F32()...)
		}
		got := []*npy.Array{npy.FromFloat32(ref[0].Shape, outs)}
		agree, q := top1(t, ref[0], got[0]), sqnr(t, ref, got)
		t.Logf("%d-bit activations, float weights: top-1 %.1f%% (%d/%d), SQNR %.1f dB; %d near ties", bits, 100*agree,
			int(math.Round(agree*float64(len(odd)))), len(odd), q, ties)
		if bits == 8 && (agree >= 0.9 || q >= 20) {
			t.Errorf("8-bit activations alone: top-1 %.0f%%, %.1f dB: the ceiling cited for issue 6 no longer holds", 100*agree, q)
		}
	}
}
