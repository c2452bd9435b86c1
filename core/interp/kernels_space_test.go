package interp

import (
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestSpaceDepthRuntime(t *testing.T) {
	r := mvRng(50)
	s2d := func(name string, x *npy.Array, bs int32) mvOpCase {
		return mvOpCase{name: name, code: fb.BuiltinOperatorSPACE_TO_DEPTH, opts: &fb.SpaceToDepthOptionsT{BlockSize: bs},
			ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(mvTypes[x.DType])}}
	}
	d2s := func(name string, x *npy.Array, bs int32) mvOpCase {
		return mvOpCase{name: name, code: fb.BuiltinOperatorDEPTH_TO_SPACE, opts: &fb.DepthToSpaceOptionsT{BlockSize: bs},
			ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(mvTypes[x.DType])}}
	}
	s2b := func(name string, x, block, pads *npy.Array) mvOpCase {
		return mvOpCase{name: name, code: fb.BuiltinOperatorSPACE_TO_BATCH_ND,
			ins: []mvT{mvIn(x), mvConst(block), mvConst(pads)}, outs: []mvT{mvOut(mvTypes[x.DType])}}
	}
	b2s := func(name string, x, block, crops *npy.Array) mvOpCase {
		return mvOpCase{name: name, code: fb.BuiltinOperatorBATCH_TO_SPACE_ND,
			ins: []mvT{mvIn(x), mvConst(block), mvConst(crops)}, outs: []mvT{mvOut(mvTypes[x.DType])}}
	}
	blk := func(v ...int32) *npy.Array { return mvI32s([]int{len(v)}, v...) }
	pads := func(v ...int32) *npy.Array { return mvI32s([]int{len(v) / 2, 2}, v...) }
	cases := []mvOpCase{
		s2d("s2d_2", mvF32(r, 1, 4, 6, 3), 2),
		s2d("s2d_3_batch", mvF32(r, 2, 6, 3, 2), 3),
		s2d("s2d_1", mvF32(r, 1, 2, 2, 2), 1),
		s2d("s2d_int8", mvTyped(r, npy.Int8, 1, 4, 4, 1), 2),
		d2s("d2s_2", mvF32(r, 1, 2, 3, 12), 2),
		d2s("d2s_3_batch", mvF32(r, 2, 2, 1, 18), 3),
		d2s("d2s_int32", mvTyped(r, npy.Int32, 1, 2, 2, 4), 2),
		s2b("s2b_2x2", mvF32(r, 1, 4, 4, 3), blk(2, 2), pads(0, 0, 0, 0)),
		s2b("s2b_padded", mvF32(r, 2, 5, 3, 2), blk(2, 3), pads(1, 2, 2, 1)),
		s2b("s2b_3d", mvF32(r, 2, 5, 3), blk(3), pads(1, 0)),
		s2b("s2b_uneven_pads", mvF32(r, 1, 3, 5, 1), blk(2, 2), pads(0, 1, 3, 0)),
		s2b("s2b_int32", mvTyped(r, npy.Int32, 1, 2, 4, 2), blk(2, 2), pads(1, 1, 0, 0)),
		b2s("b2s_2x2", mvF32(r, 4, 2, 2, 3), blk(2, 2), pads(0, 0, 0, 0)),
		b2s("b2s_cropped", mvF32(r, 12, 4, 3, 2), blk(2, 3), pads(1, 2, 2, 1)),
		b2s("b2s_3d", mvF32(r, 6, 4, 3), blk(3), pads(2, 1)),
		b2s("b2s_int8", mvTyped(r, npy.Int8, 4, 2, 3, 1), blk(2, 2), pads(0, 1, 1, 0)),
		{name: "s2b_runtime_pads", code: fb.BuiltinOperatorSPACE_TO_BATCH_ND,
			ins: []mvT{mvIn(mvF32(r, 1, 4, 3, 1)), mvConst(blk(2, 2)), mvIn(pads(0, 2, 1, 0))}, outs: []mvT{mvOut(f32)}},
	}
	mvCompare(t, cases)
}

func TestSpaceHand(t *testing.T) {
	x := mvSeq(1, 2, 2, 1)
	mvExpect(t, mvOpCase{name: "s2d", code: fb.BuiltinOperatorSPACE_TO_DEPTH, opts: &fb.SpaceToDepthOptionsT{BlockSize: 2},
		ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}}, mvF32s([]int{1, 1, 1, 4}, 0, 1, 2, 3))
	mvExpect(t, mvOpCase{name: "d2s", code: fb.BuiltinOperatorDEPTH_TO_SPACE, opts: &fb.DepthToSpaceOptionsT{BlockSize: 2},
		ins: []mvT{mvIn(mvSeq(1, 1, 1, 4))}, outs: []mvT{mvOut(f32)}}, mvF32s([]int{1, 2, 2, 1}, 0, 1, 2, 3))
	mvExpect(t, mvOpCase{name: "s2b", code: fb.BuiltinOperatorSPACE_TO_BATCH_ND,
		ins:  []mvT{mvIn(mvSeq(1, 2, 2, 1)), mvConst(mvI32s([]int{2}, 2, 2)), mvConst(mvI32s([]int{2, 2}, 0, 0, 0, 0))},
		outs: []mvT{mvOut(f32)}}, mvF32s([]int{4, 1, 1, 1}, 0, 1, 2, 3))
	mvExpect(t, mvOpCase{name: "b2s", code: fb.BuiltinOperatorBATCH_TO_SPACE_ND,
		ins:  []mvT{mvIn(mvSeq(4, 1, 1, 1)), mvConst(mvI32s([]int{2}, 2, 2)), mvConst(mvI32s([]int{2, 2}, 0, 0, 0, 1))},
		outs: []mvT{mvOut(f32)}}, mvF32s([]int{1, 2, 1, 1}, 0, 2))
	// 8-byte elements.
	mvExpect(t, mvOpCase{name: "d2s_int64", code: fb.BuiltinOperatorDEPTH_TO_SPACE, opts: &fb.DepthToSpaceOptionsT{BlockSize: 2},
		ins: []mvT{mvIn(mvI64s([]int{1, 1, 1, 4}, 5, 6, 7, 8))}, outs: []mvT{mvOut(fb.TensorTypeINT64)}}, mvI64s([]int{1, 2, 2, 1}, 5, 6, 7, 8))
}

func TestSpaceErrors(t *testing.T) {
	for _, c := range []struct {
		c   mvOpCase
		err string
	}{
		{mvOpCase{name: "s2d_indivisible", code: fb.BuiltinOperatorSPACE_TO_DEPTH, opts: &fb.SpaceToDepthOptionsT{BlockSize: 2}, ins: []mvT{mvIn(mvSeq(1, 3, 2, 1))}, outs: []mvT{mvOut(f32)}}, "multiples"},
		{mvOpCase{name: "s2d_block_zero", code: fb.BuiltinOperatorSPACE_TO_DEPTH, opts: &fb.SpaceToDepthOptionsT{}, ins: []mvT{mvIn(mvSeq(1, 2, 2, 1))}, outs: []mvT{mvOut(f32)}}, "block_size"},
		{mvOpCase{name: "d2s_depth", code: fb.BuiltinOperatorDEPTH_TO_SPACE, opts: &fb.DepthToSpaceOptionsT{BlockSize: 2}, ins: []mvT{mvIn(mvSeq(1, 1, 1, 6))}, outs: []mvT{mvOut(f32)}}, "multiple"},
		{mvOpCase{name: "d2s_rank", code: fb.BuiltinOperatorDEPTH_TO_SPACE, opts: &fb.DepthToSpaceOptionsT{BlockSize: 2}, ins: []mvT{mvIn(mvSeq(1, 4))}, outs: []mvT{mvOut(f32)}}, "4 dimensions"},
		{mvOpCase{name: "s2b_indivisible", code: fb.BuiltinOperatorSPACE_TO_BATCH_ND,
			ins: []mvT{mvIn(mvSeq(1, 3, 2, 1)), mvConst(mvI32s([]int{2}, 2, 2)), mvConst(mvI32s([]int{2, 2}, 0, 0, 0, 0))}, outs: []mvT{mvOut(f32)}}, "not a multiple"},
		{mvOpCase{name: "s2b_negative_pad", code: fb.BuiltinOperatorSPACE_TO_BATCH_ND,
			ins: []mvT{mvIn(mvSeq(1, 2, 2, 1)), mvConst(mvI32s([]int{2}, 2, 2)), mvConst(mvI32s([]int{2, 2}, -2, 0, 0, 0))}, outs: []mvT{mvOut(f32)}}, "negative"},
		{mvOpCase{name: "s2b_block_zero", code: fb.BuiltinOperatorSPACE_TO_BATCH_ND,
			ins: []mvT{mvIn(mvSeq(1, 2, 2, 1)), mvConst(mvI32s([]int{2}, 0, 2)), mvConst(mvI32s([]int{2, 2}, 0, 0, 0, 0))}, outs: []mvT{mvOut(f32)}}, "positive"},
		{mvOpCase{name: "s2b_rank5", code: fb.BuiltinOperatorSPACE_TO_BATCH_ND,
			ins: []mvT{mvIn(mvSeq(1, 2, 2, 2, 1)), mvConst(mvI32s([]int{3}, 1, 1, 1)), mvConst(mvI32s([]int{3, 2}, 0, 0, 0, 0, 0, 0))}, outs: []mvT{mvOut(f32)}}, "unsupported"},
		{mvOpCase{name: "b2s_batch", code: fb.BuiltinOperatorBATCH_TO_SPACE_ND,
			ins: []mvT{mvIn(mvSeq(3, 1, 1, 1)), mvConst(mvI32s([]int{2}, 2, 2)), mvConst(mvI32s([]int{2, 2}, 0, 0, 0, 0))}, outs: []mvT{mvOut(f32)}}, "not a multiple"},
		{mvOpCase{name: "b2s_crops", code: fb.BuiltinOperatorBATCH_TO_SPACE_ND,
			ins: []mvT{mvIn(mvSeq(4, 1, 1, 1)), mvConst(mvI32s([]int{2}, 2, 2)), mvConst(mvI32s([]int{2, 2}, 2, 1, 0, 0))}, outs: []mvT{mvOut(f32)}}, "exceed"},
	} {
		mvExpectError(t, c.c, c.err)
	}
}
