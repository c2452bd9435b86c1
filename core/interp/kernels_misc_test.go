package interp

import (
	"os"
	"path/filepath"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

var i32t, i64t = fb.TensorTypeINT32, fb.TensorTypeINT64

func TestMiscRuntime(t *testing.T) {
	r := mvRng(60)
	x := mvF32(r, 2, 3, 4)
	arg := func(name string, code fb.BuiltinOperator, x, axis *npy.Array, out fb.TensorType) mvOpCase {
		var opts any = &fb.ArgMaxOptionsT{OutputType: out}
		if code == fb.BuiltinOperatorARG_MIN {
			opts = &fb.ArgMinOptionsT{OutputType: out}
		}
		return mvOpCase{name: name, code: code, opts: opts, ins: []mvT{mvIn(x), mvConst(axis)}, outs: []mvT{mvOut(out)}, castIO: true}
	}
	// Ties: ARG_MAX/ARG_MIN pick the first index.
	ties := mvF32s([]int{2, 4}, 1, 3, 3, 0, 2, 2, -1, 2)
	amax, amin := fb.BuiltinOperatorARG_MAX, fb.BuiltinOperatorARG_MIN
	cases := []mvOpCase{
		{name: "shape_int32", code: fb.BuiltinOperatorSHAPE, opts: &fb.ShapeOptionsT{OutType: i32t}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(i32t)}},
		{name: "shape_int64", code: fb.BuiltinOperatorSHAPE, opts: &fb.ShapeOptionsT{OutType: i64t}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(i64t)}, castIO: true},
		{name: "shape_scalar", code: fb.BuiltinOperatorSHAPE, opts: &fb.ShapeOptionsT{OutType: i32t}, ins: []mvT{mvIn(mvF32s(nil, 1))}, outs: []mvT{mvOut(i32t)}},
		{name: "rank", code: fb.BuiltinOperatorRANK, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(i32t)}},
		{name: "fill_float", code: fb.BuiltinOperatorFILL, ins: []mvT{mvConst(mvI32s([]int{2}, 3, 2)), mvIn(mvF32s(nil, 1.5))}, outs: []mvT{mvOut(f32)}},
		{name: "fill_int32", code: fb.BuiltinOperatorFILL, ins: []mvT{mvIn(mvI32s([]int{3}, 2, 1, 3)), mvConst(mvI32s(nil, -7))}, outs: []mvT{mvOut(i32t)}},
		{name: "fill_int64_dims", code: fb.BuiltinOperatorFILL, ins: []mvT{mvConst(mvI64s([]int{2}, 2, 2)), mvIn(mvF32s(nil, -2))}, outs: []mvT{mvOut(f32)}},
		{name: "fill_bool", code: fb.BuiltinOperatorFILL, ins: []mvT{mvConst(mvI32s([]int{1}, 3)), mvIn(npy.FromBool(nil, []bool{true}))}, outs: []mvT{mvOut(fb.TensorTypeBOOL)}},
		{name: "zeros_like", code: fb.BuiltinOperatorZEROS_LIKE, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}},
		{name: "zeros_like_int32", code: fb.BuiltinOperatorZEROS_LIKE, ins: []mvT{mvIn(mvTyped(r, npy.Int32, 3, 2))}, outs: []mvT{mvOut(i32t)}},
		{name: "range_int", code: fb.BuiltinOperatorRANGE, ins: []mvT{mvIn(mvI32s(nil, 2)), mvIn(mvI32s(nil, 13)), mvIn(mvI32s(nil, 3))}, outs: []mvT{mvOut(i32t)}},
		{name: "range_int_down", code: fb.BuiltinOperatorRANGE, ins: []mvT{mvConst(mvI32s(nil, 5)), mvIn(mvI32s(nil, -4)), mvConst(mvI32s(nil, -2))}, outs: []mvT{mvOut(i32t)}},
		{name: "range_float", code: fb.BuiltinOperatorRANGE, ins: []mvT{mvIn(mvF32s(nil, 0.5)), mvIn(mvF32s(nil, 3.7)), mvIn(mvF32s(nil, 0.3))}, outs: []mvT{mvOut(f32)}},
		{name: "range_float_down", code: fb.BuiltinOperatorRANGE, ins: []mvT{mvIn(mvF32s(nil, 1)), mvIn(mvF32s(nil, -1)), mvIn(mvF32s(nil, -0.25))}, outs: []mvT{mvOut(f32)}},
		{name: "range_empty", code: fb.BuiltinOperatorRANGE, ins: []mvT{mvIn(mvI32s(nil, 3)), mvIn(mvI32s(nil, 3)), mvIn(mvI32s(nil, 1))}, outs: []mvT{mvOut(i32t)}},
		arg("argmax_axis0", amax, x, mvI32s(nil, 0), i32t),
		arg("argmax_axis1", amax, x, mvI32s([]int{1}, 1), i32t),
		arg("argmax_last_int64_out", amax, x, mvI32s(nil, 2), i64t),
		arg("argmax_negative_axis", amax, x, mvI64s(nil, -2), i32t),
		arg("argmax_ties", amax, ties, mvI32s(nil, 1), i32t),
		arg("argmin_ties", amin, ties, mvI32s(nil, 1), i32t),
		arg("argmin_axis0", amin, x, mvI32s(nil, 0), i32t),
		arg("argmin_int64_out", amin, x, mvI32s(nil, -1), i64t),
		arg("argmax_int8", amax, mvTyped(r, npy.Int8, 3, 7), mvI32s(nil, 1), i32t),
		arg("argmin_uint8", amin, mvTyped(r, npy.Uint8, 3, 7), mvI32s(nil, 0), i32t),
		arg("argmax_int32", amax, mvTyped(r, npy.Int32, 5, 4), mvI32s(nil, 0), i32t),
	}
	mvCompare(t, cases)
}

func TestMiscHand(t *testing.T) {
	x := mvSeq(2, 3)
	mvExpect(t, mvOpCase{name: "shape_int64", code: fb.BuiltinOperatorSHAPE, opts: &fb.ShapeOptionsT{OutType: i64t}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(i64t)}},
		mvI64s([]int{2}, 2, 3))
	mvExpect(t, mvOpCase{name: "rank", code: fb.BuiltinOperatorRANK, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(i32t)}}, mvI32s(nil, 2))
	mvExpect(t, mvOpCase{name: "fill_int64", code: fb.BuiltinOperatorFILL, ins: []mvT{mvConst(mvI32s([]int{1}, 2)), mvIn(mvI64s(nil, -5))}, outs: []mvT{mvOut(i64t)}},
		mvI64s([]int{2}, -5, -5))
	mvExpect(t, mvOpCase{name: "range_int64", code: fb.BuiltinOperatorRANGE, ins: []mvT{mvIn(mvI64s(nil, 1)), mvIn(mvI64s(nil, 8)), mvIn(mvI64s(nil, 3))}, outs: []mvT{mvOut(i64t)}},
		mvI64s([]int{3}, 1, 4, 7))
	mvExpect(t, mvOpCase{name: "range_float", code: fb.BuiltinOperatorRANGE, ins: []mvT{mvIn(mvF32s(nil, 0)), mvIn(mvF32s(nil, 1)), mvIn(mvF32s(nil, 0.25))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{4}, 0, 0.25, 0.5, 0.75))
	mvExpect(t, mvOpCase{name: "argmax_int64", code: fb.BuiltinOperatorARG_MAX, opts: &fb.ArgMaxOptionsT{OutputType: i64t},
		ins: []mvT{mvIn(mvF32s([]int{2, 3}, 1, 5, 5, 7, 0, 7)), mvConst(mvI32s(nil, 1))}, outs: []mvT{mvOut(i64t)}}, mvI64s([]int{2}, 1, 0))
	mvExpect(t, mvOpCase{name: "argmin", code: fb.BuiltinOperatorARG_MIN, opts: &fb.ArgMinOptionsT{OutputType: i32t},
		ins: []mvT{mvIn(mvF32s([]int{2, 3}, 1, 5, 0, 7, 0, 0)), mvConst(mvI32s(nil, 0))}, outs: []mvT{mvOut(i32t)}}, mvI32s([]int{3}, 0, 1, 0))
	mvExpect(t, mvOpCase{name: "zeros_like_int64", code: fb.BuiltinOperatorZEROS_LIKE, ins: []mvT{mvIn(mvI64s([]int{2}, 3, 4))}, outs: []mvT{mvOut(i64t)}},
		mvI64s([]int{2}, 0, 0))
}

func TestMiscErrors(t *testing.T) {
	x := mvSeq(2, 3)
	for _, c := range []struct {
		c   mvOpCase
		err string
	}{
		{mvOpCase{name: "fill_negative", code: fb.BuiltinOperatorFILL, ins: []mvT{mvIn(mvI32s([]int{2}, 2, -1)), mvConst(mvF32s(nil, 1))}, outs: []mvT{mvOut(f32)}}, "negative"},
		{mvOpCase{name: "fill_value_shape", code: fb.BuiltinOperatorFILL, ins: []mvT{mvIn(mvI32s([]int{1}, 2)), mvConst(mvF32s([]int{2}, 1, 2))}, outs: []mvT{mvOut(f32)}}, "scalar"},
		{mvOpCase{name: "range_zero_delta", code: fb.BuiltinOperatorRANGE, ins: []mvT{mvIn(mvI32s(nil, 0)), mvIn(mvI32s(nil, 3)), mvIn(mvI32s(nil, 0))}, outs: []mvT{mvOut(i32t)}}, "zero"},
		{mvOpCase{name: "range_wrong_sign", code: fb.BuiltinOperatorRANGE, ins: []mvT{mvIn(mvF32s(nil, 0)), mvIn(mvF32s(nil, 3)), mvIn(mvF32s(nil, -1))}, outs: []mvT{mvOut(f32)}}, "wrong sign"},
		{mvOpCase{name: "range_types", code: fb.BuiltinOperatorRANGE, ins: []mvT{mvIn(mvF32s(nil, 0)), mvIn(mvI32s(nil, 3)), mvIn(mvF32s(nil, 1))}, outs: []mvT{mvOut(f32)}}, "scalars"},
		{mvOpCase{name: "argmax_axis", code: fb.BuiltinOperatorARG_MAX, opts: &fb.ArgMaxOptionsT{OutputType: i32t}, ins: []mvT{mvIn(x), mvConst(mvI32s(nil, 2))}, outs: []mvT{mvOut(i32t)}}, "out of range"},
		{mvOpCase{name: "argmax_output_type", code: fb.BuiltinOperatorARG_MAX, ins: []mvT{mvIn(x), mvConst(mvI32s(nil, 0))}, outs: []mvT{mvOut(f32)}}, "want INT32 or INT64"},
		{mvOpCase{name: "shape_output_type", code: fb.BuiltinOperatorSHAPE, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}}, "want INT32 or INT64"},
	} {
		mvExpectError(t, c.c, c.err)
	}
}

// TestMoveFixtures compares the shared single-operator fixtures with the
// real runtime.
func TestMoveFixtures(t *testing.T) {
	shared, ok := fixtures.SharedDir()
	if !ok {
		t.Skip("no shared fixtures")
	}
	for _, name := range []string{"single_broadcast_to", "single_gather", "single_gather_nd_with_const_indices", "single_pack",
		"single_pad", "single_padv2", "single_resize_nearest_neighbor", "single_slice", "single_split", "single_transpose",
		"single_unpack", "two_inputs_concatenation", "embedding_lookup"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(shared, "models", name+".tflite")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			samples, err := fixtures.Samples(m, name+".tflite", 1)
			if err != nil {
				t.Fatal(err)
			}
			if name == "single_slice" {
				// Its declared input shapes (begin [1] for an input of rank
				// 3) cannot be sliced: the runtime fails too. Run it on a
				// rank-1 input instead.
				if _, err := mvInvoke(data, samples[0]); err == nil {
					t.Error("single_slice: no error for begin [1] on an input of rank 3")
				}
				// Model inputs: begin, size, input.
				outs, err := mvInvoke(data, []*npy.Array{mvI32s([]int{1}, 1), mvI32s([]int{1}, -1), mvSeq(5)})
				if err != nil {
					t.Fatal(err)
				}
				if v, _ := outs[0].Float32s(); len(v) != 4 || v[0] != 1 || v[3] != 4 {
					t.Errorf("single_slice: got %v, want [1 2 3 4]", v)
				}
				return
			}
			compareWithRuntime(t, data, samples[0], 1e-5)
		})
	}
}
