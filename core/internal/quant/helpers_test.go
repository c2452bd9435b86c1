package quant

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

const (
	f32 = fb.TensorTypeFLOAT32
	f16 = fb.TensorTypeFLOAT16
	i8  = fb.TensorTypeINT8
	i32 = fb.TensorTypeINT32
)

// values returns n deterministic normal values; channel c of a weight
// built from them is later scaled differently so per-channel scales differ.
func values(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// spread multiplies slice c along axis of shape by (c+1).
func spread(v []float32, shape []int32, axis int) []float32 {
	inner := 1
	for _, d := range shape[axis+1:] {
		inner *= int(d)
	}
	n := int(shape[axis])
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * float32((i/inner)%n+1)
	}
	return out
}

func count(shape []int32) int { return tflite.NumElements(shape) }

// halfBytes encodes v as float16.
func halfBytes(v []float32) []byte {
	out := make([]byte, 2*len(v))
	for i, x := range v {
		h, _ := float32ToHalf(x)
		binary.LittleEndian.PutUint16(out[2*i:], h)
	}
	return out
}

// reload round-trips a model through its bytes (a quantized model must
// save, load and validate).
func reload(t *testing.T, m *tflite.Model) (*tflite.Model, []byte) {
	t.Helper()
	data, err := m.Save()
	if err != nil {
		t.Fatalf("save: %v", err)
	}
	m2, err := tflite.Load(data)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	return m2, data
}

// findOp returns the first operator of the given kind in subgraph 0 and
// its index.
func findOp(t *testing.T, m *tflite.Model, code fb.BuiltinOperator) (*fb.OperatorT, int) {
	t.Helper()
	for i, op := range m.Subgraphs[0].Operators {
		if m.Builtin(op) == code {
			return op, i
		}
	}
	t.Fatalf("no %s operator", fb.EnumNamesBuiltinOperator[code])
	return nil, -1
}

func countOps(m *tflite.Model, code fb.BuiltinOperator) int {
	n := 0
	for _, sg := range m.Subgraphs {
		for _, op := range sg.Operators {
			if m.Builtin(op) == code {
				n++
			}
		}
	}
	return n
}

func input(m *tflite.Model, op *fb.OperatorT, k int) *fb.TensorT {
	return m.Subgraphs[0].Tensors[op.Inputs[k]]
}

// checkSymmetric recomputes the int8 quantization of want (independently
// of the code under test: max |w| / 127 per slice, round half away from
// zero) and compares it with tensor t of m.
func checkSymmetric(t *testing.T, m *tflite.Model, tt *fb.TensorT, want []float32, axis int) {
	t.Helper()
	if tt.Type != i8 {
		t.Fatalf("%s is %s, want INT8", tt.Name, tflite.TypeName(tt.Type))
	}
	q := tt.Quantization
	if q == nil {
		t.Fatalf("%s has no quantization", tt.Name)
	}
	channels, inner := 1, len(want)
	if axis >= 0 {
		channels = int(tt.Shape[axis])
		inner = len(want) / channels
		for _, d := range tt.Shape[:axis] {
			inner /= int(d)
		}
		if int(q.QuantizedDimension) != axis {
			t.Errorf("%s: quantized_dimension %d, want %d", tt.Name, q.QuantizedDimension, axis)
		}
	}
	if len(q.Scale) != channels || len(q.ZeroPoint) != channels {
		t.Fatalf("%s: %d scales, %d zero points, want %d", tt.Name, len(q.Scale), len(q.ZeroPoint), channels)
	}
	for c := 0; c < channels; c++ {
		peak := 0.0
		for i, x := range want {
			if axis < 0 || (i/inner)%channels == c {
				peak = math.Max(peak, math.Abs(float64(x)))
			}
		}
		if s := float32(peak / 127); q.Scale[c] != s {
			t.Fatalf("%s: scale[%d] = %g, want max|w|/127 = %g", tt.Name, c, q.Scale[c], s)
		}
		if q.ZeroPoint[c] != 0 {
			t.Fatalf("%s: zero point %d", tt.Name, q.ZeroPoint[c])
		}
	}
	data := m.TensorData(tt)
	for i, x := range want {
		c := 0
		if axis >= 0 {
			c = (i / inner) % channels
		}
		r := math.Round(float64(x) / float64(q.Scale[c]))
		r = math.Max(-127, math.Min(127, r))
		if got := int8(data[i]); int(got) != int(r) {
			t.Fatalf("%s: q[%d] = %d, want %v", tt.Name, i, got, r)
		}
	}
}

// runSQNR runs the float and the quantized model on the same random inputs
// in the real runtime and returns the output SQNR.
func runSQNR(t *testing.T, float, quantized []byte, inputs ...*npy.Array) float64 {
	t.Helper()
	runtimetest.Require(t)
	ref := runtimetest.RunBytes(t, float, inputs...)
	got := runtimetest.RunBytes(t, quantized, inputs...)
	return sqnr(t, ref, got)
}

func randInput(shape []int, seed uint64) *npy.Array {
	return npy.FromFloat32(shape, values(npyCount(shape), seed))
}

func npyCount(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func ints(s []int32) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out
}

// newModel starts a builder; helper so tests read as recipes.
func newModel() *modelbuild.Builder { return modelbuild.New() }
