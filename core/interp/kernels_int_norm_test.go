package interp

import (
	"context"
	"fmt"
	"testing"

	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestIntL2Norm: L2_NORMALIZATION on int8 and uint8 rows of random values
// (short, long enough for the sum of squares to pass 2^29, a row at the
// zero point), several zero points.
func TestIntL2Norm(t *testing.T) {
	r := ktRand(41)
	var cases []ktCase
	for _, typ := range []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeUINT8} {
		outS, outZ := float32(1.0/128), iqZero(typ, 0)
		for k, zp := range []int64{iqZero(typ, 0), iqZero(typ, 37), iqZero(typ, -128)} {
			for _, shape := range [][]int{{3, 16}, {2, 9000}, {4, 1}, {5, 3, 7}} {
				x := iqRand(r, typ, shape...)
				if shape[0] == 3 { // one row at the zero point
					for i := 0; i < shape[1]; i++ {
						x.Data[i] = byte(zp)
					}
				}
				op := &ktOp{code: fb.BuiltinOperatorL2_NORMALIZATION, version: iqVersion(typ, 2, 0), opts: &fb.L2NormOptionsT{},
					ins: []ktT{iqT(typ, 0.05, zp, shape...)}, outs: []ktT{iqT(typ, outS, outZ, shape...)}}
				cases = append(cases, ktCase{name: fmt.Sprintf("L2_NORMALIZATION_%s_%d_%s", tflite.TypeName(typ), k, ktShapeName(shape)), op: op, inputs: []*npy.Array{x}})
			}
		}
	}
	iqCompare(t, cases)
}

// TestIntRsqrt: int8 RSQRT over every value from the zero point up, for
// several parameter pairs.
func TestIntRsqrt(t *testing.T) {
	typ := fb.TensorTypeINT8
	var cases []ktCase
	for k, p := range []iqParamSet{{0.05, -128, 0.05, -128}, {0.01, -100, 0.2, -128}, {0.5, 0, 0.01, -20}, {0.003, -128, 0.3, -128}, {2, 50, 0.004, 0}} {
		v := make([]int8, 0, 256)
		for x := int(p.inZ); x <= 127; x++ {
			v = append(v, int8(x))
		}
		shape := []int{len(v)}
		op := &ktOp{code: fb.BuiltinOperatorRSQRT, version: 2,
			ins: []ktT{iqT(typ, p.inS, p.inZ, shape...)}, outs: []ktT{iqT(typ, p.outS, p.outZ, shape...)}}
		cases = append(cases, ktCase{name: fmt.Sprintf("RSQRT_INT8_%d", k), op: op, inputs: []*npy.Array{npy.FromInt8(shape, v)}})
	}
	iqCompare(t, cases)
}

// TestIntRsqrtNegative: values below the zero point are an error, as in
// the runtime.
func TestIntRsqrtNegative(t *testing.T) {
	typ := fb.TensorTypeINT8
	m := ktModelB(fb.BuiltinOperatorRSQRT, 2, nil, []ktT{iqT(typ, 0.05, 0, 3)}, []ktT{iqT(typ, 0.05, 0, 3)}).Bytes()
	x := npy.FromInt8([]int{3}, []int8{4, -1, 9})
	ktWantErr(t, "below the zero point", m, x)
	runtimetest.Require(t)
	if _, err := runtimetest.RunModelBytes(context.Background(), m, []*npy.Array{x}, runtimetest.Options{}); err == nil {
		t.Error("the runtime ran RSQRT on a value below the zero point")
	} else {
		t.Logf("runtime: %v", err)
	}
}
