package interp

import (
	"fmt"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// iqRescaleParams are input/output parameter pairs for the rescaling
// activations: equal, finer and coarser output scales, shifted zero points.
func iqRescaleParams(typ fb.TensorType) []iqParamSet {
	if typ == fb.TensorTypeINT16 {
		return []iqParamSet{
			{1.0 / 4096, 0, 1.0 / 4096, 0},
			{0.0003, 0, 0.00021, 0},
			{0.0002, 0, 0.0005, 0},
			{0.001, 0, 0.0001, 0},
		}
	}
	return []iqParamSet{
		{0.05, iqZero(typ, 0), 0.05, iqZero(typ, 0)},
		{0.05, iqZero(typ, 10), 0.023, iqZero(typ, -60)},
		{0.031, iqZero(typ, -20), 0.07, iqZero(typ, -128)},
		{0.1, iqZero(typ, 3), 0.0123, iqZero(typ, 5)},
	}
}

// TestIntRescalingActivations: RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU and
// HARD_SWISH over every input value (int8, uint8) or a ramp over the
// int16 range, with several parameter pairs each, equal to the runtime.
func TestIntRescalingActivations(t *testing.T) {
	type opCase struct {
		code   fb.BuiltinOperator
		opts   any
		types  []fb.TensorType
		int8v  int32
		int16v int32
	}
	all := iqTypes
	eight := []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeUINT8}
	ops := []opCase{
		{fb.BuiltinOperatorRELU, nil, all, 2, 3},
		{fb.BuiltinOperatorRELU6, nil, all, 2, 3},
		{fb.BuiltinOperatorRELU_N1_TO_1, nil, eight, 1, 0},
		{fb.BuiltinOperatorLEAKY_RELU, &fb.LeakyReluOptionsT{Alpha: 0.2}, all, 1, 2},
		{fb.BuiltinOperatorLEAKY_RELU, &fb.LeakyReluOptionsT{Alpha: 0.0137}, all, 1, 2},
		{fb.BuiltinOperatorLEAKY_RELU, &fb.LeakyReluOptionsT{Alpha: 0.002}, all, 1, 2}, // outside XNNPACK's range
		{fb.BuiltinOperatorLEAKY_RELU, &fb.LeakyReluOptionsT{Alpha: -0.7}, all, 1, 2},
		{fb.BuiltinOperatorHARD_SWISH, nil, eight, 1, 0},
	}
	var cases []ktCase
	for _, op := range ops {
		for _, typ := range op.types {
			for k, p := range iqRescaleParams(typ) {
				if op.code == fb.BuiltinOperatorHARD_SWISH && p.inS/128 > p.outS {
					continue // the runtime requires an output exponent <= 0
				}
				shape := []int{2, 128}
				if typ == fb.TensorTypeINT16 {
					shape = []int{4, 1000}
				}
				name := fmt.Sprintf("%s_%s_%d", fb.EnumNamesBuiltinOperator[op.code], tflite.TypeName(typ), k)
				if o, ok := op.opts.(*fb.LeakyReluOptionsT); ok {
					name += fmt.Sprintf("_alpha%g", o.Alpha)
				}
				cases = append(cases, iqUnaryCase(name, op.code, iqVersion(typ, op.int8v, op.int16v), op.opts,
					iqT(typ, p.inS, p.inZ, shape...), iqT(typ, p.outS, p.outZ, shape...)))
			}
		}
	}
	iqCompare(t, cases)
}

// TestIntPrelu: PRELU with a constant per-channel alpha (broadcast over
// the last axis) and with a full alpha input, int8 and uint8.
func TestIntPrelu(t *testing.T) {
	r := ktRand(12)
	var cases []ktCase
	for _, typ := range []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeUINT8} {
		for k, p := range iqRescaleParams(typ) {
			lo, hi := iqRange(typ)
			var alpha *npy.Array
			if typ == fb.TensorTypeINT8 {
				alpha = ktI8(r, int(lo), int(hi), 8)
			} else {
				alpha = ktU8(r, int(lo), int(hi), 8)
			}
			al := ktQuant(ktConst(alpha), []float32{0.004}, []int64{iqZero(typ, -7)}, 0)
			op := &ktOp{code: fb.BuiltinOperatorPRELU, version: 1,
				ins:  []ktT{iqT(typ, p.inS, p.inZ, 4, 8, 8), al},
				outs: []ktT{iqT(typ, p.outS, p.outZ, 4, 8, 8)}}
			cases = append(cases, ktCase{name: fmt.Sprintf("PRELU_%s_const_%d", tflite.TypeName(typ), k), op: op,
				inputs: []*npy.Array{iqRamp(typ, 4, 8, 8)}})
			var al2 *npy.Array
			if typ == fb.TensorTypeINT8 {
				al2 = ktI8(r, int(lo), int(hi), 2, 128)
			} else {
				al2 = ktU8(r, int(lo), int(hi), 2, 128)
			}
			op2 := &ktOp{code: fb.BuiltinOperatorPRELU, version: 1,
				ins:  []ktT{iqT(typ, p.inS, p.inZ, 2, 128), iqT(typ, 0.03, iqZero(typ, 20), 2, 128)},
				outs: []ktT{iqT(typ, p.outS, p.outZ, 2, 128)}}
			cases = append(cases, ktCase{name: fmt.Sprintf("PRELU_%s_input_%d", tflite.TypeName(typ), k), op: op2,
				inputs: []*npy.Array{iqRamp(typ, 2, 128), al2}})
		}
	}
	iqCompare(t, cases)
}
