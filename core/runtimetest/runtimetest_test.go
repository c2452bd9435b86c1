package runtimetest

import (
	"errors"
	"fmt"
	"litequant/core/fixtures"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"litequant/core/npy"
)

// fakeTB records Skip and Fatal instead of stopping the test.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Skip(args ...any)  { f.skipped = fmt.Sprint(args...) }
func (f *fakeTB) Fatal(args ...any) { f.fatal = fmt.Sprint(args...) }

func TestRequireSkipsOrFailsInCI(t *testing.T) {
	missing := errors.New("node is not in PATH")

	t.Setenv("CI", "")
	f := &fakeTB{TB: t}
	require(f, missing)
	if !strings.Contains(f.skipped, "real TFLite runtime not installed: run `make test` or `npm ci --prefix scripts`") ||
		!strings.Contains(f.skipped, "node is not in PATH") || f.fatal != "" {
		t.Errorf("without CI: skipped %q, fatal %q", f.skipped, f.fatal)
	}

	t.Setenv("CI", "true")
	f = &fakeTB{TB: t}
	require(f, missing)
	if !strings.Contains(f.fatal, "real TFLite runtime not installed") || f.skipped != "" {
		t.Errorf("with CI: skipped %q, fatal %q", f.skipped, f.fatal)
	}

	f = &fakeTB{TB: t}
	require(f, nil)
	if f.skipped != "" || f.fatal != "" {
		t.Errorf("available: skipped %q, fatal %q", f.skipped, f.fatal)
	}
}

// sharedNPY reads a shared .npy fixture.
func sharedNPY(t *testing.T, name string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(fixtures.Path(t, "data", "npy", name))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// rows returns rows [lo, hi) of a along axis 0.
func rows(t *testing.T, a *npy.Array, lo, hi int) *npy.Array {
	t.Helper()
	per := len(a.Data) / a.Shape[0]
	shape := append([]int{hi - lo}, a.Shape[1:]...)
	return &npy.Array{DType: a.DType, Shape: shape, Data: a.Data[lo*per : hi*per]}
}

func float32s(t *testing.T, a *npy.Array) []float32 {
	t.Helper()
	v, err := a.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func randomFloats(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * 10)
	}
	return v
}

func checkShape(t *testing.T, what string, a *npy.Array, dtype npy.DType, shape ...int) {
	t.Helper()
	if a.DType != dtype || !reflect.DeepEqual(a.Shape, shape) {
		t.Fatalf("%s is %v, want %v%v", what, a, dtype, shape)
	}
}

func TestHelloWorldFloat(t *testing.T) {
	model := fixtures.Path(t, "models", "hello_world_float.tflite")
	x := rows(t, sharedNPY(t, "sine_x_0to2pi.npy"), 0, 5)
	out := Run(t, model, x)
	if len(out) != 1 {
		t.Fatalf("%d outputs, want 1", len(out))
	}
	checkShape(t, "output", out[0], npy.Float32, 5, 1)
	xs, ys := float32s(t, x), float32s(t, out[0])
	for i := range xs {
		if want := math.Sin(float64(xs[i])); math.Abs(float64(ys[i])-want) > 0.1 {
			t.Errorf("hello_world(%v) = %v, want sin(x) = %v", xs[i], ys[i], want)
		}
	}
}

func TestSingleAddIsExact(t *testing.T) {
	model := fixtures.Path(t, "models", "single_add.tflite")
	r := rand.New(rand.NewPCG(1, 2))
	a, b := randomFloats(r, 32*32), randomFloats(r, 32*32)
	out := Run(t, model, npy.FromFloat32([]int{1, 32, 32}, a), npy.FromFloat32([]int{1, 32, 32}, b))
	checkShape(t, "output", out[0], npy.Float32, 1, 32, 32)
	for i, got := range float32s(t, out[0]) {
		if want := a[i] + b[i]; got != want {
			t.Fatalf("sum[%d] = %v, want %v + %v = %v", i, got, a[i], b[i], want)
		}
	}
}

func TestMobilenetFloatBurgers(t *testing.T) {
	model := fixtures.Path(t, "models", "mobilenet_v1_0.25_224_float.tflite")
	crops := rows(t, sharedNPY(t, "images_224x224x3_uint8.npy"), 0, 2) // the first six crops are the burger
	pixels := make([]float32, len(crops.Data))
	for i, p := range crops.Data {
		pixels[i] = float32(p)/127.5 - 1
	}
	Require(t)
	res, err := RunModel(t.Context(), model, []*npy.Array{npy.FromFloat32(crops.Shape, pixels)}, Options{Repeat: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, "output", res.Outputs[0], npy.Float32, 2, 1001)
	scores := float32s(t, res.Outputs[0])
	for s := range 2 {
		row := scores[s*1001 : (s+1)*1001]
		best := 0
		for c := range row {
			if row[c] > row[best] {
				best = c
			}
		}
		if best != 934 {
			t.Errorf("crop %d: argmax = %d (%.3f), want 934 (cheeseburger, %.3f)", s, best, row[best], row[934])
		}
	}

	m := res.Meta
	want := Meta{Batched: true, Samples: 2, Threads: 1, Warmup: 1, Repeat: 3}
	if m.Batched != want.Batched || m.Samples != want.Samples || m.Threads != want.Threads || m.Warmup != want.Warmup || m.Repeat != want.Repeat {
		t.Errorf("meta = %+v, want %+v", m, want)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].DType != "float32" || !reflect.DeepEqual(m.Inputs[0].Shape, []int{1, 224, 224, 3}) {
		t.Errorf("meta inputs = %+v", m.Inputs)
	}
	if len(m.Outputs) != 1 || m.Outputs[0].DType != "float32" || !reflect.DeepEqual(m.Outputs[0].Shape, []int{1, 1001}) {
		t.Errorf("meta outputs = %+v", m.Outputs)
	}
	if m.MsPerInference <= 0 || m.Runtime.Version != "0.0.1-alpha.10" {
		t.Errorf("ms_per_inference = %v, runtime = %+v", m.MsPerInference, m.Runtime)
	}
	t.Logf("mobilenet_v1_0.25_224_float: %.2f ms/inference", m.MsPerInference)
}

func TestHelloWorldInt8(t *testing.T) {
	model := fixtures.Path(t, "models", "hello_world_int8.tflite")
	// The model's input and output quantization (scale, zero point).
	const inScale, inZero, outScale, outZero = 0.02448, -128, 0.008291, 5
	xs := []float64{0.5, 1.5, 3, 4.5, 6}
	q := make([]int8, len(xs))
	for i, x := range xs {
		q[i] = int8(max(-128, min(127, math.Round(x/inScale)+inZero)))
	}
	out := Run(t, model, npy.FromInt8([]int{len(xs), 1}, q))
	checkShape(t, "output", out[0], npy.Int8, len(xs), 1)
	ys, err := out[0].Int8s()
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		if y := (float64(ys[i]) - outZero) * outScale; math.Abs(y-math.Sin(x)) > 0.15 {
			t.Errorf("hello_world_int8(%v) = %d (%.3f), want about sin(x) = %.3f", x, ys[i], y, math.Sin(x))
		}
	}
}

func TestQuantUint8Input(t *testing.T) {
	model := fixtures.Path(t, "models", "mobilenet_v1_0.25_224_quant_uint8.tflite")
	crop := rows(t, sharedNPY(t, "images_224x224x3_uint8.npy"), 0, 1)
	crop.Shape = crop.Shape[1:] // one sample, without the leading 1
	out := Run(t, model, crop)
	checkShape(t, "output", out[0], npy.Uint8, 1, 1001)
	if best := argmax(out[0].Data); best != 934 {
		t.Errorf("argmax = %d, want 934", best)
	}
}

func argmax(v []byte) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

func TestBatchStacking(t *testing.T) {
	add := fixtures.Path(t, "models", "single_add.tflite")
	r := rand.New(rand.NewPCG(3, 4))
	a, b := randomFloats(r, 3*32*32), randomFloats(r, 32*32)
	bArr := npy.FromFloat32([]int{1, 32, 32}, b)
	// A batch of three in both layouts, [N]+S[1:] and [N]+S; the unbatched
	// second input is used for every sample.
	for _, shape := range [][]int{{3, 32, 32}, {3, 1, 32, 32}} {
		out := Run(t, add, npy.FromFloat32(shape, a), bArr)
		checkShape(t, "batched output", out[0], npy.Float32, 3, 32, 32)
		for i, got := range float32s(t, out[0]) {
			if want := a[i] + b[i%(32*32)]; got != want {
				t.Fatalf("input %v: sum[%d] = %v, want %v", shape, i, got, want)
			}
		}
	}
	// One sample without its leading 1 keeps the runtime's output shape.
	out := Run(t, add, npy.FromFloat32([]int{32, 32}, a[:32*32]), npy.FromFloat32([]int{32, 32}, b))
	checkShape(t, "unbatched output", out[0], npy.Float32, 1, 32, 32)

	// A batch gives the same results as one run per sample.
	hello := fixtures.Path(t, "models", "hello_world_float.tflite")
	x := rows(t, sharedNPY(t, "sine_x_0to2pi.npy"), 10, 14)
	batch := float32s(t, Run(t, hello, x)[0])
	for i := range 4 {
		one := Run(t, hello, rows(t, x, i, i+1))[0]
		checkShape(t, "single output", one, npy.Float32, 1, 1)
		if got := float32s(t, one)[0]; got != batch[i] {
			t.Errorf("sample %d: alone %v, in a batch %v", i, got, batch[i])
		}
	}
}

func TestMultipleOutputs(t *testing.T) {
	model := fixtures.Path(t, "models", "single_unpack.tflite") // [2, 3, 4] -> two [3, 4]
	v := make([]float32, 24)
	for i := range v {
		v[i] = float32(i)
	}
	out := Run(t, model, npy.FromFloat32([]int{2, 3, 4}, v))
	if len(out) != 2 {
		t.Fatalf("%d outputs, want 2", len(out))
	}
	for o := range out {
		checkShape(t, "output", out[o], npy.Float32, 3, 4)
		if got := float32s(t, out[o]); !reflect.DeepEqual(got, v[o*12:(o+1)*12]) {
			t.Errorf("output %d = %v, want %v", o, got, v[o*12:(o+1)*12])
		}
	}
}

func TestBoolAndConvertedInputs(t *testing.T) {
	model := fixtures.Path(t, "models", "single_select.tflite") // bool[2,3], float32[2,3], float32[2,3]
	cond := npy.FromBool([]int{2, 3}, []bool{true, false, true, false, false, true})
	y := npy.FromFloat64([]int{2, 3}, []float64{1, 2, 3, 4, 5, 6})   // converted to float32
	x := npy.FromUint8([]int{2, 3}, []uint8{10, 20, 30, 40, 50, 60}) // converted to float32
	out := Run(t, model, cond, y, x)
	checkShape(t, "output", out[0], npy.Float32, 2, 3)
	got := float32s(t, out[0])
	for i, c := range []bool{true, false, true, false, false, true} {
		// The runtime orders the inputs condition, y, x; select picks its
		// second operand (here x) where the condition holds.
		want := float32(i + 1)
		if c {
			want = float32(10 * (i + 1))
		}
		if got[i] != want {
			t.Errorf("select[%d] = %v, want %v", i, got[i], want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	Require(t)
	add := fixtures.Path(t, "models", "single_add.tflite")
	hello8 := fixtures.Path(t, "models", "hello_world_int8.tflite")
	f := func(shape ...int) *npy.Array {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return npy.FromFloat32(shape, make([]float32, n))
	}
	tests := []struct {
		name   string
		model  string
		bytes  []byte
		inputs []*npy.Array
		want   string
	}{
		{"too few inputs", add, nil, []*npy.Array{f(1, 32, 32)}, "model has 2 input(s) but 1 .npy file(s) were given"},
		{"shape mismatch", add, nil, []*npy.Array{f(1, 32, 32), f(2, 3)}, "neither the model input's shape [1, 32, 32] nor a batch of it"},
		{"batch sizes differ", add, nil, []*npy.Array{f(2, 32, 32), f(3, 32, 32)}, "batch of 3 but an earlier input is a batch of 2"},
		{"float into int8", hello8, nil, []*npy.Array{f(1, 1)}, "floats are not rounded into integer inputs"},
		{"int out of range", hello8, nil, []*npy.Array{npy.FromInt32([]int{1, 1}, []int32{200})}, "value 200 at flat index 0 does not fit"},
		{"empty batch", hello8, nil, []*npy.Array{npy.FromInt8([]int{0, 1}, nil)}, "empty batch"},
		{"not a model", "", []byte("definitely not a flatbuffer"), nil, "cannot load model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.bytes != nil {
				_, err = RunModelBytes(t.Context(), tt.bytes, tt.inputs, Options{})
			} else {
				_, err = RunModel(t.Context(), tt.model, tt.inputs, Options{})
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

func TestRunModelBytes(t *testing.T) {
	model, err := os.ReadFile(fixtures.Path(t, "models", "hello_world_float.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	out := RunBytes(t, model, npy.FromFloat32([]int{1, 1}, []float32{math.Pi / 2}))
	checkShape(t, "output", out[0], npy.Float32, 1, 1)
	if y := float32s(t, out[0])[0]; math.Abs(float64(y)-1) > 0.1 {
		t.Errorf("hello_world(π/2) = %v, want about 1", y)
	}
}
