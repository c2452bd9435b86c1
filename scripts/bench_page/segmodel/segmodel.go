// Package segmodel builds a float model of a segmentation network's sizes
// (257×257 input, deeplabv3's order of weight size) in code, for the
// page's benchmarks and memory test: ../shared holds no such model.
package segmodel

import (
	"fmt"
	"math"
	"math/rand/v2"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
)

// Build builds a float model of a segmentation network's
// sizes, as ../shared holds none: a 257×257×3 input, a MobileNet-style
// stack of depthwise-separable blocks down to 33×33×256 (eight blocks at
// 256 channels), a 1×1 head to 21 classes and a bilinear resize back to
// 257×257 — about 2.4 MB of float weights, deeplabv3's order of size.
func Build() []byte {
	const f = fb.TensorTypeFLOAT32
	b := modelbuild.New()
	r := rand.New(rand.NewPCG(257, 21))
	weights := func(name string, shape []int32, fanIn int) int32 {
		n := 1
		for _, d := range shape {
			n *= int(d)
		}
		v := make([]float32, n)
		s := math.Sqrt(2 / float64(fanIn))
		for i := range v {
			v[i] = float32(r.NormFloat64() * s)
		}
		return b.ConstFloat32(name, shape, v)
	}
	bias := func(name string, n int32) int32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * 0.05)
		}
		return b.ConstFloat32(name, []int32{n}, v)
	}
	x := b.Tensor("input", f, 1, 257, 257, 3)
	h, c, cur := int32(129), int32(32), int32(0)
	cur = b.Tensor("conv0", f, 1, h, h, c)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 2, StrideH: 2, DilationWFactor: 1, DilationHFactor: 1, FusedActivationFunction: fb.ActivationFunctionTypeRELU6},
		[]int32{x, weights("conv0/w", []int32{c, 3, 3, 3}, 27), bias("conv0/b", c)}, []int32{cur})
	block := func(i int, stride, out int32) {
		oh := (h + stride - 1) / stride
		d := b.Tensor(fmt.Sprintf("dw%d", i), f, 1, oh, oh, c)
		b.Op(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &fb.DepthwiseConv2DOptionsT{Padding: fb.PaddingSAME, StrideW: stride, StrideH: stride, DepthMultiplier: 1, DilationWFactor: 1, DilationHFactor: 1, FusedActivationFunction: fb.ActivationFunctionTypeRELU6},
			[]int32{cur, weights(fmt.Sprintf("dw%d/w", i), []int32{1, 3, 3, c}, 9), bias(fmt.Sprintf("dw%d/b", i), c)}, []int32{d})
		p := b.Tensor(fmt.Sprintf("pw%d", i), f, 1, oh, oh, out)
		b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1, FusedActivationFunction: fb.ActivationFunctionTypeRELU6},
			[]int32{d, weights(fmt.Sprintf("pw%d/w", i), []int32{out, 1, 1, c}, int(c)), bias(fmt.Sprintf("pw%d/b", i), out)}, []int32{p})
		h, c, cur = oh, out, p
	}
	block(1, 1, 64)
	block(2, 2, 128)
	block(3, 1, 128)
	block(4, 2, 256)
	for i := 5; i < 13; i++ {
		block(i, 1, 256)
	}
	logits := b.Tensor("logits", f, 1, h, h, 21)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1},
		[]int32{cur, weights("head/w", []int32{21, 1, 1, c}, int(c)), bias("head/b", 21)}, []int32{logits})
	size := b.ConstInt32("size", []int32{2}, []int32{257, 257})
	out := b.Tensor("segmentation", f, 1, 257, 257, 21)
	b.Op(fb.BuiltinOperatorRESIZE_BILINEAR, &fb.ResizeBilinearOptionsT{}, []int32{logits, size}, []int32{out})
	b.Inputs(x)
	b.Outputs(out)
	return b.Bytes()
}
