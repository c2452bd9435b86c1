package interp

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// The hybrid LSTM (kernels_hybrid_lstm.go) against the real runtime on
// built models: lstmCfg's layouts with INT8 weights (random, one scale
// each) and float biases, states carried over calls, outputs within
// hybridTol.

// hybridLSTMModel builds c with int8 weights; asym sets
// asymmetric_quantize_inputs.
func hybridLSTMModel(c lstmCfg, asym bool, r *rand.Rand) []byte {
	b := modelbuild.New()
	xShape := []int32{int32(c.batch), int32(c.steps), int32(c.in)}
	if c.timeMajor {
		xShape[0], xShape[1] = xShape[1], xShape[0]
	}
	x := b.Tensor("x", fb.TensorTypeFLOAT32, xShape...)
	ins := make([]int32, lstmNumInputs)
	for i := range ins {
		ins[i] = -1
	}
	ins[lstmInput] = x
	w := func(name string, shape ...int) int32 {
		t := b.Const(name, fb.TensorTypeINT8, ktShape32(shape), ktI8(r, -127, 127, shape...).Data)
		b.Quantize(t, []float32{0.6 / 127 * (0.5 + r.Float32())}, []int64{0}, 0)
		return t
	}
	f := func(name string, shape ...int) int32 {
		v := cvtValues(r, cvtCount(shape))
		for i := range v {
			v[i] *= 0.6
		}
		return b.ConstFloat32(name, cvt32(shape), v)
	}
	for g := range 4 {
		if g == lstmGateInput && c.cifg {
			continue
		}
		ins[lstmInW+g] = w(fmt.Sprintf("w%d", g), c.cell, c.in)
		ins[lstmRecW+g] = w(fmt.Sprintf("r%d", g), c.cell, c.out)
		ins[lstmBias+g] = f(fmt.Sprintf("b%d", g), c.cell)
		if c.layerNorm {
			ins[lstmLayerNorm+g] = f(fmt.Sprintf("ln%d", g), c.cell)
		}
	}
	if c.peephole {
		for k := range 3 {
			if k == 0 && c.cifg {
				continue
			}
			ins[lstmPeephole+k] = w(fmt.Sprintf("p%d", k), c.cell)
		}
	}
	if c.projection {
		ins[lstmProjW] = w("pw", c.out, c.cell)
		if c.projBias {
			ins[lstmProjB] = f("pb", c.out)
		}
	}
	hs := b.Tensor("h", fb.TensorTypeFLOAT32, int32(c.batch), int32(c.out))
	cs := b.Tensor("c", fb.TensorTypeFLOAT32, int32(c.batch), int32(c.cell))
	b.TensorT(hs).IsVariable = true
	b.TensorT(cs).IsVariable = true
	ins[lstmOutState], ins[lstmCellState] = hs, cs
	if !c.layerNorm {
		ins = ins[:20]
	}
	y := b.Tensor("y", fb.TensorTypeFLOAT32, xShape[0], xShape[1], int32(c.out))
	b.Op(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, &fb.UnidirectionalSequenceLSTMOptionsT{
		FusedActivationFunction: c.act, CellClip: c.cellClip, ProjClip: c.projClip, TimeMajor: c.timeMajor,
		AsymmetricQuantizeInputs: asym}, ins, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

// hybridCompareRecurrent runs samples (stacked on axis 0) as the runtime
// harness does (warm-up and timed call on sample 0, then each sample, state
// carried) and wants each output within hybridTol.
func hybridCompareRecurrent(t *testing.T, model []byte, samples *npy.Array) float64 {
	t.Helper()
	runtimetest.Require(t)
	res, err := runtimetest.RunModelBytes(context.Background(), model, []*npy.Array{samples}, runtimetest.Options{Warmup: 1, Repeat: 1})
	if err != nil {
		t.Fatalf("real runtime: %v", err)
	}
	m, err := tflite.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	it, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := it.Input(0)
	size := in.NumElements() * 4
	set := func(s int) {
		if err := it.SetInput(0, in.Shape, samples.Data[s*size:(s+1)*size]); err != nil {
			t.Fatal(err)
		}
	}
	set(0)
	for range 2 {
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
	}
	want := res.Outputs[0]
	count := samples.Shape[0]
	per := len(want.Data) / count
	worst := 0.0
	for s := range count {
		set(s)
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		o := it.Output(0)
		g := &npy.Array{DType: npy.Float32, Shape: o.Shape, Data: o.Data}
		w := &npy.Array{DType: npy.Float32, Shape: o.Shape, Data: want.Data[s*per : (s+1)*per]}
		d, msg := maxRelDiff(g, w)
		if msg != "" {
			t.Fatalf("sample %d: %s", s, msg)
		}
		worst = max(worst, d)
	}
	if worst > hybridTol {
		t.Errorf("max relative difference %.3g > %g", worst, hybridTol)
	}
	return worst
}

func TestHybridLSTMRuntime(t *testing.T) {
	var cfgs []lstmCfg
	cfgs = append(cfgs, lstmBase(1, 5, 3, 4), lstmBase(2, 7, 5, 9), lstmBase(3, 4, 10, 17))
	c := lstmBase(2, 6, 4, 5)
	c.cifg = true
	cfgs = append(cfgs, c)
	c = lstmBase(2, 6, 4, 5)
	c.peephole = true
	cfgs = append(cfgs, c)
	c.cifg = true
	cfgs = append(cfgs, c)
	c = lstmBase(2, 6, 4, 8)
	c.projection, c.out = true, 3
	cfgs = append(cfgs, c)
	c.projBias, c.projClip = true, 0.3
	cfgs = append(cfgs, c)
	c = lstmBase(2, 6, 4, 5)
	c.cellClip = 0.5
	cfgs = append(cfgs, c)
	c = lstmBase(3, 5, 4, 6)
	c.timeMajor = true
	cfgs = append(cfgs, c)
	for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeNONE} {
		c = lstmBase(1, 4, 3, 4)
		c.act = act
		cfgs = append(cfgs, c)
	}
	c = lstmBase(2, 6, 4, 5)
	c.layerNorm = true
	cfgs = append(cfgs, c)
	c.cifg, c.peephole, c.projection, c.projBias, c.out = true, true, true, true, 3
	cfgs = append(cfgs, c)
	worst := 0.0
	for i, c := range cfgs {
		for _, asym := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s_asym%v", c, asym), func(t *testing.T) {
				r := cvtRand(uint64(500 + i))
				model := hybridLSTMModel(c, asym, r)
				shape := []int{3, c.batch, c.steps, c.in}
				if c.timeMajor {
					shape[1], shape[2] = shape[2], shape[1]
				}
				worst = max(worst, hybridCompareRecurrent(t, model, cvtArray(r, shape...)))
			})
		}
	}
	t.Logf("max relative difference over all cases: %.3g", worst)
}
