package interp

import (
	"errors"
	"strings"
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestMemoryPlan: a model whose activations exceed the limit is refused
// before anything is allocated, naming the peak and the largest tensors.
func TestMemoryPlan(t *testing.T) {
	// x [1,1<<14,1<<14,3] float32 is 3 GiB; y = relu(x) another 3 GiB.
	build := func() *tflite.Model {
		b := modelbuild.New()
		x := b.Tensor("image", fb.TensorTypeFLOAT32, 1, 1<<14, 1<<14, 3)
		y := b.Tensor("relu", fb.TensorTypeFLOAT32, 1, 1<<14, 1<<14, 3)
		z := b.Tensor("small", fb.TensorTypeFLOAT32, 1, 1, 1, 3)
		b.Op(fb.BuiltinOperatorRELU, nil, []int32{x}, []int32{y})
		b.Op(fb.BuiltinOperatorMEAN, &fb.ReducerOptionsT{KeepDims: true}, []int32{y, b.ConstInt32("axes", []int32{2}, []int32{1, 2})}, []int32{z})
		b.Inputs(x)
		b.Outputs(z)
		return b.Model()
	}
	cases := []struct {
		name  string
		limit int64
		want  string
	}{
		{"default", 0, `subgraph 0: the activations need 6.0 GiB at their peak (at operator 0, RELU), more than the 4.0 GiB limit: memory limit (largest tensors: tensor 0 "image" FLOAT32[1 16384 16384 3] 3.0 GiB, tensor 1 "relu" FLOAT32[1 16384 16384 3] 3.0 GiB, tensor 2 "small" FLOAT32[1 1 1 3] 12 bytes)`},
		{"set", 1 << 20, "more than the 1.0 MiB limit"},
	}
	if DefaultMaxMemory != 4<<30 {
		t.Fatalf("native default limit is %d", DefaultMaxMemory)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(build(), Options{MaxMemory: c.limit})
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrMemoryLimit) {
				t.Fatalf("error %v\nwant %q", err, c.want)
			}
		})
	}
	// Under the limit the same graph runs.
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 4)
	y := b.Tensor("y", fb.TensorTypeFLOAT32, 1, 4)
	b.Op(fb.BuiltinOperatorRELU, nil, []int32{x}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	it, err := New(b.Model(), Options{MaxMemory: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
	if err := it.SetInput(0, []int{1, 100}, make([]byte, 400)); err == nil || !strings.Contains(err.Error(), `input 0 ("x"): shape [1 100] of FLOAT32 is larger than the 32 bytes memory limit`) {
		t.Fatalf("oversized input: %v", err)
	}
}

// TestMemoryAtRunTime: an output sized from values (FILL's dims) beyond
// the limit fails Invoke with the operator's place, and the interpreter
// stays usable.
func TestMemoryAtRunTime(t *testing.T) {
	b := modelbuild.New()
	dims := b.Tensor("dims", fb.TensorTypeINT32, 3)
	v := b.ConstFloat32("v", []int32{}, []float32{1})
	out := b.Tensor("filled", fb.TensorTypeFLOAT32, -1, -1, -1)
	b.Op(fb.BuiltinOperatorFILL, nil, []int32{dims, v}, []int32{out})
	b.Inputs(dims)
	b.Outputs(out)
	it, err := New(b.Model(), Options{MaxMemory: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	set := func(d ...int32) {
		t.Helper()
		copy(it.Input(0).I32(), d)
	}
	for _, c := range []struct {
		dims []int32
		want string
	}{
		{[]int32{1024, 1024, 1024}, "subgraph 0, operator 0 (FILL): output 0: FLOAT32 of shape [1024 1024 1024] needs 4.0 GiB, which with the 12 bytes already in use exceeds the 1.0 MiB limit: memory limit"},
		{[]int32{1 << 30, 1 << 30, 1 << 30}, "subgraph 0, operator 0 (FILL): output 0: the size of FLOAT32 of shape [1073741824 1073741824 1073741824] overflows"},
	} {
		set(c.dims...)
		if err := it.Invoke(); err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrMemoryLimit) {
			t.Fatalf("FILL %v: %v\nwant %q", c.dims, err, c.want)
		}
	}
	set(2, 3, 4)
	if err := it.Invoke(); err != nil || len(it.Output(0).F32()) != 24 {
		t.Fatalf("after the refusals: %v", err)
	}
}
