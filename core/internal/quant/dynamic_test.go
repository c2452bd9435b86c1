package quant

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"litequant/core/internal/opversion"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// weightSpec is one constant weight a case builds.
type weightSpec struct {
	input  int // position in the operator's inputs
	shape  []int32
	values []float32
}

// opCase builds one operator with constant weights and says what dynamic
// range quantization must make of it.
type opCase struct {
	name    string
	op      fb.BuiltinOperator
	build   func(b *modelbuild.Builder) (inputs []*npy.Array, weights []weightSpec)
	kernel  string // "hybrid", "dequantize" or "int8-passthrough"
	axis    int    // per-channel axis of the weights, -1 per-tensor
	version int32  // operator version after the pass
	asym    bool   // asymmetric_quantize_inputs set
}

func conv2DOpts() *fb.Conv2DOptionsT {
	return &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}
}

// lstmWeights builds a UNIDIRECTIONAL_SEQUENCE_LSTM with nIn inputs and
// nCell cells, no peephole, projection or layer norm.
func lstm(b *modelbuild.Builder, nIn, nCell int32) ([]*npy.Array, []weightSpec) {
	in := b.Tensor("x", f32, 1, 5, nIn)
	ins := make([]int32, 24)
	for i := range ins {
		ins[i] = -1
	}
	ins[0] = in
	var ws []weightSpec
	for k := 1; k <= 8; k++ {
		shape := []int32{nCell, nIn}
		if k > 4 {
			shape = []int32{nCell, nCell}
		}
		v := values(count(shape), uint64(100+k))
		for i := range v {
			v[i] *= 0.2
		}
		ins[k] = b.ConstFloat32("lstm_w"+string(rune('0'+k)), shape, v)
		ws = append(ws, weightSpec{input: k, shape: shape, values: v})
	}
	for k := 12; k <= 15; k++ {
		ins[k] = b.ConstFloat32("lstm_bias"+string(rune('a'+k-12)), []int32{nCell}, values(int(nCell), uint64(k)))
	}
	outState := b.Tensor("output_state", f32, 1, nCell)
	b.TensorT(outState).IsVariable = true
	cellState := b.Tensor("cell_state", f32, 1, nCell)
	b.TensorT(cellState).IsVariable = true
	ins[18], ins[19] = outState, cellState
	out := b.Tensor("y", f32, 1, 5, nCell)
	b.Op(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, &fb.UnidirectionalSequenceLSTMOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeTANH}, ins, []int32{out})
	b.Inputs(in)
	b.Outputs(out)
	return []*npy.Array{randInput([]int{1, 5, int(nIn)}, 9)}, ws
}

var opCases = []opCase{
	{
		name: "fully connected", op: fb.BuiltinOperatorFULLY_CONNECTED, kernel: "hybrid", axis: -1, version: 9, asym: true,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			shape := []int32{48, 64}
			w := spread(values(count(shape), 1), shape, 0)
			x := b.Tensor("x", f32, 2, 64)
			wt := b.ConstFloat32("fc/weights", shape, w)
			bias := b.ConstFloat32("fc/bias", []int32{48}, values(48, 2))
			y := b.Tensor("y", f32, 2, 48)
			b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{x, wt, bias}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{2, 64}, 3)}, []weightSpec{{1, shape, w}}
		},
	},
	{
		name: "fully connected without options", op: fb.BuiltinOperatorFULLY_CONNECTED, kernel: "hybrid", axis: -1, version: 9, asym: true,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			shape := []int32{32, 64}
			w := values(count(shape), 4)
			x := b.Tensor("x", f32, 1, 64)
			wt := b.ConstFloat32("fc/weights", shape, w)
			y := b.Tensor("y", f32, 1, 32)
			b.Op(fb.BuiltinOperatorFULLY_CONNECTED, nil, []int32{x, wt, -1}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{1, 64}, 5)}, []weightSpec{{1, shape, w}}
		},
	},
	{
		name: "conv 2d", op: fb.BuiltinOperatorCONV_2D, kernel: "hybrid", axis: 0, version: 5,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			shape := []int32{32, 3, 3, 16}
			w := spread(values(count(shape), 6), shape, 0)
			x := b.Tensor("x", f32, 1, 8, 8, 16)
			wt := b.ConstFloat32("conv/filter", shape, w)
			bias := b.ConstFloat32("conv/bias", []int32{32}, values(32, 7))
			y := b.Tensor("y", f32, 1, 8, 8, 32)
			b.Op(fb.BuiltinOperatorCONV_2D, conv2DOpts(), []int32{x, wt, bias}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{1, 8, 8, 16}, 8)}, []weightSpec{{1, shape, w}}
		},
	},
	{
		name: "grouped conv 2d", op: fb.BuiltinOperatorCONV_2D, kernel: "dequantize", axis: -1, version: 6,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			shape := []int32{32, 3, 3, 8} // 16 input channels: 2 groups
			w := values(count(shape), 9)
			x := b.Tensor("x", f32, 1, 8, 8, 16)
			wt := b.ConstFloat32("conv/filter", shape, w)
			bias := b.ConstFloat32("conv/bias", []int32{32}, values(32, 10))
			y := b.Tensor("y", f32, 1, 8, 8, 32)
			b.Op(fb.BuiltinOperatorCONV_2D, conv2DOpts(), []int32{x, wt, bias}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{1, 8, 8, 16}, 11)}, []weightSpec{{1, shape, w}}
		},
	},
	{
		name: "depthwise conv 2d", op: fb.BuiltinOperatorDEPTHWISE_CONV_2D, kernel: "hybrid", axis: 3, version: 6,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			shape := []int32{1, 3, 3, 128}
			w := spread(values(count(shape), 12), shape, 3)
			x := b.Tensor("x", f32, 1, 8, 8, 128)
			wt := b.ConstFloat32("dw/filter", shape, w)
			bias := b.ConstFloat32("dw/bias", []int32{128}, values(128, 13))
			y := b.Tensor("y", f32, 1, 8, 8, 128)
			b.Op(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &fb.DepthwiseConv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1,
				DepthMultiplier: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{x, wt, bias}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{1, 8, 8, 128}, 14)}, []weightSpec{{1, shape, w}}
		},
	},
	{
		name: "transpose conv", op: fb.BuiltinOperatorTRANSPOSE_CONV, kernel: "dequantize", axis: -1, version: 1,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			shape := []int32{8, 3, 3, 16}
			w := values(count(shape), 15)
			outShape := b.ConstInt32("output_shape", []int32{4}, []int32{1, 16, 16, 8})
			wt := b.ConstFloat32("tconv/weights", shape, w)
			x := b.Tensor("x", f32, 1, 8, 8, 16)
			y := b.Tensor("y", f32, 1, 16, 16, 8)
			b.Op(fb.BuiltinOperatorTRANSPOSE_CONV, &fb.TransposeConvOptionsT{Padding: fb.PaddingSAME, StrideW: 2, StrideH: 2}, []int32{outShape, wt, x}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{1, 8, 8, 16}, 16)}, []weightSpec{{1, shape, w}}
		},
	},
	{
		name: "batch matmul constant rhs", op: fb.BuiltinOperatorBATCH_MATMUL, kernel: "hybrid", axis: -1, version: 4, asym: true,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			shape := []int32{64, 32}
			w := values(count(shape), 17)
			x := b.Tensor("x", f32, 2, 4, 64)
			wt := b.ConstFloat32("bmm/rhs", shape, w)
			y := b.Tensor("y", f32, 2, 4, 32)
			b.Op(fb.BuiltinOperatorBATCH_MATMUL, &fb.BatchMatMulOptionsT{}, []int32{x, wt}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{2, 4, 64}, 18)}, []weightSpec{{1, shape, w}}
		},
	},
	{
		name: "batch matmul constant lhs", op: fb.BuiltinOperatorBATCH_MATMUL, kernel: "dequantize", axis: -1, version: 1,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			shape := []int32{32, 64}
			w := values(count(shape), 19)
			wt := b.ConstFloat32("bmm/lhs", shape, w)
			x := b.Tensor("x", f32, 2, 64, 8)
			y := b.Tensor("y", f32, 2, 32, 8)
			b.Op(fb.BuiltinOperatorBATCH_MATMUL, &fb.BatchMatMulOptionsT{}, []int32{wt, x}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{2, 64, 8}, 20)}, []weightSpec{{0, shape, w}}
		},
	},
	{
		name: "embedding lookup", op: fb.BuiltinOperatorEMBEDDING_LOOKUP, kernel: "hybrid", axis: -1, version: 3,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			shape := []int32{100, 32}
			w := values(count(shape), 21)
			ids := b.Tensor("ids", i32, 3)
			wt := b.ConstFloat32("embedding", shape, w)
			y := b.Tensor("y", f32, 3, 32)
			b.Op(fb.BuiltinOperatorEMBEDDING_LOOKUP, nil, []int32{ids, wt}, []int32{y})
			b.Inputs(ids)
			b.Outputs(y)
			return []*npy.Array{npy.FromInt32([]int{3}, []int32{7, 0, 99})}, []weightSpec{{1, shape, w}}
		},
	},
	{
		name: "gather", op: fb.BuiltinOperatorGATHER, kernel: "int8-passthrough", axis: -1, version: 2,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			shape := []int32{100, 32}
			w := values(count(shape), 22)
			wt := b.ConstFloat32("table", shape, w)
			ids := b.Tensor("ids", i32, 3)
			y := b.Tensor("y", f32, 3, 32)
			b.Op(fb.BuiltinOperatorGATHER, &fb.GatherOptionsT{}, []int32{wt, ids}, []int32{y})
			b.Inputs(ids)
			b.Outputs(y)
			return []*npy.Array{npy.FromInt32([]int{3}, []int32{1, 50, 99})}, []weightSpec{{0, shape, w}}
		},
	},
	{
		name: "svdf", op: fb.BuiltinOperatorSVDF, kernel: "hybrid", axis: -1, version: 4, asym: true,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			// 16 units of rank 2: 32 filters over 64 inputs and 40 steps.
			fshape, tshape := []int32{32, 64}, []int32{32, 40}
			wf, wt := values(count(fshape), 23), values(count(tshape), 24)
			x := b.Tensor("x", f32, 2, 64)
			f := b.ConstFloat32("svdf/feature", fshape, wf)
			tm := b.ConstFloat32("svdf/time", tshape, wt)
			bias := b.ConstFloat32("svdf/bias", []int32{16}, values(16, 25))
			state := b.Tensor("svdf/state", f32, 2, 40*32)
			b.TensorT(state).IsVariable = true
			y := b.Tensor("y", f32, 2, 16)
			b.Op(fb.BuiltinOperatorSVDF, &fb.SVDFOptionsT{Rank: 2}, []int32{x, f, tm, bias, state}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{2, 64}, 26)}, []weightSpec{{1, fshape, wf}, {2, tshape, wt}}
		},
	},
	{
		name: "rnn", op: fb.BuiltinOperatorRNN, kernel: "hybrid", axis: -1, version: 3, asym: true,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			ishape, rshape := []int32{64, 48}, []int32{64, 64}
			wi, wr := values(count(ishape), 27), values(count(rshape), 28)
			for i := range wr {
				wr[i] *= 0.1
			}
			x := b.Tensor("x", f32, 2, 48)
			a := b.ConstFloat32("rnn/input_weights", ishape, wi)
			r := b.ConstFloat32("rnn/recurrent_weights", rshape, wr)
			bias := b.ConstFloat32("rnn/bias", []int32{64}, values(64, 29))
			state := b.Tensor("rnn/state", f32, 2, 64)
			b.TensorT(state).IsVariable = true
			y := b.Tensor("y", f32, 2, 64)
			b.Op(fb.BuiltinOperatorRNN, &fb.RNNOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeTANH}, []int32{x, a, r, bias, state}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{2, 48}, 30)}, []weightSpec{{1, ishape, wi}, {2, rshape, wr}}
		},
	},
	{
		name: "sequence rnn", op: fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN, kernel: "hybrid", axis: -1, version: 3, asym: true,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			ishape, rshape := []int32{64, 48}, []int32{64, 64}
			wi, wr := values(count(ishape), 31), values(count(rshape), 32)
			for i := range wr {
				wr[i] *= 0.1
			}
			x := b.Tensor("x", f32, 2, 5, 48)
			a := b.ConstFloat32("rnn/input_weights", ishape, wi)
			r := b.ConstFloat32("rnn/recurrent_weights", rshape, wr)
			bias := b.ConstFloat32("rnn/bias", []int32{64}, values(64, 33))
			state := b.Tensor("rnn/state", f32, 2, 64)
			b.TensorT(state).IsVariable = true
			y := b.Tensor("y", f32, 2, 5, 64)
			b.Op(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN, &fb.SequenceRNNOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeTANH},
				[]int32{x, a, r, bias, state}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
			return []*npy.Array{randInput([]int{2, 5, 48}, 34)}, []weightSpec{{1, ishape, wi}, {2, rshape, wr}}
		},
	},
	{
		name: "lstm", op: fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, kernel: "hybrid", axis: -1, version: 3, asym: true,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) { return lstm(b, 40, 32) },
	},
	{
		// Input weights 32×24 = 768 stay float, so the hybrid kernel (all
		// weights int8) cannot run: the 32×32 recurrent weights are
		// dequantized in front of the float kernel.
		name: "lstm with small input weights", op: fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM, kernel: "dequantize", axis: -1, version: 1,
		build: func(b *modelbuild.Builder) ([]*npy.Array, []weightSpec) {
			ins, ws := lstm(b, 24, 32)
			return ins, ws[4:] // only the recurrent weights are quantized
		},
	},
}

func TestDynamicOperators(t *testing.T) {
	for _, c := range opCases {
		t.Run(c.name, func(t *testing.T) {
			b := newModel()
			inputs, weights := c.build(b)
			m := b.Model()
			floatBytes := b.Bytes()
			// Biases and every other float constant, to check they stay.
			others := map[string][]byte{}
			for _, tt := range m.Subgraphs[0].Tensors {
				if d := m.TensorData(tt); d != nil && tt.Type == f32 {
					others[tt.Name] = append([]byte(nil), d...)
				}
			}

			rep, err := Dynamic(m, Options{})
			if err != nil {
				t.Fatal(err)
			}
			m, quantized := reload(t, m)
			op, _ := findOp(t, m, c.op)
			if got := m.OpCode(op).Version; got != c.version {
				t.Errorf("%s version %d, want %d", m.OpName(op), got, c.version)
			}
			if len(rep.Weights) != len(weights) {
				t.Fatalf("report has %d weights, want %d: %+v", len(rep.Weights), len(weights), rep.Weights)
			}
			quantizedNames := map[string]bool{}
			for _, w := range weights {
				tt := input(m, op, w.input)
				switch c.kernel {
				case "hybrid", "int8-passthrough":
					checkSymmetric(t, m, tt, w.values, c.axis)
				case "dequantize":
					if tt.Type != f32 {
						t.Fatalf("input %d is %s, want FLOAT32 from a DEQUANTIZE", w.input, tflite.TypeName(tt.Type))
					}
					deq := producer(t, m, op.Inputs[w.input])
					if m.Builtin(deq) != fb.BuiltinOperatorDEQUANTIZE {
						t.Fatalf("input %d comes from %s", w.input, m.OpName(deq))
					}
					tt = m.Subgraphs[0].Tensors[deq.Inputs[0]]
					checkSymmetric(t, m, tt, w.values, c.axis)
					if v := m.OpCode(deq).Version; v != 2 {
						t.Errorf("DEQUANTIZE version %d, want 2", v)
					}
				}
				quantizedNames[tt.Name] = true
			}
			for _, w := range rep.Weights {
				if !quantizedNames[w.Tensor] {
					t.Errorf("report names %q, not a quantized weight", w.Tensor)
				}
				if len(w.Consumers) != 1 || w.Consumers[0].Kernel != c.kernel || w.Consumers[0].Name != fb.EnumNamesBuiltinOperator[c.op] {
					t.Errorf("report consumers %+v, want one %s", w.Consumers, c.kernel)
				}
				wantGran := "per-tensor"
				if c.axis >= 0 {
					wantGran = "per-channel"
				}
				if w.Granularity != wantGran || w.Type != "INT8" || w.From != "FLOAT32" {
					t.Errorf("report weight %+v", w)
				}
			}
			for name, data := range others {
				if quantizedNames[name] {
					continue
				}
				found := false
				for _, tt := range m.Subgraphs[0].Tensors {
					if tt.Name == name {
						found = true
						if tt.Type != f32 || !bytes.Equal(m.TensorData(tt), data) {
							t.Errorf("float constant %q changed", name)
						}
					}
				}
				if !found {
					t.Errorf("float constant %q disappeared", name)
				}
			}
			if c.asym != asymmetric(op) {
				t.Errorf("asymmetric_quantize_inputs = %v, want %v", asymmetric(op), c.asym)
			}
			if c.kernel == "int8-passthrough" {
				checkPassthrough(t, m, op)
			}

			s := runSQNR(t, floatBytes, quantized, inputs...)
			t.Logf("%s: real runtime SQNR %.1f dB", c.name, s)
			if s < 30 {
				t.Errorf("SQNR %.1f dB against the float model, want at least 30", s)
			}
		})
	}
}

func producer(t *testing.T, m *tflite.Model, tensor int32) *fb.OperatorT {
	t.Helper()
	for _, op := range m.Subgraphs[0].Operators {
		for _, o := range op.Outputs {
			if o == tensor {
				return op
			}
		}
	}
	t.Fatalf("tensor %d has no producer", tensor)
	return nil
}

func asymmetric(op *fb.OperatorT) bool {
	if op.BuiltinOptions == nil {
		return false
	}
	v := reflect.ValueOf(op.BuiltinOptions.Value).Elem().FieldByName("AsymmetricQuantizeInputs")
	return v.IsValid() && v.Bool()
}

// checkPassthrough: GATHER writes int8 with its params' scale, and a
// DEQUANTIZE right after it restores the original float output.
func checkPassthrough(t *testing.T, m *tflite.Model, op *fb.OperatorT) {
	t.Helper()
	sg := m.Subgraphs[0]
	params, out := input(m, op, 0), sg.Tensors[op.Outputs[0]]
	if out.Type != i8 || out.Quantization == nil || !reflect.DeepEqual(out.Quantization.Scale, params.Quantization.Scale) {
		t.Fatalf("GATHER output %+v, want INT8 with the params' scale", out)
	}
	var deq *fb.OperatorT
	for i, o := range sg.Operators {
		if o == op && i+1 < len(sg.Operators) {
			deq = sg.Operators[i+1]
		}
	}
	if deq == nil || m.Builtin(deq) != fb.BuiltinOperatorDEQUANTIZE || deq.Inputs[0] != op.Outputs[0] {
		t.Fatal("no DEQUANTIZE right after GATHER")
	}
	if deq.Outputs[0] != sg.Outputs[0] || sg.Tensors[sg.Outputs[0]].Type != f32 {
		t.Error("the subgraph output is no longer the float GATHER result")
	}
}

// fcModel builds x -> FC(w1) -> FC(w2) with weights of the given shapes.
func fcModel(shape1, shape2 []int32) *modelbuild.Builder {
	b := newModel()
	x := b.Tensor("x", f32, 1, shape1[1])
	w1 := b.ConstFloat32("fc1/weights", shape1, values(count(shape1), 40))
	h := b.Tensor("h", f32, 1, shape1[0])
	w2 := b.ConstFloat32("fc2/weights", shape2, values(count(shape2), 41))
	y := b.Tensor("y", f32, 1, shape2[0])
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{x, w1, -1}, []int32{h})
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{h, w2, -1}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b
}

func tensorNamed(t *testing.T, m *tflite.Model, sg int, name string) *fb.TensorT {
	t.Helper()
	for _, tt := range m.Subgraphs[sg].Tensors {
		if tt.Name == name {
			return tt
		}
	}
	t.Fatalf("no tensor %q", name)
	return nil
}

func TestDynamicSelection(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		int8   []string // weights quantized
		float  []string // weights left FLOAT32
		reason string   // in the float op's report reason
	}{
		{name: "min elements default", int8: []string{"fc1/weights"}, float: []string{"fc2/weights"}, reason: "fewer than 1024"},
		{name: "min elements lowered", opts: Options{MinWeightElements: 512}, int8: []string{"fc1/weights", "fc2/weights"}},
		{name: "min elements raised", opts: Options{MinWeightElements: 4096, AllowNoop: true}, float: []string{"fc1/weights", "fc2/weights"}},
		{name: "skip ops", opts: Options{SkipOps: []fb.BuiltinOperator{fb.BuiltinOperatorFULLY_CONNECTED}, AllowNoop: true},
			float: []string{"fc1/weights", "fc2/weights"}, reason: "--skip-ops"},
		{name: "skip ops of other kinds", opts: Options{SkipOps: []fb.BuiltinOperator{fb.BuiltinOperatorCONV_2D}, MinWeightElements: 1},
			int8: []string{"fc1/weights", "fc2/weights"}},
		{name: "skip tensors", opts: Options{SkipTensors: regexp.MustCompile(`^fc1/`), MinWeightElements: 1},
			int8: []string{"fc2/weights"}, float: []string{"fc1/weights"}, reason: "--skip-tensors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fcModel([]int32{64, 32}, []int32{10, 64}).Model() // 2048 and 640 elements
			rep, err := Dynamic(m, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.int8 {
				if typ := tensorNamed(t, m, 0, n).Type; typ != i8 {
					t.Errorf("%s is %s, want INT8", n, tflite.TypeName(typ))
				}
			}
			for _, n := range tt.float {
				if typ := tensorNamed(t, m, 0, n).Type; typ != f32 {
					t.Errorf("%s is %s, want FLOAT32", n, tflite.TypeName(typ))
				}
			}
			if len(rep.Weights) != len(tt.int8) {
				t.Errorf("report has %d weights, want %d", len(rep.Weights), len(tt.int8))
			}
			if tt.reason != "" {
				found := false
				for _, f := range rep.FloatOps {
					found = found || strings.Contains(f.Reason, tt.reason)
				}
				if !found {
					t.Errorf("no float op with reason %q: %+v", tt.reason, rep.FloatOps)
				}
			}
		})
	}
}

func TestDynamicSharedBuffers(t *testing.T) {
	t.Run("one tensor, two operators", func(t *testing.T) {
		b := newModel()
		shape := []int32{64, 64}
		w := values(count(shape), 50)
		x := b.Tensor("x", f32, 1, 64)
		wt := b.ConstFloat32("shared/weights", shape, w)
		h := b.Tensor("h", f32, 1, 64)
		y := b.Tensor("y", f32, 1, 64)
		b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{x, wt, -1}, []int32{h})
		b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{h, wt, -1}, []int32{y})
		b.Inputs(x)
		b.Outputs(y)
		floatBytes := b.Bytes()
		m := b.Model()
		rep, err := Dynamic(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Weights) != 1 || len(rep.Weights[0].Consumers) != 2 {
			t.Fatalf("report %+v, want one weight read by two operators", rep.Weights)
		}
		m, q := reload(t, m)
		ops := m.Subgraphs[0].Operators
		if ops[0].Inputs[1] != ops[1].Inputs[1] {
			t.Error("the operators no longer share the weight tensor")
		}
		checkSymmetric(t, m, input(m, ops[0], 1), w, -1)
		if s := runSQNR(t, floatBytes, q, randInput([]int{1, 64}, 51)); s < 30 {
			t.Errorf("SQNR %.1f dB", s)
		}
	})
	t.Run("one buffer, two subgraphs", func(t *testing.T) {
		b := newModel()
		shape := []int32{32, 64}
		w := values(count(shape), 52)
		x := b.Tensor("x", f32, 1, 64)
		wt := b.ConstFloat32("weights", shape, w)
		y := b.Tensor("y", f32, 1, 32)
		b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{x, wt, -1}, []int32{y})
		b.Inputs(x)
		b.Outputs(y)
		m := b.Model()
		// A second subgraph with its own tensor on the same buffer.
		sg := m.Subgraphs[0]
		sg2 := &fb.SubGraphT{Name: "second", Inputs: []int32{0}, Outputs: []int32{2}}
		for _, tt := range sg.Tensors {
			c := *tt
			c.Name += "_2"
			sg2.Tensors = append(sg2.Tensors, &c)
		}
		op := *sg.Operators[0]
		op.BuiltinOptions = &fb.BuiltinOptionsT{Type: fb.BuiltinOptionsFullyConnectedOptions, Value: &fb.FullyConnectedOptionsT{}}
		sg2.Operators = []*fb.OperatorT{&op}
		m.Subgraphs = append(m.Subgraphs, sg2)
		buffers := len(m.Buffers)

		rep, err := Dynamic(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		m, _ = reload(t, m)
		t1, t2 := m.Subgraphs[0].Tensors[1], m.Subgraphs[1].Tensors[1]
		if t1.Buffer != t2.Buffer || len(m.Buffers) != buffers {
			t.Errorf("buffer not shared any more (%d, %d; %d buffers, had %d)", t1.Buffer, t2.Buffer, len(m.Buffers), buffers)
		}
		checkSymmetric(t, m, t1, w, -1)
		checkSymmetric(t, m, t2, w, -1)
		if len(rep.Weights) != 1 || len(rep.Weights[0].SharedWith) != 1 || len(rep.Weights[0].Consumers) != 2 {
			t.Errorf("report %+v, want one weight shared by two tensors", rep.Weights)
		}
	})
	t.Run("two float-kernel readers share one DEQUANTIZE", func(t *testing.T) {
		b := newModel()
		shape := []int32{16, 3, 3, 16}
		w := values(count(shape), 57)
		outShape := b.ConstInt32("output_shape", []int32{4}, []int32{1, 8, 8, 16})
		wt := b.ConstFloat32("weights", shape, w)
		x := b.Tensor("x", f32, 1, 8, 8, 16)
		h := b.Tensor("h", f32, 1, 8, 8, 16)
		y := b.Tensor("y", f32, 1, 8, 8, 16)
		opts := func() *fb.TransposeConvOptionsT {
			return &fb.TransposeConvOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1}
		}
		b.Op(fb.BuiltinOperatorTRANSPOSE_CONV, opts(), []int32{outShape, wt, x}, []int32{h})
		b.Op(fb.BuiltinOperatorTRANSPOSE_CONV, opts(), []int32{outShape, wt, h}, []int32{y})
		b.Inputs(x)
		b.Outputs(y)
		floatBytes := b.Bytes()
		m := b.Model()
		rep, err := Dynamic(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		m, q := reload(t, m)
		ops := m.Subgraphs[0].Operators
		if len(ops) != 3 || m.Builtin(ops[0]) != fb.BuiltinOperatorDEQUANTIZE || ops[1].Inputs[1] != ops[0].Outputs[0] || ops[2].Inputs[1] != ops[0].Outputs[0] {
			t.Fatal("want one DEQUANTIZE first, read by both TRANSPOSE_CONVs")
		}
		checkSymmetric(t, m, m.Subgraphs[0].Tensors[ops[0].Inputs[0]], w, -1)
		if len(rep.FloatOps) != 2 || !strings.Contains(rep.FloatOps[0].Reason, "no hybrid kernel") || rep.FloatOps[0].Op != 1 {
			t.Errorf("float ops %+v", rep.FloatOps)
		}
		if s := runSQNR(t, floatBytes, q, randInput([]int{1, 8, 8, 16}, 58)); s < 30 {
			t.Errorf("SQNR %.1f dB", s)
		}
	})
	t.Run("shared with a non-weight input stays float", func(t *testing.T) {
		b := newModel()
		shape := []int32{64, 64}
		x := b.Tensor("x", f32, 64, 64)
		wt := b.ConstFloat32("shared", shape, values(count(shape), 53))
		h := b.Tensor("h", f32, 64, 64)
		y := b.Tensor("y", f32, 64, 64)
		b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{x, wt, -1}, []int32{h})
		b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{}, []int32{h, wt}, []int32{y})
		b.Inputs(x)
		b.Outputs(y)
		m := b.Model()
		rep, err := Dynamic(m, Options{AllowNoop: true})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Noop || !strings.Contains(rep.FloatOps[0].Reason, "ADD") {
			t.Errorf("want a no-op naming the ADD, got %+v", rep)
		}
	})
	t.Run("shared by hybrid and float kernels", func(t *testing.T) {
		// One [16,3,3,16] filter read by CONV_2D (hybrid, per-channel) and
		// TRANSPOSE_CONV (float kernel): quantized once, per-channel; the
		// TRANSPOSE_CONV reads it through a per-channel DEQUANTIZE.
		b := newModel()
		shape := []int32{16, 3, 3, 16}
		w := spread(values(count(shape), 54), shape, 0)
		x := b.Tensor("x", f32, 1, 8, 8, 16)
		wt := b.ConstFloat32("filter", shape, w)
		bias := b.ConstFloat32("bias", []int32{16}, values(16, 56))
		h := b.Tensor("h", f32, 1, 8, 8, 16)
		outShape := b.ConstInt32("output_shape", []int32{4}, []int32{1, 8, 8, 16})
		y := b.Tensor("y", f32, 1, 8, 8, 16)
		b.Op(fb.BuiltinOperatorCONV_2D, conv2DOpts(), []int32{x, wt, bias}, []int32{h})
		b.Op(fb.BuiltinOperatorTRANSPOSE_CONV, &fb.TransposeConvOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1}, []int32{outShape, wt, h}, []int32{y})
		b.Inputs(x)
		b.Outputs(y)
		floatBytes := b.Bytes()
		m := b.Model()
		if _, err := Dynamic(m, Options{}); err != nil {
			t.Fatal(err)
		}
		m, q := reload(t, m)
		conv, _ := findOp(t, m, fb.BuiltinOperatorCONV_2D)
		tconv, _ := findOp(t, m, fb.BuiltinOperatorTRANSPOSE_CONV)
		checkSymmetric(t, m, input(m, conv, 1), w, 0)
		deq := producer(t, m, tconv.Inputs[1])
		if m.Builtin(deq) != fb.BuiltinOperatorDEQUANTIZE || deq.Inputs[0] != conv.Inputs[1] {
			t.Fatal("TRANSPOSE_CONV does not read the shared int8 filter through DEQUANTIZE")
		}
		if v := m.OpCode(deq).Version; v != 5 {
			t.Errorf("per-channel DEQUANTIZE version %d, want 5", v)
		}
		if s := runSQNR(t, floatBytes, q, randInput([]int{1, 8, 8, 16}, 55)); s < 30 {
			t.Errorf("SQNR %.1f dB", s)
		}
	})
}

// fp16Conv builds x -> CONV_2D whose filter (and bias) are FLOAT16
// constants behind DEQUANTIZE, as MediaPipe models store them; with
// extraReader, an ADD also reads the dequantized filter's twin.
func fp16Conv(t *testing.T, filterValues []float32, withTConv bool) *modelbuild.Builder {
	b := newModel()
	shape := []int32{16, 3, 3, 16}
	x := b.Tensor("x", f32, 1, 8, 8, 16)
	w16 := b.Const("conv/Kernel", f16, shape, halfBytes(filterValues))
	w := b.Tensor("conv/Kernel_dequantize", f32, shape...)
	b16 := b.Const("conv/Bias", f16, []int32{16}, halfBytes(values(16, 61)))
	bias := b.Tensor("conv/Bias_dequantize", f32, 16)
	h := b.Tensor("h", f32, 1, 8, 8, 16)
	b.OpVersion(fb.BuiltinOperatorDEQUANTIZE, 3, nil, []int32{w16}, []int32{w})
	b.OpVersion(fb.BuiltinOperatorDEQUANTIZE, 3, nil, []int32{b16}, []int32{bias})
	b.Op(fb.BuiltinOperatorCONV_2D, conv2DOpts(), []int32{x, w, bias}, []int32{h})
	out := h
	if withTConv {
		outShape := b.ConstInt32("output_shape", []int32{4}, []int32{1, 8, 8, 16})
		out = b.Tensor("y", f32, 1, 8, 8, 16)
		b.Op(fb.BuiltinOperatorTRANSPOSE_CONV, &fb.TransposeConvOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1}, []int32{outShape, w, h}, []int32{out})
	}
	b.Inputs(x)
	b.Outputs(out)
	return b
}

func TestDynamicFloat16Weights(t *testing.T) {
	shape := []int32{16, 3, 3, 16}
	raw := spread(values(count(shape), 60), shape, 0)
	// The float values are what the FLOAT16 data holds.
	asHalf := make([]float32, len(raw))
	for i, v := range raw {
		h, _ := float32ToHalf(v)
		asHalf[i] = halfToFloat32(h)
	}
	t.Run("dequantize removed", func(t *testing.T) {
		b := fp16Conv(t, raw, false)
		floatBytes := b.Bytes()
		m := b.Model()
		tensorsBefore := len(m.Subgraphs[0].Tensors)
		rep, err := Dynamic(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		m, q := reload(t, m)
		conv, _ := findOp(t, m, fb.BuiltinOperatorCONV_2D)
		checkSymmetric(t, m, input(m, conv, 1), asHalf, 0)
		if input(m, conv, 1).Name != "conv/Kernel" {
			t.Errorf("conv reads %q", input(m, conv, 1).Name)
		}
		if n := countOps(m, fb.BuiltinOperatorDEQUANTIZE); n != 0 {
			t.Errorf("%d DEQUANTIZE left, want none", n)
		}
		if n := len(m.Subgraphs[0].Tensors); n != tensorsBefore-2 {
			t.Errorf("%d tensors, want %d (the dequantized filter and the FLOAT16 bias dropped)", n, tensorsBefore-2)
		}
		// The hybrid convolution reads a FLOAT32 constant bias holding the
		// FLOAT16 values (LiteRT's XNNPack gives NaN with a dequantized one).
		bias := input(m, conv, 2)
		if got := m.TensorData(bias); bias.Type != f32 || bias.Name != "conv/Bias_dequantize" || got == nil {
			t.Errorf("bias %q %s constant %v, want the FLOAT32 constant conv/Bias_dequantize", bias.Name, tflite.TypeName(bias.Type), got != nil)
		} else {
			want := decodeFloat16(halfBytes(values(16, 61)))
			for i, v := range decodeFloat32(got) {
				if v != want[i] {
					t.Fatalf("bias[%d] = %g, want the FLOAT16 value %g", i, v, want[i])
				}
			}
		}
		if rep.Weights[0].From != "FLOAT16" {
			t.Errorf("report from %q", rep.Weights[0].From)
		}
		if s := runSQNR(t, floatBytes, q, randInput([]int{1, 8, 8, 16}, 62)); s < 30 {
			t.Errorf("SQNR %.1f dB", s)
		}
	})
	t.Run("dequantize kept for a float reader", func(t *testing.T) {
		b := fp16Conv(t, raw, true)
		floatBytes := b.Bytes()
		m := b.Model()
		if _, err := Dynamic(m, Options{}); err != nil {
			t.Fatal(err)
		}
		m, q := reload(t, m)
		conv, _ := findOp(t, m, fb.BuiltinOperatorCONV_2D)
		tconv, _ := findOp(t, m, fb.BuiltinOperatorTRANSPOSE_CONV)
		checkSymmetric(t, m, input(m, conv, 1), asHalf, 0)
		deq := producer(t, m, tconv.Inputs[1])
		if m.Builtin(deq) != fb.BuiltinOperatorDEQUANTIZE || deq.Inputs[0] != conv.Inputs[1] {
			t.Error("TRANSPOSE_CONV should read the int8 filter through the kept DEQUANTIZE")
		}
		if n := countOps(m, fb.BuiltinOperatorDEQUANTIZE); n != 1 {
			t.Errorf("%d DEQUANTIZE, want 1 (the filter's, for TRANSPOSE_CONV; the bias is FLOAT32 now)", n)
		}
		if s := runSQNR(t, floatBytes, q, randInput([]int{1, 8, 8, 16}, 63)); s < 30 {
			t.Errorf("SQNR %.1f dB", s)
		}
	})
}

func TestDynamicLeavesInt8Alone(t *testing.T) {
	b := fcModel([]int32{64, 32}, []int32{48, 64})
	m := b.Model()
	// Make the first FC's weights INT8 already.
	w1 := m.Subgraphs[0].Tensors[1]
	w1.Type = i8
	m.Buffers[w1.Buffer].Data = bytes.Repeat([]byte{3, 253}, 1024)
	w1.Quantization = &fb.QuantizationParametersT{Scale: []float32{0.01}, ZeroPoint: []int64{0}}
	before := append([]byte(nil), m.Buffers[w1.Buffer].Data...)
	rep, err := Dynamic(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.TensorData(w1), before) || w1.Quantization.Scale[0] != 0.01 {
		t.Error("the INT8 weights changed")
	}
	if len(rep.Weights) != 1 || rep.Weights[0].Tensor != "fc2/weights" {
		t.Errorf("report weights %+v", rep.Weights)
	}
}

func TestDynamicRefusals(t *testing.T) {
	t.Run("fully quantized", func(t *testing.T) {
		b := newModel()
		x := b.Tensor("x", i8, 1, 64)
		b.Quantize(x, []float32{0.1}, []int64{0}, 0)
		w := b.Const("w", i8, []int32{32, 64}, make([]byte, 2048))
		b.Quantize(w, []float32{0.1}, []int64{0}, 0)
		y := b.Tensor("y", i8, 1, 32)
		b.Quantize(y, []float32{0.1}, []int64{0}, 0)
		b.OpVersion(fb.BuiltinOperatorFULLY_CONNECTED, 4, &fb.FullyConnectedOptionsT{}, []int32{x, w, -1}, []int32{y})
		b.Inputs(x)
		b.Outputs(y)
		for _, pass := range []func(*tflite.Model, Options) (*Report, error){Dynamic, Float16} {
			m := b.Model()
			before := b.Bytes()
			_, err := pass(m, Options{AllowNoop: true})
			if !errors.Is(err, ErrFullyQuantized) || !strings.Contains(err.Error(), "fully quantized") {
				t.Errorf("err = %v, want ErrFullyQuantized", err)
			}
			if after, _ := m.Save(); !bytes.Equal(before, after) {
				t.Error("the model changed")
			}
		}
	})
	t.Run("nothing to do", func(t *testing.T) {
		b := newModel()
		x := b.Tensor("x", f32, 1, 8)
		c := b.ConstFloat32("c", []int32{1, 8}, values(8, 70))
		y := b.Tensor("y", f32, 1, 8)
		b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{}, []int32{x, c}, []int32{y})
		b.Inputs(x)
		b.Outputs(y)
		before := b.Bytes()
		m := b.Model()
		_, err := Dynamic(m, Options{})
		if !errors.Is(err, ErrNothingToDo) || !strings.Contains(err.Error(), "no operators with weights") {
			t.Errorf("err = %v", err)
		}
		rep, err := Dynamic(m, Options{AllowNoop: true})
		if err != nil || !rep.Noop || rep.NoopReason == "" || rep.SizeAfter != rep.SizeBefore {
			t.Fatalf("AllowNoop: %+v, %v", rep, err)
		}
		if after, _ := m.Save(); !bytes.Equal(before, after) {
			t.Error("a no-op changed the model")
		}
	})
	t.Run("non-finite weights stay float", func(t *testing.T) {
		b := fcModel([]int32{64, 32}, []int32{48, 64})
		m := b.Model()
		w := decodeFloat32(m.Buffers[m.Subgraphs[0].Tensors[1].Buffer].Data)
		w[5] = float32(math.Inf(1))
		m.Buffers[m.Subgraphs[0].Tensors[1].Buffer].Data = modelbuild.Float32Bytes(w)
		rep, err := Dynamic(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Subgraphs[0].Tensors[1].Type != f32 || len(rep.Weights) != 1 {
			t.Errorf("weights with Inf quantized: %+v", rep.Weights)
		}
	})
}

func TestDynamicModelHousekeeping(t *testing.T) {
	build := func() *tflite.Model {
		b := fcModel([]int32{64, 32}, []int32{48, 64})
		m := b.Model()
		// An unused buffer, and min_runtime_version metadata.
		m.Buffers = append(m.Buffers, &fb.BufferT{Data: []byte{1, 2, 3, 4}})
		meta := make([]byte, 16)
		copy(meta, "1.5.0")
		m.Buffers = append(m.Buffers, &fb.BufferT{Data: meta})
		m.Metadata = []*fb.MetadataT{{Name: "min_runtime_version", Buffer: uint32(len(m.Buffers) - 1)}}
		return m
	}
	m := build()
	buffers := len(m.Buffers)
	rep, err := Dynamic(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Buffers) != buffers-1 {
		t.Errorf("%d buffers, want %d (the unused one dropped)", len(m.Buffers), buffers-1)
	}
	if v, _ := opversion.MinRuntimeOf(m); v != "2.3.0" || rep.MinRuntimeVersion != "2.3.0" || rep.MinRuntimeBefore != "1.5.0" {
		t.Errorf("min_runtime_version %q, report %q -> %q", v, rep.MinRuntimeBefore, rep.MinRuntimeVersion)
	}
	if len(rep.OpVersions) != 1 || rep.OpVersions[0].To != 9 {
		t.Errorf("op versions %+v", rep.OpVersions)
	}
	first, _ := m.Save()
	m2 := build()
	if _, err := Dynamic(m2, Options{}); err != nil {
		t.Fatal(err)
	}
	if second, _ := m2.Save(); !bytes.Equal(first, second) {
		t.Error("quantizing the same model twice gave different bytes")
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dynamic: 2 weight(s) -> INT8", "fc1/weights", "FULLY_CONNECTED#0(hybrid)", "per-tensor", "operator versions: FULLY_CONNECTED 1->9", "min_runtime_version: 1.5.0 -> 2.3.0"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}
