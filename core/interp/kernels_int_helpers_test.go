package interp

import (
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

// Helpers of the integer-kernel tests (kernels_int_*_test.go, prefix qt):
// single quantized operators merged into models, run in the Go interpreter
// and in the real runtime, integer outputs compared element by element.
// Tensors, values and differences use kernels_int_test.go's iqT, iqInts
// and iqDiff.

// qtCase is one quantized operator and its inputs.
type qtCase struct {
	name   string
	op     *ktOp
	inputs []*npy.Array
}

// qtRand draws values over the whole range of typ.
func qtRand(r *rand.Rand, typ fb.TensorType, shape ...int) *npy.Array {
	switch typ {
	case fb.TensorTypeINT8:
		return ktI8(r, -128, 127, shape...)
	case fb.TensorTypeUINT8:
		return ktU8(r, 0, 255, shape...)
	}
	return ktI16(r, -32768, 32767, shape...)
}

// qtGroup is how many cases share one model (one runtime process).
const qtGroup = 40

// qtCompare runs the cases in groups and fails, per case, with the number
// of differing elements and the largest difference.
func qtCompare(t *testing.T, cases []qtCase) {
	t.Helper()
	runtimetest.Require(t)
	// Operators on which XNNPACK fails go in models of their own: one of
	// them turns the delegate off for every operator of its model.
	var ok, fails []qtCase
	for _, c := range cases {
		if qtXNNFails(t, c.op) {
			fails = append(fails, c)
		} else {
			ok = append(ok, c)
		}
	}
	qtCompareGroups(t, ok)
	qtCompareGroups(t, fails)
}

func qtCompareGroups(t *testing.T, cases []qtCase) {
	t.Helper()
	for start := 0; start < len(cases); start += qtGroup {
		group := cases[start:min(start+qtGroup, len(cases))]
		b := modelbuild.New()
		var ins, outs []int32
		var arrays []*npy.Array
		for k, c := range group {
			gi, oi := c.op.add(b, fmt.Sprintf("c%d_", k))
			if len(oi) != 1 {
				t.Fatalf("%s: %d outputs, want 1", c.name, len(oi))
			}
			ins = append(ins, gi...)
			outs = append(outs, oi...)
			arrays = append(arrays, c.inputs...)
		}
		b.Inputs(ins...)
		b.Outputs(outs...)
		model := b.Bytes()
		name := group[0].name + "..." + group[len(group)-1].name
		t.Run(name, func(t *testing.T) {
			got, err := runGo(model, arrays)
			if err != nil {
				t.Fatalf("Go interpreter: %v", err)
			}
			res, err := runtimetest.RunModelBytes(context.Background(), model, arrays, runtimetest.Options{})
			if err != nil {
				t.Fatalf("real runtime: %v", err)
			}
			for i, c := range group {
				if msg := iqDiff(got[i], res.Outputs[i]); msg != "" {
					t.Errorf("%s: %s", c.name, msg)
				}
			}
		})
	}
}

// qtTypeName names a type in case names.
func qtTypeName(typ fb.TensorType) string { return tflite.TypeName(typ) }

// qtXNNFails reports whether the runtime's XNNPACK delegate would fail on
// the operator (which makes the whole model run without it).
func qtXNNFails(t *testing.T, op *ktOp) bool {
	t.Helper()
	model := ktModelB(op.code, max(op.version, 1), op.opts, op.ins, op.outs).Bytes()
	m, err := tflite.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	it, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return xnnNodeFails(it.nodes[0])
}

// qtLowSpread draws, along the last axis, one base value per position over
// the type's range and adds 0 to 3 to each element: reductions over other
// axes then have means at exact quarters and halves, where roundings
// differ.
func qtLowSpread(r *rand.Rand, typ fb.TensorType, shape ...int) *npy.Array {
	lo, hi := qTypeRange(typ)
	last := shape[len(shape)-1]
	base := make([]int, last)
	for i := range base {
		base[i] = int(lo) + r.IntN(int(hi-lo)-3)
	}
	n := ktCount(shape)
	switch typ {
	case fb.TensorTypeINT8:
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(base[i%last] + r.IntN(4))
		}
		return npy.FromInt8(shape, v)
	case fb.TensorTypeUINT8:
		v := make([]uint8, n)
		for i := range v {
			v[i] = uint8(base[i%last] + r.IntN(4))
		}
		return npy.FromUint8(shape, v)
	}
	v := make([]int16, n)
	for i := range v {
		v[i] = int16(base[i%last] + r.IntN(4))
	}
	return npy.FromInt16(shape, v)
}
