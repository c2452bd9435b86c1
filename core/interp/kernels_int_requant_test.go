package interp

import (
	"fmt"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestRequantizeScan: requantizing QUANTIZE over every 8-bit input value,
// int8→int8 and uint8→uint8 (XNNPACK's Q8 multiplier), mixed int8↔uint8
// and int16 (TensorFlow Lite's Requantize; the runtime refuses int8→int16), for scale ratios inside and
// outside XNNPACK's range; one operator per model, so that a node the
// delegate refuses cannot change how the others run.
func TestRequantizeScan(t *testing.T) {
	I8, U8, I16 := fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16
	all := func(typ fb.TensorType) *npy.Array {
		if typ == I16 {
			return iqRamp(typ, 4096)
		}
		return iqRamp(typ, 256)
	}
	type pair struct{ in, out fb.TensorType }
	ratios := []float32{0.37, 0.731, 1.0, 1.29, 2.5, 0.0123, 0.00371, 0.003, 3.3, 111, 150, 0.5, 1.0 / 3}
	var cases []ktCase
	for _, p := range []pair{{I8, I8}, {U8, U8}, {I8, U8}, {U8, I8}, {I16, I16}, {I16, I8}} {
		rs := ratios
		if p.in == I16 {
			rs = ratios[:4] // TensorFlow Lite's kernel throughout
		}
		for k, ratio := range rs {
			inS := float32(0.0173)
			outS := inS / ratio
			inZ, outZ := iqZero(p.in, int64(-7+k)), iqZero(p.out, int64(11-2*k))
			n := 256
			if p.in == I16 {
				n = 4096
			}
			op := &ktOp{code: fb.BuiltinOperatorQUANTIZE, version: 2,
				ins: []ktT{iqT(p.in, inS, inZ, n)}, outs: []ktT{iqT(p.out, outS, outZ, n)}}
			name := fmt.Sprintf("%s_to_%s_ratio%g", tflite.TypeName(p.in), tflite.TypeName(p.out), ratio)
			cases = append(cases, ktCase{name: name, op: op, inputs: []*npy.Array{all(p.in)}})
		}
	}
	for _, c := range cases {
		iqCompare(t, []ktCase{c})
	}
}

// TestRequantizeDelegateOff: in a model where XNNPACK fails as a whole (an
// int8 MUL with RELU and output zero point 127, whose clamp range is
// empty), the requantizing QUANTIZE runs TensorFlow Lite's Requantize.
func TestRequantizeDelegateOff(t *testing.T) {
	I8 := fb.TensorTypeINT8
	mul := &ktOp{code: fb.BuiltinOperatorMUL, version: 2, opts: &fb.MulOptionsT{FusedActivationFunction: fb.ActivationFunctionTypeRELU},
		ins: []ktT{iqT(I8, 0.05, 0, 8), iqT(I8, 0.05, 0, 8)}, outs: []ktT{iqT(I8, 0.01, 127, 8)}}
	req := &ktOp{code: fb.BuiltinOperatorQUANTIZE, version: 2, ins: []ktT{iqT(I8, 0.0173, -3, 256)}, outs: []ktT{iqT(I8, 0.0173/0.37, 4, 256)}}
	if !qtXNNFails(t, mul) {
		t.Fatal("the MUL case no longer fails XNNPACK: pick another")
	}
	x := iqRamp(I8, 8)
	iqCompare(t, []ktCase{
		{name: "MUL_xnn_fails", op: mul, inputs: []*npy.Array{x, x}},
		{name: "QUANTIZE_requant_tflite", op: req, inputs: []*npy.Array{iqRamp(I8, 256)}},
	})
}
