package quant

import (
	"errors"
	"math"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/interp"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// mixedChain is conv -> add -> reshape -> fully connected, its operators
// named "conv", "add", "flat", "fc" (shapes given: LiteRT.js needs them).
func mixedChain(t *testing.T) ([]byte, []fixtures.Sample) {
	f := fb.TensorTypeFLOAT32
	c := fullCase{name: "mixed chain", inputs: []caseInput{nhwc}, build: func(b *modelbuild.Builder, in []int32) []int32 {
		w := b.ConstFloat32("w", []int32{6, 3, 3, 4}, spread(weightsOf(6*36, 1, 0.3), []int32{6, 3, 3, 4}, 0))
		bias := b.ConstFloat32("bias", []int32{6}, []float32{0.1, -0.2, 0.3, 0, 0.5, -1})
		conv := b.Tensor("conv", f, 1, 8, 8, 6)
		b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, FusedActivationFunction: fb.ActivationFunctionTypeRELU, DilationWFactor: 1, DilationHFactor: 1}, []int32{in[0], w, bias}, []int32{conv})
		k := b.ConstFloat32("k", []int32{1, 1, 1, 6}, []float32{0.5, -1, 2, 0.25, -0.5, 1})
		add := b.Tensor("add", f, 1, 8, 8, 6)
		b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{}, []int32{conv, k}, []int32{add})
		shape := b.ConstInt32("shape", []int32{2}, []int32{1, 384})
		flat := b.Tensor("flat", f, 1, 384)
		b.Op(fb.BuiltinOperatorRESHAPE, &fb.ReshapeOptionsT{}, []int32{add, shape}, []int32{flat})
		fw := b.ConstFloat32("fw", []int32{10, 384}, weightsOf(3840, 5, 0.1))
		fbias := b.ConstFloat32("fbias", []int32{10}, weightsOf(10, 6, 0.5))
		fc := b.Tensor("fc", f, 1, 10)
		b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{flat, fw, fbias}, []int32{fc})
		return []int32{fc}
	}}
	return caseModel(t, c, 16)
}

// runInterp runs a model in core/interp on each sample, the outputs
// stacked as runtimetest gives them.
func runInterp(t *testing.T, data []byte, samples []fixtures.Sample) []*npy.Array {
	t.Helper()
	it, err := interp.New(mustLoad(t, data), interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var outs []fixtures.Sample
	for _, s := range samples {
		for k, a := range s {
			if err := it.SetInput(k, a.Shape, a.Data); err != nil {
				t.Fatal(err)
			}
		}
		if err := it.Invoke(); err != nil {
			t.Fatalf("interp: %v", err)
		}
		var o fixtures.Sample
		for k := range it.NumOutputs() {
			x := it.Output(k)
			shape := make([]int, len(x.Shape))
			for i, d := range x.Shape {
				shape[i] = int(d)
			}
			dt := npy.Float32
			if x.Type == fb.TensorTypeINT8 {
				dt = npy.Int8
			}
			o = append(o, &npy.Array{DType: dt, Shape: shape, Data: append([]byte(nil), x.Data...)})
		}
		outs = append(outs, o)
	}
	return stack(outs)
}

// tensorType returns the type of the tensor named name.
func tensorType(m *tflite.Model, name string) fb.TensorType {
	for _, tt := range m.Subgraphs[0].Tensors {
		if tt.Name == name {
			return tt.Type
		}
	}
	return fb.TensorTypeFLOAT32
}

// TestMixedInt16Ops makes each operator of a conv -> add -> fc chain
// int16x8 in an int8 model: the real runtime runs it, core/interp gives
// the same outputs, the operator reads and writes int16 with int64 bias,
// and the output is at least as accurate as all-int8.
func TestMixedInt16Ops(t *testing.T) {
	runtimetest.Require(t)
	data, samples := mixedChain(t)
	st := calibrate(t, mustLoad(t, data), samples)
	in := stack(samples)
	ref := runtimetest.RunBytes(t, data, in...)
	int8Model, _ := quantizeFull(t, data, ModeInt8, st, Options{})
	base := sqnr(t, ref, runtimetest.RunBytes(t, int8Model, in...))
	t.Logf("int8: SQNR %.1f dB, %d bytes", base, len(int8Model))
	for _, tc := range []struct {
		ops   []string
		int16 []string // tensors that must be int16 (a float model output's producer writes NAME_int16)
		io8   bool     // int8 model input and output
	}{
		{ops: []string{"conv"}, int16: []string{"conv"}},
		{ops: []string{"add"}, int16: []string{"add"}},
		{ops: []string{"fc"}, int16: []string{"fc_int16"}},
		{ops: []string{"add", "flat", "fc"}, int16: []string{"add", "flat", "fc_int16"}},
		{ops: []string{"conv", "fc"}, int16: []string{"conv", "fc_int16"}, io8: true},
	} {
		name := strings.Join(tc.ops, "+")
		if tc.io8 {
			name += " int8 io"
		}
		t.Run(name, func(t *testing.T) {
			opts := Options{Int16Ops: tc.ops}
			if tc.io8 {
				opts.InputType, opts.OutputType = fb.TensorTypeINT8, fb.TensorTypeINT8
			}
			out, rep := quantizeFull(t, data, ModeInt8, st, opts)
			m := mustLoad(t, out)
			if tc.io8 {
				sg := m.Subgraphs[0]
				for _, x := range []int32{sg.Inputs[0], sg.Outputs[0]} {
					if typ := sg.Tensors[x].Type; typ != fb.TensorTypeINT8 {
						t.Fatalf("model I/O %q is %s, want INT8", sg.Tensors[x].Name, tflite.TypeName(typ))
					}
				}
				// Judged on int8 I/O: the runtime against core/interp.
				in8 := quantizeInputs(t, m, samples)
				res, err := runtimetest.RunModelBytes(t.Context(), out, stack(in8), runtimetest.Options{})
				if err != nil {
					t.Fatalf("runtime: %v", err)
				}
				if d := differing(t, res.Outputs, runInterp(t, out, in8)); d > 0 {
					t.Errorf("core/interp and the runtime differ on %.1f%% of the outputs", 100*d)
				}
				return
			}
			for _, n := range tc.int16 {
				if typ := tensorType(m, n); typ != fb.TensorTypeINT16 {
					t.Errorf("%q is %s, want INT16", n, tflite.TypeName(typ))
				}
			}
			for _, op := range m.Subgraphs[0].Operators {
				code := m.Builtin(op)
				if code != fb.BuiltinOperatorCONV_2D && code != fb.BuiltinOperatorFULLY_CONNECTED {
					continue
				}
				in0, bias := m.Subgraphs[0].Tensors[op.Inputs[0]], m.Subgraphs[0].Tensors[op.Inputs[2]]
				want := map[fb.TensorType]fb.TensorType{fb.TensorTypeINT8: fb.TensorTypeINT32, fb.TensorTypeINT16: fb.TensorTypeINT64}[in0.Type]
				if bias.Type != want {
					t.Errorf("%s reads %s with a %s bias", m.OpName(op), tflite.TypeName(in0.Type), tflite.TypeName(bias.Type))
				}
			}
			if rep.IntegerOps != 4 {
				t.Errorf("%d integer operators, want 4 (float: %+v)", rep.IntegerOps, rep.FloatOps)
			}
			res, err := runtimetest.RunModelBytes(t.Context(), out, in, runtimetest.Options{})
			if err != nil {
				t.Fatalf("runtime: %v", err)
			}
			ours := runInterp(t, out, samples)
			if d := differing(t, res.Outputs, ours); d > 0 {
				t.Errorf("core/interp and the runtime differ on %.1f%% of the outputs (SQNR %.1f dB between them)", 100*d, sqnr(t, res.Outputs, ours))
			}
			q := sqnr(t, ref, res.Outputs)
			t.Logf("int16 %v: SQNR %.1f dB (int8 %.1f), %d bytes, %d QUANTIZE, %d DEQUANTIZE", tc.ops, q, base, len(out),
				countOps(m, fb.BuiltinOperatorQUANTIZE), countOps(m, fb.BuiltinOperatorDEQUANTIZE))
			if q < base-0.5 {
				t.Errorf("SQNR %.1f dB, below int8's %.1f", q, base)
			}
		})
	}
}

// TestMixedInt16Errors: bad --int16-ops are one-line errors naming the
// operator.
func TestMixedInt16Errors(t *testing.T) {
	data, samples := mixedChain(t)
	st := calibrate(t, mustLoad(t, data), samples)
	for _, tc := range []struct {
		mode FullMode
		opts Options
		want string
	}{
		{ModeInt8, Options{Int16Ops: []string{"nope"}}, `no operator writes "nope" first`},
		{ModeInt16x8, Options{Int16Ops: []string{"add"}}, "applies to --mode int8"},
		{ModeUint8, Options{Int16Ops: []string{"add"}}, "applies to --mode int8"},
		{ModeInt8, Options{Int16Ops: []string{"add"}, FloatOps: []string{"add"}}, `"add" (ADD) is also kept float`},
	} {
		_, err := Full(mustLoad(t, data), tc.mode, st, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %+v: err = %v, want one line with %q", tc.mode, tc.opts, err, tc.want)
		}
	}
}

// TestMixedInt16NoKernel: an operator without an int16x8 kernel is refused
// by name, and the error matches ErrNoInt16.
func TestMixedInt16NoKernel(t *testing.T) {
	c := fullCase{name: "hard swish", inputs: []caseInput{nhwc}, build: func(b *modelbuild.Builder, in []int32) []int32 {
		out := b.Tensor("hs", fb.TensorTypeFLOAT32)
		b.Op(fb.BuiltinOperatorHARD_SWISH, nil, []int32{in[0]}, []int32{out})
		return []int32{out}
	}}
	data, samples := caseModel(t, c, 4)
	st := calibrate(t, mustLoad(t, data), samples)
	_, err := Full(mustLoad(t, data), ModeInt8, st, Options{Int16Ops: []string{"hs"}})
	want := `--int16-ops: "hs" (HARD_SWISH) has no int16x8 kernel in the runtime`
	if err == nil || err.Error() != want || !errors.Is(err, ErrNoInt16) {
		t.Errorf("err = %v, want %q matching ErrNoInt16", err, want)
	}
}

// quantizeInputs gives samples in the int8 parameters of m's input.
func quantizeInputs(t *testing.T, m *tflite.Model, samples []fixtures.Sample) []fixtures.Sample {
	t.Helper()
	sg := m.Subgraphs[0]
	q := sg.Tensors[sg.Inputs[0]].Quantization
	var out []fixtures.Sample
	for _, s := range samples {
		v, err := s[0].Float32s()
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, len(v))
		for i, x := range v {
			r := math.Round(float64(x)/float64(q.Scale[0])) + float64(q.ZeroPoint[0])
			b[i] = byte(int8(max(-128, min(127, r))))
		}
		out = append(out, fixtures.Sample{&npy.Array{DType: npy.Int8, Shape: s[0].Shape, Data: b}})
	}
	return out
}
