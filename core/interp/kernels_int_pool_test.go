package interp

import (
	"fmt"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestIntPool(t *testing.T) {
	r := ktRand(20)
	geoms := []struct {
		in       []int
		fh, fw   int32
		sh, sw   int32
		padding  fb.Padding
		geomName string
	}{
		{[]int{1, 7, 7, 3}, 3, 3, 2, 2, fb.PaddingSAME, "3x3s2same"},
		{[]int{2, 8, 6, 4}, 2, 2, 2, 2, fb.PaddingVALID, "2x2s2valid"},
		{[]int{1, 9, 9, 5}, 3, 3, 1, 1, fb.PaddingSAME, "3x3s1same"},
		{[]int{1, 10, 7, 2}, 4, 3, 3, 2, fb.PaddingSAME, "4x3s3x2same"},
		{[]int{2, 5, 5, 6}, 5, 5, 1, 1, fb.PaddingVALID, "global5x5"},
		{[]int{1, 6, 6, 3}, 1, 1, 2, 2, fb.PaddingVALID, "1x1s2"},
		{[]int{1, 8, 8, 17}, 2, 3, 1, 2, fb.PaddingSAME, "2x3s1x2same"},
	}
	types := []struct {
		typ     fb.TensorType
		version int32
		scale   float32
		zps     []int64
	}{
		{fb.TensorTypeINT8, 2, 0.05, []int64{0, -128, 127, 13}},
		{fb.TensorTypeUINT8, 1, 0.031, []int64{128, 0, 255, 77}},
		{fb.TensorTypeINT16, 3, 0.0007, []int64{0}},
	}
	var cases []qtCase
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorAVERAGE_POOL_2D, fb.BuiltinOperatorMAX_POOL_2D} {
		for _, ty := range types {
			for gi, g := range geoms {
				for zi, zp := range ty.zps {
					act := qtActs[(gi+zi)%len(qtActs)]
					opts := &fb.Pool2DOptionsT{Padding: g.padding, StrideH: g.sh, StrideW: g.sw, FilterHeight: g.fh, FilterWidth: g.fw, FusedActivationFunction: act}
					win, err := newConvWindow(g.padding, g.in[1], g.in[2], int(g.fh), int(g.fw), int(g.sh), int(g.sw), 1, 1)
					if err != nil {
						t.Fatal(err)
					}
					out := []int{g.in[0], win.outH, win.outW, g.in[3]}
					op := ktSpec(code, opts, []ktT{iqT(ty.typ, ty.scale, zp, g.in...)}, iqT(ty.typ, ty.scale, zp, out...))
					op.version = ty.version
					name := fmt.Sprintf("%s_%s_%s_zp%d_%s", fb.EnumNamesBuiltinOperator[code], qtTypeName(ty.typ), g.geomName, zp, fb.EnumNamesActivationFunctionType[act])
					cases = append(cases, qtCase{name: name, op: op, inputs: []*npy.Array{qtRand(r, ty.typ, g.in...)}})
				}
			}
		}
	}
	qtCompare(t, cases)
}
