package interp

import (
	"math"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func ktUnaryModel(code fb.BuiltinOperator, opts any, typ fb.TensorType, shape ...int) []byte {
	return ktModel(code, opts, []ktT{ktIn(typ, shape...)}, ktIn(typ, shape...))
}

func ktUnarySpec(code fb.BuiltinOperator, opts any, typ fb.TensorType, shape ...int) *ktOp {
	return ktSpec(code, opts, []ktT{ktIn(typ, shape...)}, ktIn(typ, shape...))
}

func TestActivations(t *testing.T) {
	r := ktRand(10)
	F := fb.TensorTypeFLOAT32
	type c struct {
		code   fb.BuiltinOperator
		opts   any
		suffix string
		lo, hi float32
		tol    float64
	}
	list := []c{
		{fb.BuiltinOperatorRELU, nil, "", -5, 5, 0},
		{fb.BuiltinOperatorRELU6, nil, "", -3, 9, 0},
		{fb.BuiltinOperatorRELU_N1_TO_1, nil, "", -3, 3, 0},
		{fb.BuiltinOperatorLEAKY_RELU, &fb.LeakyReluOptionsT{Alpha: 0.2}, "", -5, 5, 0},
		{fb.BuiltinOperatorLEAKY_RELU, &fb.LeakyReluOptionsT{Alpha: -1.5}, "_negalpha", -5, 5, 0},
		{fb.BuiltinOperatorELU, nil, "", -6, 4, 0},
		{fb.BuiltinOperatorLOGISTIC, nil, "", -12, 12, 0},
		{fb.BuiltinOperatorTANH, nil, "", -6, 6, 0},
		{fb.BuiltinOperatorHARD_SWISH, nil, "", -6, 6, 0},
	}
	var cases []ktCase
	for _, x := range list {
		for _, shape := range [][]int{{2, 3, 17}, {1, 8, 8, 4}} {
			cases = append(cases, ktCase{
				name: fb.EnumNamesBuiltinOperator[x.code] + x.suffix + "_" + ktShapeName(shape),
				op:   ktUnarySpec(x.code, x.opts, F, shape...), inputs: []*npy.Array{ktF32(r, x.lo, x.hi, shape...)}, tol: x.tol,
			})
		}
	}
	ktCompare(t, cases)
}

// TestActivationsNewer covers operators newer than some runtimes (GELU,
// RELU_0_TO_1); see TestActivationsHand for their exact values.
func TestActivationsNewer(t *testing.T) {
	r := ktRand(11)
	F := fb.TensorTypeFLOAT32
	ktCompare(t, []ktCase{
		{name: "GELU_erf", op: ktUnarySpec(fb.BuiltinOperatorGELU, &fb.GeluOptionsT{}, F, 4, 33), inputs: []*npy.Array{ktF32(r, -5, 5, 4, 33)}},
		{name: "GELU_tanh", op: ktUnarySpec(fb.BuiltinOperatorGELU, &fb.GeluOptionsT{Approximate: true}, F, 4, 33), inputs: []*npy.Array{ktF32(r, -5, 5, 4, 33)}},
		{name: "RELU_0_TO_1", op: ktUnarySpec(fb.BuiltinOperatorRELU_0_TO_1, nil, F, 4, 9), inputs: []*npy.Array{ktF32(r, -2, 2, 4, 9)}},
	})
}

func TestUnaryMath(t *testing.T) {
	r := ktRand(12)
	F, I := fb.TensorTypeFLOAT32, fb.TensorTypeINT32
	type c struct {
		code   fb.BuiltinOperator
		lo, hi float32
	}
	var cases []ktCase
	for _, x := range []c{
		{fb.BuiltinOperatorSQRT, 0, 10},
		{fb.BuiltinOperatorRSQRT, 0.01, 10},
		{fb.BuiltinOperatorEXP, -6, 6},
		{fb.BuiltinOperatorLOG, 0.001, 100},
		{fb.BuiltinOperatorABS, -5, 5},
		{fb.BuiltinOperatorNEG, -5, 5},
		{fb.BuiltinOperatorSIN, -7, 7},
		{fb.BuiltinOperatorCOS, -7, 7},
		{fb.BuiltinOperatorSQUARE, -5, 5},
		{fb.BuiltinOperatorFLOOR, -5, 5},
		{fb.BuiltinOperatorCEIL, -5, 5},
	} {
		shape := []int{3, 5, 7}
		cases = append(cases, ktCase{name: fb.EnumNamesBuiltinOperator[x.code], op: ktUnarySpec(x.code, nil, F, shape...),
			inputs: []*npy.Array{ktF32(r, x.lo, x.hi, shape...)}})
	}
	// ROUND on ties and random values.
	cases = append(cases, ktCase{name: "ROUND_ties", op: ktUnarySpec(fb.BuiltinOperatorROUND, nil, F, 2, 21),
		inputs: []*npy.Array{ktF32Grid(r, -12, 12, 2, 21)}})
	cases = append(cases, ktCase{name: "ROUND", op: ktUnarySpec(fb.BuiltinOperatorROUND, nil, F, 50),
		inputs: []*npy.Array{ktF32(r, -9, 9, 50)}})
	// (This runtime's ABS has no int32 kernel; see TestUnaryHand.)
	cases = append(cases, ktCase{name: "NEG_INT32", op: ktUnarySpec(fb.BuiltinOperatorNEG, nil, I, 4, 6),
		inputs: []*npy.Array{ktI32(r, -1000, 1000, 4, 6)}})
	ktCompare(t, cases)
}

func TestUnaryHand(t *testing.T) {
	F := fb.TensorTypeFLOAT32
	run := func(code fb.BuiltinOperator, opts any, v ...float32) *Tensor {
		return ktRun(t, ktUnaryModel(code, opts, F, len(v)), npy.FromFloat32([]int{len(v)}, v))[0]
	}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	ktCheckF32(t, run(fb.BuiltinOperatorROUND, nil, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, -2.6),
		[]int{8}, []float32{-2, -2, -0, 0, 2, 2, 2, -3})
	ktCheckF32(t, run(fb.BuiltinOperatorRELU_0_TO_1, nil, -1, 0.25, 3, nan), []int{4}, []float32{0, 0.25, 1, nan})
	ktCheckF32(t, run(fb.BuiltinOperatorRELU6, nil, -1, 2, 7), []int{3}, []float32{0, 2, 6})
	ktCheckF32(t, run(fb.BuiltinOperatorLEAKY_RELU, nil, -1, 2), []int{2}, []float32{0, 2}) // alpha defaults to 0
	ktCheckF32(t, run(fb.BuiltinOperatorHARD_SWISH, nil, -4, -1, 1, 4), []int{4}, []float32{0, -1.0 * 2 / 6, 1.0 * 4 / 6, 4})
	ktCheckF32(t, run(fb.BuiltinOperatorABS, nil, -0, -3, inf), []int{3}, []float32{0, 3, inf})
	ktCheckF32(t, run(fb.BuiltinOperatorRSQRT, nil, 4, 0.25), []int{2}, []float32{0.5, 2})
	ktCheckF32(t, run(fb.BuiltinOperatorLOGISTIC, nil, 0, -1000, 1000), []int{3}, []float32{0.5, 0, 1})
	// GELU: erf form and tanh form at 1.
	g := run(fb.BuiltinOperatorGELU, nil, 1, -1, 0).F32()
	if math.Abs(float64(g[0])-0.8413447) > 1e-6 || math.Abs(float64(g[1])+0.15865526) > 1e-6 || g[2] != 0 {
		t.Fatalf("GELU erf: %v", g)
	}
	g = run(fb.BuiltinOperatorGELU, &fb.GeluOptionsT{Approximate: true}, 1).F32()
	if math.Abs(float64(g[0])-0.8411920) > 1e-6 {
		t.Fatalf("GELU tanh: %v", g)
	}
	// ABS int32.
	m := ktUnaryModel(fb.BuiltinOperatorABS, nil, fb.TensorTypeINT32, 3)
	ktCheckI32(t, ktRun(t, m, npy.FromInt32([]int{3}, []int32{-7, 0, 9}))[0], []int{3}, []int32{7, 0, 9})
	// int64 NEG / ABS (not exchangeable with the real runtime).
	m = ktUnaryModel(fb.BuiltinOperatorABS, nil, fb.TensorTypeINT64, 3)
	o := ktRun(t, m, npy.FromInt64([]int{3}, []int64{-5, 0, 1 << 40}))[0].I64()
	if o[0] != 5 || o[1] != 0 || o[2] != 1<<40 {
		t.Fatalf("ABS int64: %v", o)
	}
}

func TestUnaryErrors(t *testing.T) {
	m := ktUnaryModel(fb.BuiltinOperatorSQRT, nil, fb.TensorTypeINT32, 2)
	ktWantErr(t, "unsupported", m, npy.FromInt32([]int{2}, []int32{1, 4}))
	m = ktModel(fb.BuiltinOperatorTANH, nil, []ktT{ktIn(fb.TensorTypeFLOAT32, 2)}, ktIn(fb.TensorTypeINT32, 2))
	ktWantErr(t, "output type", m, npy.FromFloat32([]int{2}, []float32{1, 4}))
}
