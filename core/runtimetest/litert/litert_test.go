package litert

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
)

// fcModel is y = relu(x·Wᵀ + b) for x of shape [1, 4] (with a dynamic
// batch when dynamic is set) and y of shape [1, 3].
func fcModel(dynamic bool) []byte {
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 4)
	w := b.ConstFloat32("w", []int32{3, 4}, []float32{1, -2, 0.5, 0, 0.25, 0.25, 0.25, 0.25, -1, 0, 3, 1})
	bias := b.ConstFloat32("b", []int32{3}, []float32{0.5, -1, 0})
	y := b.Tensor("y", fb.TensorTypeFLOAT32, 1, 3)
	if dynamic {
		b.TensorT(x).ShapeSignature, b.TensorT(x).HasRank = []int32{-1, 4}, true
		b.TensorT(y).ShapeSignature, b.TensorT(y).HasRank = []int32{-1, 3}, true
	}
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeRELU}, []int32{x, w, bias}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

// int8Model takes and gives int8 tensors, which LiteRT.js cannot exchange.
func int8Model() []byte {
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeINT8, 1, 4)
	b.Quantize(x, []float32{0.1}, []int64{0}, 0)
	y := b.Tensor("y", fb.TensorTypeINT8, 1, 4)
	b.Quantize(y, []float32{0.1}, []int64{0}, 0)
	b.Op(fb.BuiltinOperatorRELU, nil, []int32{x}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

func TestRun(t *testing.T) {
	r := Start(t)
	x := npy.FromFloat32([]int{3, 4}, []float32{1, 2, 3, 4, -1, -1, -1, -1, 0, 8, 0, 0})
	// relu(x·Wᵀ + b), row by row.
	want := []float32{0, 1.5, 12, 1, 0, 0, 0, 1, 0}

	t.Run("batch of three", func(t *testing.T) {
		got := r.RunBytes(t, fcModel(false), x)
		if len(got) != 1 || got[0].DType != npy.Float32 || len(got[0].Shape) != 2 || got[0].Shape[0] != 3 || got[0].Shape[1] != 3 {
			t.Fatalf("outputs %v, want one float32 [3 3]", got)
		}
		v, _ := got[0].Float32s()
		for i := range want {
			if math.Abs(float64(v[i]-want[i])) > 1e-6 {
				t.Fatalf("output %v, want %v", v, want)
			}
		}
		if err := runtimetest.Available(); err == nil {
			pinned := runtimetest.RunBytes(t, fcModel(false), x)
			p, _ := pinned[0].Float32s()
			for i := range p {
				if math.Abs(float64(v[i]-p[i])) > 1e-6 {
					t.Fatalf("LiteRT.js %v, pinned runtime %v", v, p)
				}
			}
		}
	})
	t.Run("one sample keeps its shape", func(t *testing.T) {
		got := r.RunBytes(t, fcModel(false), npy.FromFloat32([]int{1, 4}, []float32{1, 2, 3, 4}))
		if s := got[0].Shape; len(s) != 2 || s[0] != 1 || s[1] != 3 {
			t.Errorf("shape %v, want [1 3]", s)
		}
	})
	t.Run("batch of inputs without a leading 1", func(t *testing.T) {
		b := modelbuild.New()
		in := b.Tensor("x", fb.TensorTypeFLOAT32, 2, 3)
		out := b.Tensor("y", fb.TensorTypeFLOAT32, 2, 3)
		b.Op(fb.BuiltinOperatorRELU, nil, []int32{in}, []int32{out})
		b.Inputs(in)
		b.Outputs(out)
		got := r.RunBytes(t, b.Bytes(), npy.FromFloat32([]int{2, 2, 3}, []float32{-1, 2, -3, 4, -5, 6, 7, -8, 9, -10, 11, -12}))
		v, _ := got[0].Float32s()
		if !slices.Equal(got[0].Shape, []int{2, 2, 3}) || !slices.Equal(v, []float32{0, 2, 0, 4, 0, 6, 7, 0, 9, 0, 11, 0}) {
			t.Errorf("got %v %v, want [2 2 3] relu of the input", got[0].Shape, v)
		}
	})
	t.Run("dynamic batch needs Static", func(t *testing.T) {
		m, err := r.Load(fcModel(true))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if _, err := m.Run(x); err == nil || !strings.Contains(err.Error(), "dynamic dimension") {
			t.Errorf("running a dynamic-batch model: got %v, want an error naming the dynamic dimension", err)
		}
		static, err := Static(fcModel(true))
		if err != nil {
			t.Fatal(err)
		}
		got := r.RunBytes(t, static, x)
		v, _ := got[0].Float32s()
		if len(v) != len(want) || v[2] != want[2] {
			t.Errorf("static copy: %v, want %v", v, want)
		}
	})
	t.Run("timing", func(t *testing.T) {
		m, err := r.Load(fcModel(false))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		one := npy.FromFloat32([]int{1, 4}, []float32{1, 2, 3, 4})
		if ms, err := m.Time([]*npy.Array{one}, 1, 5); err != nil || !(ms > 0) {
			t.Errorf("Time: %v ms, %v", ms, err)
		}
		if _, err := m.Time([]*npy.Array{x}, 1, 5); err == nil || !strings.Contains(err.Error(), "float32 [3 4] for a float32 [1 4] input") {
			t.Errorf("timing a batch: got %v, want a shape error", err)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		fc, err := r.Load(fcModel(false))
		if err != nil {
			t.Fatal(err)
		}
		defer fc.Close()
		for _, tc := range []struct {
			name  string
			input *npy.Array
			want  string
		}{
			{"shape", npy.FromFloat32([]int{1, 5}, make([]float32, 5)), "shape [1 5] for an input of shape [1 4]"},
			{"dtype", npy.FromInt32([]int{1, 4}, make([]int32, 4)), "int32 data for a float32 input"},
			{"count", nil, "0 inputs for a model with 1"},
		} {
			var err error
			if tc.input == nil {
				_, err = fc.Run()
			} else {
				_, err = fc.Run(tc.input)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
			}
		}
		// LiteRT.js exchanges float32, int32 and uint8 tensors only.
		if _, err := r.Load(int8Model()); err == nil || !strings.Contains(err.Error(), "INT8 is not supported") {
			t.Errorf("loading a model with int8 I/O: got %v, want LiteRT.js's refusal", err)
		}
		// The page still works after a refusal.
		if got := r.RunBytes(t, fcModel(false), x); len(got) != 1 {
			t.Errorf("%d outputs after a refusal", len(got))
		}
	})
}

// A real model: mobilenet_v1_0.25 (float) in LiteRT.js matches the pinned
// runtime to float rounding.
func TestMobilenetAgainstPinnedRuntime(t *testing.T) {
	path := fixtures.Model(t, "mobilenet_v1_0.25_224_float.tflite")
	runtimetest.Require(t)
	model, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 224*224*3)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	in := npy.FromFloat32([]int{1, 224, 224, 3}, x)
	r := Start(t)
	got, _ := r.RunBytes(t, model, in)[0].Float32s()
	want, _ := runtimetest.RunBytes(t, model, in)[0].Float32s()
	var sig, noise float64
	for i := range want {
		sig += float64(want[i]) * float64(want[i])
		d := float64(got[i] - want[i])
		noise += d * d
	}
	if db := 10 * math.Log10(sig/noise); noise > 0 && db < 80 {
		t.Errorf("LiteRT.js and the pinned runtime are %.1f dB apart, want float rounding (at least 80)", db)
	}
}
