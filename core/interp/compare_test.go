package interp

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// runGo runs model on one sample (inputs in the model's input order and
// exact shapes) with the Go interpreter and returns its outputs as arrays.
func runGo(model []byte, inputs []*npy.Array) ([]*npy.Array, error) {
	m, err := tflite.Load(model)
	if err != nil {
		return nil, err
	}
	it, err := New(m, Options{})
	if err != nil {
		return nil, err
	}
	if len(inputs) != it.NumInputs() {
		return nil, fmt.Errorf("%d inputs given, model has %d", len(inputs), it.NumInputs())
	}
	for i, a := range inputs {
		data, err := asType(a, it.Input(i).Type)
		if err != nil {
			return nil, fmt.Errorf("input %d: %v", i, err)
		}
		if err := it.SetInput(i, a.Shape, data); err != nil {
			return nil, err
		}
	}
	if err := it.Invoke(); err != nil {
		return nil, err
	}
	outs := make([]*npy.Array, it.NumOutputs())
	for i := range outs {
		o := it.Output(i)
		dt, err := npyType(o.Type)
		if err != nil {
			return nil, fmt.Errorf("output %d: %v", i, err)
		}
		outs[i] = &npy.Array{DType: dt, Shape: append([]int{}, o.Shape...), Data: append([]byte{}, o.Data...)}
	}
	return outs, nil
}

// npyType maps a tensor type to the .npy dtype with the same layout.
func npyType(t fb.TensorType) (npy.DType, error) {
	if dt := samples.NPYType(t); dt != npy.InvalidDType {
		return dt, nil
	}
	return npy.InvalidDType, fmt.Errorf("no .npy dtype for %s", tflite.TypeName(t))
}

// asType returns a's data in the tensor type's layout; a must already have
// that layout (tests build inputs in the model's types).
func asType(a *npy.Array, t fb.TensorType) ([]byte, error) {
	want, err := npyType(t)
	if err != nil {
		return nil, err
	}
	if a.DType == want {
		return a.Data, nil
	}
	if want == npy.Float32 {
		v, err := a.Float32s()
		if err != nil {
			return nil, err
		}
		return npy.FromFloat32(a.Shape, v).Data, nil
	}
	return nil, fmt.Errorf("array is %s, input is %s", a.DType, tflite.TypeName(t))
}

// compareWithRuntime runs model on one sample in the Go interpreter and in
// the real TensorFlow Lite runtime and fails the test unless every output
// has the same dtype and shape and matching values: float outputs within
// relative L2 error tol (max abs error tol when the reference is all
// zeros), integer and bool outputs exactly.
func compareWithRuntime(t *testing.T, model []byte, inputs []*npy.Array, tol float64) {
	t.Helper()
	runtimetest.Require(t)
	got, err := runGo(model, inputs)
	if err != nil {
		t.Fatalf("Go interpreter: %v", err)
	}
	res, err := runtimetest.RunModelBytes(context.Background(), model, inputs, runtimetest.Options{})
	if err != nil {
		t.Fatalf("real runtime: %v", err)
	}
	want := res.Outputs
	if len(got) != len(want) {
		t.Fatalf("Go gave %d outputs, runtime %d", len(got), len(want))
	}
	for i := range want {
		if msg := compareArrays(got[i], want[i], tol); msg != "" {
			t.Errorf("output %d: %s", i, msg)
		}
	}
}

// compareArrays describes how got differs from want beyond tol, or "".
func compareArrays(got, want *npy.Array, tol float64) string {
	if got.DType != want.DType {
		return fmt.Sprintf("dtype %s, runtime gives %s", got.DType, want.DType)
	}
	if !slices.Equal(got.Shape, want.Shape) {
		// The harness reports scalars and [1]-shaped outputs as the runtime
		// does; require equal element counts and dims otherwise.
		return fmt.Sprintf("shape %v, runtime gives %v", got.Shape, want.Shape)
	}
	if !want.DType.IsFloat() {
		for i := range want.Data {
			if got.Data[i] != want.Data[i] {
				return fmt.Sprintf("differs at byte %d", i)
			}
		}
		return ""
	}
	g, _ := got.Float64s()
	w, _ := want.Float64s()
	var num, den, maxAbs float64
	worst := 0
	for i := range w {
		if math.IsNaN(w[i]) != math.IsNaN(g[i]) || (math.IsInf(w[i], 0) && g[i] != w[i]) {
			return fmt.Sprintf("element %d: %v, runtime gives %v", i, g[i], w[i])
		}
		if math.IsNaN(w[i]) || math.IsInf(w[i], 0) {
			continue
		}
		d := g[i] - w[i]
		num += d * d
		den += w[i] * w[i]
		if math.Abs(d) > maxAbs {
			maxAbs, worst = math.Abs(d), i
		}
	}
	if den == 0 {
		if maxAbs > tol {
			return fmt.Sprintf("max abs error %g at %d (reference all zeros)", maxAbs, worst)
		}
		return ""
	}
	if rel := math.Sqrt(num / den); rel > tol {
		return fmt.Sprintf("relative L2 error %.3g > %g (worst element %d: %v vs runtime %v)", rel, tol, worst, g[worst], w[worst])
	}
	return ""
}
