package interp

import (
	"fmt"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

// qtShapePairs are broadcasting cases of the binary kernels. The runtime
// aborts on quantized broadcasts of rank 5 (its kernels broadcast up to 4
// dimensions), so there are none.
var qtShapePairs = [][2][]int{
	{{2, 3, 4, 5}, {2, 3, 4, 5}},
	{{2, 3, 4, 5}, {5}},
	{{2, 1, 4, 1}, {1, 3, 1, 5}},
	{{1}, {3, 7}},
	{{4, 6}, {4, 1}},
	{{3, 1, 5}, {2, 3, 4, 1}},
}

// qtScales are (input 0, input 1, output) scales: ratios below and above 1,
// operands of unequal scale either way, and ratios outside XNNPACK's
// ranges, where the runtime falls back to TensorFlow Lite's kernels.
type qtScales struct{ a, b, o float32 }

var qtAddScales = []qtScales{
	{0.02, 0.03, 0.05},
	{0.1, 0.05, 0.013},
	{0.0123, 0.0456, 0.0789},
	{0.5, 0.007, 0.25},
	{0.0001, 0.3, 0.2},   // input 0 ratio below 2^-10: TensorFlow Lite's kernel
	{3.0, 0.01, 0.0105},  // input 0 ratio above 2^8: TensorFlow Lite's kernel
	{0.004, 0.0041, 0.5}, // ratios near 2^-7
	{0.5, 0.125, 0.25},   // exact ratios: ties, where the roundings differ
}

var qtMulScales = []qtScales{
	{0.05, 0.04, 0.01},
	{0.5, 0.5, 0.01},
	{0.0123, 0.0789, 0.0456},
	{0.001, 0.002, 0.5}, // product ratio below 2^-16: TensorFlow Lite's kernel
	{2, 3, 0.01},        // product ratio above 2^8: TensorFlow Lite's kernel
	{0.02, 0.03, 0.0007},
}

// qtZeroPoints are (input 0, input 1, output) zero points per type, the
// type's ends among them.
func qtZeroPoints(typ fb.TensorType) [][3]int64 {
	switch typ {
	case fb.TensorTypeINT8:
		return [][3]int64{{0, 0, 0}, {-128, 127, -5}, {127, -128, 127}, {3, -7, -128}}
	case fb.TensorTypeUINT8:
		return [][3]int64{{128, 128, 128}, {0, 255, 10}, {255, 0, 255}, {17, 200, 0}}
	}
	return [][3]int64{{0, 0, 0}}
}

var qtActs = []fb.ActivationFunctionType{
	fb.ActivationFunctionTypeNONE, fb.ActivationFunctionTypeRELU,
	fb.ActivationFunctionTypeRELU6, fb.ActivationFunctionTypeRELU_N1_TO_1,
}

// qtBinaryCases builds cases of one binary operator on one type.
func qtBinaryCases(code fb.BuiltinOperator, version int32, typ fb.TensorType, scales []qtScales, acts []fb.ActivationFunctionType, seed uint64) []qtCase {
	r := ktRand(seed)
	var cases []qtCase
	i := 0
	for si, sc := range scales {
		for zi, zp := range qtZeroPoints(typ) {
			for ai, act := range acts {
				// Walk shapes so that every scale meets several of them.
				sp := qtShapePairs[(si+zi+ai)%len(qtShapePairs)]
				if ai == 0 && zi == 0 {
					sp = qtShapePairs[si%len(qtShapePairs)]
				}
				out := ktBroadcast(sp[0], sp[1])
				var opts any
				switch code {
				case fb.BuiltinOperatorADD:
					opts = &fb.AddOptionsT{FusedActivationFunction: act}
				case fb.BuiltinOperatorSUB:
					opts = &fb.SubOptionsT{FusedActivationFunction: act}
				case fb.BuiltinOperatorMUL:
					opts = &fb.MulOptionsT{FusedActivationFunction: act}
				}
				op := ktSpec(code, opts, []ktT{iqT(typ, sc.a, zp[0], sp[0]...), iqT(typ, sc.b, zp[1], sp[1]...)}, iqT(typ, sc.o, zp[2], out...))
				op.version = version
				name := fmt.Sprintf("%s_%s_s%d_zp%d_%s_%s+%s", fb.EnumNamesBuiltinOperator[code], qtTypeName(typ), si, zi,
					fb.EnumNamesActivationFunctionType[act], ktShapeName(sp[0]), ktShapeName(sp[1]))
				cases = append(cases, qtCase{name: name, op: op, inputs: []*npy.Array{qtRand(r, typ, sp[0]...), qtRand(r, typ, sp[1]...)}})
				i++
			}
		}
		if typ != fb.TensorTypeINT16 {
			cases = append(cases, qtAllPairs(code, version, typ, sc, si, acts)...)
		}
	}
	return cases
}

// qtAllPairs builds cases whose operands, [256, 1] and [1, 256], broadcast
// to every pair of 8-bit values, so that every rounding difference between
// XNNPACK's arithmetic and TensorFlow Lite's shows.
func qtAllPairs(code fb.BuiltinOperator, version int32, typ fb.TensorType, sc qtScales, si int, acts []fb.ActivationFunctionType) []qtCase {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	arr := func(shape ...int) *npy.Array {
		if typ == fb.TensorTypeINT8 {
			return &npy.Array{DType: npy.Int8, Shape: shape, Data: all}
		}
		return &npy.Array{DType: npy.Uint8, Shape: shape, Data: all}
	}
	var cases []qtCase
	zps := qtZeroPoints(typ)
	for k, zi := range []int{0, 1, 3} {
		act := fb.ActivationFunctionTypeNONE // no clamp hides a difference
		if k == 2 {
			act = acts[si%len(acts)]
		}
		zp := zps[zi]
		var opts any
		switch code {
		case fb.BuiltinOperatorADD:
			opts = &fb.AddOptionsT{FusedActivationFunction: act}
		case fb.BuiltinOperatorSUB:
			opts = &fb.SubOptionsT{FusedActivationFunction: act}
		case fb.BuiltinOperatorMUL:
			opts = &fb.MulOptionsT{FusedActivationFunction: act}
		}
		op := ktSpec(code, opts, []ktT{iqT(typ, sc.a, zp[0], 256, 1), iqT(typ, sc.b, zp[1], 1, 256)}, iqT(typ, sc.o, zp[2], 256, 256))
		op.version = version
		name := fmt.Sprintf("%s_%s_s%d_zp%d_%s_all_pairs", fb.EnumNamesBuiltinOperator[code], qtTypeName(typ), si, zi, fb.EnumNamesActivationFunctionType[act])
		cases = append(cases, qtCase{name: name, op: op, inputs: []*npy.Array{arr(256, 1), arr(1, 256)}})
	}
	return cases
}

func TestIntAdd(t *testing.T) {
	var cases []qtCase
	cases = append(cases, qtBinaryCases(fb.BuiltinOperatorADD, 2, fb.TensorTypeINT8, qtAddScales, qtActs, 1)...)
	cases = append(cases, qtBinaryCases(fb.BuiltinOperatorADD, 1, fb.TensorTypeUINT8, qtAddScales, qtActs, 2)...)
	cases = append(cases, qtBinaryCases(fb.BuiltinOperatorADD, 3, fb.TensorTypeINT16, qtAddScales, qtActs, 3)...)
	qtCompare(t, cases)
}

func TestIntSub(t *testing.T) {
	var cases []qtCase
	cases = append(cases, qtBinaryCases(fb.BuiltinOperatorSUB, 2, fb.TensorTypeINT8, qtAddScales, qtActs, 4)...)
	cases = append(cases, qtBinaryCases(fb.BuiltinOperatorSUB, 1, fb.TensorTypeUINT8, qtAddScales, qtActs, 5)...)
	cases = append(cases, qtBinaryCases(fb.BuiltinOperatorSUB, 5, fb.TensorTypeINT16, qtAddScales, qtActs, 6)...)
	qtCompare(t, cases)
}

func TestIntMul(t *testing.T) {
	var cases []qtCase
	cases = append(cases, qtBinaryCases(fb.BuiltinOperatorMUL, 2, fb.TensorTypeINT8, qtMulScales, qtActs, 7)...)
	cases = append(cases, qtBinaryCases(fb.BuiltinOperatorMUL, 1, fb.TensorTypeUINT8, qtMulScales, qtActs, 8)...)
	cases = append(cases, qtBinaryCases(fb.BuiltinOperatorMUL, 4, fb.TensorTypeINT16, qtMulScales, qtActs, 9)...)
	qtCompare(t, cases)
}

func TestIntSquaredDifference(t *testing.T) {
	sc := append(append([]qtScales{}, qtAddScales...), qtMulScales...)
	cases := qtBinaryCases(fb.BuiltinOperatorSQUARED_DIFFERENCE, 2, fb.TensorTypeINT8, sc, qtActs[:1], 10)
	qtCompare(t, cases)
}

// MAXIMUM and MINIMUM compare stored integers (input and output share
// parameters); the default kernels run them.
func TestIntMaximumMinimum(t *testing.T) {
	r := ktRand(11)
	var cases []qtCase
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorMAXIMUM, fb.BuiltinOperatorMINIMUM} {
		for _, c := range []struct {
			typ     fb.TensorType
			version int32
			zp      int64
		}{{fb.TensorTypeINT8, 2, -3}, {fb.TensorTypeUINT8, 1, 128}, {fb.TensorTypeINT16, 4, 0}} {
			for _, sp := range qtShapePairs {
				out := ktBroadcast(sp[0], sp[1])
				op := ktSpec(code, nil, []ktT{iqT(c.typ, 0.05, c.zp, sp[0]...), iqT(c.typ, 0.05, c.zp, sp[1]...)}, iqT(c.typ, 0.05, c.zp, out...))
				op.version = c.version
				cases = append(cases, qtCase{name: fmt.Sprintf("%s_%s_%s+%s", fb.EnumNamesBuiltinOperator[code], qtTypeName(c.typ), ktShapeName(sp[0]), ktShapeName(sp[1])),
					op: op, inputs: []*npy.Array{qtRand(r, c.typ, sp[0]...), qtRand(r, c.typ, sp[1]...)}})
			}
		}
	}
	qtCompare(t, cases)
}
