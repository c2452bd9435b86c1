package interp

import (
	"fmt"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestIntReduce(t *testing.T) {
	r := ktRand(30)
	shapes := []struct {
		in   []int
		axes []int32
		keep bool
	}{
		{[]int{1, 7, 7, 16}, []int32{1, 2}, true}, // global average pooling
		{[]int{2, 2, 3, 32}, []int32{2, 1}, true},
		{[]int{2, 4, 4, 32}, []int32{1, 2}, false},
		{[]int{1, 2, 2, 64}, []int32{1, 2}, true},
		{[]int{2, 2, 3, 24}, []int32{-3, -2}, true}, // the same axes, negative
		{[]int{3, 4, 5}, []int32{-1}, false},
		{[]int{3, 4, 5}, []int32{0}, true},
		{[]int{3, 4, 5}, []int32{0, 2}, false},
		{[]int{3, 4, 5}, []int32{2, -1, 2}, true},
		{[]int{3, 4, 5}, []int32{0, 1, 2}, false},
		{[]int{2, 3, 4, 5}, []int32{1}, true},
		{[]int{2, 3, 4, 5}, []int32{0, 3}, false},
		{[]int{6, 40}, []int32{1}, true},
	}
	type qp struct {
		si, so float32
		zi, zo int64
	}
	params := map[fb.TensorType][]qp{
		fb.TensorTypeINT8: {
			{0.05, 0.05, -3, -3},     // equal
			{0.05, 0.02, -128, 5},    // ratio 2.5
			{0.01, 0.03, 127, -128},  // ratio 1/3
			{0.3, 0.0009, 0, 0},      // ratio above 2^8
			{0.0001, 0.05, 10, -100}, // ratio below 2^-8
			{0.0003, 0.09, 10, -100}, // likewise, means not all at the zero point
			{0.09, 0.0003, 10, -100}, // ratio above 2^8
		},
		fb.TensorTypeUINT8: {
			{0.05, 0.05, 128, 128},
			{0.05, 0.02, 0, 250},
			{0.01, 0.03, 255, 3},
			{0.3, 0.0009, 128, 100},
			{0.0001, 0.05, 10, 200},
			{0.0003, 0.09, 10, 100},
			{0.09, 0.0003, 130, 128},
		},
		fb.TensorTypeINT16: {
			{0.001, 0.001, 0, 0},
			{0.001, 0.0004, 0, 0},
			{0.0005, 0.002, 0, 0},
		},
	}
	versions := map[fb.TensorType]int32{fb.TensorTypeINT8: 2, fb.TensorTypeUINT8: 1, fb.TensorTypeINT16: 3}
	var cases []qtCase
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorMEAN, fb.BuiltinOperatorSUM, fb.BuiltinOperatorREDUCE_MAX, fb.BuiltinOperatorREDUCE_MIN} {
		for _, typ := range []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16} {
			for pi, q := range params[typ] {
				equal := q.si == q.so && q.zi == q.zo
				if (code == fb.BuiltinOperatorREDUCE_MAX || code == fb.BuiltinOperatorREDUCE_MIN) && !equal {
					continue // the runtime requires equal parameters
				}
				if code == fb.BuiltinOperatorSUM && typ == fb.TensorTypeINT16 {
					continue // the runtime registers no int16 SUM
				}
				for _, sh := range shapes {
					op := ktReduceSpec(code, typ, sh.in, sh.axes, sh.keep)
					op.ins[0].scale, op.ins[0].zp = []float32{q.si}, []int64{q.zi}
					op.outs[0].scale, op.outs[0].zp = []float32{q.so}, []int64{q.zo}
					op.version = versions[typ]
					name := fmt.Sprintf("%s_%s_q%d_%s_axes%v_keep%v", fb.EnumNamesBuiltinOperator[code], qtTypeName(typ), pi, ktShapeName(sh.in), sh.axes, sh.keep)
					cases = append(cases, qtCase{name: name, op: op, inputs: []*npy.Array{qtLowSpread(r, typ, sh.in...)}})
					cases = append(cases, qtCase{name: name + "_random", op: op, inputs: []*npy.Array{qtRand(r, typ, sh.in...)}})
				}
			}
		}
	}
	qtCompare(t, cases)
}
