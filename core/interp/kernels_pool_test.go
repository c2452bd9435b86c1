package interp

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"litequant/core/modelbuild"
	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

type poolCfg struct {
	code           fb.BuiltinOperator
	batch, h, w, c int
	fh, fw, sh, sw int
	pad            fb.Padding
	act            fb.ActivationFunctionType
}

func (c poolCfg) String() string {
	p := "SAME"
	if c.pad == fb.PaddingVALID {
		p = "VALID"
	}
	s := fmt.Sprintf("%s_%dx%dx%dx%d_f%dx%d_s%d%d_%s", fb.EnumNamesBuiltinOperator[c.code], c.batch, c.h, c.w, c.c, c.fh, c.fw, c.sh, c.sw, p)
	if c.act != 0 {
		s += "_" + fb.EnumNamesActivationFunctionType[c.act]
	}
	return s
}

func (c poolCfg) outShape() []int {
	return []int{c.batch, cvtOut(c.pad, c.h, c.fh, c.sh, 1), cvtOut(c.pad, c.w, c.fw, c.sw, 1), c.c}
}

func (c poolCfg) add(r *rand.Rand) cvtCase {
	x := cvtArray(r, c.batch, c.h, c.w, c.c)
	if c.code == fb.BuiltinOperatorL2_POOL_2D {
		// Keep values away from 0, where sqrt amplifies rounding.
		v, _ := x.Float32s()
		for i := range v {
			v[i] = v[i]*2 + 3
		}
		x = npy.FromFloat32(x.Shape, v)
	}
	return cvtCase{name: c.String(), inputs: []*npy.Array{x}, build: func(b *modelbuild.Builder, p string) ([]int32, []int32) {
		xi := b.Tensor(p+"x", cvtF32, cvt32(x.Shape)...)
		y := b.Tensor(p+"y", cvtF32, cvt32(c.outShape())...)
		b.Op(c.code, &fb.Pool2DOptionsT{Padding: c.pad, StrideW: int32(c.sw), StrideH: int32(c.sh), FilterWidth: int32(c.fw), FilterHeight: int32(c.fh), FusedActivationFunction: c.act}, []int32{xi}, []int32{y})
		return []int32{xi}, []int32{y}
	}}
}

func TestPoolRuntime(t *testing.T) {
	r := cvtRand(30)
	var cases []cvtCase
	for _, code := range []fb.BuiltinOperator{fb.BuiltinOperatorAVERAGE_POOL_2D, fb.BuiltinOperatorMAX_POOL_2D, fb.BuiltinOperatorL2_POOL_2D} {
		for _, pad := range []fb.Padding{fb.PaddingSAME, fb.PaddingVALID} {
			for _, f := range [][4]int{{2, 2, 2, 2}, {3, 3, 1, 1}, {3, 3, 2, 2}, {2, 3, 1, 2}, {5, 5, 3, 3}, {1, 1, 1, 1}, {7, 7, 1, 1}} {
				c := poolCfg{code: code, batch: 1, h: 7, w: 9, c: 5, fh: f[0], fw: f[1], sh: f[2], sw: f[3], pad: pad}
				cases = append(cases, c.add(r))
			}
		}
		// Batches, wide channels, a global pool, activations.
		cases = append(cases,
			poolCfg{code: code, batch: 2, h: 8, w: 8, c: 17, fh: 3, fw: 3, sh: 2, sw: 2, pad: fb.PaddingSAME}.add(r),
			poolCfg{code: code, batch: 1, h: 7, w: 7, c: 64, fh: 7, fw: 7, sh: 2, sw: 2, pad: fb.PaddingVALID}.add(r),
			poolCfg{code: code, batch: 1, h: 64, w: 64, c: 32, fh: 2, fw: 2, sh: 2, sw: 2, pad: fb.PaddingVALID}.add(r),
		)
		for _, act := range []fb.ActivationFunctionType{fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6, fb.ActivationFunctionTypeRELU_N1_TO_1, fb.ActivationFunctionTypeTANH} {
			cases = append(cases, poolCfg{code: code, batch: 1, h: 6, w: 5, c: 3, fh: 2, fw: 2, sh: 1, sw: 1, pad: fb.PaddingSAME, act: act}.add(r))
		}
	}
	cvtCompare(t, 1e-5, cases)
}

func TestPoolFixtures(t *testing.T) {
	dir := cvtShared(t)
	r := cvtRand(31)
	for _, name := range []string{"single_max_pool_2d", "padv2_inf_max_pool_2d"} {
		t.Run(name, func(t *testing.T) {
			data := cvtReadFile(t, dir+"/models/"+name+".tflite")
			m, err := tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := New(m, Options{}); err != nil {
				t.Fatal(err)
			}
			compareWithRuntime(t, data, []*npy.Array{cvtArray(r, 1, 6, 8, 1)}, 1e-6)
		})
	}
}

func TestPoolHand(t *testing.T) {
	x := npy.FromFloat32([]int{1, 3, 3, 1}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	run := func(code fb.BuiltinOperator) []float32 {
		t.Helper()
		b := modelbuild.New()
		xi := b.Tensor("x", cvtF32, 1, 3, 3, 1)
		y := b.Tensor("y", cvtF32, 1, 2, 2, 1)
		b.Op(code, &fb.Pool2DOptionsT{Padding: fb.PaddingSAME, StrideW: 2, StrideH: 2, FilterWidth: 2, FilterHeight: 2}, []int32{xi}, []int32{y})
		b.Inputs(xi)
		b.Outputs(y)
		got, err := cvtRunGo(b.Bytes(), x)
		if err != nil {
			t.Fatal(err)
		}
		g, _ := got[0].Float32s()
		return g
	}
	// SAME 3→2 with a 2×2 window: the last row and column windows are
	// clipped, and the average divides by the elements inside.
	cvtClose(t, "avg", run(fb.BuiltinOperatorAVERAGE_POOL_2D), []float32{3, 4.5, 7.5, 9}, 1e-6)
	cvtClose(t, "max", run(fb.BuiltinOperatorMAX_POOL_2D), []float32{5, 6, 8, 9}, 0)
	cvtClose(t, "l2", run(fb.BuiltinOperatorL2_POOL_2D), []float32{
		float32(sqrt32((1 + 4 + 16 + 25) / 4.0)), float32(sqrt32((9 + 36) / 2.0)),
		float32(sqrt32((49 + 64) / 2.0)), 9}, 1e-5)
}

func sqrt32(v float64) float64 {
	x := v
	for i := 0; i < 60; i++ {
		x = (x + v/x) / 2
	}
	return x
}

func TestPoolErrors(t *testing.T) {
	r := cvtRand(32)
	build := func(o *fb.Pool2DOptionsT) []byte {
		b := modelbuild.New()
		xi := b.Tensor("x", cvtF32, 1, 4, 4, 2)
		y := b.Tensor("y", cvtF32, 1, 2, 2, 2)
		b.Op(fb.BuiltinOperatorMAX_POOL_2D, o, []int32{xi}, []int32{y})
		b.Inputs(xi)
		b.Outputs(y)
		return b.Bytes()
	}
	x := cvtArray(r, 1, 4, 4, 2)
	cvtWantErr(t, "filter 0x2", build(&fb.Pool2DOptionsT{StrideW: 2, StrideH: 2, FilterWidth: 2}), x)
	cvtWantErr(t, "stride 0", build(&fb.Pool2DOptionsT{FilterWidth: 2, FilterHeight: 2}), x)
	cvtWantErr(t, "smaller than the filter", build(&fb.Pool2DOptionsT{Padding: fb.PaddingVALID, StrideW: 1, StrideH: 1, FilterWidth: 6, FilterHeight: 2}), x)
	cvtWantErr(t, "rank 4", build(&fb.Pool2DOptionsT{StrideW: 1, StrideH: 1, FilterWidth: 2, FilterHeight: 2}), cvtArray(r, 4, 4, 2))
	// A missing options table gives zero filter sizes.
	b := modelbuild.New()
	xi := b.Tensor("x", cvtF32, 1, 4, 4, 2)
	y := b.Tensor("y", cvtF32, 1, 2, 2, 2)
	b.Op(fb.BuiltinOperatorAVERAGE_POOL_2D, nil, []int32{xi}, []int32{y})
	b.Inputs(xi)
	b.Outputs(y)
	cvtWantErr(t, "filter 0x0", b.Bytes(), x)
}
