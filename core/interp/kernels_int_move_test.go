package interp

import (
	"fmt"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// iqRand is random values over the whole range of typ.
func iqRand(r interface{ IntN(int) int }, typ fb.TensorType, shape ...int) *npy.Array {
	lo, hi := iqRange(typ)
	switch typ {
	case fb.TensorTypeINT8:
		return ktI8(r, int(lo), int(hi), shape...)
	case fb.TensorTypeUINT8:
		return ktU8(r, int(lo), int(hi), shape...)
	}
	return ktI16(r, int(lo), int(hi), shape...)
}

func iqI32(shape []int, v ...int32) ktT { return ktConst(npy.FromInt32(shape, v)) }

// TestIntDataMovement: the data-movement kernels on int8, uint8 and int16
// tensors (where the runtime has the kernel: spec.go's Full tables) with a
// non-zero zero point, equal to the runtime: padding takes the output zero
// point or the quantized constant, everything else moves the stored
// integers.
func TestIntDataMovement(t *testing.T) {
	r := ktRand(21)
	type mv struct {
		name   string
		code   fb.BuiltinOperator
		v8     int32 // int8 version
		v16    int32 // int16 version, 0: the runtime has none
		vU8    int32
		opts   any
		inSh   []int
		extra  func(typ fb.TensorType) []ktT // inputs after the data (or before: see first)
		first  func(typ fb.TensorType) []ktT // inputs before the data
		outShs [][]int
		cond   bool // a BOOL condition is the first input (SELECT)
	}
	q := func(typ fb.TensorType, shape ...int) ktT { return iqT(typ, 0.05, iqZero(typ, 7), shape...) }
	cases := []mv{
		{name: "RESHAPE", code: fb.BuiltinOperatorRESHAPE, v8: 1, v16: 1, vU8: 1, inSh: []int{2, 3, 4},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32([]int{2}, 4, 6)} }, outShs: [][]int{{4, 6}}},
		{name: "SQUEEZE", code: fb.BuiltinOperatorSQUEEZE, v8: 1, v16: 1, vU8: 1, inSh: []int{1, 3, 1, 4},
			opts: &fb.SqueezeOptionsT{SqueezeDims: []int32{0, 2}}, outShs: [][]int{{3, 4}}},
		{name: "EXPAND_DIMS", code: fb.BuiltinOperatorEXPAND_DIMS, v8: 1, v16: 1, vU8: 1, inSh: []int{3, 4},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32(nil, 1)} }, outShs: [][]int{{3, 1, 4}}},
		{name: "TRANSPOSE", code: fb.BuiltinOperatorTRANSPOSE, v8: 2, v16: 5, vU8: 1, inSh: []int{2, 3, 4},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32([]int{3}, 2, 0, 1)} }, outShs: [][]int{{4, 2, 3}}},
		{name: "CONCATENATION", code: fb.BuiltinOperatorCONCATENATION, v8: 2, v16: 3, vU8: 1, inSh: []int{2, 3},
			opts:  &fb.ConcatenationOptionsT{Axis: 1},
			extra: func(typ fb.TensorType) []ktT { return []ktT{q(typ, 2, 5)} }, outShs: [][]int{{2, 8}}},
		{name: "PACK", code: fb.BuiltinOperatorPACK, v8: 2, v16: 3, vU8: 1, inSh: []int{2, 3},
			opts:  &fb.PackOptionsT{ValuesCount: 2, Axis: 1},
			extra: func(typ fb.TensorType) []ktT { return []ktT{q(typ, 2, 3)} }, outShs: [][]int{{2, 2, 3}}},
		{name: "UNPACK", code: fb.BuiltinOperatorUNPACK, v8: 2, v16: 4, vU8: 2, inSh: []int{2, 3},
			opts: &fb.UnpackOptionsT{Num: 3, Axis: 1}, outShs: [][]int{{2}, {2}, {2}}},
		{name: "PAD", code: fb.BuiltinOperatorPAD, v8: 2, v16: 3, vU8: 1, inSh: []int{2, 3},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32([]int{2, 2}, 1, 2, 0, 3)} }, outShs: [][]int{{5, 6}}},
		{name: "PADV2", code: fb.BuiltinOperatorPADV2, v8: 2, v16: 3, vU8: 1, inSh: []int{2, 3},
			extra: func(typ fb.TensorType) []ktT {
				var c *npy.Array
				switch typ {
				case fb.TensorTypeINT8:
					c = npy.FromInt8(nil, []int8{-99})
				case fb.TensorTypeUINT8:
					c = npy.FromUint8(nil, []uint8{201})
				default:
					c = npy.FromInt16(nil, []int16{-1234})
				}
				return []ktT{iqI32([]int{2, 2}, 1, 2, 0, 3), ktQuant(ktConst(c), []float32{0.05}, []int64{iqZero(typ, 7)}, 0)}
			}, outShs: [][]int{{5, 6}}},
		{name: "MIRROR_PAD", code: fb.BuiltinOperatorMIRROR_PAD, v8: 2, vU8: 1, inSh: []int{3, 4},
			opts:  &fb.MirrorPadOptionsT{Mode: fb.MirrorPadModeSYMMETRIC},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32([]int{2, 2}, 1, 2, 2, 0)} }, outShs: [][]int{{6, 6}}},
		{name: "SLICE", code: fb.BuiltinOperatorSLICE, v8: 2, v16: 4, vU8: 1, inSh: []int{3, 5},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32([]int{2}, 1, 1), iqI32([]int{2}, 2, 3)} }, outShs: [][]int{{2, 3}}},
		{name: "STRIDED_SLICE", code: fb.BuiltinOperatorSTRIDED_SLICE, v8: 2, v16: 1, vU8: 1, inSh: []int{4, 6},
			opts: &fb.StridedSliceOptionsT{},
			extra: func(fb.TensorType) []ktT {
				return []ktT{iqI32([]int{2}, 0, 5), iqI32([]int{2}, 4, 0), iqI32([]int{2}, 2, -2)}
			}, outShs: [][]int{{2, 3}}},
		{name: "SPLIT", code: fb.BuiltinOperatorSPLIT, v8: 2, v16: 4, vU8: 1, inSh: []int{4, 6},
			opts:  &fb.SplitOptionsT{NumSplits: 2},
			first: func(fb.TensorType) []ktT { return []ktT{iqI32(nil, 1)} }, outShs: [][]int{{4, 3}, {4, 3}}},
		{name: "SPLIT_V", code: fb.BuiltinOperatorSPLIT_V, v8: 2, v16: 1, vU8: 1, inSh: []int{4, 6},
			opts:  &fb.SplitVOptionsT{NumSplits: 2},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32([]int{2}, 1, 5), iqI32(nil, 1)} }, outShs: [][]int{{4, 1}, {4, 5}}},
		{name: "GATHER", code: fb.BuiltinOperatorGATHER, v8: 2, v16: 4, vU8: 1, inSh: []int{4, 3},
			opts:  &fb.GatherOptionsT{Axis: 0},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32([]int{3}, 3, 0, 3)} }, outShs: [][]int{{3, 3}}},
		{name: "GATHER_ND", code: fb.BuiltinOperatorGATHER_ND, v8: 1, v16: 3, vU8: 1, inSh: []int{4, 3},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32([]int{2, 2}, 3, 1, 0, 2)} }, outShs: [][]int{{2}}},
		{name: "TILE", code: fb.BuiltinOperatorTILE, v8: 3, vU8: 1, inSh: []int{2, 3},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32([]int{2}, 2, 3)} }, outShs: [][]int{{4, 9}}},
		{name: "RESIZE_NEAREST_NEIGHBOR", code: fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, v8: 2, v16: 4, vU8: 1, inSh: []int{1, 3, 4, 2},
			opts:  &fb.ResizeNearestNeighborOptionsT{HalfPixelCenters: true},
			extra: func(fb.TensorType) []ktT { return []ktT{iqI32([]int{2}, 5, 7)} }, outShs: [][]int{{1, 5, 7, 2}}},
		{name: "SPACE_TO_DEPTH", code: fb.BuiltinOperatorSPACE_TO_DEPTH, v8: 2, vU8: 1, inSh: []int{1, 4, 6, 2},
			opts: &fb.SpaceToDepthOptionsT{BlockSize: 2}, outShs: [][]int{{1, 2, 3, 8}}},
		{name: "DEPTH_TO_SPACE", code: fb.BuiltinOperatorDEPTH_TO_SPACE, v8: 2, vU8: 1, inSh: []int{1, 2, 3, 8},
			opts: &fb.DepthToSpaceOptionsT{BlockSize: 2}, outShs: [][]int{{1, 4, 6, 2}}},
		{name: "SPACE_TO_BATCH_ND", code: fb.BuiltinOperatorSPACE_TO_BATCH_ND, v8: 2, vU8: 1, inSh: []int{1, 3, 5, 2},
			extra: func(fb.TensorType) []ktT {
				return []ktT{iqI32([]int{2}, 2, 2), iqI32([]int{2, 2}, 1, 0, 1, 0)}
			}, outShs: [][]int{{4, 2, 3, 2}}},
		{name: "BATCH_TO_SPACE_ND", code: fb.BuiltinOperatorBATCH_TO_SPACE_ND, v8: 2, vU8: 1, inSh: []int{4, 2, 3, 2},
			extra: func(fb.TensorType) []ktT {
				return []ktT{iqI32([]int{2}, 2, 2), iqI32([]int{2, 2}, 1, 0, 0, 1)}
			}, outShs: [][]int{{1, 3, 5, 2}}},
		{name: "SELECT", code: fb.BuiltinOperatorSELECT, v8: 2, v16: 1, vU8: 1, inSh: []int{3, 4}, cond: true,
			extra: func(typ fb.TensorType) []ktT { return []ktT{q(typ, 3, 4)} }, outShs: [][]int{{3, 4}}},
		{name: "SELECT_V2", code: fb.BuiltinOperatorSELECT_V2, v8: 1, v16: 1, vU8: 1, inSh: []int{3, 4}, cond: true,
			extra: func(typ fb.TensorType) []ktT { return []ktT{q(typ, 1, 4)} }, outShs: [][]int{{3, 4}}},
	}
	var all []ktCase
	for _, c := range cases {
		for _, typ := range iqTypes {
			version := map[fb.TensorType]int32{fb.TensorTypeINT8: c.v8, fb.TensorTypeINT16: c.v16, fb.TensorTypeUINT8: c.vU8}[typ]
			if version == 0 {
				continue
			}
			var ins []ktT
			var arrays []*npy.Array
			if c.cond {
				ins = append(ins, ktIn(fb.TensorTypeBOOL, c.inSh...))
				arrays = append(arrays, ktBool(r, c.inSh...))
			}
			if c.first != nil {
				ins = append(ins, c.first(typ)...)
			}
			ins = append(ins, q(typ, c.inSh...))
			arrays = append(arrays, iqRand(r, typ, c.inSh...))
			if c.extra != nil {
				for _, e := range c.extra(typ) {
					ins = append(ins, e)
					if e.data == nil {
						arrays = append(arrays, iqRand(r, typ, e.shape...))
					}
				}
			}
			var outs []ktT
			for _, s := range c.outShs {
				outs = append(outs, q(typ, s...))
			}
			op := &ktOp{code: c.code, version: version, opts: c.opts, ins: ins, outs: outs}
			all = append(all, ktCase{name: fmt.Sprintf("%s_%s", c.name, tflite.TypeName(typ)), op: op, inputs: arrays})
		}
	}
	iqCompare(t, all)
}

// TestIntResizeBilinear: RESIZE_BILINEAR on int8, uint8 and int16 over
// random images, up and down, with each coordinate convention.
func TestIntResizeBilinear(t *testing.T) {
	r := ktRand(22)
	var cases []ktCase
	for _, typ := range iqTypes {
		for _, sz := range []struct{ ih, iw, oh, ow int }{{3, 4, 6, 8}, {4, 6, 3, 4}, {5, 5, 7, 11}, {2, 3, 2, 3}, {6, 8, 3, 4}} {
			for _, conv := range []struct{ align, half bool }{{false, false}, {true, false}, {false, true}} {
				in := []int{2, sz.ih, sz.iw, 3}
				op := &ktOp{code: fb.BuiltinOperatorRESIZE_BILINEAR, version: iqVersion(typ, 2, 4),
					opts: &fb.ResizeBilinearOptionsT{AlignCorners: conv.align, HalfPixelCenters: conv.half},
					ins:  []ktT{iqT(typ, 0.05, iqZero(typ, 7), in...), iqI32([]int{2}, int32(sz.oh), int32(sz.ow))},
					outs: []ktT{iqT(typ, 0.05, iqZero(typ, 7), 2, sz.oh, sz.ow, 3)}}
				name := fmt.Sprintf("RESIZE_BILINEAR_%s_%dx%d_to_%dx%d_align%v_half%v", tflite.TypeName(typ), sz.ih, sz.iw, sz.oh, sz.ow, conv.align, conv.half)
				cases = append(cases, ktCase{name: name, op: op, inputs: []*npy.Array{iqRand(r, typ, in...)}})
			}
		}
	}
	iqCompare(t, cases)
}

// TestIntConcatRescale: uint8 CONCATENATION of inputs quantized unlike the
// output, along each axis, with 1 to 5 inputs (one of them sharing the
// output's parameters): the runtime requantizes them in TensorFlow Lite's
// kernel (1 or 5 inputs) and copies them as they are in XNNPACK's (2-4).
func TestIntConcatRescale(t *testing.T) {
	r := ktRand(23)
	typ := fb.TensorTypeUINT8
	var cases []ktCase
	for axis := 0; axis < 2; axis++ {
		for k, p := range []iqParamSet{{0.05, 128, 0.1, 120}, {0.3, 3, 0.07, 200}, {0.0123, 255, 0.0123, 250}} {
			for count := 1; count <= 5; count++ {
				sh := []int{4, 64}
				oSh := []int{4 * count, 64}
				if axis == 1 {
					oSh = []int{4, 64 * count}
				}
				ins := []ktT{iqT(typ, p.inS, p.inZ, sh...)}
				arrays := []*npy.Array{iqRamp(typ, sh...)}
				for i := 1; i < count; i++ {
					s, z := float32(0.021*float32(i)), int64(90+i)
					if i == 1 {
						s, z = p.outS, p.outZ
					}
					ins = append(ins, iqT(typ, s, z, sh...))
					arrays = append(arrays, iqRand(r, typ, sh...))
				}
				op := &ktOp{code: fb.BuiltinOperatorCONCATENATION, version: 1, opts: &fb.ConcatenationOptionsT{Axis: int32(axis)},
					ins: ins, outs: []ktT{iqT(typ, p.outS, p.outZ, oSh...)}}
				cases = append(cases, ktCase{name: fmt.Sprintf("CONCATENATION_UINT8_axis%d_%d_inputs%d", axis, k, count), op: op, inputs: arrays})
			}
		}
	}
	iqCompare(t, cases)
}
