package interp

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
)

// Test helpers of the integer kernels (kernels_int_*_test.go, prefix iq):
// single-operator quantized cases merged into one model per run of the
// real runtime, compared element for element.

// iqT is a quantized graph input or output.
func iqT(typ fb.TensorType, scale float32, zp int64, shape ...int) ktT {
	return ktQuant(ktIn(typ, shape...), []float32{scale}, []int64{zp}, 0)
}

// iqRamp is every value of typ in order, repeated or cut to fill shape
// (for INT16, count values spread over the whole range).
func iqRamp(typ fb.TensorType, shape ...int) *npy.Array {
	n := ktCount(shape)
	switch typ {
	case fb.TensorTypeINT8:
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(i%256 - 128)
		}
		return npy.FromInt8(shape, v)
	case fb.TensorTypeUINT8:
		v := make([]uint8, n)
		for i := range v {
			v[i] = uint8(i % 256)
		}
		return npy.FromUint8(shape, v)
	case fb.TensorTypeINT16:
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(-32768 + int64(i)*65535/int64(max(n-1, 1)))
		}
		return npy.FromInt16(shape, v)
	}
	panic("iqRamp: not a quantized type")
}

// iqInts returns an integer array's values.
func iqInts(a *npy.Array) []int64 {
	switch a.DType {
	case npy.Int8:
		v, _ := a.Int8s()
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return out
	case npy.Int16:
		v, _ := a.Int16s()
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return out
	case npy.Int32:
		v, _ := a.Int32s()
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return out
	case npy.Int64:
		v, _ := a.Int64s()
		return v
	}
	out := make([]int64, len(a.Data)) // uint8, bool
	for i, b := range a.Data {
		out[i] = int64(b)
	}
	return out
}

// iqCompare runs the cases (operators, merged up to ktGroup per model) in
// the Go interpreter and in the real runtime and requires every integer
// output to be equal element for element; a mismatch is reported with the
// count of differing elements, the largest difference and the first one.
func iqCompare(t *testing.T, cases []ktCase) {
	t.Helper()
	runtimetest.Require(t)
	for start := 0; start < len(cases); start += ktGroup {
		group := cases[start:min(start+ktGroup, len(cases))]
		b := modelbuild.New()
		var ins, outs []int32
		var arrays []*npy.Array
		var names []string
		for k, c := range group {
			gi, oi := c.op.add(b, fmt.Sprintf("c%d_", k))
			ins = append(ins, gi...)
			outs = append(outs, oi...)
			arrays = append(arrays, c.inputs...)
			for range oi {
				names = append(names, c.name)
			}
		}
		b.Inputs(ins...)
		b.Outputs(outs...)
		model := b.Bytes()
		name := group[0].name
		if len(group) > 1 {
			name += "..." + group[len(group)-1].name
		}
		t.Run(name, func(t *testing.T) {
			got, err := runGo(model, arrays)
			if err != nil {
				t.Fatalf("Go interpreter: %v", err)
			}
			res, err := runtimetest.RunModelBytes(context.Background(), model, arrays, runtimetest.Options{})
			if err != nil {
				t.Fatalf("real runtime: %v", err)
			}
			want := res.Outputs
			if len(got) != len(want) {
				t.Fatalf("Go gave %d outputs, runtime %d", len(got), len(want))
			}
			for i := range want {
				if msg := iqDiff(got[i], want[i]); msg != "" {
					t.Errorf("%s: %s", names[i], msg)
				}
			}
		})
	}
}

// iqDiff describes how integer array got differs from the runtime's want,
// or "": the count of differing elements and the largest difference.
func iqDiff(got, want *npy.Array) string {
	if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) {
		return fmt.Sprintf("%s%v, runtime gives %s%v", got.DType, got.Shape, want.DType, want.Shape)
	}
	g, w := iqInts(got), iqInts(want)
	count, worst, at := 0, int64(0), -1
	for i := range w {
		d := g[i] - w[i]
		if d < 0 {
			d = -d
		}
		if d != 0 {
			count++
			if d > worst {
				worst, at = d, i
			}
		}
	}
	if count == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d elements differ, max |difference| %d (element %d: %d, runtime %d)", count, len(w), worst, at, g[at], w[at])
}

// iqUnaryCase is one unary operator case over a ramp of its input type.
func iqUnaryCase(name string, code fb.BuiltinOperator, version int32, opts any, in, out ktT) ktCase {
	op := &ktOp{code: code, version: version, opts: opts, ins: []ktT{in}, outs: []ktT{out}}
	return ktCase{name: name, op: op, inputs: []*npy.Array{iqRamp(in.typ, in.shape...)}}
}

// iqVersion is the operator version for activations of type typ.
func iqVersion(typ fb.TensorType, int8v, int16v int32) int32 {
	switch typ {
	case fb.TensorTypeINT8:
		return int8v
	case fb.TensorTypeINT16:
		return int16v
	}
	return 1
}

var iqTypes = []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16}

// iqParamSet is input and output parameters to try for a type: zero
// points are mid-range for 8-bit types, 0 for INT16 (the runtime's int16
// kernels demand it).
type iqParamSet struct {
	inS  float32
	inZ  int64
	outS float32
	outZ int64
}

func iqZero(typ fb.TensorType, off int64) int64 {
	switch typ {
	case fb.TensorTypeUINT8:
		return 128 + off
	case fb.TensorTypeINT16:
		return 0
	}
	return off
}
