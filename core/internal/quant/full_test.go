package quant

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/internal/qparams"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// convNet is x[1,8,8,3] -> CONV_2D(4, 3x3, RELU6) -> MAX_POOL_2D(2x2) ->
// RESHAPE[1,64] -> FULLY_CONNECTED(10) -> SOFTMAX -> y.
func convNet() []byte {
	f := fb.TensorTypeFLOAT32
	b := modelbuild.New()
	x := b.Tensor("x", f, 1, 8, 8, 3)
	w := b.ConstFloat32("conv/w", []int32{4, 3, 3, 3}, spread(weightsOf(108, 21, 0.3), []int32{4, 3, 3, 3}, 0))
	bias := b.ConstFloat32("conv/b", []int32{4}, []float32{0.1, -0.3, 0.2, 0.05})
	c := b.Tensor("conv", f, 1, 8, 8, 4)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1,
		FusedActivationFunction: fb.ActivationFunctionTypeRELU6}, []int32{x, w, bias}, []int32{c})
	p := b.Tensor("pool", f, 1, 4, 4, 4)
	b.Op(fb.BuiltinOperatorMAX_POOL_2D, &fb.Pool2DOptionsT{Padding: fb.PaddingVALID, StrideW: 2, StrideH: 2, FilterWidth: 2, FilterHeight: 2}, []int32{c}, []int32{p})
	shape := b.ConstInt32("shape", []int32{2}, []int32{1, 64})
	r := b.Tensor("flat", f, 1, 64)
	b.Op(fb.BuiltinOperatorRESHAPE, &fb.ReshapeOptionsT{NewShape: []int32{1, 64}}, []int32{p, shape}, []int32{r})
	fw := b.ConstFloat32("fc/w", []int32{10, 64}, weightsOf(640, 22, 0.2))
	fbias := b.ConstFloat32("fc/b", []int32{10}, weightsOf(10, 23, 0.1))
	logits := b.Tensor("logits", f, 1, 10)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{r, fw, fbias}, []int32{logits})
	y := b.Tensor("y", f, 1, 10)
	b.Op(fb.BuiltinOperatorSOFTMAX, &fb.SoftmaxOptionsT{Beta: 1}, []int32{logits}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

// randSamples makes n samples of uniform values in [lo, hi) for the
// model's float inputs.
func randSamples(t testing.TB, data []byte, n int, lo, hi float32, seed uint64) []fixtures.Sample {
	t.Helper()
	m := mustLoad(t, data)
	r := rand.New(rand.NewPCG(seed, 3))
	var out []fixtures.Sample
	for i := 0; i < n; i++ {
		var s fixtures.Sample
		for _, ti := range m.Subgraphs[0].Inputs {
			tt := m.Subgraphs[0].Tensors[ti]
			shape := ints(tt.Shape)
			v := make([]float32, npyCount(shape))
			for j := range v {
				v[j] = lo + (hi-lo)*r.Float32()
			}
			s = append(s, npy.FromFloat32(shape, v))
		}
		out = append(out, s)
	}
	return out
}

func tensorByName(t *testing.T, m *tflite.Model, name string) *fb.TensorT {
	t.Helper()
	for _, tt := range m.Subgraphs[0].Tensors {
		if tt.Name == name {
			return tt
		}
	}
	t.Fatalf("no tensor %q", name)
	return nil
}

func params(t *testing.T, tt *fb.TensorT) (float32, int64) {
	t.Helper()
	if tt.Quantization == nil || len(tt.Quantization.Scale) != 1 {
		t.Fatalf("%s: not per-tensor quantized: %+v", tt.Name, tt.Quantization)
	}
	return tt.Quantization.Scale[0], tt.Quantization.ZeroPoint[0]
}

func TestFullStructure(t *testing.T) {
	data := convNet()
	samples := randSamples(t, data, 16, -1, 1, 1)
	st := calibrate(t, mustLoad(t, data), samples)
	for _, mode := range []FullMode{ModeInt8, ModeInt16x8} {
		t.Run(string(mode), func(t *testing.T) {
			s := schemes[mode]
			out, rep := quantizeFull(t, data, mode, st, Options{})
			m := mustLoad(t, out)
			sg := m.Subgraphs[0]
			// Float I/O: one QUANTIZE first, one DEQUANTIZE last.
			ops := sg.Operators
			if len(ops) != 7 || m.Builtin(ops[0]) != fb.BuiltinOperatorQUANTIZE || m.Builtin(ops[6]) != fb.BuiltinOperatorDEQUANTIZE {
				var names []string
				for _, op := range ops {
					names = append(names, m.OpName(op))
				}
				t.Fatalf("operators %v", names)
			}
			if x, y := sg.Tensors[sg.Inputs[0]], sg.Tensors[sg.Outputs[0]]; x.Type != f32 || y.Type != f32 || x.Name != "x" || y.Name != "y" {
				t.Errorf("model I/O %s %s / %s %s, want FLOAT32 x and y", x.Name, tflite.TypeName(x.Type), y.Name, tflite.TypeName(y.Type))
			}
			// Activations: parameters from the calibrated ranges.
			for _, name := range []string{"conv", "logits"} {
				tt := tensorByName(t, m, name)
				orig := tensorIndex(t, mustLoad(t, data), name)
				lo, hi, _ := st.Range(0, orig)
				scale, zp := params(t, tt)
				want := s.fromRange(lo, hi)
				if tt.Type != s.act || scale != want.scale || zp != want.zp {
					t.Errorf("%s: %s %g %d, want %s %g %d from [%g, %g]", name, tflite.TypeName(tt.Type), scale, zp, tflite.TypeName(s.act), want.scale, want.zp, lo, hi)
				}
				if mode == ModeInt8 {
					ws, wz := qparams.Asymmetric(lo, hi, -128, 127)
					if ws != scale || wz != zp {
						t.Errorf("%s: int8 params %g %d, want qparams.Asymmetric's %g %d", name, scale, zp, ws, wz)
					}
				} else if zp != 0 || scale != float32(math.Max(math.Abs(float64(lo)), math.Abs(float64(hi))))/32767 {
					t.Errorf("%s: int16 params %g %d, want symmetric max|x|/32767", name, scale, zp)
				}
			}
			// Same-scale operators keep the input's parameters.
			cs, cz := params(t, tensorByName(t, m, "conv"))
			for _, name := range []string{"pool", "flat"} {
				if s2, z2 := params(t, tensorByName(t, m, name)); s2 != cs || z2 != cz {
					t.Errorf("%s: %g %d, want the conv output's %g %d", name, s2, z2, cs, cz)
				}
			}
			// SOFTMAX output fixed.
			ys, yz := params(t, tensorByName(t, m, "y_"+strings.ToLower(tflite.TypeName(s.act))))
			if mode == ModeInt8 && (ys != 1.0/256 || yz != -128) || mode == ModeInt16x8 && (ys != 1.0/32768 || yz != 0) {
				t.Errorf("softmax output %g %d", ys, yz)
			}
			// Weights: symmetric int8, per-channel for the convolution,
			// per-tensor for the fully connected layer; biases at input
			// scale × weight scale.
			conv, _ := findOp(t, m, fb.BuiltinOperatorCONV_2D)
			fc, _ := findOp(t, m, fb.BuiltinOperatorFULLY_CONNECTED)
			for _, x := range []struct {
				op    *fb.OperatorT
				n     int
				biasT fb.TensorType
			}{{conv, 4, s.bias}, {fc, 1, s.bias}} {
				w, b, in := input(m, x.op, 1), input(m, x.op, 2), input(m, x.op, 0)
				if w.Type != i8 || len(w.Quantization.Scale) != x.n || b.Type != x.biasT || len(b.Quantization.Scale) != x.n {
					t.Fatalf("%s: weights %s ×%d, bias %s ×%d", w.Name, tflite.TypeName(w.Type), len(w.Quantization.Scale), tflite.TypeName(b.Type), len(b.Quantization.Scale))
				}
				is, _ := params(t, in)
				for c := 0; c < x.n; c++ {
					if b.Quantization.Scale[c] != is*w.Quantization.Scale[c] || b.Quantization.ZeroPoint[c] != 0 || w.Quantization.ZeroPoint[c] != 0 {
						t.Errorf("%s: bias scale %g, want %g × %g", b.Name, b.Quantization.Scale[c], is, w.Quantization.Scale[c])
					}
				}
				for _, v := range m.TensorData(w) {
					if int8(v) == -128 {
						t.Errorf("%s: -128 in symmetric weights", w.Name)
						break
					}
				}
			}
			want := map[fb.BuiltinOperator]int32{fb.BuiltinOperatorCONV_2D: 3, fb.BuiltinOperatorFULLY_CONNECTED: 4,
				fb.BuiltinOperatorMAX_POOL_2D: 2, fb.BuiltinOperatorSOFTMAX: 2}
			if mode == ModeInt16x8 {
				want = map[fb.BuiltinOperator]int32{fb.BuiltinOperatorCONV_2D: 4, fb.BuiltinOperatorFULLY_CONNECTED: 7,
					fb.BuiltinOperatorMAX_POOL_2D: 3, fb.BuiltinOperatorSOFTMAX: 3, fb.BuiltinOperatorQUANTIZE: 2, fb.BuiltinOperatorDEQUANTIZE: 3}
			}
			for _, oc := range m.OperatorCodes {
				if v, ok := want[oc.BuiltinCode]; ok && oc.Version != v {
					t.Errorf("%s version %d, want %d", tflite.OpCodeName(oc), oc.Version, v)
				}
			}
			if rep.IntegerOps != 5 || rep.AddedOps != 2 || len(rep.FloatOps) != 0 || rep.InputType != "FLOAT32" {
				t.Errorf("report: %d integer ops, %d added, float %v, input %s", rep.IntegerOps, rep.AddedOps, rep.FloatOps, rep.InputType)
			}
			again, _ := quantizeFull(t, data, mode, st, Options{})
			if !bytes.Equal(out, again) {
				t.Error("quantizing twice gave different bytes")
			}
			if runtimetest.Available() == nil {
				ref := runtimetest.RunBytes(t, data, stack(samples)...)
				got := runtimetest.RunBytes(t, out, stack(samples)...)
				if q := sqnr(t, ref, got); q < 25 {
					t.Errorf("SQNR %.1f dB", q)
				}
			}
		})
	}
}

func tensorIndex(t *testing.T, m *tflite.Model, name string) int {
	t.Helper()
	for i, tt := range m.Subgraphs[0].Tensors {
		if tt.Name == name {
			return i
		}
	}
	t.Fatalf("no tensor %q", name)
	return -1
}

// Weight tuning moves single weights by one step at most and keeps the
// scales; PlainWeights rounds to nearest as TensorFlow does.
func TestFullWeightTuning(t *testing.T) {
	data := convNet()
	samples := randSamples(t, data, 16, -1, 1, 2)
	st := calibrate(t, mustLoad(t, data), samples)
	plain, _ := quantizeFull(t, data, ModeInt8, st, Options{PlainWeights: true})
	tuned, _ := quantizeFull(t, data, ModeInt8, st, Options{})
	pm, tm, fm := mustLoad(t, plain), mustLoad(t, tuned), mustLoad(t, data)
	for _, name := range []string{"conv/w", "fc/w"} {
		pw, tw := tensorByName(t, pm, name), tensorByName(t, tm, name)
		axis := 0
		if name == "fc/w" {
			axis = -1
		}
		checkSymmetric(t, pm, pw, decodeFloat32(fm.TensorData(tensorByName(t, fm, name))), axis)
		if fmtScales(pw) != fmtScales(tw) {
			t.Errorf("%s: tuning changed the scales", name)
		}
		moved := 0
		for i, v := range pm.TensorData(pw) {
			d := int(int8(tm.TensorData(tw)[i])) - int(int8(v))
			if d < -1 || d > 1 || int8(tm.TensorData(tw)[i]) == -128 {
				t.Fatalf("%s[%d]: %d tuned to %d", name, i, int8(v), int8(tm.TensorData(tw)[i]))
			}
			if d != 0 {
				moved++
			}
		}
		t.Logf("%s: %d of %d weights rounded the other way", name, moved, len(pm.TensorData(pw)))
	}
	if bytes.Equal(plain, tuned) {
		t.Error("tuning changed nothing")
	}
	// Without patch statistics there is nothing to tune with.
	untuned, _ := quantizeFull(t, data, ModeInt8, rangesOnly{st}, Options{})
	if !bytes.Equal(plain, untuned) {
		t.Error("ranges without patch statistics should give the plain rounding")
	}
}

func fmtScales(t *fb.TensorT) string { return fmt.Sprint(t.Quantization.Scale) }

// rangesOnly hides a Stats' patch statistics.
type rangesOnly struct{ r Ranges }

func (x rangesOnly) Range(sg, t int) (float32, float32, bool) { return x.r.Range(sg, t) }

// mixedNet has DIV, which has no integer kernel, between quantized ADD and
// MUL: x -> ADD(c) -> DIV(d) -> MUL(e) -> y.
func mixedNet() []byte {
	f := fb.TensorTypeFLOAT32
	b := modelbuild.New()
	x := b.Tensor("x", f, 1, 16)
	c := b.ConstFloat32("c", []int32{1, 16}, weightsOf(16, 31, 1))
	a := b.Tensor("a", f, 1, 16)
	b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{}, []int32{x, c}, []int32{a})
	d := b.ConstFloat32("d", []int32{1}, []float32{2.5})
	q := b.Tensor("q", f, 1, 16)
	b.Op(fb.BuiltinOperatorDIV, &fb.DivOptionsT{}, []int32{a, d}, []int32{q})
	e := b.ConstFloat32("e", []int32{1}, []float32{-1.5})
	y := b.Tensor("y", f, 1, 16)
	b.Op(fb.BuiltinOperatorMUL, &fb.MulOptionsT{}, []int32{q, e}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

func TestFullMixedFloat(t *testing.T) {
	data := mixedNet()
	samples := randSamples(t, data, 16, -2, 2, 3)
	st := calibrate(t, mustLoad(t, data), samples)
	out, rep := quantizeFull(t, data, ModeInt8, st, Options{})
	m := mustLoad(t, out)
	var names []string
	for _, op := range m.Subgraphs[0].Operators {
		names = append(names, m.OpName(op))
	}
	if got := strings.Join(names, " "); got != "QUANTIZE ADD DEQUANTIZE DIV QUANTIZE MUL DEQUANTIZE" {
		t.Errorf("operators %s", got)
	}
	div, _ := findOp(t, m, fb.BuiltinOperatorDIV)
	if input(m, div, 0).Type != f32 || input(m, div, 1).Type != f32 || m.Subgraphs[0].Tensors[div.Outputs[0]].Type != f32 {
		t.Error("DIV does not compute on floats")
	}
	if len(rep.FloatOps) != 1 || rep.FloatOps[0].Name != "DIV" || !strings.Contains(rep.FloatOps[0].Reason, "no int8 kernel") {
		t.Errorf("float ops %+v", rep.FloatOps)
	}
	add, _ := findOp(t, m, fb.BuiltinOperatorADD)
	if c := input(m, add, 1); c.Type != i8 || c.Name != "c" {
		t.Errorf("constant ADD operand: %s %s", c.Name, tflite.TypeName(c.Type))
	} else {
		// Quantized from its own values.
		v := decodeFloat32(mustLoad(t, data).TensorData(tensorByName(t, mustLoad(t, data), "c")))
		lo, hi, _ := finiteRange(v)
		s, z := qparams.Asymmetric(lo, hi, -128, 127)
		if gs, gz := params(t, c); gs != s || gz != z {
			t.Errorf("constant operand params %g %d, want %g %d from its values", gs, gz, s, z)
		}
	}
	if runtimetest.Available() == nil {
		ref := runtimetest.RunBytes(t, data, stack(samples)...)
		got := runtimetest.RunBytes(t, out, stack(samples)...)
		if q := sqnr(t, ref, got); q < 30 {
			t.Errorf("SQNR %.1f dB", q)
		}
	}
	// --integer-only names every operator left float.
	_, err := Full(mustLoad(t, data), ModeInt8, st, Options{IntegerOnly: true})
	if err == nil || !strings.Contains(err.Error(), "--integer-only: 1 operator(s)") || !strings.Contains(err.Error(), "DIV (subgraph 0, operator 1: no int8 kernel)") || strings.Contains(err.Error(), "\n") {
		t.Errorf("integer-only: %v", err)
	}
	// --skip-ops leaves an operator float too, and integer-only says so.
	_, err = Full(mustLoad(t, data), ModeInt8, st, Options{IntegerOnly: true, SkipOps: []fb.BuiltinOperator{fb.BuiltinOperatorMUL}})
	if err == nil || !strings.Contains(err.Error(), "2 operator(s)") || !strings.Contains(err.Error(), "MUL (subgraph 0, operator 2: --skip-ops)") {
		t.Errorf("integer-only with skip: %v", err)
	}
	// The model is unchanged by a failed pass.
	m2 := mustLoad(t, data)
	Full(m2, ModeInt8, st, Options{IntegerOnly: true})
	if after, _ := m2.Save(); !bytes.Equal(after, mustSave(t, mustLoad(t, data))) {
		t.Error("a failed pass changed the model")
	}
}

func mustSave(t *testing.T, m *tflite.Model) []byte {
	t.Helper()
	b, err := m.Save()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFullErrors(t *testing.T) {
	data := mixedNet()
	samples := randSamples(t, data, 4, -2, 2, 4)
	st := calibrate(t, mustLoad(t, data), samples)
	cases := []struct {
		name string
		mode FullMode
		r    Ranges
		opts Options
		want string
	}{
		{"int16 input in int8", ModeInt8, st, Options{InputType: fb.TensorTypeINT16}, "--input-type int16 is not available with --mode int8 (want float32, int8, uint8)"},
		{"uint8 output in 16x8", ModeInt16x8, st, Options{OutputType: fb.TensorTypeUINT8}, "--output-type uint8 is not available with --mode int16x8 (want float32, int16)"},
		{"no ranges", ModeInt8, nil, Options{}, "needs calibration ranges"},
		{"missing range", ModeInt8, dropRange{st, 2}, Options{}, `no range for 1 activation tensor(s) (no FAKE_QUANT, no min/max recorded in the model, never computed or never finite during calibration; --default-range MIN,MAX gives them one): "a"`},
		{"unknown mode", FullMode("int4"), st, Options{}, `unknown full-integer mode "int4"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Full(mustLoad(t, data), c.mode, c.r, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
	// Nothing with an integer kernel.
	b := modelbuild.New()
	x := b.Tensor("x", f32, 1, 4)
	y := b.Tensor("y", f32, 1, 4)
	b.Op(fb.BuiltinOperatorSQRT, nil, []int32{x}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	sq := b.Bytes()
	st2 := calibrate(t, mustLoad(t, sq), randSamples(t, sq, 2, 0.1, 1, 5))
	_, err := Full(mustLoad(t, sq), ModeInt8, st2, Options{})
	if !errors.Is(err, ErrNothingToDo) || !strings.Contains(err.Error(), "no operator of the model has an int8 kernel (1 left float)") {
		t.Errorf("sqrt: %v", err)
	}
	rep, err := Full(mustLoad(t, sq), ModeInt8, st2, Options{AllowNoop: true})
	if err != nil || !rep.Noop {
		t.Errorf("sqrt with AllowNoop: %v %+v", err, rep)
	}
	// Already fully quantized.
	_, err = Full(mustLoad(t, mustReadModel(t, "hello_world_int8.tflite")), ModeInt8, st2, Options{})
	if !errors.Is(err, ErrFullyQuantized) {
		t.Errorf("int8 model: %v", err)
	}
}

// dropRange hides the range of one tensor.
type dropRange struct {
	r Ranges
	t int
}

func (d dropRange) Range(sg, t int) (float32, float32, bool) {
	if sg == 0 && t == d.t {
		return 0, 0, false
	}
	return d.r.Range(sg, t)
}

func mustReadModel(t *testing.T, name string) []byte {
	t.Helper()
	data, _ := sharedSamples(t, name, 1)
	return data
}

// A subgraph without calibration ranges stays float, and says why.
func TestFullUncalibratedSubgraph(t *testing.T) {
	data, s := sharedSamples(t, "two_signatures.tflite", 8)
	st := calibrate(t, mustLoad(t, data), s)
	out, rep := quantizeFull(t, data, ModeInt8, onlySubgraph{st, 0}, Options{})
	m := mustLoad(t, out)
	if len(m.Subgraphs) != 2 {
		t.Fatalf("%d subgraphs", len(m.Subgraphs))
	}
	if len(rep.FloatOps) != 1 || rep.FloatOps[0].Subgraph != 1 || rep.FloatOps[0].Reason != "subgraph 1 was not calibrated" {
		t.Errorf("float ops %+v", rep.FloatOps)
	}
	for _, tt := range m.Subgraphs[1].Tensors {
		if tt.Type != f32 {
			t.Errorf("subgraph 1 tensor %q is %s", tt.Name, tflite.TypeName(tt.Type))
		}
	}
	// Calibrated, both signatures are quantized.
	_, rep = quantizeFull(t, data, ModeInt8, st, Options{})
	if len(rep.FloatOps) != 0 || rep.IntegerOps != 2 {
		t.Errorf("both calibrated: %d integer ops, float %+v", rep.IntegerOps, rep.FloatOps)
	}
}

// onlySubgraph keeps the ranges of one subgraph.
type onlySubgraph struct {
	r  Ranges
	sg int
}

func (o onlySubgraph) Range(sg, t int) (float32, float32, bool) {
	if sg != o.sg {
		return 0, 0, false
	}
	return o.r.Range(sg, t)
}
