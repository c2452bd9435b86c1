package interp

import (
	"context"
	"fmt"
	"litequant/core/runtimetest"
	"math"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// iqFixedOut is the output parameters the runtime demands.
func iqFixedOut(code fb.BuiltinOperator, typ fb.TensorType) (float32, int64) {
	switch {
	case typ == fb.TensorTypeINT16:
		return 1.0 / 32768, 0
	case code == fb.BuiltinOperatorTANH && typ == fb.TensorTypeINT8:
		return 1.0 / 128, 0
	case code == fb.BuiltinOperatorTANH:
		return 1.0 / 128, 128
	case typ == fb.TensorTypeINT8:
		return 1.0 / 256, -128
	}
	return 1.0 / 256, 0
}

// TestIntLogisticTanh: LOGISTIC and TANH over every int8/uint8 value and
// over an int16 ramp, for several input scales and zero points.
func TestIntLogisticTanh(t *testing.T) {
	var cases []ktCase
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorLOGISTIC, fb.BuiltinOperatorTANH} {
		for _, typ := range iqTypes {
			ins := []struct {
				s float32
				z int64
			}{{0.05, iqZero(typ, 0)}, {0.1, iqZero(typ, 17)}, {0.0173, iqZero(typ, -40)}, {0.3, iqZero(typ, 100)}}
			if typ == fb.TensorTypeINT16 {
				ins = ins[:0]
				for _, s := range []float32{0.0003, 0.001, 1.1 / 4096, 0.9 / 4096, 0.00002, 0.0049, 1.0 / 4096, 1.0 / 2048, 1.0 / 1024, 1.0 / 8192} {
					ins = append(ins, struct {
						s float32
						z int64
					}{s, 0})
				}
			}
			outS, outZ := iqFixedOut(code, typ)
			for k, p := range ins {
				shape := []int{256}
				if typ == fb.TensorTypeINT16 {
					shape = []int{8, 1024}
				}
				name := fmt.Sprintf("%s_%s_%d", fb.EnumNamesBuiltinOperator[code], tflite.TypeName(typ), k)
				cases = append(cases, iqUnaryCase(name, code, iqVersion(typ, 2, 3), nil,
					iqT(typ, p.s, p.z, shape...), iqT(typ, outS, outZ, shape...)))
			}
		}
	}
	iqCompare(t, cases)
}

// TestIntSoftmax: SOFTMAX over rows of ramps and random values, several
// input scales, betas and depths.
func TestIntSoftmax(t *testing.T) {
	r := ktRand(31)
	var cases []ktCase
	for _, typ := range iqTypes {
		outS, outZ := iqFixedOut(fb.BuiltinOperatorSOFTMAX, typ)
		scales := []float32{0.05, 0.1, 0.0173, 0.3}
		if typ == fb.TensorTypeINT16 {
			scales = []float32{0.0003, 0.001, 0.00005, 0.0049}
		}
		for k, s := range scales {
			for _, beta := range []float32{1, 0.7} {
				for _, shape := range [][]int{{4, 64}, {2, 3, 10}, {1001}} {
					var x *npy.Array
					lo, hi := iqRange(typ)
					switch {
					case shape[0] == 4:
						x = iqRamp(typ, shape...)
					case typ == fb.TensorTypeINT8:
						x = ktI8(r, int(lo), int(hi), shape...)
					case typ == fb.TensorTypeUINT8:
						x = ktU8(r, int(lo), int(hi), shape...)
					default:
						x = ktI16(r, int(lo), int(hi), shape...)
					}
					op := &ktOp{code: fb.BuiltinOperatorSOFTMAX, version: iqVersion(typ, 2, 3), opts: &fb.SoftmaxOptionsT{Beta: beta},
						ins: []ktT{iqT(typ, s, iqZero(typ, 5), shape...)}, outs: []ktT{iqT(typ, outS, outZ, shape...)}}
					name := fmt.Sprintf("SOFTMAX_%s_%d_beta%g_%s", tflite.TypeName(typ), k, beta, ktShapeName(shape))
					cases = append(cases, ktCase{name: name, op: op, inputs: []*npy.Array{x}})
				}
			}
		}
	}
	iqCompare(t, cases)
}

// TestSigmoidTable16 measures the runtime's int16 sigmoid table through
// TANH (input scale 1/6144: the rescaled input is 2x, so input 128·i lands
// exactly on entry i, and the output is entry i - 32768; 16319 at scale
// 1/3072 interpolates between entries 254 and 255) and compares it with
// sigmoidTable16.
func TestSigmoidTable16(t *testing.T) {
	typ := fb.TensorTypeINT16
	v := make([]int16, 256)
	for i := range v {
		v[i] = int16(128 * i)
	}
	c1 := ktCase{name: "entries", op: &ktOp{code: fb.BuiltinOperatorTANH, version: 3,
		ins: []ktT{iqT(typ, 1.0/6144, 0, 256)}, outs: []ktT{iqT(typ, 1.0/32768, 0, 256)}},
		inputs: []*npy.Array{npy.FromInt16([]int{256}, v)}}
	c2 := ktCase{name: "last", op: &ktOp{code: fb.BuiltinOperatorTANH, version: 3,
		ins: []ktT{iqT(typ, 1.0/3072, 0, 1)}, outs: []ktT{iqT(typ, 1.0/32768, 0, 1)}},
		inputs: []*npy.Array{npy.FromInt16([]int{1}, []int16{16319})}}
	b := ktModelB(c1.op.code, 3, nil, c1.op.ins, c1.op.outs)
	res := runtimeRun(t, b.Bytes(), c1.inputs)
	got := iqInts(res[0])
	for i := 0; i < 255; i++ {
		if want := int64(sigmoidTable16[i]) - 32768; got[i] != want {
			t.Errorf("entry %d: runtime %d, table %d", i, got[i]+32768, sigmoidTable16[i])
		}
	}
	res = runtimeRun(t, ktModelB(c2.op.code, 3, nil, c2.op.ins, c2.op.outs).Bytes(), c2.inputs)
	// Entry 254 plus 252/256 of the step to entry 255, rounded: 32767
	// when entry 255 is one more than entry 254.
	wantLast := int64(sigmoidTable16[254]) - 32768 + (252*(int64(sigmoidTable16[255])-int64(sigmoidTable16[254]))+128)/256
	if g := iqInts(res[0])[0]; g != wantLast {
		t.Errorf("interpolation to entry 255: runtime %d, table gives %d", g, wantLast)
	}
	// How far the table is from the plain rounded sigmoid.
	off := 0
	for i, e := range sigmoidTable16 {
		if r := math.Min(math.Round(65536/(1+math.Exp(-float64(i)/24))), 65535); float64(e) != r {
			off++
		}
	}
	t.Logf("%d of 256 entries differ from round(65536·sigmoid(i/24))", off)
}

// runtimeRun runs model in the real runtime.
func runtimeRun(t *testing.T, model []byte, inputs []*npy.Array) []*npy.Array {
	t.Helper()
	runtimetest.Require(t)
	res, err := runtimetest.RunModelBytes(context.Background(), model, inputs, runtimetest.Options{})
	if err != nil {
		t.Fatalf("real runtime: %v", err)
	}
	return res.Outputs
}

// TestInt16LogisticTanhPOT: int16 LOGISTIC and TANH over every int16 value
// at the input scales where the runtime runs gemmlowp's fixed-point
// functions (LOGISTIC 2^-12; TANH 2^-12 and 2^-11), and at neighbouring
// scales that take the table.
func TestInt16LogisticTanhPOT(t *testing.T) {
	typ := fb.TensorTypeINT16
	all := make([]int16, 65536)
	for i := range all {
		all[i] = int16(i - 32768)
	}
	x := npy.FromInt16([]int{65536}, all)
	var cases []ktCase
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorLOGISTIC, fb.BuiltinOperatorTANH} {
		outS, outZ := iqFixedOut(code, typ)
		for _, s := range []float32{1.0 / 4096, 1.0 / 2048, 1.0 / 8192, 1.0 / 1024, 1.3 / 4096} {
			name := fmt.Sprintf("%s_INT16_scale%g", fb.EnumNamesBuiltinOperator[code], s)
			op := &ktOp{code: code, version: 3, ins: []ktT{iqT(typ, s, 0, 65536)}, outs: []ktT{iqT(typ, outS, outZ, 65536)}}
			cases = append(cases, ktCase{name: name, op: op, inputs: []*npy.Array{x}})
		}
	}
	iqCompare(t, cases)
}
