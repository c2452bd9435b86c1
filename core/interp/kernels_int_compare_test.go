package interp

import (
	"fmt"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestIntComparisons: the six comparisons on int8 and uint8, every value
// of the first input against random (and broadcast) second inputs, with
// equal parameters, scales in a 2:1 ratio (equal real values on both
// sides) and unrelated ones.
func TestIntComparisons(t *testing.T) {
	r := ktRand(7)
	codes := []fb.BuiltinOperator{fb.BuiltinOperatorEQUAL, fb.BuiltinOperatorNOT_EQUAL, fb.BuiltinOperatorLESS,
		fb.BuiltinOperatorLESS_EQUAL, fb.BuiltinOperatorGREATER, fb.BuiltinOperatorGREATER_EQUAL}
	var cases []ktCase
	for _, typ := range []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeUINT8} {
		params := []iqParamSet{
			{0.05, iqZero(typ, 3), 0.05, iqZero(typ, 3)},
			{0.1, iqZero(typ, 0), 0.05, iqZero(typ, 0)},
			{0.037, iqZero(typ, -11), 0.11, iqZero(typ, 40)},
			{0.5, iqZero(typ, 100), 0.0021, iqZero(typ, -100)},
		}
		lo, hi := iqRange(typ)
		rnd := func(shape ...int) *npy.Array {
			if typ == fb.TensorTypeINT8 {
				return ktI8(r, int(lo), int(hi), shape...)
			}
			return ktU8(r, int(lo), int(hi), shape...)
		}
		for _, code := range codes {
			for k, p := range params {
				for _, bShape := range [][]int{{4, 256}, {1, 256}, {4, 1}, {}} {
					op := &ktOp{code: code, version: iqVersion(typ, 2, 0),
						ins:  []ktT{iqT(typ, p.inS, p.inZ, 4, 256), iqT(typ, p.outS, p.outZ, bShape...)},
						outs: []ktT{ktIn(fb.TensorTypeBOOL, 4, 256)}}
					name := fmt.Sprintf("%s_%s_%d_b%s", fb.EnumNamesBuiltinOperator[code], tflite.TypeName(typ), k, ktShapeName(bShape))
					cases = append(cases, ktCase{name: name, op: op, inputs: []*npy.Array{iqRamp(typ, 4, 256), rnd(bShape...)}})
				}
			}
		}
	}
	iqCompare(t, cases)
}

// TestIntArgMinMax: ARG_MAX and ARG_MIN on int8 and uint8 along each axis,
// with ties (the first index wins).
func TestIntArgMinMax(t *testing.T) {
	r := ktRand(8)
	var cases []ktCase
	for _, typ := range []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeUINT8} {
		for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorARG_MAX, fb.BuiltinOperatorARG_MIN} {
			for axis := 0; axis < 3; axis++ {
				shape := []int{3, 5, 7}
				var x *npy.Array
				if typ == fb.TensorTypeINT8 {
					x = ktI8(r, -3, 3, shape...) // few values: many ties
				} else {
					x = ktU8(r, 250, 255, shape...)
				}
				oshape := append(append([]int{}, shape[:axis]...), shape[axis+1:]...)
				op := &ktOp{code: code, version: iqVersion(typ, 2, 0),
					ins:  []ktT{iqT(typ, 0.1, iqZero(typ, 0), shape...), ktConst(npy.FromInt32(nil, []int32{int32(axis)}))},
					outs: []ktT{ktIn(fb.TensorTypeINT32, oshape...)}}
				name := fmt.Sprintf("%s_%s_axis%d", fb.EnumNamesBuiltinOperator[code], tflite.TypeName(typ), axis)
				opts := any(&fb.ArgMaxOptionsT{OutputType: fb.TensorTypeINT32})
				if code == fb.BuiltinOperatorARG_MIN {
					opts = &fb.ArgMinOptionsT{OutputType: fb.TensorTypeINT32}
				}
				op.opts = opts
				cases = append(cases, ktCase{name: name, op: op, inputs: []*npy.Array{x}})
			}
		}
	}
	iqCompare(t, cases)
}
