package interp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Test helpers shared by the data-movement kernel tests (prefix mv).

// mvT is one operand of a single-operator test model: a runtime input (arr
// set, konst false), a constant (konst true), an omitted optional input, or
// an output (typ only).
type mvT struct {
	arr   *npy.Array
	konst bool
	omit  bool
	typ   fb.TensorType
}

func mvIn(a *npy.Array) mvT    { return mvT{arr: a} }
func mvConst(a *npy.Array) mvT { return mvT{arr: a, konst: true} }
func mvOmit() mvT              { return mvT{omit: true} }
func mvOut(t fb.TensorType) mvT {
	return mvT{typ: t}
}

var mvTypes = map[npy.DType]fb.TensorType{
	npy.Float32: fb.TensorTypeFLOAT32, npy.Int32: fb.TensorTypeINT32, npy.Int64: fb.TensorTypeINT64,
	npy.Int8: fb.TensorTypeINT8, npy.Uint8: fb.TensorTypeUINT8, npy.Int16: fb.TensorTypeINT16,
	npy.Bool: fb.TensorTypeBOOL,
}

func mvShape32(s []int) []int32 {
	out := make([]int32, len(s))
	for i, d := range s {
		out[i] = int32(d)
	}
	return out
}

// mvOpCase is a single-operator model and its runtime inputs.
type mvOpCase struct {
	name string
	code fb.BuiltinOperator
	opts any
	ins  []mvT
	outs []mvT
	// version of the operator code (default 1).
	version int32
	// castIO makes INT64 runtime inputs INT32 model inputs cast to INT64,
	// and INT64 outputs cast to INT32, so the real runtime (which cannot
	// exchange INT64 tensors) can run the model.
	castIO bool
}

// build returns the model bytes and the runtime input arrays.
func (c mvOpCase) build() ([]byte, []*npy.Array) {
	b := modelbuild.New()
	var opIns, modelIns []int32
	var arrays []*npy.Array
	for i, in := range c.ins {
		name := fmt.Sprintf("in%d", i)
		switch {
		case in.omit:
			opIns = append(opIns, -1)
		case in.konst:
			opIns = append(opIns, b.Const(name, mvTypes[in.arr.DType], mvShape32(in.arr.Shape), in.arr.Data))
		default:
			typ := mvTypes[in.arr.DType]
			arr := in.arr
			if c.castIO && typ == fb.TensorTypeINT64 {
				v, err := in.arr.Int32s()
				if err != nil {
					panic(err)
				}
				arr = npy.FromInt32(in.arr.Shape, v)
				x := b.Tensor(name+"_i32", fb.TensorTypeINT32, mvShape32(in.arr.Shape)...)
				y := b.Tensor(name, fb.TensorTypeINT64, mvShape32(in.arr.Shape)...)
				b.Op(fb.BuiltinOperatorCAST, &fb.CastOptionsT{InDataType: fb.TensorTypeINT32, OutDataType: fb.TensorTypeINT64}, []int32{x}, []int32{y})
				modelIns = append(modelIns, x)
				opIns = append(opIns, y)
			} else {
				x := b.Tensor(name, typ, mvShape32(in.arr.Shape)...)
				modelIns = append(modelIns, x)
				opIns = append(opIns, x)
			}
			arrays = append(arrays, arr)
		}
	}
	var opOuts, modelOuts []int32
	var casts [][2]int32
	for i, o := range c.outs {
		x := b.Tensor(fmt.Sprintf("out%d", i), o.typ)
		opOuts = append(opOuts, x)
		if c.castIO && o.typ == fb.TensorTypeINT64 {
			y := b.Tensor(fmt.Sprintf("out%d_i32", i), fb.TensorTypeINT32)
			casts = append(casts, [2]int32{x, y})
			modelOuts = append(modelOuts, y)
		} else {
			modelOuts = append(modelOuts, x)
		}
	}
	v := c.version
	if v == 0 {
		v = 1
	}
	b.OpVersion(c.code, v, c.opts, opIns, opOuts)
	for _, xy := range casts {
		b.Op(fb.BuiltinOperatorCAST, &fb.CastOptionsT{InDataType: fb.TensorTypeINT64, OutDataType: fb.TensorTypeINT32}, []int32{xy[0]}, []int32{xy[1]})
	}
	b.Inputs(modelIns...)
	b.Outputs(modelOuts...)
	return b.Bytes(), arrays
}

// mvCompare checks every case against the real runtime.
func mvCompare(t *testing.T, cases []mvOpCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			model, inputs := c.build()
			compareWithRuntime(t, model, inputs, 1e-5)
		})
	}
}

// mvInvoke runs a model in this interpreter and returns copies of its
// outputs.
func mvInvoke(model []byte, inputs []*npy.Array) ([]*npy.Array, error) { return runGo(model, inputs) }

// mvExpect runs a case in this interpreter and checks output 0 exactly.
func mvExpect(t *testing.T, c mvOpCase, want *npy.Array) {
	t.Helper()
	model, inputs := c.build()
	outs, err := mvInvoke(model, inputs)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	got := outs[0]
	if got.DType != want.DType || fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) || !bytes.Equal(got.Data, want.Data) {
		t.Errorf("%s: got %v %v %v, want %v %v %v", c.name, got.DType, got.Shape, mvValues(got), want.DType, want.Shape, mvValues(want))
	}
}

// mvExpectError checks that a case fails (at construction or Invoke) with
// an error containing substr, without panicking.
func mvExpectError(t *testing.T, c mvOpCase, substr string) {
	t.Helper()
	model, inputs := c.build()
	_, err := mvInvoke(model, inputs)
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", c.name, substr)
		return
	}
	if strings.Contains(err.Error(), "internal error") || !strings.Contains(err.Error(), substr) {
		t.Errorf("%s: error %q, want one containing %q", c.name, err, substr)
	}
}

func mvValues(a *npy.Array) any {
	switch a.DType {
	case npy.Float32:
		v, _ := a.Float32s()
		return v
	case npy.Bool, npy.Int8, npy.Uint8, npy.Int16, npy.Int32, npy.Int64:
		v, _ := a.Int64s()
		return v
	}
	return a.Data
}

// Array makers.

func mvRng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func mvF32(r *rand.Rand, shape ...int) *npy.Array {
	v := make([]float32, mvProd(shape))
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return npy.FromFloat32(shape, v)
}

func mvF32s(shape []int, v ...float32) *npy.Array { return npy.FromFloat32(shape, v) }
func mvI32s(shape []int, v ...int32) *npy.Array   { return npy.FromInt32(shape, v) }
func mvI64s(shape []int, v ...int64) *npy.Array   { return npy.FromInt64(shape, v) }

// mvSeq is a float32 array holding 0, 1, 2, ... (easy to check by hand).
func mvSeq(shape ...int) *npy.Array {
	v := make([]float32, mvProd(shape))
	for i := range v {
		v[i] = float32(i)
	}
	return npy.FromFloat32(shape, v)
}

// mvTyped returns random values of the given dtype.
func mvTyped(r *rand.Rand, d npy.DType, shape ...int) *npy.Array {
	n := mvProd(shape)
	switch d {
	case npy.Float32:
		return mvF32(r, shape...)
	case npy.Int32:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(r.IntN(2000) - 1000)
		}
		return npy.FromInt32(shape, v)
	case npy.Int8:
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(r.IntN(256) - 128)
		}
		return npy.FromInt8(shape, v)
	case npy.Uint8:
		v := make([]uint8, n)
		for i := range v {
			v[i] = uint8(r.IntN(256))
		}
		return npy.FromUint8(shape, v)
	case npy.Int16:
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(r.IntN(65536) - 32768)
		}
		return npy.FromInt16(shape, v)
	case npy.Int64:
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(r.IntN(2000) - 1000)
		}
		return npy.FromInt64(shape, v)
	case npy.Bool:
		v := make([]bool, n)
		for i := range v {
			v[i] = r.IntN(2) == 1
		}
		return npy.FromBool(shape, v)
	}
	panic("mvTyped: " + d.String())
}

const f32 = fb.TensorTypeFLOAT32

// ---- RESHAPE, SQUEEZE, EXPAND_DIMS ----

func TestReshapeRuntime(t *testing.T) {
	r := mvRng(1)
	x := mvF32(r, 2, 3, 4)
	cases := []mvOpCase{
		{name: "const_shape", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 6, 4))}, outs: []mvT{mvOut(f32)}},
		{name: "infer_dim", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{3}, 4, -1, 2))}, outs: []mvT{mvOut(f32)}},
		{name: "options_only", code: fb.BuiltinOperatorRESHAPE, opts: &fb.ReshapeOptionsT{NewShape: []int32{1, 24}}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}},
		{name: "runtime_shape", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{2}, -1, 12))}, outs: []mvT{mvOut(f32)}},
		{name: "scalar_from_empty_shape", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(mvF32s([]int{1, 1}, 3.5)), mvConst(mvI32s([]int{0}))}, outs: []mvT{mvOut(f32)}},
		{name: "int8", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(mvTyped(r, npy.Int8, 4, 6)), mvConst(mvI32s([]int{3}, 2, 2, 6))}, outs: []mvT{mvOut(fb.TensorTypeINT8)}},
	}
	mvCompare(t, cases)
}

func TestSqueezeExpandDimsRuntime(t *testing.T) {
	r := mvRng(2)
	x := mvF32(r, 1, 3, 1, 2)
	cases := []mvOpCase{
		{name: "squeeze_all", code: fb.BuiltinOperatorSQUEEZE, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}},
		{name: "squeeze_dims", code: fb.BuiltinOperatorSQUEEZE, opts: &fb.SqueezeOptionsT{SqueezeDims: []int32{2}}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}},
		{name: "squeeze_negative", code: fb.BuiltinOperatorSQUEEZE, opts: &fb.SqueezeOptionsT{SqueezeDims: []int32{-4}}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}},
		{name: "expand_0", code: fb.BuiltinOperatorEXPAND_DIMS, ins: []mvT{mvIn(x), mvConst(mvI32s(nil, 0))}, outs: []mvT{mvOut(f32)}},
		{name: "expand_last", code: fb.BuiltinOperatorEXPAND_DIMS, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{1}, 4))}, outs: []mvT{mvOut(f32)}},
		{name: "expand_negative", code: fb.BuiltinOperatorEXPAND_DIMS, ins: []mvT{mvIn(x), mvConst(mvI32s(nil, -2))}, outs: []mvT{mvOut(f32)}},
		{name: "expand_int64_axis", code: fb.BuiltinOperatorEXPAND_DIMS, ins: []mvT{mvIn(x), mvConst(mvI64s(nil, 1))}, outs: []mvT{mvOut(f32)}},
	}
	mvCompare(t, cases)
}

func TestReshapeHand(t *testing.T) {
	x := mvSeq(2, 3)
	mvExpect(t, mvOpCase{name: "legacy_scalar", code: fb.BuiltinOperatorRESHAPE, opts: &fb.ReshapeOptionsT{NewShape: []int32{0}},
		ins: []mvT{mvIn(mvF32s([]int{1}, 7))}, outs: []mvT{mvOut(f32)}}, mvF32s([]int{}, 7))
	mvExpect(t, mvOpCase{name: "int64_shape", code: fb.BuiltinOperatorRESHAPE,
		ins: []mvT{mvIn(x), mvConst(mvI64s([]int{2}, 3, -1))}, outs: []mvT{mvOut(f32)}}, mvF32s([]int{3, 2}, 0, 1, 2, 3, 4, 5))
	// A scalar shape operand is ignored in favour of the options.
	mvExpect(t, mvOpCase{name: "scalar_shape_operand", code: fb.BuiltinOperatorRESHAPE, opts: &fb.ReshapeOptionsT{NewShape: []int32{6}},
		ins: []mvT{mvIn(x), mvConst(mvI32s(nil, 5))}, outs: []mvT{mvOut(f32)}}, mvF32s([]int{6}, 0, 1, 2, 3, 4, 5))
	mvExpect(t, mvOpCase{name: "squeeze", code: fb.BuiltinOperatorSQUEEZE, ins: []mvT{mvIn(mvSeq(1, 2, 1))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{2}, 0, 1))
}

func TestShapeOpErrors(t *testing.T) {
	x := mvSeq(2, 3)
	for _, c := range []struct {
		c   mvOpCase
		err string
	}{
		{mvOpCase{name: "reshape_count", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 4, 2))}, outs: []mvT{mvOut(f32)}}, "cannot reshape"},
		{mvOpCase{name: "reshape_two_unknown", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, -1, -1))}, outs: []mvT{mvOut(f32)}}, "more than one -1"},
		{mvOpCase{name: "reshape_runtime_count", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{2}, 5, 5))}, outs: []mvT{mvOut(f32)}}, "cannot reshape"},
		{mvOpCase{name: "reshape_zero_unknown", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 0, -1))}, outs: []mvT{mvOut(f32)}}, "cannot infer"},
		{mvOpCase{name: "squeeze_not_one", code: fb.BuiltinOperatorSQUEEZE, opts: &fb.SqueezeOptionsT{SqueezeDims: []int32{1}}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}}, "size is not 1"},
		{mvOpCase{name: "squeeze_axis", code: fb.BuiltinOperatorSQUEEZE, opts: &fb.SqueezeOptionsT{SqueezeDims: []int32{5}}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}}, "out of range"},
		{mvOpCase{name: "expand_axis", code: fb.BuiltinOperatorEXPAND_DIMS, ins: []mvT{mvIn(x), mvConst(mvI32s(nil, 4))}, outs: []mvT{mvOut(f32)}}, "out of range"},
		{mvOpCase{name: "expand_float_axis", code: fb.BuiltinOperatorEXPAND_DIMS, ins: []mvT{mvIn(x), mvConst(mvF32s(nil, 0))}, outs: []mvT{mvOut(f32)}}, "want INT32 or INT64"},
		{mvOpCase{name: "transpose_perm", code: fb.BuiltinOperatorTRANSPOSE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 0, 0))}, outs: []mvT{mvOut(f32)}}, "not a permutation"},
		{mvOpCase{name: "transpose_rank", code: fb.BuiltinOperatorTRANSPOSE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{3}, 0, 2, 1))}, outs: []mvT{mvOut(f32)}}, "perm has 3 entries"},
		{mvOpCase{name: "transpose_runtime_perm", code: fb.BuiltinOperatorTRANSPOSE, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{2}, 1, 2))}, outs: []mvT{mvOut(f32)}}, "not a permutation"},
		{mvOpCase{name: "concat_shapes", code: fb.BuiltinOperatorCONCATENATION, opts: &fb.ConcatenationOptionsT{Axis: 0}, ins: []mvT{mvIn(x), mvIn(mvSeq(2, 2))}, outs: []mvT{mvOut(f32)}}, "differ outside axis"},
		{mvOpCase{name: "concat_axis", code: fb.BuiltinOperatorCONCATENATION, opts: &fb.ConcatenationOptionsT{Axis: 2}, ins: []mvT{mvIn(x), mvIn(x)}, outs: []mvT{mvOut(f32)}}, "out of range"},
		{mvOpCase{name: "pack_shapes", code: fb.BuiltinOperatorPACK, opts: &fb.PackOptionsT{ValuesCount: 2}, ins: []mvT{mvIn(x), mvIn(mvSeq(3, 2))}, outs: []mvT{mvOut(f32)}}, "different shapes"},
		{mvOpCase{name: "unpack_num", code: fb.BuiltinOperatorUNPACK, opts: &fb.UnpackOptionsT{Num: 3, Axis: 0}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32), mvOut(f32), mvOut(f32)}}, "unpacking 3"},
		{mvOpCase{name: "split_uneven", code: fb.BuiltinOperatorSPLIT, opts: &fb.SplitOptionsT{NumSplits: 2}, ins: []mvT{mvConst(mvI32s(nil, 1)), mvIn(x)}, outs: []mvT{mvOut(f32), mvOut(f32)}}, "equal parts"},
		{mvOpCase{name: "splitv_sum", code: fb.BuiltinOperatorSPLIT_V, opts: &fb.SplitVOptionsT{NumSplits: 2}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 1, 1)), mvConst(mvI32s(nil, 1))}, outs: []mvT{mvOut(f32), mvOut(f32)}}, "do not add up"},
		{mvOpCase{name: "splitv_two_unknown", code: fb.BuiltinOperatorSPLIT_V, opts: &fb.SplitVOptionsT{NumSplits: 2}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, -1, -1)), mvConst(mvI32s(nil, 1))}, outs: []mvT{mvOut(f32), mvOut(f32)}}, "more than one -1"},
		{mvOpCase{name: "reshape_type", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{1}, 6))}, outs: []mvT{mvOut(fb.TensorTypeINT32)}}, "different type"},
	} {
		mvExpectError(t, c.c, c.err)
	}
}

// ---- TRANSPOSE ----

func TestTransposeRuntime(t *testing.T) {
	r := mvRng(3)
	var cases []mvOpCase
	add := func(name string, x *npy.Array, perm ...int32) {
		cases = append(cases, mvOpCase{name: name, code: fb.BuiltinOperatorTRANSPOSE,
			ins: []mvT{mvIn(x), mvConst(mvI32s([]int{len(perm)}, perm...))}, outs: []mvT{mvOut(mvTypes[x.DType])}})
	}
	add("2d", mvF32(r, 5, 7), 1, 0)
	add("2d_large", mvF32(r, 67, 45), 1, 0)
	add("nhwc_to_nchw", mvF32(r, 2, 9, 11, 20), 0, 3, 1, 2)
	add("nchw_to_nhwc", mvF32(r, 1, 20, 9, 11), 0, 2, 3, 1)
	add("4d_0213", mvF32(r, 2, 3, 4, 5), 0, 2, 1, 3)
	add("4d_3210", mvF32(r, 2, 3, 4, 5), 3, 2, 1, 0)
	add("5d", mvF32(r, 2, 3, 1, 4, 5), 4, 1, 3, 0, 2)
	add("1d", mvF32(r, 6), 0)
	add("int8", mvTyped(r, npy.Int8, 3, 17, 19), 2, 0, 1)
	add("int16", mvTyped(r, npy.Int16, 3, 17, 19), 1, 2, 0)
	add("int32", mvTyped(r, npy.Int32, 4, 5, 6), 2, 1, 0)
	add("bool", mvTyped(r, npy.Bool, 4, 5, 6), 1, 0, 2)
	// A perm computed at run time.
	cases = append(cases, mvOpCase{name: "runtime_perm", code: fb.BuiltinOperatorTRANSPOSE,
		ins: []mvT{mvIn(mvF32(r, 3, 4, 5)), mvIn(mvI32s([]int{3}, 2, 0, 1))}, outs: []mvT{mvOut(f32)}})
	mvCompare(t, cases)
}

func TestTransposeHand(t *testing.T) {
	mvExpect(t, mvOpCase{name: "2x3", code: fb.BuiltinOperatorTRANSPOSE, ins: []mvT{mvIn(mvSeq(2, 3)), mvConst(mvI32s([]int{2}, 1, 0))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{3, 2}, 0, 3, 1, 4, 2, 5))
	// int64 data (8-byte elements) through the blocked path.
	r := mvRng(4)
	x := mvTyped(r, npy.Int64, 20, 30)
	xv, _ := x.Int64s()
	want := make([]int64, 600)
	for i := 0; i < 20; i++ {
		for j := 0; j < 30; j++ {
			want[j*20+i] = xv[i*30+j]
		}
	}
	mvExpect(t, mvOpCase{name: "int64", code: fb.BuiltinOperatorTRANSPOSE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 1, 0))}, outs: []mvT{mvOut(fb.TensorTypeINT64)}},
		mvI64s([]int{30, 20}, want...))
}

// mvTransposeRef is a naive transposition for checking the blocked paths.
func mvTransposeRef(x []int64, shape []int, perm []int) ([]int64, []int) {
	rank := len(shape)
	out := make([]int, rank)
	inSt := make([]int, rank)
	mvStrides(shape, inSt)
	for i, p := range perm {
		out[i] = shape[p]
	}
	res := make([]int64, len(x))
	idx := make([]int, rank)
	for k := range res {
		src := 0
		for i := range idx {
			src += idx[i] * inSt[perm[i]]
		}
		res[k] = x[src]
		for i := rank - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < out[i] {
				break
			}
			idx[i] = 0
		}
	}
	return res, out
}

// TestTransposeNaive checks random shapes and permutations up to rank 6
// (the pinned runtime stops at 5) against mvTransposeRef, for every
// element size.
func TestTransposeNaive(t *testing.T) {
	r := mvRng(7)
	for trial := 0; trial < 60; trial++ {
		rank := 1 + r.IntN(6)
		shape := make([]int, rank)
		for i := range shape {
			shape[i] = 1 + r.IntN(5)
			if r.IntN(4) == 0 {
				shape[i] = 8 + r.IntN(30)
			}
		}
		for mvProd(shape) > 20000 {
			shape[r.IntN(rank)] = 1 + r.IntN(3)
		}
		perm := r.Perm(rank)
		x := make([]int64, mvProd(shape))
		for i := range x {
			x[i] = int64(i)
		}
		want, wshape := mvTransposeRef(x, shape, perm)
		p32 := make([]int32, rank)
		for i, p := range perm {
			p32[i] = int32(p)
		}
		for _, dt := range []npy.DType{npy.Int64, npy.Int32, npy.Int16, npy.Int8} {
			var in, exp *npy.Array
			switch dt {
			case npy.Int64:
				in, exp = npy.FromInt64(shape, x), npy.FromInt64(wshape, want)
			case npy.Int32:
				in, exp = npy.FromInt32(shape, mvConv[int32](x)), npy.FromInt32(wshape, mvConv[int32](want))
			case npy.Int16:
				in, exp = npy.FromInt16(shape, mvConv[int16](x)), npy.FromInt16(wshape, mvConv[int16](want))
			case npy.Int8:
				in, exp = npy.FromInt8(shape, mvConv[int8](x)), npy.FromInt8(wshape, mvConv[int8](want))
			}
			mvExpect(t, mvOpCase{name: fmt.Sprintf("%v_%v_%v", dt, shape, perm), code: fb.BuiltinOperatorTRANSPOSE,
				ins: []mvT{mvIn(in), mvConst(mvI32s([]int{rank}, p32...))}, outs: []mvT{mvOut(mvTypes[dt])}}, exp)
		}
	}
}

func mvConv[T int8 | int16 | int32](v []int64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// ---- CONCATENATION, PACK, UNPACK, SPLIT, SPLIT_V ----

func TestConcatPackRuntime(t *testing.T) {
	r := mvRng(5)
	a, b, c := mvF32(r, 2, 3, 4), mvF32(r, 2, 5, 4), mvF32(r, 2, 1, 4)
	concat := func(name string, axis int32, act fb.ActivationFunctionType, xs ...*npy.Array) mvOpCase {
		var ins []mvT
		for _, x := range xs {
			ins = append(ins, mvIn(x))
		}
		return mvOpCase{name: name, code: fb.BuiltinOperatorCONCATENATION, opts: &fb.ConcatenationOptionsT{Axis: axis, FusedActivationFunction: act},
			ins: ins, outs: []mvT{mvOut(mvTypes[xs[0].DType])}}
	}
	none := fb.ActivationFunctionTypeNONE
	i1, i2 := mvTyped(r, npy.Int32, 3, 2), mvTyped(r, npy.Int32, 3, 4)
	cases := []mvOpCase{
		concat("axis1", 1, none, a, b, c),
		concat("axis_negative", -2, none, a, b),
		concat("axis0", 0, none, a, mvF32(r, 3, 3, 4)),
		concat("axis_last", 2, none, a, mvF32(r, 2, 3, 2)),
		concat("5d", 2, none, mvF32(r, 1, 2, 3, 2, 2), mvF32(r, 1, 2, 1, 2, 2)),
		concat("int32", 1, none, i1, i2),
		concat("one_input", 1, none, a),
		{name: "const_input", code: fb.BuiltinOperatorCONCATENATION, opts: &fb.ConcatenationOptionsT{Axis: 1},
			ins: []mvT{mvIn(a), mvConst(mvF32(r, 2, 2, 4))}, outs: []mvT{mvOut(f32)}},
	}
	pack := func(name string, axis int32, xs ...*npy.Array) mvOpCase {
		var ins []mvT
		for _, x := range xs {
			ins = append(ins, mvIn(x))
		}
		return mvOpCase{name: name, code: fb.BuiltinOperatorPACK, opts: &fb.PackOptionsT{ValuesCount: int32(len(xs)), Axis: axis},
			ins: ins, outs: []mvT{mvOut(mvTypes[xs[0].DType])}}
	}
	p, q, s := mvF32(r, 3, 4), mvF32(r, 3, 4), mvF32(r, 3, 4)
	cases = append(cases,
		pack("pack_axis0", 0, p, q, s),
		pack("pack_axis1", 1, p, q, s),
		pack("pack_axis2", 2, p, q),
		pack("pack_negative", -1, p, q),
		pack("pack_int8", 1, mvTyped(r, npy.Int8, 2, 3), mvTyped(r, npy.Int8, 2, 3)),
		pack("pack_scalars", 0, mvF32s(nil, 1), mvF32s(nil, 2)),
	)
	mvCompare(t, cases)
}

func TestUnpackSplitRuntime(t *testing.T) {
	r := mvRng(6)
	x := mvF32(r, 3, 4, 6)
	outs := func(n int, typ fb.TensorType) []mvT {
		o := make([]mvT, n)
		for i := range o {
			o[i] = mvOut(typ)
		}
		return o
	}
	cases := []mvOpCase{
		{name: "unpack_axis0", code: fb.BuiltinOperatorUNPACK, opts: &fb.UnpackOptionsT{Num: 3, Axis: 0}, ins: []mvT{mvIn(x)}, outs: outs(3, f32)},
		{name: "unpack_axis1", code: fb.BuiltinOperatorUNPACK, opts: &fb.UnpackOptionsT{Num: 4, Axis: 1}, ins: []mvT{mvIn(x)}, outs: outs(4, f32)},
		{name: "unpack_negative", code: fb.BuiltinOperatorUNPACK, opts: &fb.UnpackOptionsT{Num: 6, Axis: -1}, ins: []mvT{mvIn(x)}, outs: outs(6, f32)},
		{name: "unpack_int32", code: fb.BuiltinOperatorUNPACK, opts: &fb.UnpackOptionsT{Num: 2, Axis: 1}, ins: []mvT{mvIn(mvTyped(r, npy.Int32, 3, 2))}, outs: outs(2, fb.TensorTypeINT32)},
		{name: "split_axis1", code: fb.BuiltinOperatorSPLIT, opts: &fb.SplitOptionsT{NumSplits: 2}, ins: []mvT{mvConst(mvI32s(nil, 1)), mvIn(x)}, outs: outs(2, f32)},
		{name: "split_axis_last", code: fb.BuiltinOperatorSPLIT, opts: &fb.SplitOptionsT{NumSplits: 3}, ins: []mvT{mvConst(mvI32s(nil, 2)), mvIn(x)}, outs: outs(3, f32)},
		{name: "split_negative", code: fb.BuiltinOperatorSPLIT, opts: &fb.SplitOptionsT{NumSplits: 3}, ins: []mvT{mvConst(mvI32s([]int{1}, -3)), mvIn(x)}, outs: outs(3, f32)},
		{name: "split_one", code: fb.BuiltinOperatorSPLIT, opts: &fb.SplitOptionsT{NumSplits: 1}, ins: []mvT{mvConst(mvI32s(nil, 0)), mvIn(x)}, outs: outs(1, f32)},
		{name: "split_runtime_axis", code: fb.BuiltinOperatorSPLIT, opts: &fb.SplitOptionsT{NumSplits: 2}, ins: []mvT{mvIn(mvI32s(nil, 2)), mvIn(x)}, outs: outs(2, f32)},
		{name: "splitv", code: fb.BuiltinOperatorSPLIT_V, opts: &fb.SplitVOptionsT{NumSplits: 3}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{3}, 1, 2, 3)), mvConst(mvI32s(nil, 2))}, outs: outs(3, f32)},
		{name: "splitv_infer", code: fb.BuiltinOperatorSPLIT_V, opts: &fb.SplitVOptionsT{NumSplits: 3}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{3}, 1, -1, 1)), mvConst(mvI32s(nil, 1))}, outs: outs(3, f32)},
		{name: "splitv_negative_axis", code: fb.BuiltinOperatorSPLIT_V, opts: &fb.SplitVOptionsT{NumSplits: 2}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 2, 1)), mvConst(mvI32s(nil, -3))}, outs: outs(2, f32)},
		{name: "splitv_zero_part", code: fb.BuiltinOperatorSPLIT_V, opts: &fb.SplitVOptionsT{NumSplits: 3}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{3}, 0, 5, 1)), mvConst(mvI32s(nil, 2))}, outs: outs(3, f32)},
		{name: "splitv_int8", code: fb.BuiltinOperatorSPLIT_V, opts: &fb.SplitVOptionsT{NumSplits: 2}, ins: []mvT{mvIn(mvTyped(r, npy.Int8, 5, 4)), mvConst(mvI32s([]int{2}, 3, 2)), mvConst(mvI32s(nil, 0))}, outs: outs(2, fb.TensorTypeINT8)},
	}
	mvCompare(t, cases)
}

func TestConcatHand(t *testing.T) {
	// TensorFlow Lite rejects fused activations on CONCATENATION; this
	// interpreter applies them to float outputs.
	for _, c := range []struct {
		act  fb.ActivationFunctionType
		want []float32
	}{
		{fb.ActivationFunctionTypeRELU, []float32{0, 2, 7, 0, 0.5}},
		{fb.ActivationFunctionTypeRELU6, []float32{0, 2, 6, 0, 0.5}},
		{fb.ActivationFunctionTypeRELU_N1_TO_1, []float32{-1, 1, 1, -1, 0.5}},
	} {
		mvExpect(t, mvOpCase{name: "concat_act", code: fb.BuiltinOperatorCONCATENATION, opts: &fb.ConcatenationOptionsT{Axis: 0, FusedActivationFunction: c.act},
			ins: []mvT{mvIn(mvF32s([]int{2}, -1, 2)), mvIn(mvF32s([]int{3}, 7, -3, 0.5))}, outs: []mvT{mvOut(f32)}},
			mvF32s([]int{5}, c.want...))
	}
	mvExpect(t, mvOpCase{name: "concat", code: fb.BuiltinOperatorCONCATENATION, opts: &fb.ConcatenationOptionsT{Axis: 1},
		ins: []mvT{mvIn(mvSeq(2, 2)), mvIn(mvF32s([]int{2, 1}, 9, 8))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{2, 3}, 0, 1, 9, 2, 3, 8))
	mvExpect(t, mvOpCase{name: "pack", code: fb.BuiltinOperatorPACK, opts: &fb.PackOptionsT{ValuesCount: 2, Axis: 1},
		ins: []mvT{mvIn(mvSeq(2)), mvIn(mvF32s([]int{2}, 9, 8))}, outs: []mvT{mvOut(f32)}},
		mvF32s([]int{2, 2}, 0, 9, 1, 8))
	mvExpect(t, mvOpCase{name: "splitv", code: fb.BuiltinOperatorSPLIT_V, opts: &fb.SplitVOptionsT{NumSplits: 2},
		ins: []mvT{mvIn(mvSeq(2, 3)), mvConst(mvI32s([]int{2}, -1, 1)), mvConst(mvI32s(nil, 1))}, outs: []mvT{mvOut(f32), mvOut(f32)}},
		mvF32s([]int{2, 2}, 0, 1, 3, 4))
}

// mvQuantizeAll gives every INT8 tensor of the model the same affine
// quantization.
func mvQuantizeAll(t *testing.T, model []byte, scale float32, zeroPoint int64) []byte {
	t.Helper()
	m, err := tflite.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range m.Subgraphs[0].Tensors {
		if tt.Type == fb.TensorTypeINT8 {
			tt.Quantization = &fb.QuantizationParametersT{Scale: []float32{scale}, ZeroPoint: []int64{zeroPoint}}
		}
	}
	out, err := m.Save()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMoveNoAllocs checks that steady-state Invoke of the data-movement
// kernels does not allocate.
func TestMoveNoAllocs(t *testing.T) {
	r := mvRng(8)
	x := mvF32(r, 1, 6, 8, 4)
	n4 := []int{4}
	cases := []mvOpCase{
		{name: "reshape", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, -1, 4))}, outs: []mvT{mvOut(f32)}},
		{name: "reshape_runtime", code: fb.BuiltinOperatorRESHAPE, ins: []mvT{mvIn(x), mvIn(mvI32s([]int{2}, -1, 4))}, outs: []mvT{mvOut(f32)}},
		{name: "transpose", code: fb.BuiltinOperatorTRANSPOSE, ins: []mvT{mvIn(x), mvConst(mvI32s(n4, 0, 3, 1, 2))}, outs: []mvT{mvOut(f32)}},
		{name: "concat", code: fb.BuiltinOperatorCONCATENATION, opts: &fb.ConcatenationOptionsT{Axis: 3}, ins: []mvT{mvIn(x), mvIn(x)}, outs: []mvT{mvOut(f32)}},
		{name: "split", code: fb.BuiltinOperatorSPLIT, opts: &fb.SplitOptionsT{NumSplits: 2}, ins: []mvT{mvConst(mvI32s(nil, 1)), mvIn(x)}, outs: []mvT{mvOut(f32), mvOut(f32)}},
		{name: "strided_slice", code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &fb.StridedSliceOptionsT{EllipsisMask: 1},
			ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 0, 1)), mvConst(mvI32s([]int{2}, 0, 4)), mvConst(mvI32s([]int{2}, 1, 2))}, outs: []mvT{mvOut(f32)}},
		{name: "pad", code: fb.BuiltinOperatorPAD, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{4, 2}, 0, 0, 1, 1, 2, 2, 0, 0))}, outs: []mvT{mvOut(f32)}},
		{name: "mirror_pad", code: fb.BuiltinOperatorMIRROR_PAD, opts: &fb.MirrorPadOptionsT{}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{4, 2}, 0, 0, 1, 1, 2, 2, 0, 0))}, outs: []mvT{mvOut(f32)}},
		{name: "gather", code: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{Axis: 2}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 3, 1))}, outs: []mvT{mvOut(f32)}},
		{name: "resize_bilinear", code: fb.BuiltinOperatorRESIZE_BILINEAR, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 12, 16))}, outs: []mvT{mvOut(f32)}},
		{name: "resize_nearest", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 12, 16))}, outs: []mvT{mvOut(f32)}},
		{name: "space_to_depth", code: fb.BuiltinOperatorSPACE_TO_DEPTH, opts: &fb.SpaceToDepthOptionsT{BlockSize: 2}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}},
		{name: "space_to_batch", code: fb.BuiltinOperatorSPACE_TO_BATCH_ND, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{2}, 2, 2)), mvConst(mvI32s([]int{2, 2}, 1, 1, 0, 0))}, outs: []mvT{mvOut(f32)}},
		{name: "tile", code: fb.BuiltinOperatorTILE, ins: []mvT{mvIn(x), mvConst(mvI32s(n4, 1, 2, 1, 2))}, outs: []mvT{mvOut(f32)}},
		{name: "argmax", code: fb.BuiltinOperatorARG_MAX, opts: &fb.ArgMaxOptionsT{OutputType: fb.TensorTypeINT32}, ins: []mvT{mvIn(x), mvConst(mvI32s(nil, 3))}, outs: []mvT{mvOut(fb.TensorTypeINT32)}},
	}
	for _, c := range cases {
		model, inputs := c.build()
		m, err := tflite.Load(model)
		if err != nil {
			t.Fatal(err)
		}
		it, err := New(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range inputs {
			if err := it.SetInput(i, a.Shape, a.Data); err != nil {
				t.Fatal(err)
			}
		}
		if err := it.Invoke(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := testing.AllocsPerRun(10, func() { _ = it.Invoke() }); n != 0 {
			t.Errorf("%s: %v allocations per Invoke", c.name, n)
		}
	}
}

// BenchmarkMove times the data-movement kernels on activation-sized
// tensors (bytes/s counts the output).
func BenchmarkMove(b *testing.B) {
	r := mvRng(9)
	x := mvF32(r, 1, 112, 112, 64)
	small := mvF32(r, 1, 56, 56, 64)
	n4 := []int{4}
	cases := []mvOpCase{
		{name: "transpose_nhwc_nchw", code: fb.BuiltinOperatorTRANSPOSE, ins: []mvT{mvIn(x), mvConst(mvI32s(n4, 0, 3, 1, 2))}, outs: []mvT{mvOut(f32)}},
		{name: "transpose_0213", code: fb.BuiltinOperatorTRANSPOSE, ins: []mvT{mvIn(x), mvConst(mvI32s(n4, 0, 2, 1, 3))}, outs: []mvT{mvOut(f32)}},
		{name: "transpose_c_small", code: fb.BuiltinOperatorTRANSPOSE, ins: []mvT{mvIn(mvF32(r, 1, 224, 224, 3)), mvConst(mvI32s(n4, 0, 3, 1, 2))}, outs: []mvT{mvOut(f32)}},
		{name: "concat_channels", code: fb.BuiltinOperatorCONCATENATION, opts: &fb.ConcatenationOptionsT{Axis: 3}, ins: []mvT{mvIn(x), mvIn(x)}, outs: []mvT{mvOut(f32)}},
		{name: "pad_hw", code: fb.BuiltinOperatorPAD, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{4, 2}, 0, 0, 1, 1, 1, 1, 0, 0))}, outs: []mvT{mvOut(f32)}},
		{name: "mirror_pad_hw", code: fb.BuiltinOperatorMIRROR_PAD, opts: &fb.MirrorPadOptionsT{}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{4, 2}, 0, 0, 2, 2, 2, 2, 0, 0))}, outs: []mvT{mvOut(f32)}},
		{name: "strided_slice_2x", code: fb.BuiltinOperatorSTRIDED_SLICE, opts: &fb.StridedSliceOptionsT{},
			ins: []mvT{mvIn(x), mvConst(mvI32s(n4, 0, 0, 0, 0)), mvConst(mvI32s(n4, 1, 112, 112, 64)), mvConst(mvI32s(n4, 1, 2, 2, 1))}, outs: []mvT{mvOut(f32)}},
		{name: "resize_bilinear_2x", code: fb.BuiltinOperatorRESIZE_BILINEAR, ins: []mvT{mvIn(small), mvConst(mvI32s([]int{2}, 112, 112))}, outs: []mvT{mvOut(f32)}},
		{name: "resize_nearest_2x", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, ins: []mvT{mvIn(small), mvConst(mvI32s([]int{2}, 112, 112))}, outs: []mvT{mvOut(f32)}},
		{name: "space_to_depth", code: fb.BuiltinOperatorSPACE_TO_DEPTH, opts: &fb.SpaceToDepthOptionsT{BlockSize: 2}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}},
		{name: "depth_to_space", code: fb.BuiltinOperatorDEPTH_TO_SPACE, opts: &fb.DepthToSpaceOptionsT{BlockSize: 2}, ins: []mvT{mvIn(x)}, outs: []mvT{mvOut(f32)}},
		{name: "tile_hw", code: fb.BuiltinOperatorTILE, ins: []mvT{mvIn(small), mvConst(mvI32s(n4, 1, 2, 2, 1))}, outs: []mvT{mvOut(f32)}},
		{name: "gather_rows", code: fb.BuiltinOperatorGATHER, opts: &fb.GatherOptionsT{Axis: 1}, ins: []mvT{mvIn(x), mvConst(mvI32s([]int{56}, make([]int32, 56)...))}, outs: []mvT{mvOut(f32)}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			model, inputs := c.build()
			m, err := tflite.Load(model)
			if err != nil {
				b.Fatal(err)
			}
			it, err := New(m, Options{})
			if err != nil {
				b.Fatal(err)
			}
			for i, a := range inputs {
				if err := it.SetInput(i, a.Shape, a.Data); err != nil {
					b.Fatal(err)
				}
			}
			if err := it.Invoke(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(it.Output(0).Data)))
			b.ResetTimer()
			for b.Loop() {
				if err := it.Invoke(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
