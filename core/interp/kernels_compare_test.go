package interp

import (
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestComparisons(t *testing.T) {
	r := ktRand(20)
	var cases []ktCase
	for _, code := range []fb.BuiltinOperator{
		fb.BuiltinOperatorEQUAL, fb.BuiltinOperatorNOT_EQUAL, fb.BuiltinOperatorLESS,
		fb.BuiltinOperatorLESS_EQUAL, fb.BuiltinOperatorGREATER, fb.BuiltinOperatorGREATER_EQUAL,
	} {
		cases = append(cases, ktBinCases(code, fb.TensorTypeFLOAT32, func(s []int, _ bool) *npy.Array { return ktF32Grid(r, -3, 3, s...) })...)
		cases = append(cases, ktBinCases(code, fb.TensorTypeINT32, func(s []int, _ bool) *npy.Array { return ktI32(r, -2, 2, s...) })...)
	}
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorEQUAL, fb.BuiltinOperatorNOT_EQUAL,
		fb.BuiltinOperatorLOGICAL_AND, fb.BuiltinOperatorLOGICAL_OR} {
		cases = append(cases, ktBinCases(code, fb.TensorTypeBOOL, func(s []int, _ bool) *npy.Array { return ktBool(r, s...) })...)
	}
	B := fb.TensorTypeBOOL
	cases = append(cases, ktCase{name: "LOGICAL_NOT", op: ktSpec(fb.BuiltinOperatorLOGICAL_NOT, nil, []ktT{ktIn(B, 3, 7)}, ktIn(B, 3, 7)),
		inputs: []*npy.Array{ktBool(r, 3, 7)}})
	ktCompare(t, cases)
}

func TestSelect(t *testing.T) {
	r := ktRand(21)
	F, I, B := fb.TensorTypeFLOAT32, fb.TensorTypeINT32, fb.TensorTypeBOOL
	var cases []ktCase
	// SELECT (v1): same shape, rank-1 condition over the first dimension.
	for _, s := range [][2][]int{{{2, 3, 4}, {2, 3, 4}}, {{4}, {4, 3, 2}}, {{3}, {3}}} {
		for _, typ := range []fb.TensorType{F, I} {
			gen := func() *npy.Array {
				if typ == I {
					return ktI32(r, -100, 100, s[1]...)
				}
				return ktF32(r, -5, 5, s[1]...)
			}
			m := ktSpec(fb.BuiltinOperatorSELECT, nil, []ktT{ktIn(B, s[0]...), ktIn(typ, s[1]...), ktIn(typ, s[1]...)}, ktIn(typ, s[1]...))
			cases = append(cases, ktCase{name: "SELECT_" + ktShapeName(s[0]) + "_" + ktShapeName(s[1]) + "_" + fb.EnumNamesTensorType[typ],
				op: m, inputs: []*npy.Array{ktBool(r, s[0]...), gen(), gen()}})
		}
	}
	// SELECT_V2: three-way broadcasting.
	for _, s := range [][3][]int{
		{{2, 3, 4}, {2, 3, 4}, {2, 3, 4}},
		{{}, {2, 3}, {2, 3}},
		{{2, 1}, {2, 3}, {}},
		{{1, 4}, {3, 1}, {4}},
		{{2, 1, 5}, {1, 3, 1}, {2, 3, 5}},
		{{4, 1, 1}, {1, 3, 1}, {1, 1, 6}},
	} {
		out := ktBroadcast(s[0], s[1], s[2])
		m := ktSpec(fb.BuiltinOperatorSELECT_V2, nil, []ktT{ktIn(B, s[0]...), ktIn(F, s[1]...), ktIn(F, s[2]...)}, ktIn(F, out...))
		cases = append(cases, ktCase{name: "SELECT_V2_" + ktShapeName(s[0]) + "_" + ktShapeName(s[1]) + "_" + ktShapeName(s[2]),
			op: m, inputs: []*npy.Array{ktBool(r, s[0]...), ktF32(r, -5, 5, s[1]...), ktF32(r, -5, 5, s[2]...)}})
	}
	m := ktSpec(fb.BuiltinOperatorSELECT_V2, nil, []ktT{ktIn(B, 3, 1), ktIn(I, 3, 4), ktIn(I, 4)}, ktIn(I, 3, 4))
	cases = append(cases, ktCase{name: "SELECT_V2_int32", op: m, inputs: []*npy.Array{ktBool(r, 3, 1), ktI32(r, -9, 9, 3, 4), ktI32(r, -9, 9, 4)}})
	ktCompare(t, cases)
}

func TestCompareHand(t *testing.T) {
	F, I, B := fb.TensorTypeFLOAT32, fb.TensorTypeINT32, fb.TensorTypeBOOL
	m := ktModel(fb.BuiltinOperatorLESS, nil, []ktT{ktIn(F, 2, 1), ktIn(F, 3)}, ktIn(B, 2, 3))
	o := ktRun(t, m, npy.FromFloat32([]int{2, 1}, []float32{0, 2}), npy.FromFloat32([]int{3}, []float32{-1, 1, 2}))[0]
	if got, want := o.Bool(), []bool{false, true, true, false, false, false}; !ktEqualBools(got, want) {
		t.Fatalf("LESS: %v, want %v", got, want)
	}
	// int64 comparison (not exchangeable with the runtime).
	m = ktModel(fb.BuiltinOperatorGREATER_EQUAL, nil, []ktT{ktIn(fb.TensorTypeINT64, 3), ktIn(fb.TensorTypeINT64)}, ktIn(B, 3))
	o = ktRun(t, m, npy.FromInt64([]int{3}, []int64{1 << 40, 5, -1}), npy.FromInt64(nil, []int64{5}))[0]
	if got, want := o.Bool(), []bool{true, true, false}; !ktEqualBools(got, want) {
		t.Fatalf("GREATER_EQUAL int64: %v, want %v", got, want)
	}
	// SELECT with a scalar condition picks a whole tensor.
	m = ktModel(fb.BuiltinOperatorSELECT, nil, []ktT{ktIn(B), ktIn(I, 2, 2), ktIn(I, 2, 2)}, ktIn(I, 2, 2))
	x, y := npy.FromInt32([]int{2, 2}, []int32{1, 2, 3, 4}), npy.FromInt32([]int{2, 2}, []int32{5, 6, 7, 8})
	ktCheckI32(t, ktRun(t, m, npy.FromBool(nil, []bool{false}), x, y)[0], []int{2, 2}, []int32{5, 6, 7, 8})
	// SELECT rank-1 condition.
	m = ktModel(fb.BuiltinOperatorSELECT, nil, []ktT{ktIn(B, 2), ktIn(I, 2, 2), ktIn(I, 2, 2)}, ktIn(I, 2, 2))
	ktCheckI32(t, ktRun(t, m, npy.FromBool([]int{2}, []bool{false, true}), x, y)[0], []int{2, 2}, []int32{5, 6, 3, 4})
	// SELECT_V2 on int8 values with broadcasting.
	m = ktModel(fb.BuiltinOperatorSELECT_V2, nil, []ktT{ktIn(B, 2, 1), ktIn(fb.TensorTypeINT8, 3), ktIn(fb.TensorTypeINT8)}, ktIn(fb.TensorTypeINT8, 2, 3))
	o = ktRun(t, m, npy.FromBool([]int{2, 1}, []bool{true, false}), npy.FromInt8([]int{3}, []int8{1, 2, 3}), npy.FromInt8(nil, []int8{-1}))[0]
	if got := o.I8(); got[0] != 1 || got[2] != 3 || got[3] != -1 || got[5] != -1 {
		t.Fatalf("SELECT_V2 int8: %v", got)
	}
}

func ktEqualBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCompareErrors(t *testing.T) {
	F, I, B := fb.TensorTypeFLOAT32, fb.TensorTypeINT32, fb.TensorTypeBOOL
	f := func(s ...int) *npy.Array { return npy.FromFloat32(s, make([]float32, ktCount(s))) }
	b := func(s ...int) *npy.Array { return npy.FromBool(s, make([]bool, ktCount(s))) }
	// Comparison output must be BOOL.
	m := ktModel(fb.BuiltinOperatorEQUAL, nil, []ktT{ktIn(F, 2), ktIn(F, 2)}, ktIn(F, 2))
	ktWantErr(t, "output type", m, f(2), f(2))
	// Ordered comparison of bools is not supported.
	m = ktModel(fb.BuiltinOperatorLESS, nil, []ktT{ktIn(B, 2), ktIn(B, 2)}, ktIn(B, 2))
	ktWantErr(t, "unsupported", m, b(2), b(2))
	// SELECT: a condition that fits no rule, different value shapes, a
	// non-bool condition.
	m = ktModel(fb.BuiltinOperatorSELECT, nil, []ktT{ktIn(B, 3), ktIn(F, 2, 3), ktIn(F, 2, 3)}, ktIn(F, 2, 3))
	ktWantErr(t, "does not fit", m, b(3), f(2, 3), f(2, 3))
	m = ktModel(fb.BuiltinOperatorSELECT, nil, []ktT{ktIn(B, 2), ktIn(F, 2), ktIn(F, 1)}, ktIn(F, 2))
	ktWantErr(t, "equal shapes", m, b(2), f(2), f(1))
	m = ktModel(fb.BuiltinOperatorSELECT_V2, nil, []ktT{ktIn(I, 2), ktIn(F, 2), ktIn(F, 2)}, ktIn(F, 2))
	ktWantErr(t, "BOOL", m, npy.FromInt32([]int{2}, []int32{0, 1}), f(2), f(2))
	m = ktModel(fb.BuiltinOperatorSELECT_V2, nil, []ktT{ktIn(B, 3), ktIn(F, 2), ktIn(F, 2)}, ktIn(F, 2))
	ktWantErr(t, "do not broadcast", m, b(3), f(2), f(2))
	m = ktModel(fb.BuiltinOperatorLOGICAL_NOT, nil, []ktT{ktIn(F, 2)}, ktIn(B, 2))
	ktWantErr(t, "want BOOL", m, f(2))
}
