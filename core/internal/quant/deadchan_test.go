package quant

import (
	"math/rand/v2"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
)

// deadChannelModel is CONV_2D (RELU) → CONV_2D on a [1, 4, 4, 2] input in
// [-1, 1]. The first layer's channel 1 has bias -100: it is 0 for every
// input, and the second layer's weights on it are 50 while its live
// weights stay within ±0.7. Its channel 3 computes x0 - x1 - 0.1, which
// is 0 after the RELU on the samples (they have x0 = x1) but not for every
// input in their range: its weights must stay.
func deadChannelModel() []byte {
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 4, 4, 2)
	w1 := b.ConstFloat32("w1", []int32{4, 1, 1, 2}, []float32{0.5, -0.25, 0.75, 0.5, -0.5, 1, 1, -1})
	b1 := b.ConstFloat32("b1", []int32{4}, []float32{0.1, -100, 0.2, -0.1})
	h := b.Tensor("h", fb.TensorTypeFLOAT32, 1, 4, 4, 4)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1,
		FusedActivationFunction: fb.ActivationFunctionTypeRELU, DilationWFactor: 1, DilationHFactor: 1}, []int32{x, w1, b1}, []int32{h})
	w2 := b.ConstFloat32("w2", []int32{2, 1, 1, 4}, []float32{0.6, 50, -0.4, 0.7, -0.3, 50, 0.5, -0.2})
	b2 := b.ConstFloat32("b2", []int32{2}, []float32{0.05, -0.1})
	y := b.Tensor("y", fb.TensorTypeFLOAT32, 1, 4, 4, 2)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1,
		DilationWFactor: 1, DilationHFactor: 1}, []int32{h, w2, b2}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

// TestFullClearsDeadChannels: with tuned weights the second layer's weights
// on the dead channel are cleared before quantizing (reported as
// cleared_dead), so its per-tensor uint8 scale serves the live weights and
// the model stays accurate in the real runtime; --plain-weights keeps
// TensorFlow's recipe and clears nothing.
func TestFullClearsDeadChannels(t *testing.T) {
	data := deadChannelModel()
	r := rand.New(rand.NewPCG(3, 4))
	var samples []fixtures.Sample
	for n := 0; n < 16; n++ {
		v := make([]float32, 32)
		for i := 0; i < len(v); i += 2 {
			v[i] = 2*r.Float32() - 1
			v[i+1] = v[i]
		}
		samples = append(samples, fixtures.Sample{npy.FromFloat32([]int{1, 4, 4, 2}, v)})
	}
	cal, held := splitEvenOdd(samples)
	st := calibrate(t, mustLoad(t, data), cal)
	if lo, hi, ok := st.ChannelRange(0, 3); !ok || lo[1] != 0 || hi[1] != 0 || lo[3] != 0 || hi[3] != 0 || hi[0] == 0 {
		t.Fatalf("channel ranges of h: %v %v %v", lo, hi, ok)
	}
	var ref []*npy.Array
	if runtimetest.Available() == nil {
		ref = runtimetest.RunBytes(t, data, stack(held)...)
	}
	for _, c := range []struct {
		mode    FullMode
		opts    Options
		cleared int
	}{
		{ModeUint8, Options{}, 2},
		{ModeInt8, Options{}, 2},
		{ModeUint8, Options{PlainWeights: true}, 0},
		{ModeInt8, Options{PlainWeights: true}, 0},
	} {
		out, rep := quantizeFull(t, data, c.mode, st, c.opts)
		var w2 *Weight
		for i, w := range rep.Weights {
			if w.Tensor == "w2" {
				w2 = &rep.Weights[i]
			} else if w.ClearedDead != 0 {
				t.Errorf("%s %+v: %s cleared %d", c.mode, c.opts, w.Tensor, w.ClearedDead)
			}
		}
		if w2 == nil {
			t.Fatalf("%s: w2 not quantized", c.mode)
		}
		var text strings.Builder
		if err := rep.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if said := strings.Contains(text.String(), "2 weight(s) in 1 tensor(s) set to 0"); said != (c.cleared > 0) {
			t.Errorf("%s plain=%v: report text says cleared: %v\n%s", c.mode, c.opts.PlainWeights, said, text.String())
		}
		if w2.ClearedDead != c.cleared {
			t.Errorf("%s plain=%v: w2 cleared %d, want %d", c.mode, c.opts.PlainWeights, w2.ClearedDead, c.cleared)
		}
		// Channel 1 cleared (not channel 3: that would make 4), the
		// largest weight is 0.7: uint8 per-tensor over [-0.4, 0.7], int8
		// per channel 0.7/127 and 0.5/127.
		if c.cleared > 0 && w2.ScaleMax > 0.7/127*1.01 {
			t.Errorf("%s: w2 scale up to %g: the dead weights still set it", c.mode, w2.ScaleMax)
		}
		if ref == nil {
			continue
		}
		q := sqnr(t, ref, runtimetest.RunBytes(t, out, stack(held)...))
		t.Logf("%s plain=%v: SQNR %.1f dB, w2 scales %g..%g", c.mode, c.opts.PlainWeights, q, w2.ScaleMin, w2.ScaleMax)
		if c.cleared > 0 && q < 30 {
			t.Errorf("%s: SQNR %.1f dB with dead weights cleared, want at least 30", c.mode, q)
		}
	}
	runtimetest.Require(t) // without the runtime: skipped here, failed under CI
}
