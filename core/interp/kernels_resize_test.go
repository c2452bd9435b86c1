package interp

import (
	"fmt"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestResizeRuntime(t *testing.T) {
	r := mvRng(40)
	type geom struct{ b, h, w, c, oh, ow int }
	geoms := []geom{
		{1, 4, 5, 3, 8, 10}, // 2x upsample
		{2, 3, 4, 2, 7, 5},  // odd factors
		{1, 8, 6, 1, 3, 4},  // downsample
		{1, 1, 1, 2, 3, 3},  // single pixel
		{1, 5, 5, 4, 1, 1},  // single output pixel
		{1, 3, 3, 2, 3, 3},  // identity size
	}
	var cases []mvOpCase
	for _, g := range geoms {
		x := mvF32(r, g.b, g.h, g.w, g.c)
		size := mvI32s([]int{2}, int32(g.oh), int32(g.ow))
		for _, m := range []struct {
			name        string
			align, half bool
		}{{"legacy", false, false}, {"align", true, false}, {"half", false, true}} {
			name := fmt.Sprintf("%dx%dx%dx%d_to_%dx%d_%s", g.b, g.h, g.w, g.c, g.oh, g.ow, m.name)
			cases = append(cases,
				mvOpCase{name: "bilinear_" + name, code: fb.BuiltinOperatorRESIZE_BILINEAR,
					opts: &fb.ResizeBilinearOptionsT{AlignCorners: m.align, HalfPixelCenters: m.half},
					ins:  []mvT{mvIn(x), mvConst(size)}, outs: []mvT{mvOut(f32)}, version: 3},
				mvOpCase{name: "nearest_" + name, code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR,
					opts: &fb.ResizeNearestNeighborOptionsT{AlignCorners: m.align, HalfPixelCenters: m.half},
					ins:  []mvT{mvIn(x), mvConst(size)}, outs: []mvT{mvOut(f32)}, version: 3},
			)
		}
	}
	cases = append(cases,
		mvOpCase{name: "bilinear_runtime_size", code: fb.BuiltinOperatorRESIZE_BILINEAR, opts: &fb.ResizeBilinearOptionsT{},
			ins: []mvT{mvIn(mvF32(r, 1, 3, 3, 2)), mvIn(mvI32s([]int{2}, 5, 4))}, outs: []mvT{mvOut(f32)}},
		mvOpCase{name: "bilinear_no_options", code: fb.BuiltinOperatorRESIZE_BILINEAR,
			ins: []mvT{mvIn(mvF32(r, 1, 3, 3, 2)), mvConst(mvI32s([]int{2}, 5, 4))}, outs: []mvT{mvOut(f32)}},
		mvOpCase{name: "nearest_int8", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, opts: &fb.ResizeNearestNeighborOptionsT{},
			ins: []mvT{mvIn(mvTyped(r, npy.Int8, 1, 3, 4, 3)), mvConst(mvI32s([]int{2}, 7, 9))}, outs: []mvT{mvOut(fb.TensorTypeINT8)}},
		mvOpCase{name: "nearest_int16_half", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, opts: &fb.ResizeNearestNeighborOptionsT{HalfPixelCenters: true},
			ins: []mvT{mvIn(mvTyped(r, npy.Int16, 2, 5, 3, 1)), mvConst(mvI32s([]int{2}, 3, 7))}, outs: []mvT{mvOut(fb.TensorTypeINT16)}, version: 4},
		mvOpCase{name: "nearest_both_modes", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, opts: &fb.ResizeNearestNeighborOptionsT{AlignCorners: true, HalfPixelCenters: true},
			ins: []mvT{mvIn(mvF32(r, 1, 4, 5, 2)), mvConst(mvI32s([]int{2}, 7, 9))}, outs: []mvT{mvOut(f32)}, version: 3},
		mvOpCase{name: "nearest_down_half", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, opts: &fb.ResizeNearestNeighborOptionsT{HalfPixelCenters: true},
			ins: []mvT{mvIn(mvF32(r, 1, 14, 20, 1)), mvConst(mvI32s([]int{2}, 10, 10))}, outs: []mvT{mvOut(f32)}, version: 3},
	)
	mvCompare(t, cases)
}

func TestResizeHand(t *testing.T) {
	// [0 1; 2 3] doubled, legacy coordinates: the last row/column repeats.
	x := mvSeq(1, 2, 2, 1)
	size := mvConst(mvI32s([]int{2}, 4, 4))
	mvExpect(t, mvOpCase{name: "bilinear", code: fb.BuiltinOperatorRESIZE_BILINEAR, opts: &fb.ResizeBilinearOptionsT{},
		ins: []mvT{mvIn(x), size}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{1, 4, 4, 1}, 0, 0.5, 1, 1, 1, 1.5, 2, 2, 2, 2.5, 3, 3, 2, 2.5, 3, 3))
	mvExpect(t, mvOpCase{name: "bilinear_align", code: fb.BuiltinOperatorRESIZE_BILINEAR, opts: &fb.ResizeBilinearOptionsT{AlignCorners: true},
		ins: []mvT{mvIn(mvSeq(1, 1, 2, 1)), mvConst(mvI32s([]int{2}, 1, 3))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{1, 1, 3, 1}, 0, 0.5, 1))
	mvExpect(t, mvOpCase{name: "nearest", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, opts: &fb.ResizeNearestNeighborOptionsT{},
		ins: []mvT{mvIn(mvSeq(1, 1, 3, 1)), mvConst(mvI32s([]int{2}, 1, 5))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{1, 1, 5, 1}, 0, 0, 1, 1, 2)) // floor(x*0.6)
	mvExpect(t, mvOpCase{name: "nearest_align", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, opts: &fb.ResizeNearestNeighborOptionsT{AlignCorners: true},
		ins: []mvT{mvIn(mvSeq(1, 1, 3, 1)), mvConst(mvI32s([]int{2}, 1, 5))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{1, 1, 5, 1}, 0, 1, 1, 2, 2)) // round(x*0.5), halves away from zero
	mvExpect(t, mvOpCase{name: "nearest_half", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, opts: &fb.ResizeNearestNeighborOptionsT{HalfPixelCenters: true},
		ins: []mvT{mvIn(mvSeq(1, 1, 3, 1)), mvConst(mvI32s([]int{2}, 1, 5))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{1, 1, 5, 1}, 0, 0, 1, 2, 2)) // floor((x+0.5)*0.6)
}

func TestResizeErrors(t *testing.T) {
	x := mvSeq(1, 2, 2, 1)
	for _, c := range []struct {
		c   mvOpCase
		err string
	}{
		{mvOpCase{name: "both_modes", code: fb.BuiltinOperatorRESIZE_BILINEAR, opts: &fb.ResizeBilinearOptionsT{AlignCorners: true, HalfPixelCenters: true},
			ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 3, 3))}, outs: []mvT{mvOut(f32)}}, "align_corners must be false"},
		{mvOpCase{name: "rank", code: fb.BuiltinOperatorRESIZE_BILINEAR, ins: []mvT{mvIn(mvSeq(2, 2)), mvConst(mvI32s([]int{2}, 3, 3))}, outs: []mvT{mvOut(f32)}}, "4 dimensions"},
		{mvOpCase{name: "size_zero", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{2}, 0, 3))}, outs: []mvT{mvOut(f32)}}, "positive"},
		{mvOpCase{name: "size_shape", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{3}, 1, 3, 3))}, outs: []mvT{mvOut(f32)}}, "vector of 2"},
	} {
		mvExpectError(t, c.c, c.err)
	}
}
