package quant

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// convFC builds x -> CONV_2D(filter, bias) -> RESHAPE -> FC(weights) and,
// with shared, a second FC reading the same weights.
func convFC(shared bool) (*modelbuild.Builder, map[string][]float32) {
	b := newModel()
	vals := map[string][]float32{}
	cshape, fshape := []int32{16, 3, 3, 8}, []int32{32, 1024}
	vals["conv/filter"] = values(count(cshape), 80)
	vals["conv/bias"] = values(16, 81)
	vals["fc/weights"] = values(count(fshape), 82)
	x := b.Tensor("x", f32, 1, 8, 8, 8)
	filter := b.ConstFloat32("conv/filter", cshape, vals["conv/filter"])
	bias := b.ConstFloat32("conv/bias", []int32{16}, vals["conv/bias"])
	h := b.Tensor("h", f32, 1, 8, 8, 16)
	b.Op(fb.BuiltinOperatorCONV_2D, conv2DOpts(), []int32{x, filter, bias}, []int32{h})
	shape := b.ConstInt32("shape", []int32{2}, []int32{1, 1024})
	flat := b.Tensor("flat", f32, 1, 1024)
	b.Op(fb.BuiltinOperatorRESHAPE, nil, []int32{h, shape}, []int32{flat})
	w := b.ConstFloat32("fc/weights", fshape, vals["fc/weights"])
	y := b.Tensor("y", f32, 1, 32)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{flat, w, -1}, []int32{y})
	outs := []int32{y}
	if shared {
		y2 := b.Tensor("y2", f32, 1, 32)
		b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{KeepNumDims: true}, []int32{flat, w, -1}, []int32{y2})
		outs = append(outs, y2)
	}
	b.Inputs(x)
	b.Outputs(outs...)
	return b, vals
}

// checkHalf checks that t is FLOAT16 holding want rounded to nearest.
func checkHalf(t *testing.T, m *tflite.Model, tt *fb.TensorT, want []float32) {
	t.Helper()
	if tt.Type != f16 || tt.Quantization != nil {
		t.Fatalf("%s is %s (quantization %v), want plain FLOAT16", tt.Name, tflite.TypeName(tt.Type), tt.Quantization)
	}
	data := m.TensorData(tt)
	for i, x := range want {
		got := halfToFloat32(binary.LittleEndian.Uint16(data[2*i:]))
		// Nearest half: the error is at most half a unit in the last place.
		// (Below 2^-14 halves are subnormal, with a fixed unit of 2^-24.)
		ulp := math.Ldexp(1, max(int(math.Floor(math.Log2(math.Abs(float64(x))))), -14)-10)
		if math.Abs(float64(got)-float64(x)) > ulp/2 {
			t.Fatalf("%s[%d] = %g, want %g rounded to float16", tt.Name, i, got, x)
		}
	}
}

func TestFloat16(t *testing.T) {
	b, vals := convFC(false)
	floatBytes := b.Bytes()
	m := b.Model()
	rep, err := Float16(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, q := reload(t, m)
	conv, ci := findOp(t, m, fb.BuiltinOperatorCONV_2D)
	fc, fi := findOp(t, m, fb.BuiltinOperatorFULLY_CONNECTED)
	for _, c := range []struct {
		op    *fb.OperatorT
		index int
		name  string
	}{{conv, ci, "conv/filter"}, {fc, fi, "fc/weights"}} {
		deq := producer(t, m, c.op.Inputs[1])
		if m.Builtin(deq) != fb.BuiltinOperatorDEQUANTIZE || m.OpCode(deq).Version != 3 {
			t.Fatalf("%s: weight not behind DEQUANTIZE v3", m.OpName(c.op))
		}
		src := m.Subgraphs[0].Tensors[deq.Inputs[0]]
		if src.Name != c.name {
			t.Errorf("FLOAT16 tensor named %q, want %q", src.Name, c.name)
		}
		checkHalf(t, m, src, vals[c.name])
		if dq := input(m, c.op, 1); dq.Type != f32 || m.TensorData(dq) != nil {
			t.Errorf("%s reads %s", m.OpName(c.op), tflite.TypeName(dq.Type))
		}
		// The DEQUANTIZE runs right before its reader.
		if m.Subgraphs[0].Operators[c.index-1] != deq {
			t.Errorf("DEQUANTIZE is not right before %s", m.OpName(c.op))
		}
	}
	if bias := input(m, conv, 2); bias.Type != f32 || !bytes.Equal(m.TensorData(bias), modelbuild.Float32Bytes(vals["conv/bias"])) {
		t.Error("the bias changed")
	}
	if len(rep.Weights) != 2 || rep.Weights[0].Type != "FLOAT16" || rep.Weights[0].Consumers[0].Kernel != "dequantize" {
		t.Errorf("report %+v", rep.Weights)
	}
	if ratio := float64(rep.SizeAfter) / float64(rep.SizeBefore); ratio > 0.6 {
		t.Errorf("size ratio %.3f", ratio)
	}
	if s := runSQNR(t, floatBytes, q, randInput([]int{1, 8, 8, 8}, 83)); s < 60 {
		t.Errorf("SQNR %.1f dB, want at least 60", s)
	}
}

func TestFloat16SharedAndSelection(t *testing.T) {
	t.Run("shared weights: one FLOAT16 tensor, one DEQUANTIZE", func(t *testing.T) {
		b, _ := convFC(true)
		floatBytes := b.Bytes()
		m := b.Model()
		rep, err := Float16(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		m, q := reload(t, m)
		if n := countOps(m, fb.BuiltinOperatorDEQUANTIZE); n != 2 {
			t.Errorf("%d DEQUANTIZE, want 2 (filter, shared weights)", n)
		}
		var fcs []*fb.OperatorT
		for _, op := range m.Subgraphs[0].Operators {
			if m.Builtin(op) == fb.BuiltinOperatorFULLY_CONNECTED {
				fcs = append(fcs, op)
			}
		}
		if len(fcs) != 2 || fcs[0].Inputs[1] != fcs[1].Inputs[1] {
			t.Error("the two FULLY_CONNECTED no longer share one dequantized tensor")
		}
		if len(rep.Weights) != 2 || len(rep.Weights[1].Consumers) != 2 {
			t.Errorf("report %+v", rep.Weights)
		}
		if s := runSQNR(t, floatBytes, q, randInput([]int{1, 8, 8, 8}, 84)); s < 60 {
			t.Errorf("SQNR %.1f dB", s)
		}
	})
	tests := []struct {
		name  string
		opts  Options
		half  []string
		float []string
	}{
		{"default: the 1152-element filter and the FC weights", Options{}, []string{"conv/filter", "fc/weights"}, []string{"conv/bias"}},
		{"min elements", Options{MinWeightElements: 2000}, []string{"fc/weights"}, []string{"conv/filter", "conv/bias"}},
		{"min elements 1 still keeps biases", Options{MinWeightElements: 1}, []string{"conv/filter", "fc/weights"}, []string{"conv/bias"}},
		{"skip ops", Options{SkipOps: []fb.BuiltinOperator{fb.BuiltinOperatorCONV_2D}}, []string{"fc/weights"}, []string{"conv/filter"}},
		{"skip tensors", Options{SkipTensors: regexp.MustCompile(`fc/`)}, []string{"conv/filter"}, []string{"fc/weights"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := convFC(false)
			m := b.Model()
			if _, err := Float16(m, tt.opts); err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.half {
				if typ := tensorNamed(t, m, 0, n).Type; typ != f16 {
					t.Errorf("%s is %s, want FLOAT16", n, tflite.TypeName(typ))
				}
			}
			for _, n := range tt.float {
				if typ := tensorNamed(t, m, 0, n).Type; typ != f32 {
					t.Errorf("%s is %s, want FLOAT32", n, tflite.TypeName(typ))
				}
			}
		})
	}
	t.Run("values beyond float16 stay FLOAT32", func(t *testing.T) {
		b, vals := convFC(false)
		m := b.Model()
		v := vals["fc/weights"]
		v[3] = 1e6
		m.Buffers[tensorNamed(t, m, 0, "fc/weights").Buffer].Data = modelbuild.Float32Bytes(v)
		rep, err := Float16(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if tensorNamed(t, m, 0, "fc/weights").Type != f32 {
			t.Error("out-of-range weights converted")
		}
		found := false
		for _, f := range rep.FloatOps {
			found = found || strings.Contains(f.Reason, "float16's range")
		}
		if !found {
			t.Errorf("float ops %+v lack the range reason", rep.FloatOps)
		}
	})
	t.Run("FLOAT16 weights already: nothing to do", func(t *testing.T) {
		b := fp16Conv(t, values(2304, 85), false)
		m := b.Model()
		_, err := Float16(m, Options{})
		if !errors.Is(err, ErrNothingToDo) || !strings.Contains(err.Error(), "already FLOAT16") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestHalfConversion(t *testing.T) {
	tests := []struct {
		f  float32
		h  uint16
		ok bool
	}{
		{1, 0x3c00, true},
		{-2, 0xc000, true},
		{0, 0, true},
		{float32(math.Copysign(0, -1)), 0x8000, true},
		{65504, 0x7bff, true},
		{65519, 0x7bff, true},  // rounds down to the largest half
		{65520, 0x7c00, false}, // rounds up to infinity
		{5.960464477539063e-08, 0x0001, true},
		{2.98e-08, 0x0000, true}, // below half the smallest subnormal
		{1.0009765625, 0x3c01, true},
		{1.00048828125, 0x3c00, true},   // halfway, to even
		{1.00146484375, 0x3c02, true},   // halfway, to even (up)
		{6.103515625e-05, 0x0400, true}, // smallest normal
		{float32(math.Inf(1)), 0x7c00, false},
		{float32(math.NaN()), 0, false},
	}
	for _, tt := range tests {
		h, ok := float32ToHalf(tt.f)
		if ok != tt.ok || (ok && h != tt.h) {
			t.Errorf("float32ToHalf(%g) = %#04x, %v; want %#04x, %v", tt.f, h, ok, tt.h, tt.ok)
		}
	}
	// Every finite half converts to float32 and back unchanged.
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 {
			continue
		}
		f := halfToFloat32(uint16(h))
		back, ok := float32ToHalf(f)
		if !ok || back != uint16(h) {
			t.Fatalf("half %#04x -> %g -> %#04x (%v)", h, f, back, ok)
		}
	}
}

func TestSymmetricInt8(t *testing.T) {
	// Two channels on axis 1 of a [2,2] tensor: columns.
	v := []float32{1, -0.5, -2, 0.25}
	scales, q := symmetricInt8(v, []int32{2, 2}, 1)
	if scales[0] != float32(2.0/127) || scales[1] != float32(0.5/127) {
		t.Errorf("scales %v", scales)
	}
	if want := []int8{64, -127, -127, 64}; !bytes.Equal(int8Bytes(q), int8Bytes(want)) {
		t.Errorf("q %v, want %v", q, want)
	}
	scales, q = symmetricInt8([]float32{0, 0}, []int32{2}, -1)
	if scales[0] != 1 || q[0] != 0 {
		t.Errorf("all-zero tensor: scale %v, q %v", scales, q)
	}
}
