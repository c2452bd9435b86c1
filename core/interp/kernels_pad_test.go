package interp

import (
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestPadRuntime(t *testing.T) {
	r := mvRng(30)
	x := mvF32(r, 2, 3, 4)
	pads := func(v ...int32) *npy.Array { return mvI32s([]int{len(v) / 2, 2}, v...) }
	pad := func(name string, code fb.BuiltinOperator, x *npy.Array, p *npy.Array, extra ...mvT) mvOpCase {
		return mvOpCase{name: name, code: code, ins: append([]mvT{mvIn(x), mvConst(p)}, extra...), outs: []mvT{mvOut(mvTypes[x.DType])}}
	}
	mirror := func(name string, x *npy.Array, p *npy.Array, mode fb.MirrorPadMode) mvOpCase {
		return mvOpCase{name: name, code: fb.BuiltinOperatorMIRROR_PAD, opts: &fb.MirrorPadOptionsT{Mode: mode},
			ins: []mvT{mvIn(x), mvConst(p)}, outs: []mvT{mvOut(mvTypes[x.DType])}}
	}
	cases := []mvOpCase{
		pad("pad", fb.BuiltinOperatorPAD, x, pads(1, 0, 0, 2, 3, 1)),
		pad("pad_zero", fb.BuiltinOperatorPAD, x, pads(0, 0, 0, 0, 0, 0)),
		pad("pad_4d", fb.BuiltinOperatorPAD, mvF32(r, 1, 5, 6, 3), pads(0, 0, 1, 1, 2, 2, 0, 0)),
		pad("pad_5d", fb.BuiltinOperatorPAD, mvF32(r, 1, 2, 3, 2, 3), pads(0, 1, 1, 0, 0, 1, 2, 0, 1, 1)),
		pad("pad_int32", fb.BuiltinOperatorPAD, mvTyped(r, npy.Int32, 3, 3), pads(1, 2, 2, 1)),
		pad("pad_int8", fb.BuiltinOperatorPAD, mvTyped(r, npy.Int8, 3, 3), pads(1, 2, 2, 1)),
		pad("padv2", fb.BuiltinOperatorPADV2, x, pads(1, 1, 0, 2, 2, 0), mvConst(mvF32s(nil, -3.5))),
		pad("padv2_runtime_value", fb.BuiltinOperatorPADV2, x, pads(0, 1, 1, 0, 1, 1), mvIn(mvF32s(nil, 7))),
		pad("padv2_int32", fb.BuiltinOperatorPADV2, mvTyped(r, npy.Int32, 3, 3), pads(1, 0, 0, 1), mvConst(mvI32s(nil, 42))),
		{name: "pad_runtime_paddings", code: fb.BuiltinOperatorPAD, ins: []mvT{mvIn(x), mvIn(pads(1, 1, 2, 0, 0, 3))}, outs: []mvT{mvOut(f32)}},
		mirror("reflect", x, pads(1, 1, 2, 2, 3, 3), fb.MirrorPadModeREFLECT),
		mirror("symmetric", x, pads(2, 1, 3, 0, 1, 4), fb.MirrorPadModeSYMMETRIC),
		mirror("reflect_4d", mvF32(r, 1, 5, 6, 2), pads(0, 0, 2, 2, 2, 2, 0, 0), fb.MirrorPadModeREFLECT),
		mirror("symmetric_int32", mvTyped(r, npy.Int32, 4, 5), pads(1, 3, 2, 0), fb.MirrorPadModeSYMMETRIC),
		mirror("reflect_1d", mvF32(r, 5), pads(4, 3), fb.MirrorPadModeREFLECT),
	}
	mvCompare(t, cases)
}

func TestTileBroadcastRuntime(t *testing.T) {
	r := mvRng(31)
	tile := func(name string, x, mult *npy.Array) mvOpCase {
		return mvOpCase{name: name, code: fb.BuiltinOperatorTILE, ins: []mvT{mvIn(x), mvConst(mult)}, outs: []mvT{mvOut(mvTypes[x.DType])}}
	}
	bcast := func(name string, x, shape *npy.Array) mvOpCase {
		return mvOpCase{name: name, code: fb.BuiltinOperatorBROADCAST_TO, ins: []mvT{mvIn(x), mvConst(shape)}, outs: []mvT{mvOut(mvTypes[x.DType])}, version: 2}
	}
	cases := []mvOpCase{
		tile("tile_2d", mvF32(r, 2, 3), mvI32s([]int{2}, 3, 2)),
		tile("tile_3d", mvF32(r, 2, 1, 3), mvI32s([]int{3}, 1, 4, 2)),
		tile("tile_int64_multiples", mvF32(r, 3, 2), mvI64s([]int{2}, 2, 1)),
		tile("tile_ones", mvF32(r, 3, 2), mvI32s([]int{2}, 1, 1)),
		tile("tile_int32", mvTyped(r, npy.Int32, 2, 2), mvI32s([]int{2}, 2, 3)),
		tile("tile_int8", mvTyped(r, npy.Int8, 2, 5), mvI32s([]int{2}, 3, 2)),
		tile("tile_bool", mvTyped(r, npy.Bool, 3, 1), mvI32s([]int{2}, 2, 4)),
		{name: "tile_runtime_multiples", code: fb.BuiltinOperatorTILE, ins: []mvT{mvIn(mvF32(r, 2, 3)), mvIn(mvI32s([]int{2}, 2, 2))}, outs: []mvT{mvOut(f32)}},
		bcast("broadcast_rows", mvF32(r, 1, 4), mvI32s([]int{2}, 3, 4)),
		bcast("broadcast_rank", mvF32(r, 3), mvI32s([]int{3}, 2, 4, 3)),
		bcast("broadcast_middle", mvF32(r, 2, 1, 3), mvI32s([]int{3}, 2, 5, 3)),
		bcast("broadcast_int64_shape", mvF32(r, 2, 1), mvI64s([]int{3}, 3, 2, 4)),
		bcast("broadcast_int32", mvTyped(r, npy.Int32, 1, 3), mvI32s([]int{2}, 4, 3)),
		bcast("broadcast_same", mvF32(r, 2, 3), mvI32s([]int{2}, 2, 3)),
	}
	mvCompare(t, cases)
}

func TestPadHand(t *testing.T) {
	x := mvSeq(2, 2)
	p := mvI32s([]int{2, 2}, 1, 0, 0, 1)
	mvExpect(t, mvOpCase{name: "pad", code: fb.BuiltinOperatorPAD, ins: []mvT{mvIn(x), mvConst(p)}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{3, 3}, 0, 0, 0, 0, 1, 0, 2, 3, 0))
	// INT64 paddings (the pinned runtime misreads them as INT32; TensorFlow
	// Lite reads them as INT64 since 2.x).
	mvExpect(t, mvOpCase{name: "pad_int64_paddings", code: fb.BuiltinOperatorPAD, ins: []mvT{mvIn(x), mvConst(mvI64s([]int{2, 2}, 0, 1, 1, 0))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{3, 3}, 0, 0, 1, 0, 2, 3, 0, 0, 0))
	mvExpect(t, mvOpCase{name: "padv2", code: fb.BuiltinOperatorPADV2, ins: []mvT{mvIn(x), mvConst(p), mvConst(mvF32s(nil, 9))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{3, 3}, 9, 9, 9, 0, 1, 9, 2, 3, 9))
	mvExpect(t, mvOpCase{name: "reflect", code: fb.BuiltinOperatorMIRROR_PAD, opts: &fb.MirrorPadOptionsT{Mode: fb.MirrorPadModeREFLECT},
		ins: []mvT{mvIn(mvSeq(3)), mvConst(mvI32s([]int{1, 2}, 2, 2))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{7}, 2, 1, 0, 1, 2, 1, 0))
	mvExpect(t, mvOpCase{name: "symmetric", code: fb.BuiltinOperatorMIRROR_PAD, opts: &fb.MirrorPadOptionsT{Mode: fb.MirrorPadModeSYMMETRIC},
		ins: []mvT{mvIn(mvSeq(3)), mvConst(mvI32s([]int{1, 2}, 2, 3))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{8}, 1, 0, 0, 1, 2, 2, 1, 0))
	// Quantized int8 PAD fills with the output's zero point.
	b := mvOpCase{name: "pad_int8_zero_point", code: fb.BuiltinOperatorPAD,
		ins: []mvT{mvIn(npy.FromInt8([]int{2}, []int8{5, 6})), mvConst(mvI32s([]int{1, 2}, 1, 1))}, outs: []mvT{mvOut(fb.TensorTypeINT8)}}
	model, inputs := b.build()
	m := mvQuantizeAll(t, model, 0.5, -3)
	outs, err := mvInvoke(m, inputs)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := outs[0].Int8s(); len(v) != 4 || v[0] != -3 || v[1] != 5 || v[2] != 6 || v[3] != -3 {
		t.Errorf("pad int8 with zero point -3: got %v", v)
	}
	mvExpect(t, mvOpCase{name: "tile", code: fb.BuiltinOperatorTILE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 1, 2))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{2, 4}, 0, 1, 0, 1, 2, 3, 2, 3))
	mvExpect(t, mvOpCase{name: "broadcast", code: fb.BuiltinOperatorBROADCAST_TO, ins: []mvT{mvIn(mvSeq(2, 1)), mvConst(mvI32s([]int{2}, 2, 3))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{2, 3}, 0, 0, 0, 1, 1, 1))
	mvExpect(t, mvOpCase{name: "tile_int64", code: fb.BuiltinOperatorTILE, ins: []mvT{mvIn(mvI64s([]int{2}, 7, 8)), mvConst(mvI32s([]int{1}, 2))}, outs: []mvT{mvOut(fb.TensorTypeINT64)}},
		mvI64s([]int{4}, 7, 8, 7, 8))
}

func TestPadErrors(t *testing.T) {
	x := mvSeq(2, 3)
	for _, c := range []struct {
		c   mvOpCase
		err string
	}{
		{mvOpCase{name: "pad_negative", code: fb.BuiltinOperatorPAD, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2, 2}, 0, -1, 0, 0))}, outs: []mvT{mvOut(f32)}}, "negative"},
		{mvOpCase{name: "pad_shape", code: fb.BuiltinOperatorPAD, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{3, 2}, 0, 0, 0, 0, 0, 0))}, outs: []mvT{mvOut(f32)}}, "rows"},
		{mvOpCase{name: "pad_runtime_shape", code: fb.BuiltinOperatorPAD, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{1, 2}, 0, 0))}, outs: []mvT{mvOut(f32)}}, "want shape [2, 2]"},
		{mvOpCase{name: "padv2_value_type", code: fb.BuiltinOperatorPADV2, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2, 2}, 0, 1, 0, 0)), mvConst(mvI32s(nil, 1))}, outs: []mvT{mvOut(f32)}}, "constant value"},
		{mvOpCase{name: "reflect_too_wide", code: fb.BuiltinOperatorMIRROR_PAD, opts: &fb.MirrorPadOptionsT{Mode: fb.MirrorPadModeREFLECT}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2, 2}, 2, 0, 0, 0))}, outs: []mvT{mvOut(f32)}}, "too large"},
		{mvOpCase{name: "symmetric_too_wide", code: fb.BuiltinOperatorMIRROR_PAD, opts: &fb.MirrorPadOptionsT{Mode: fb.MirrorPadModeSYMMETRIC}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2, 2}, 0, 0, 0, 4))}, outs: []mvT{mvOut(f32)}}, "too large"},
		{mvOpCase{name: "tile_negative", code: fb.BuiltinOperatorTILE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 1, -1))}, outs: []mvT{mvOut(f32)}}, "negative"},
		{mvOpCase{name: "tile_length", code: fb.BuiltinOperatorTILE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{1}, 2))}, outs: []mvT{mvOut(f32)}}, "length 2"},
		{mvOpCase{name: "broadcast_incompatible", code: fb.BuiltinOperatorBROADCAST_TO, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 2, 4))}, outs: []mvT{mvOut(f32)}}, "cannot broadcast"},
		{mvOpCase{name: "broadcast_rank", code: fb.BuiltinOperatorBROADCAST_TO, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{1}, 6))}, outs: []mvT{mvOut(f32)}}, "cannot broadcast"},
	} {
		mvExpectError(t, c.c, c.err)
	}
}
