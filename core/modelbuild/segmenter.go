package modelbuild

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"

	fb "litequant/core/schema/tflitefb"
)

// SegmenterLabels are the classes of Segmenter, in output order.
var SegmenterLabels = []string{"background", "red", "green", "blue"}

// Segmenter is a tiny image segmenter: x [1, 32, 32, 3] (pixels normalized
// to [-1, 1]) -> CONV_2D 3×3 SAME + RELU (6 channels: each colour's
// positive and negative part, box-filtered) -> CONV_2D 1×1 stride 2 ->
// y [1, 16, 16, 4], the scores of SegmenterLabels per pixel (logits):
// dark pixels are background, a saturated colour is its class.
func Segmenter() []byte {
	f := fb.TensorTypeFLOAT32
	b := New()
	x := b.Tensor("image", f, 1, 32, 32, 3)
	// conv1: OHWI [6, 3, 3, 3]; output o < 3 is +channel o, o >= 3 is
	// -channel o-3, each averaged over the 3×3 window.
	w1 := make([]float32, 6*3*3*3)
	for o := 0; o < 6; o++ {
		sign := float32(1)
		if o >= 3 {
			sign = -1
		}
		for k := 0; k < 9; k++ {
			w1[(o*9+k)*3+o%3] = sign / 9
		}
	}
	c1w := b.ConstFloat32("conv1/w", []int32{6, 3, 3, 3}, w1)
	c1b := b.ConstFloat32("conv1/b", []int32{6}, make([]float32, 6))
	h := b.Tensor("conv1", f, 1, 32, 32, 6)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1,
		FusedActivationFunction: fb.ActivationFunctionTypeRELU}, []int32{x, c1w, c1b}, []int32{h})
	// conv2: OHWI [4, 1, 1, 6] over [r+, g+, b+, r-, g-, b-].
	w2 := []float32{
		0, 0, 0, 0.5, 0.5, 0.5, // background: how dark
		2, -1, -1, 0, 0, 0, // red
		-1, 2, -1, 0, 0, 0, // green
		-1, -1, 2, 0, 0, 0, // blue
	}
	c2w := b.ConstFloat32("conv2/w", []int32{4, 1, 1, 6}, w2)
	c2b := b.ConstFloat32("conv2/b", []int32{4}, []float32{-0.2, 0, 0, 0})
	y := b.Tensor("segmentation_masks", f, 1, 16, 16, 4)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 2, StrideH: 2, DilationWFactor: 1, DilationHFactor: 1},
		[]int32{h, c2w, c2b}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

// SegmenterImages returns n PNG images (40×32, so the samples' centre crop
// to 32×32 matters) for Segmenter: a dark noisy background with two or
// three red, green or blue rectangles, the same for every call.
func SegmenterImages(n int) [][]byte {
	r := rand.New(rand.NewPCG(14, 14))
	var out [][]byte
	for i := 0; i < n; i++ {
		img := image.NewRGBA(image.Rect(0, 0, 40, 32))
		for p := 0; p < len(img.Pix); p += 4 {
			v := uint8(10 + r.IntN(50))
			img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = v, v+uint8(r.IntN(10)), v, 255
		}
		for k := 0; k < 2+r.IntN(2); k++ {
			c := r.IntN(3)
			x0, y0 := r.IntN(30), r.IntN(24)
			x1, y1 := min(40, x0+6+r.IntN(14)), min(32, y0+6+r.IntN(12))
			for yy := y0; yy < y1; yy++ {
				for xx := x0; xx < x1; xx++ {
					px := [3]uint8{uint8(20 + r.IntN(40)), uint8(20 + r.IntN(40)), uint8(20 + r.IntN(40))}
					px[c] = uint8(180 + r.IntN(75))
					img.Set(xx, yy, color.RGBA{px[0], px[1], px[2], 255})
				}
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			panic("modelbuild: " + err.Error()) // an in-memory RGBA always encodes
		}
		out = append(out, buf.Bytes())
	}
	return out
}
