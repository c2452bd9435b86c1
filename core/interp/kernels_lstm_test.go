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

// lstmCompareStateful runs samples (stacked on axis 0, one array per model
// input) through the real runtime and the Go interpreter the way
// scripts/tflite_run.js does: one warm-up and one timed call on sample 0,
// then every sample in order, all on one interpreter, so the variable state
// tensors carry over between calls. The outputs of the per-sample calls
// must match within tol.
func lstmCompareStateful(t *testing.T, model []byte, samples []*npy.Array, tol float64) {
	t.Helper()
	runtimetest.Require(t)
	res, err := runtimetest.RunModelBytes(context.Background(), model, samples, runtimetest.Options{Warmup: 1, Repeat: 1})
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
	count := samples[0].Shape[0]
	set := func(s int) {
		for i, a := range samples {
			in := it.Input(i)
			size := cvtCount(in.Shape) * 4
			if err := it.SetInput(i, in.Shape, a.Data[s*size:(s+1)*size]); err != nil {
				t.Fatal(err)
			}
		}
	}
	set(0)
	for i := 0; i < 2; i++ {
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
	}
	got := make([][]byte, it.NumOutputs())
	for s := 0; s < count; s++ {
		set(s)
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		for o := range got {
			got[o] = append(got[o], it.Output(o).Data...)
		}
	}
	for o, want := range res.Outputs {
		g := &npy.Array{DType: npy.Float32, Shape: want.Shape, Data: got[o]}
		if len(g.Data) != len(want.Data) {
			t.Fatalf("output %d: %d bytes, runtime %d (shape %v)", o, len(g.Data), len(want.Data), want.Shape)
		}
		if msg := compareArrays(g, want, tol); msg != "" {
			t.Errorf("output %d: %s", o, msg)
		}
	}
}

type lstmCfg struct {
	batch, steps, in, cell, out int
	cifg, peephole, projection  bool
	projBias, layerNorm         bool
	timeMajor                   bool
	cellClip, projClip          float32
	act                         fb.ActivationFunctionType
}

func (c lstmCfg) String() string {
	s := fmt.Sprintf("b%d_t%d_i%d_c%d_o%d", c.batch, c.steps, c.in, c.cell, c.out)
	for _, f := range []struct {
		on   bool
		name string
	}{{c.cifg, "cifg"}, {c.peephole, "peep"}, {c.projection, "proj"}, {c.projBias, "projb"}, {c.layerNorm, "ln"}, {c.timeMajor, "tm"}, {c.cellClip > 0, "cclip"}, {c.projClip > 0, "pclip"}} {
		if f.on {
			s += "_" + f.name
		}
	}
	return s + "_" + fb.EnumNamesActivationFunctionType[c.act]
}

// model builds a single-LSTM model; the output is the LSTM's sequence.
func (c lstmCfg) model(r *rand.Rand) []byte {
	b := modelbuild.New()
	xShape := []int32{int32(c.batch), int32(c.steps), int32(c.in)}
	if c.timeMajor {
		xShape[0], xShape[1] = xShape[1], xShape[0]
	}
	x := b.Tensor("x", cvtF32, xShape...)
	ins := make([]int32, lstmNumInputs)
	for i := range ins {
		ins[i] = -1
	}
	ins[lstmInput] = x
	w := func(name string, shape ...int) int32 {
		v := cvtValues(r, cvtCount(shape))
		for i := range v {
			v[i] *= 0.6
		}
		return b.ConstFloat32(name, cvt32(shape), v)
	}
	for g := 0; g < 4; g++ {
		if g == lstmGateInput && c.cifg {
			continue
		}
		ins[lstmInW+g] = w(fmt.Sprintf("w%d", g), c.cell, c.in)
		ins[lstmRecW+g] = w(fmt.Sprintf("r%d", g), c.cell, c.out)
		ins[lstmBias+g] = w(fmt.Sprintf("b%d", g), c.cell)
		if c.layerNorm {
			ins[lstmLayerNorm+g] = w(fmt.Sprintf("ln%d", g), c.cell)
		}
	}
	if c.peephole {
		for k := 0; k < 3; k++ {
			if k == 0 && c.cifg {
				continue
			}
			ins[lstmPeephole+k] = w(fmt.Sprintf("p%d", k), c.cell)
		}
	}
	if c.projection {
		ins[lstmProjW] = w("pw", c.out, c.cell)
		if c.projBias {
			ins[lstmProjB] = w("pb", c.out)
		}
	}
	hs := b.Tensor("h", cvtF32, int32(c.batch), int32(c.out))
	cs := b.Tensor("c", cvtF32, int32(c.batch), int32(c.cell))
	b.TensorT(hs).IsVariable = true
	b.TensorT(cs).IsVariable = true
	ins[lstmOutState], ins[lstmCellState] = hs, cs
	if !c.layerNorm {
		ins = ins[:20]
	}
	yShape := []int32{xShape[0], xShape[1], int32(c.out)}
	y := b.Tensor("y", cvtF32, yShape...)
	b.Op(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, &fb.UnidirectionalSequenceLSTMOptionsT{
		FusedActivationFunction: c.act, CellClip: c.cellClip, ProjClip: c.projClip, TimeMajor: c.timeMajor}, ins, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

func lstmBase(batch, steps, in, cell int) lstmCfg {
	return lstmCfg{batch: batch, steps: steps, in: in, cell: cell, out: cell, act: fb.ActivationFunctionTypeTANH}
}

func TestLSTMRuntime(t *testing.T) {
	r := cvtRand(40)
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
	for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6, fb.ActivationFunctionTypeNONE} {
		c = lstmBase(1, 4, 3, 4)
		c.act = act
		cfgs = append(cfgs, c)
	}
	c = lstmBase(2, 6, 4, 5)
	c.layerNorm = true
	cfgs = append(cfgs, c)
	c.cifg, c.peephole, c.projection, c.projBias, c.out = true, true, true, true, 3
	cfgs = append(cfgs, c)
	for _, c := range cfgs {
		t.Run(c.String(), func(t *testing.T) {
			model := c.model(cvtRand(uint64(len(c.String()))))
			xShape := []int{3, c.batch, c.steps, c.in}
			if c.timeMajor {
				xShape[1], xShape[2] = xShape[2], xShape[1]
			}
			lstmCompareStateful(t, model, []*npy.Array{cvtArray(r, xShape...)}, 1e-5)
		})
	}
}

func TestLSTMTrainedModel(t *testing.T) {
	dir := cvtShared(t)
	model := cvtReadFile(t, dir+"/models/trained_lstm.tflite")
	seq, err := npy.ReadFile(dir + "/data/npy/mnist_seq_1x28x28.npy")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := tflite.Load(model)
	if _, err := New(m, Options{}); err != nil {
		t.Fatal(err)
	}
	// Ten sequences, state carried from one to the next as in the runtime.
	seq = &npy.Array{DType: seq.DType, Shape: append([]int{10}, seq.Shape[1:]...), Data: seq.Data[:10*28*28*4]}
	lstmCompareStateful(t, model, []*npy.Array{seq}, 1e-5)
}

// TestLSTMState checks that the states persist across Invoke calls and that
// the first call starts from zeros.
func TestLSTMState(t *testing.T) {
	c := lstmBase(1, 3, 2, 3)
	model := c.model(cvtRand(41))
	m, _ := tflite.Load(model)
	run := func(it *Interpreter) []float32 {
		x := npy.FromFloat32([]int{1, 3, 2}, []float32{0.5, -0.25, 1, 0.75, -1, 0.1})
		if err := it.SetInput(0, x.Shape, x.Data); err != nil {
			t.Fatal(err)
		}
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		return append([]float32{}, it.Output(0).F32()...)
	}
	it1, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	it2, _ := New(m, Options{})
	a, b := run(it1), run(it1)
	if fmt.Sprint(a) == fmt.Sprint(b) {
		t.Fatalf("second call gave the same output %v: state not carried", a)
	}
	if c := run(it2); fmt.Sprint(c) != fmt.Sprint(a) {
		t.Fatalf("fresh interpreter gave %v, want %v", c, a)
	}
}

func TestLSTMErrors(t *testing.T) {
	c := lstmBase(1, 3, 2, 3)
	model := c.model(cvtRand(42))
	cvtWantErr(t, "want 2 features", model, cvtArray(cvtRand(1), 1, 3, 4))
	cvtWantErr(t, "rank 3", model, cvtArray(cvtRand(1), 3, 2))
	// Remove a required weight.
	m, _ := tflite.Load(model)
	m.Subgraphs[0].Operators[0].Inputs[lstmInW+lstmGateCell] = -1
	data, _ := m.Save()
	m2, _ := tflite.Load(data)
	if _, err := New(m2, Options{}); err == nil {
		t.Fatal("missing input-to-cell weights: no error")
	}
	// A projection bias without projection weights.
	m, _ = tflite.Load(model)
	m.Subgraphs[0].Operators[0].Inputs[lstmProjB] = m.Subgraphs[0].Operators[0].Inputs[lstmBias+1]
	data, _ = m.Save()
	m2, _ = tflite.Load(data)
	if _, err := New(m2, Options{}); err == nil {
		t.Fatal("projection bias alone: no error")
	}
}
