package interp

import (
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestSliceRuntime(t *testing.T) {
	r := mvRng(10)
	x := mvF32(r, 3, 4, 5)
	slice := func(name string, x *npy.Array, begin, size *npy.Array) mvOpCase {
		return mvOpCase{name: name, code: fb.BuiltinOperatorSLICE, ins: []mvT{mvIn(x), mvConst(begin), mvConst(size)}, outs: []mvT{mvOut(mvTypes[x.DType])}}
	}
	cases := []mvOpCase{
		slice("basic", x, mvI32s([]int{3}, 1, 0, 2), mvI32s([]int{3}, 2, 3, 2)),
		slice("to_end", x, mvI32s([]int{3}, 0, 1, 1), mvI32s([]int{3}, -1, -1, 3)),
		slice("int64", x, mvI64s([]int{3}, 2, 2, 0), mvI64s([]int{3}, 1, -1, 5)),
		slice("empty", x, mvI32s([]int{3}, 1, 0, 0), mvI32s([]int{3}, 0, 4, 5)),
		slice("4d", mvF32(r, 2, 6, 7, 3), mvI32s([]int{4}, 0, 1, 2, 1), mvI32s([]int{4}, 2, 4, 3, 2)),
		slice("int8", mvTyped(r, npy.Int8, 6, 7), mvI32s([]int{2}, 1, 3), mvI32s([]int{2}, 4, -1)),
		slice("bool", mvTyped(r, npy.Bool, 6, 7), mvI32s([]int{2}, 2, 1), mvI32s([]int{2}, 3, 5)),
		{name: "runtime_begin", code: fb.BuiltinOperatorSLICE, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{3}, 1, 1, 1)), mvConst(mvI32s([]int{3}, 2, 2, -1))}, outs: []mvT{mvOut(f32)}},
	}
	mvCompare(t, cases)
}

func TestStridedSliceRuntime(t *testing.T) {
	r := mvRng(11)
	x := mvF32(r, 4, 5, 6)
	ss := func(name string, x *npy.Array, o fb.StridedSliceOptionsT, begin, end, strides []int32) mvOpCase {
		n := []int{len(begin)}
		return mvOpCase{name: name, code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &o,
			ins:  []mvT{mvIn(x), mvConst(mvI32s(n, begin...)), mvConst(mvI32s(n, end...)), mvConst(mvI32s(n, strides...))},
			outs: []mvT{mvOut(mvTypes[x.DType])}}
	}
	type opts = fb.StridedSliceOptionsT
	cases := []mvOpCase{
		ss("basic", x, opts{}, []int32{1, 0, 2}, []int32{3, 5, 6}, []int32{1, 2, 2}),
		ss("negative_indices", x, opts{}, []int32{-3, -4, -5}, []int32{-1, -1, -1}, []int32{1, 1, 2}),
		ss("negative_strides", x, opts{}, []int32{3, 4, 5}, []int32{0, 0, 0}, []int32{-1, -2, -3}),
		ss("reverse_all", x, opts{BeginMask: 7, EndMask: 7}, []int32{0, 0, 0}, []int32{0, 0, 0}, []int32{-1, -1, -1}),
		ss("begin_end_mask", x, opts{BeginMask: 1, EndMask: 4}, []int32{3, 1, 2}, []int32{2, 4, 0}, []int32{1, 1, 1}),
		ss("clamp_out_of_range", x, opts{}, []int32{-10, 1, 0}, []int32{10, 100, 6}, []int32{1, 1, 1}),
		ss("clamp_negative_stride", x, opts{}, []int32{10, 9, 9}, []int32{-10, -100, 0}, []int32{-1, -2, -1}),
		ss("begin_past_end", x, opts{}, []int32{3, 0, 0}, []int32{1, 5, 6}, []int32{1, 1, 1}),
		ss("shrink_axis", x, opts{ShrinkAxisMask: 2}, []int32{0, 2, 0}, []int32{4, 3, 6}, []int32{1, 1, 1}),
		ss("shrink_negative_index", x, opts{ShrinkAxisMask: 5}, []int32{-1, 0, -2}, []int32{0, 5, 0}, []int32{1, 1, 1}),
		ss("shrink_all", x, opts{ShrinkAxisMask: 7}, []int32{1, 2, 3}, []int32{2, 3, 4}, []int32{1, 1, 1}),
		// TensorFlow Lite ignores entries past the input's rank.
		ss("extra_indices", mvF32(r, 4, 5), opts{}, []int32{1, 2, 0}, []int32{3, 4, 1}, []int32{1, 1, 1}),
		ss("fewer_indices", x, opts{}, []int32{1}, []int32{3}, []int32{1}),
		ss("fewer_indices_shrink", x, opts{ShrinkAxisMask: 1}, []int32{2, 1}, []int32{3, 4}, []int32{1, 2}),
		ss("ellipsis", x, opts{EllipsisMask: 1}, []int32{0, 1}, []int32{0, 5}, []int32{1, 2}),
		ss("ellipsis_middle", mvF32(r, 2, 3, 4, 5), opts{EllipsisMask: 2}, []int32{1, 0, 1}, []int32{2, 0, 4}, []int32{1, 1, 1}),
		ss("ellipsis_shrink", x, opts{EllipsisMask: 1, ShrinkAxisMask: 2}, []int32{0, 3}, []int32{0, 4}, []int32{1, 1}),
		ss("new_axis", x, opts{NewAxisMask: 2}, []int32{1, 0, 0, 1}, []int32{3, 0, 5, 6}, []int32{1, 1, 1, 2}),
		ss("new_axis_first", x, opts{NewAxisMask: 1}, []int32{0, 1}, []int32{0, 3}, []int32{1, 1}),
		ss("new_axis_ellipsis", x, opts{NewAxisMask: 4, EllipsisMask: 1}, []int32{0, 1, 0}, []int32{0, 3, 0}, []int32{1, 1, 1}),
		ss("begin_beyond_size", x, opts{}, []int32{10, 0, 0}, []int32{12, 5, 6}, []int32{1, 1, 1}),
		ss("begin_beyond_size_negative_stride", x, opts{}, []int32{-10, 0, 0}, []int32{-12, 5, 6}, []int32{-1, 1, 1}),
		ss("begin_mask_negative_stride", x, opts{BeginMask: 1}, []int32{0, 0, 0}, []int32{1, 5, 6}, []int32{-1, 1, 1}),
		ss("5d", mvF32(r, 2, 3, 4, 5, 6), opts{}, []int32{1, 0, 1, 4, 0}, []int32{2, 3, 4, 0, 6}, []int32{1, 2, 1, -2, 3}),
		ss("int8", mvTyped(r, npy.Int8, 8, 9), opts{}, []int32{1, 8}, []int32{7, 0}, []int32{3, -3}),
		ss("int32", mvTyped(r, npy.Int32, 8, 9), opts{EndMask: 1}, []int32{1, 2}, []int32{0, 6}, []int32{2, 1}),
		ss("bool", mvTyped(r, npy.Bool, 8, 9), opts{BeginMask: 2}, []int32{5, 7}, []int32{1, 1}, []int32{-1, -1}),
		{name: "runtime_begin", code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &opts{},
			ins:  []mvT{mvIn(x), mvIn(mvI32s([]int{3}, 1, 1, 1)), mvConst(mvI32s([]int{3}, 4, 5, 6)), mvConst(mvI32s([]int{3}, 2, 2, 2))},
			outs: []mvT{mvOut(f32)}},
	}
	mvCompare(t, cases)
}

func TestSliceHand(t *testing.T) {
	x := mvSeq(3, 4)
	mvExpect(t, mvOpCase{name: "slice", code: fb.BuiltinOperatorSLICE,
		ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 1, 1)), mvConst(mvI32s([]int{2}, -1, 2))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{2, 2}, 5, 6, 9, 10))
	mvExpect(t, mvOpCase{name: "strided_reverse", code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &fb.StridedSliceOptionsT{BeginMask: 3, EndMask: 3},
		ins:  []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 0, 0)), mvConst(mvI32s([]int{2}, 0, 0)), mvConst(mvI32s([]int{2}, -2, -3))},
		outs: []mvT{mvOut(f32)}},
		mvF32s([]int{2, 2}, 11, 8, 3, 0))
	mvExpect(t, mvOpCase{name: "strided_shrink", code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &fb.StridedSliceOptionsT{ShrinkAxisMask: 1},
		ins:  []mvT{mvIn(x), mvConst(mvI32s([]int{2}, -1, 1)), mvConst(mvI32s([]int{2}, 0, 3)), mvConst(mvI32s([]int{2}, 1, 1))},
		outs: []mvT{mvOut(f32)}},
		mvF32s([]int{2}, 9, 10))
	// int64 data through a reversing slice.
	mvExpect(t, mvOpCase{name: "strided_int64", code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &fb.StridedSliceOptionsT{},
		ins:  []mvT{mvIn(mvI64s([]int{5}, 1, 2, 3, 4, 5)), mvConst(mvI32s([]int{1}, 4)), mvConst(mvI32s([]int{1}, 0)), mvConst(mvI32s([]int{1}, -2))},
		outs: []mvT{mvOut(fb.TensorTypeINT64)}},
		mvI64s([]int{2}, 5, 3))
}

// TestStridedSliceOffset checks the offset option (end is relative to
// begin), which the pinned runtime predates, against the equivalent
// absolute slice.
func TestStridedSliceOffset(t *testing.T) {
	x := mvF32(mvRng(12), 4, 5, 6)
	n3 := []int{3}
	for _, c := range []struct{ begin, end, abs, strides []int32 }{
		{[]int32{1, 0, 2}, []int32{2, 5, 3}, []int32{3, 5, 5}, []int32{1, 1, 1}},
		{[]int32{-3, -5, -4}, []int32{2, 3, 4}, []int32{3, 3, 6}, []int32{1, 2, 2}},
	} {
		model, inputs := mvOpCase{code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &fb.StridedSliceOptionsT{},
			ins:  []mvT{mvIn(x), mvConst(mvI32s(n3, c.begin...)), mvConst(mvI32s(n3, c.abs...)), mvConst(mvI32s(n3, c.strides...))},
			outs: []mvT{mvOut(f32)}}.build()
		want, err := mvInvoke(model, inputs)
		if err != nil {
			t.Fatal(err)
		}
		mvExpect(t, mvOpCase{name: "offset", code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &fb.StridedSliceOptionsT{Offset: true},
			ins:  []mvT{mvIn(x), mvConst(mvI32s(n3, c.begin...)), mvConst(mvI32s(n3, c.end...)), mvConst(mvI32s(n3, c.strides...))},
			outs: []mvT{mvOut(f32)}}, want[0])
	}
}

func TestSliceErrors(t *testing.T) {
	x := mvSeq(3, 4)
	i32 := func(v ...int32) *npy.Array { return mvI32s([]int{len(v)}, v...) }
	for _, c := range []struct {
		c   mvOpCase
		err string
	}{
		{mvOpCase{name: "slice_past_end", code: fb.BuiltinOperatorSLICE, ins: []mvT{mvIn(x), mvConst(i32(1, 1)), mvConst(i32(3, 1))}, outs: []mvT{mvOut(f32)}}, "invalid begin"},
		{mvOpCase{name: "slice_negative_begin", code: fb.BuiltinOperatorSLICE, ins: []mvT{mvIn(x), mvConst(i32(-1, 1)), mvConst(i32(1, 1))}, outs: []mvT{mvOut(f32)}}, "out of range"},
		{mvOpCase{name: "slice_length", code: fb.BuiltinOperatorSLICE, ins: []mvT{mvIn(x), mvConst(i32(1)), mvConst(i32(1))}, outs: []mvT{mvOut(f32)}}, "vectors of length 2"},
		{mvOpCase{name: "strided_zero_stride", code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &fb.StridedSliceOptionsT{},
			ins: []mvT{mvIn(x), mvConst(i32(0, 0)), mvConst(i32(2, 2)), mvConst(i32(1, 0))}, outs: []mvT{mvOut(f32)}}, "non-zero"},
		{mvOpCase{name: "strided_shrink_out_of_range", code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &fb.StridedSliceOptionsT{ShrinkAxisMask: 1},
			ins: []mvT{mvIn(x), mvConst(i32(5, 0)), mvConst(i32(6, 2)), mvConst(i32(1, 1))}, outs: []mvT{mvOut(f32)}}, "out of range"},
		{mvOpCase{name: "strided_offset_overrun", code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &fb.StridedSliceOptionsT{Offset: true},
			ins: []mvT{mvIn(x), mvConst(i32(2, 0)), mvConst(i32(3, 1)), mvConst(i32(1, 1))}, outs: []mvT{mvOut(f32)}}, "runs out"},
	} {
		mvExpectError(t, c.c, c.err)
	}
}
