package interp

import (
	"fmt"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

// ktReduceShape is the output shape of a reduction (valid axes).
func ktReduceShape(in []int, axes []int32, keep bool) []int {
	red := make([]bool, len(in))
	for _, a := range axes {
		if a < 0 {
			a += int32(len(in))
		}
		red[a] = true
	}
	var out []int
	for i, d := range in {
		switch {
		case !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

func ktReduceSpec(code fb.BuiltinOperator, typ fb.TensorType, in []int, axes []int32, keep bool) *ktOp {
	ax := npy.FromInt32([]int{len(axes)}, axes)
	return ktSpec(code, &fb.ReducerOptionsT{KeepDims: keep}, []ktT{ktIn(typ, in...), ktConst(ax)},
		ktIn(typ, ktReduceShape(in, axes, keep)...))
}

func ktReduceModel(code fb.BuiltinOperator, typ fb.TensorType, in []int, axes []int32, keep bool) []byte {
	op := ktReduceSpec(code, typ, in, axes, keep)
	return ktModel(op.code, op.opts, op.ins, op.outs...)
}

var ktReduceCases = []struct {
	in   []int
	axes []int32
	keep bool
}{
	{[]int{1, 7, 7, 16}, []int32{1, 2}, true}, // global average pooling
	{[]int{2, 5, 5, 8}, []int32{1, 2}, false},
	{[]int{2, 5, 5, 8}, []int32{2, 1}, true},
	{[]int{3, 4, 5}, []int32{-1}, false},
	{[]int{3, 4, 5}, []int32{0}, true},
	{[]int{3, 4, 5}, []int32{1}, false},
	{[]int{3, 4, 5}, []int32{0, 2}, false},
	{[]int{3, 4, 5}, []int32{2, -1, 2}, true}, // duplicates
	{[]int{3, 4, 5}, []int32{0, 1, 2}, false}, // everything
	{[]int{2, 3, 4, 5, 2}, []int32{1, 3}, false},
	{[]int{6, 40}, []int32{1}, true},
}

func TestReductions(t *testing.T) {
	r := ktRand(30)
	F, I := fb.TensorTypeFLOAT32, fb.TensorTypeINT32
	var cases []ktCase
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorMEAN, fb.BuiltinOperatorSUM, fb.BuiltinOperatorREDUCE_MAX,
		fb.BuiltinOperatorREDUCE_MIN, fb.BuiltinOperatorREDUCE_PROD} {
		for k, c := range ktReduceCases {
			x := ktF32(r, -3, 3, c.in...)
			if code == fb.BuiltinOperatorREDUCE_PROD {
				x = ktF32(r, 0.7, 1.4, c.in...)
			}
			cases = append(cases, ktCase{name: fmt.Sprintf("%s_%d_%s_%v", fb.EnumNamesBuiltinOperator[code], k, ktShapeName(c.in), c.axes),
				op: ktReduceSpec(code, F, c.in, c.axes, c.keep), inputs: []*npy.Array{x}})
		}
	}
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorSUM, fb.BuiltinOperatorREDUCE_MAX, fb.BuiltinOperatorREDUCE_MIN,
		fb.BuiltinOperatorMEAN, fb.BuiltinOperatorREDUCE_PROD} {
		for k, c := range ktReduceCases[3:9] {
			x := ktI32(r, -100, 100, c.in...)
			if code == fb.BuiltinOperatorREDUCE_PROD {
				x = ktI32(r, -2, 2, c.in...)
			}
			cases = append(cases, ktCase{name: fmt.Sprintf("%s_int32_%d", fb.EnumNamesBuiltinOperator[code], k),
				op: ktReduceSpec(code, I, c.in, c.axes, c.keep), inputs: []*npy.Array{x}})
		}
	}
	ktCompare(t, cases)
}

func TestReduceHand(t *testing.T) {
	F, I := fb.TensorTypeFLOAT32, fb.TensorTypeINT32
	x := npy.FromFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	run := func(code fb.BuiltinOperator, axes []int32, keep bool) *Tensor {
		return ktRun(t, ktReduceModel(code, F, []int{2, 3}, axes, keep), x)[0]
	}
	ktCheckF32(t, run(fb.BuiltinOperatorMEAN, []int32{1}, false), []int{2}, []float32{2, 5})
	ktCheckF32(t, run(fb.BuiltinOperatorSUM, []int32{0}, true), []int{1, 3}, []float32{5, 7, 9})
	ktCheckF32(t, run(fb.BuiltinOperatorREDUCE_PROD, []int32{-1, 0}, false), nil, []float32{720})
	ktCheckF32(t, run(fb.BuiltinOperatorREDUCE_MAX, []int32{-2}, false), []int{3}, []float32{4, 5, 6})
	ktCheckF32(t, run(fb.BuiltinOperatorREDUCE_MIN, []int32{1, 1}, true), []int{2, 1}, []float32{1, 4})
	// No axes: the input itself.
	ktCheckF32(t, run(fb.BuiltinOperatorMEAN, []int32{}, false), []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	// Integer MEAN truncates.
	m := ktReduceModel(fb.BuiltinOperatorMEAN, I, []int{2, 2}, []int32{1}, false)
	ktCheckI32(t, ktRun(t, m, npy.FromInt32([]int{2, 2}, []int32{1, 2, -1, -2}))[0], []int{2}, []int32{1, -1})
	// int64, and a dynamic (non-constant) axis tensor.
	b := ktModel(fb.BuiltinOperatorSUM, nil, []ktT{ktIn(fb.TensorTypeINT64, 2, 2), ktIn(I, 1)}, ktIn(fb.TensorTypeINT64, 2))
	o := ktRun(t, b, npy.FromInt64([]int{2, 2}, []int64{1 << 40, 1, 2, 3}), npy.FromInt32([]int{1}, []int32{0}))[0]
	if v := o.I64(); len(v) != 2 || v[0] != 1<<40+2 || v[1] != 4 {
		t.Fatalf("SUM int64: %v", v)
	}
	// Scalar input reduces to itself.
	m = ktModel(fb.BuiltinOperatorREDUCE_MAX, nil, []ktT{ktIn(F), ktConst(npy.FromInt32([]int{1}, []int32{0}))}, ktIn(F))
	ktCheckF32(t, ktRun(t, m, npy.FromFloat32(nil, []float32{3}))[0], nil, []float32{3})
	// Reducing an empty axis gives the identity (MAX: -FLT_MAX as TFLite).
	m = ktReduceModel(fb.BuiltinOperatorSUM, F, []int{0, 2}, []int32{0}, false)
	ktCheckF32(t, ktRun(t, m, npy.FromFloat32([]int{0, 2}, nil))[0], []int{2}, []float32{0, 0})
}

func TestReduceErrors(t *testing.T) {
	F := fb.TensorTypeFLOAT32
	x := npy.FromFloat32([]int{2, 3}, make([]float32, 6))
	m := ktModel(fb.BuiltinOperatorMEAN, nil, []ktT{ktIn(F, 2, 3), ktConst(npy.FromInt32([]int{1}, []int32{2}))}, ktIn(F, 2))
	ktWantErr(t, "out of range", m, x)
	m = ktModel(fb.BuiltinOperatorSUM, nil, []ktT{ktIn(F, 2, 3), ktConst(npy.FromInt32([]int{1}, []int32{-3}))}, ktIn(F, 2))
	ktWantErr(t, "out of range", m, x)
	m = ktModel(fb.BuiltinOperatorSUM, nil, []ktT{ktIn(F, 2, 3), ktConst(npy.FromFloat32([]int{1}, []float32{0}))}, ktIn(F, 3))
	ktWantErr(t, "axis tensor", m, x)
	m = ktModel(fb.BuiltinOperatorREDUCE_PROD, nil, []ktT{ktIn(fb.TensorTypeBOOL, 2), ktConst(npy.FromInt32([]int{1}, []int32{0}))}, ktIn(fb.TensorTypeBOOL))
	ktWantErr(t, "unsupported", m, npy.FromBool([]int{2}, []bool{true, false}))
}

func BenchmarkMeanGlobalPool(b *testing.B) {
	F := fb.TensorTypeFLOAT32
	in := []int{1, 14, 14, 256}
	m := ktReduceModel(fb.BuiltinOperatorMEAN, F, in, []int32{1, 2}, true)
	x := ktF32(ktRand(31), -1, 1, in...)
	it := ktBenchInterp(b, m)
	it.SetInput(0, x.Shape, x.Data)
	b.SetBytes(int64(4 * ktCount(in)))
	for b.Loop() {
		if err := it.Invoke(); err != nil {
			b.Fatal(err)
		}
	}
}
