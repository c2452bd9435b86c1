package interp

import (
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestGatherRuntime(t *testing.T) {
	r := mvRng(20)
	x := mvF32(r, 4, 5, 3)
	gather := func(name string, x, idx *npy.Array, konst bool, axis, batchDims int32) mvOpCase {
		in := mvIn(idx)
		if konst {
			in = mvConst(idx)
		}
		return mvOpCase{name: name, code: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{Axis: axis, BatchDims: batchDims},
			ins: []mvT{mvIn(x), in}, outs: []mvT{mvOut(mvTypes[x.DType])}, castIO: true}
	}
	cases := []mvOpCase{
		gather("axis0", x, mvI32s([]int{3}, 3, 0, 3), false, 0, 0),
		gather("axis1", x, mvI32s([]int{2, 2}, 4, 0, 1, 1), false, 1, 0),
		gather("axis_last", x, mvI32s([]int{4}, 2, 1, 0, 2), true, 2, 0),
		gather("axis_negative", x, mvI32s([]int{2}, 1, 4), true, -2, 0),
		gather("scalar_index", x, mvI32s(nil, 2), true, 0, 0),
		gather("int64_indices", x, mvI64s([]int{3}, 1, 2, 0), true, 1, 0),
		gather("int64_runtime_indices", x, mvI64s([]int{3}, 1, 2, 0), false, 1, 0),
		gather("batch_dims", x, mvI32s([]int{4, 2}, 0, 4, 1, 1, 2, 3, 4, 0), true, 1, 1),
		gather("batch_dims_negative", mvF32(r, 2, 3, 4), mvI32s([]int{2, 3}, 1, 2, 3, 0, 0, 1), true, 2, -1),
		gather("int8_params", mvTyped(r, npy.Int8, 6, 4), mvI32s([]int{3}, 5, 0, 2), true, 0, 0),
		gather("int32_params", mvTyped(r, npy.Int32, 6, 4), mvI32s([]int{2}, 3, 1), false, 1, 0),
		gather("bool_params", mvTyped(r, npy.Bool, 6, 4), mvI32s([]int{2}, 3, 1), false, 0, 0),
	}
	ind := mvI32s([]int{2, 2}, 1, 0, 2, 1)
	cases = append(cases,
		mvOpCase{name: "gather_nd_full", code: fb.BuiltinOperatorGATHER_ND, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2, 3}, 1, 2, 0, 3, 4, 2))}, outs: []mvT{mvOut(f32)}},
		mvOpCase{name: "gather_nd_partial", code: fb.BuiltinOperatorGATHER_ND, ins: []mvT{mvIn(x), mvConst(ind)}, outs: []mvT{mvOut(f32)}},
		mvOpCase{name: "gather_nd_rows", code: fb.BuiltinOperatorGATHER_ND, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{2, 2, 1}, 3, 0, 1, 1))}, outs: []mvT{mvOut(f32)}},
		mvOpCase{name: "gather_nd_int64", code: fb.BuiltinOperatorGATHER_ND, ins: []mvT{mvIn(x), mvConst(mvI64s([]int{1, 2}, 2, 3))}, outs: []mvT{mvOut(f32)}},
		mvOpCase{name: "gather_nd_int32_params", code: fb.BuiltinOperatorGATHER_ND, ins: []mvT{mvIn(mvTyped(r, npy.Int32, 3, 4)), mvConst(mvI32s([]int{3, 2}, 0, 0, 2, 3, 1, 2))}, outs: []mvT{mvOut(fb.TensorTypeINT32)}},
		mvOpCase{name: "embedding_lookup", code: fb.BuiltinOperatorEMBEDDING_LOOKUP, ins: []mvT{mvIn(mvI32s([]int{4}, 2, 0, 5, 2)), mvConst(mvF32(r, 6, 3))}, outs: []mvT{mvOut(f32)}},
		mvOpCase{name: "embedding_lookup_3d", code: fb.BuiltinOperatorEMBEDDING_LOOKUP, ins: []mvT{mvConst(mvI32s([]int{2}, 1, 3)), mvIn(mvF32(r, 4, 2, 3))}, outs: []mvT{mvOut(f32)}},
	)
	mvCompare(t, cases)
}

func TestGatherHand(t *testing.T) {
	x := mvSeq(3, 2)
	mvExpect(t, mvOpCase{name: "gather", code: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{Axis: 0},
		ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 2, 0))}, outs: []mvT{mvOut(f32)}}, mvF32s([]int{2, 2}, 4, 5, 0, 1))
	mvExpect(t, mvOpCase{name: "gather_int64_params", code: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{Axis: 0},
		ins: []mvT{mvIn(mvI64s([]int{3}, 10, 20, 30)), mvConst(mvI64s([]int{2}, 2, 2))}, outs: []mvT{mvOut(fb.TensorTypeINT64)}}, mvI64s([]int{2}, 30, 30))
	mvExpect(t, mvOpCase{name: "gather_nd", code: fb.BuiltinOperatorGATHER_ND,
		ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2, 2}, 2, 1, 0, 0))}, outs: []mvT{mvOut(f32)}}, mvF32s([]int{2}, 5, 0))
	mvExpect(t, mvOpCase{name: "embedding", code: fb.BuiltinOperatorEMBEDDING_LOOKUP,
		ins: []mvT{mvIn(mvI32s([]int{1}, 1)), mvConst(x)}, outs: []mvT{mvOut(f32)}}, mvF32s([]int{1, 2}, 2, 3))
}

func TestGatherErrors(t *testing.T) {
	x := mvSeq(3, 2)
	for _, c := range []struct {
		c   mvOpCase
		err string
	}{
		{mvOpCase{name: "gather_index_high", code: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{}, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{2}, 0, 3))}, outs: []mvT{mvOut(f32)}}, "out of bounds"},
		{mvOpCase{name: "gather_index_negative", code: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{}, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{1}, -1))}, outs: []mvT{mvOut(f32)}}, "out of bounds"},
		{mvOpCase{name: "gather_axis", code: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{Axis: 2}, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{1}, 0))}, outs: []mvT{mvOut(f32)}}, "out of range"},
		{mvOpCase{name: "gather_float_indices", code: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{}, ins: []mvT{mvIn(x), mvIn(mvF32s([]int{1}, 0))}, outs: []mvT{mvOut(f32)}}, "want INT16"},
		{mvOpCase{name: "gather_batch_dims", code: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{Axis: 1, BatchDims: 1}, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{2}, 0, 0))}, outs: []mvT{mvOut(f32)}}, "batch dimension"},
		{mvOpCase{name: "gather_nd_bounds", code: fb.BuiltinOperatorGATHER_ND, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{1, 2}, 3, 0))}, outs: []mvT{mvOut(f32)}}, "out of bounds"},
		{mvOpCase{name: "gather_nd_depth", code: fb.BuiltinOperatorGATHER_ND, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{1, 3}, 0, 0, 0))}, outs: []mvT{mvOut(f32)}}, "index depth"},
		{mvOpCase{name: "embedding_bounds", code: fb.BuiltinOperatorEMBEDDING_LOOKUP, ins: []mvT{mvIn(mvI32s([]int{1}, 3)), mvConst(x)}, outs: []mvT{mvOut(f32)}}, "out of bounds"},
		{mvOpCase{name: "embedding_int8", code: fb.BuiltinOperatorEMBEDDING_LOOKUP, ins: []mvT{mvIn(mvI32s([]int{1}, 0)), mvConst(npy.FromInt8([]int{2, 2}, []int8{1, 2, 3, 4}))}, outs: []mvT{mvOut(f32)}}, "has no quantization scale"},
	} {
		mvExpectError(t, c.c, c.err)
	}
}
