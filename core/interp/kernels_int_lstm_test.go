package interp

import (
	"bytes"
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

// The int8 LSTM (kernels_int_lstm.go) against the real runtime on built
// single-LSTM models with random int8 weights: outputs equal byte for byte
// over several calls with the state carried between them.

type ilstmCfg struct {
	batch, steps, in, cell int
	cifg, timeMajor        bool
	cellClip               float32
	cellLog2               int   // cell state scale 2^cellLog2
	xZP, hZP, hidZP        int64 // input, output state and hidden zero points
	wScale                 float32
	out                    int // projection to out values (0: none)
	projBias               bool
	projClip               float32
}

func (c ilstmCfg) String() string {
	s := fmt.Sprintf("b%d_t%d_i%d_c%d_cs%d_zp%d_%d_%d_w%g", c.batch, c.steps, c.in, c.cell, c.cellLog2, c.xZP, c.hZP, c.hidZP, c.wScale)
	if c.cifg {
		s += "_cifg"
	}
	if c.timeMajor {
		s += "_tm"
	}
	if c.cellClip > 0 {
		s += fmt.Sprintf("_clip%g", c.cellClip)
	}
	if c.out > 0 {
		s += fmt.Sprintf("_proj%d_bias%v_pclip%g", c.out, c.projBias, c.projClip)
	}
	return s
}

func (c ilstmCfg) model(r *rand.Rand) []byte {
	b := modelbuild.New()
	xShape := []int32{int32(c.batch), int32(c.steps), int32(c.in)}
	if c.timeMajor {
		xShape[0], xShape[1] = xShape[1], xShape[0]
	}
	const xScale, hScale, hidScale = 0.02, 1.0 / 128, 1.0 / 128
	nOut := c.cell
	if c.out > 0 {
		nOut = c.out
	}
	q := func(t int32, s float32, zp int64) int32 {
		b.Quantize(t, []float32{s}, []int64{zp}, 0)
		return t
	}
	x := q(b.Tensor("x", fb.TensorTypeINT8, xShape...), xScale, c.xZP)
	ins := make([]int32, 20)
	for i := range ins {
		ins[i] = -1
	}
	ins[lstmInput] = x
	w := func(name string, rows, cols int, scale float32) int32 {
		return q(b.Const(name, fb.TensorTypeINT8, []int32{int32(rows), int32(cols)}, ktI8(r, -127, 127, rows, cols).Data), scale*(0.5+r.Float32()), 0)
	}
	for g := range 4 {
		if g == lstmGateInput && c.cifg {
			continue
		}
		ins[lstmInW+g] = w(fmt.Sprintf("w%d", g), c.cell, c.in, c.wScale)
		ins[lstmRecW+g] = w(fmt.Sprintf("r%d", g), c.cell, nOut, c.wScale)
		bias := make([]int32, c.cell)
		for i := range bias {
			bias[i] = int32(r.IntN(40001) - 20000)
		}
		ins[lstmBias+g] = q(b.ConstInt32(fmt.Sprintf("b%d", g), []int32{int32(c.cell)}, bias), xScale*c.wScale, 0)
	}
	if c.out > 0 {
		ins[lstmProjW] = w("pw", c.out, c.cell, 0.02)
		if c.projBias {
			bias := make([]int32, c.out)
			for i := range bias {
				bias[i] = int32(r.IntN(4001) - 2000)
			}
			ins[lstmProjB] = q(b.ConstInt32("pb", []int32{int32(c.out)}, bias), hidScale*0.02, 0)
		}
	}
	hs := q(b.Tensor("h", fb.TensorTypeINT8, int32(c.batch), int32(nOut)), hScale, c.hZP)
	cs := q(b.Tensor("c", fb.TensorTypeINT16, int32(c.batch), int32(c.cell)), float32(1/float64(int64(1)<<-c.cellLog2)), 0)
	b.TensorT(hs).IsVariable = true
	b.TensorT(cs).IsVariable = true
	ins[lstmOutState], ins[lstmCellState] = hs, cs
	y := q(b.Tensor("y", fb.TensorTypeINT8, xShape[0], xShape[1], int32(nOut)), hScale, c.hZP)
	op := b.Op(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, &fb.UnidirectionalSequenceLSTMOptionsT{
		FusedActivationFunction: fb.ActivationFunctionTypeTANH, CellClip: c.cellClip, ProjClip: c.projClip, TimeMajor: c.timeMajor}, ins, []int32{y})
	for g := range 4 {
		op.Intermediates = append(op.Intermediates, b.Tensor(fmt.Sprintf("im%d", g), fb.TensorTypeFLOAT32, 0))
	}
	op.Intermediates = append(op.Intermediates, q(b.Tensor("hidden", fb.TensorTypeINT8, 0), hidScale, c.hidZP))
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

// ilstmCompareStateful runs the samples (stacked on axis 0) as the
// runtime harness does (a warm-up and a timed call on sample 0, then each
// sample, state carried) and wants equal bytes.
func ilstmCompareStateful(t *testing.T, model []byte, samples *npy.Array) {
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
	size := in.NumElements()
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
	var got []byte
	for s := range samples.Shape[0] {
		set(s)
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		got = append(got, it.Output(0).Data...)
	}
	want := res.Outputs[0]
	if bytes.Equal(got, want.Data) {
		return
	}
	if len(got) != len(want.Data) {
		t.Fatalf("%d output bytes, runtime %d", len(got), len(want.Data))
	}
	g := &npy.Array{DType: npy.Int8, Shape: want.Shape, Data: got}
	t.Errorf("output: %s", iqDiff(g, want))
}

func TestIntLSTMRuntime(t *testing.T) {
	base := ilstmCfg{batch: 1, steps: 6, in: 5, cell: 4, cellLog2: -12, wScale: 0.01}
	var cfgs []ilstmCfg
	add := func(f func(c *ilstmCfg)) {
		c := base
		f(&c)
		cfgs = append(cfgs, c)
	}
	add(func(c *ilstmCfg) {})
	add(func(c *ilstmCfg) { c.batch, c.steps, c.in, c.cell = 2, 9, 12, 16 })
	add(func(c *ilstmCfg) { c.batch, c.in, c.cell, c.wScale = 3, 28, 20, 0.03 })
	add(func(c *ilstmCfg) { c.xZP, c.hZP = -128, 5 })
	add(func(c *ilstmCfg) { c.hidZP = 3 })
	add(func(c *ilstmCfg) { c.cifg = true; c.batch = 2 })
	add(func(c *ilstmCfg) { c.timeMajor, c.batch = true, 3 })
	add(func(c *ilstmCfg) { c.cellLog2, c.wScale = -11, 0.03 })
	add(func(c *ilstmCfg) { c.cellLog2, c.wScale = -10, 0.05 })
	add(func(c *ilstmCfg) { c.cellClip, c.wScale, c.steps = 0.6, 0.05, 12 })
	add(func(c *ilstmCfg) { c.wScale, c.steps = 0.2, 12 }) // saturating gates
	add(func(c *ilstmCfg) { c.batch, c.cell, c.out = 2, 8, 3 })
	add(func(c *ilstmCfg) { c.batch, c.cell, c.out, c.projBias, c.hidZP = 2, 6, 5, true, 4 })
	add(func(c *ilstmCfg) { c.cell, c.out, c.projBias, c.hidZP, c.hZP = 6, 5, true, 4, -3 })
	add(func(c *ilstmCfg) { c.batch, c.cell, c.out, c.xZP = 8, 6, 5, 40 })
	add(func(c *ilstmCfg) { c.cell, c.out, c.projBias, c.projClip, c.cifg = 7, 4, true, 0.2, true })
	for i, c := range cfgs {
		t.Run(c.String(), func(t *testing.T) {
			r := cvtRand(uint64(100 + i))
			model := c.model(r)
			shape := []int{4, c.batch, c.steps, c.in}
			if c.timeMajor {
				shape[1], shape[2] = shape[2], shape[1]
			}
			ilstmCompareStateful(t, model, ktI8(r, -128, 127, shape...))
		})
	}
}

func TestIntLSTMUnsupported(t *testing.T) {
	c := ilstmCfg{batch: 1, steps: 2, in: 3, cell: 4, cellLog2: -12, wScale: 0.01}
	model := c.model(cvtRand(7))
	for _, tc := range []struct {
		name, want string
		edit       func(m *tflite.Model)
	}{
		{"relu", "cell activation RELU", func(m *tflite.Model) {
			m.Subgraphs[0].Operators[0].BuiltinOptions.Value.(*fb.UnidirectionalSequenceLSTMOptionsT).FusedActivationFunction = fb.ActivationFunctionTypeRELU
		}},
		{"no intermediates", "intermediate", func(m *tflite.Model) { m.Subgraphs[0].Operators[0].Intermediates = nil }},
		{"batch 2, output state zero point", "zero point", func(m *tflite.Model) {
			sg := m.Subgraphs[0]
			op := sg.Operators[0]
			for _, k := range []int32{op.Inputs[lstmInput], op.Inputs[lstmOutState], op.Inputs[lstmCellState], op.Outputs[0]} {
				sg.Tensors[k].Shape[0] = 2
			}
			sg.Tensors[op.Inputs[lstmOutState]].Quantization.ZeroPoint[0] = 3
		}},
		{"cell scale", "cell state scale", func(m *tflite.Model) {
			op := m.Subgraphs[0].Operators[0]
			m.Subgraphs[0].Tensors[op.Inputs[lstmCellState]].Quantization.Scale[0] = 0.001
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tflite.Load(model)
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			data, err := m.Save()
			if err != nil {
				t.Fatal(err)
			}
			m, err = tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := New(m, Options{}); err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
