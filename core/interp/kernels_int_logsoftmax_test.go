package interp

import (
	"fmt"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestIntLogSoftmax: int8 and uint8 LOG_SOFTMAX (kernels_int_logsoftmax.go)
// over ramps and random rows, several input scales and depths, against
// the real runtime.
func TestIntLogSoftmax(t *testing.T) {
	r := ktRand(77)
	var cases []ktCase
	for _, typ := range []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeUINT8} {
		outZ := int64(127)
		if typ == fb.TensorTypeUINT8 {
			outZ = 255
		}
		for k, s := range []float32{0.05, 0.1, 0.0173, 0.3, 1.5, 0.004, 0.126, 0.07314286} {
			for _, shape := range [][]int{{4, 64}, {2, 3, 10}, {1001}, {5, 2}, {400, 13}} {
				var x *npy.Array
				switch {
				case shape[0] == 4:
					x = iqRamp(typ, shape...)
				case typ == fb.TensorTypeINT8:
					x = ktI8(r, -128, 127, shape...)
				default:
					x = ktU8(r, 0, 255, shape...)
				}
				op := &ktOp{code: fb.BuiltinOperatorLOG_SOFTMAX, version: 2, opts: &fb.LogSoftmaxOptionsT{},
					ins: []ktT{iqT(typ, s, iqZero(typ, 5), shape...)}, outs: []ktT{iqT(typ, 16.0/256, outZ, shape...)}}
				name := fmt.Sprintf("LOG_SOFTMAX_%s_%d_%s", tflite.TypeName(typ), k, ktShapeName(shape))
				cases = append(cases, ktCase{name: name, op: op, inputs: []*npy.Array{x}})
			}
		}
	}
	iqCompare(t, cases)
}
