package interp

import (
	"errors"
	"math"

	fb "litequant/core/schema/tflitefb"
)

// Integer RESIZE_BILINEAR. Output and input share their quantization
// (mvSame), so values are not rescaled. The runtime interpolates int16 in
// the integer domain (ResizeBilinearInteger: coordinates and weights in
// 1/1024 steps, the four-term sum rounded half away from zero from 2^-20)
// and hands int8 and uint8 to XNNPACK, whose kernel weighs in 1/2048 steps
// (float32 coordinates, weights lrintf(frac × 2048)), horizontally then
// vertically, rounding once from 2^-22. Measured before switching: the
// reference kernels' results (ResizeBilinearInteger for int8, the float
// kernel for uint8) differ from the runtime by 1 (once 2) in 2-23% of the
// int8 elements and 0-6% of the uint8 ones (TestIntResizeBilinear's cases).

// resizeCoord10 is ComputeInterpolationValuesInteger: the source coordinate
// of output index v in 1/1024 steps and its two neighbours.
func resizeCoord10(v, scale10 int32, half bool, size int32) (pos, lo, hi int32) {
	if half {
		pos = v*scale10 + scale10/2 - (1 << 9)
	} else {
		pos = v * scale10
	}
	lo = max(pos/(1<<10), 0)
	hi = min((pos+(1<<10)-1)/(1<<10), size-1)
	return pos, lo, hi
}

// resizeScale10 is the input/output ratio in 1/1024 steps, rounded.
func resizeScale10(in, out int32, align bool) int32 {
	if align && out > 1 {
		return ((1<<10)*(in-1) + (out-1)/2) / (out - 1)
	}
	return ((1<<10)*in + out/2) / out
}

func evalIntResizeBilinear(n *node) error {
	in := n.inputs[0]
	if len(n.outputs) < 1 {
		return errors.New("needs one output")
	}
	if err := mvSame(in, n.outputs[0]); err != nil {
		return err
	}
	oh, ow, err := resizeSize(n)
	if err != nil {
		return err
	}
	var align, half bool
	if opts, _ := n.opts.(*fb.ResizeBilinearOptionsT); opts != nil {
		align, half = opts.AlignCorners, opts.HalfPixelCenters
	}
	if align && half {
		return errors.New("if half_pixel_centers is true, align_corners must be false")
	}
	batch, ih, iw, c := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	o := n.output(0, []int{batch, oh, ow, c})
	if batch*c == 0 || ih*iw == 0 {
		return nil
	}
	g := resizeGeom{batch: batch, ih: ih, iw: iw, c: c, oh: oh, ow: ow, align: align, half: half}
	switch in.Type {
	case fb.TensorTypeINT8:
		resizeQ11(g, o.I8(), in.I8())
	case fb.TensorTypeINT16:
		resizeInteger(g, o.I16(), in.I16())
	default:
		resizeQ11(g, o.U8(), in.U8())
	}
	return nil
}

// resizeQ11Coord is XNNPACK's source coordinate of output index v
// (xnn_indirection_init_resize_bilinear2d_hwc_q11): the two neighbours and
// the weight of the second in 1/2048 steps. Legacy (not half-pixel)
// coordinates are v × scale; half-pixel ones are clamped to the image.
func resizeQ11Coord(v int, scale float32, half bool, size int) (lo, hi int, alpha int32) {
	maxPos := float32(size - 1)
	var pos float32
	if half {
		offset := float32(float32(0.5*scale) - 0.5)
		pos = float32(float32(float32(v)*scale) + offset)
		pos = min(max(pos, 0), maxPos)
	} else {
		pos = min(float32(float32(v)*scale), maxPos)
	}
	lo = int(pos)
	hi = min(lo+1, size-1)
	alpha = int32(math.RoundToEven(float64(float32(pos-float32(lo)) * 2048)))
	return lo, hi, alpha
}

// resizeQ11 is XNNPACK's s8/u8 bilinear kernel.
func resizeQ11[T int8 | uint8](g resizeGeom, dst, src []T) {
	hs, ws := resizeScale(g.ih, g.oh, g.align), resizeScale(g.iw, g.ow, g.align)
	c := g.c
	for b := 0; b < g.batch; b++ {
		img := src[b*g.ih*g.iw*c:]
		for y := 0; y < g.oh; y++ {
			y0, y1, av := resizeQ11Coord(y, hs, g.half, g.ih)
			for x := 0; x < g.ow; x++ {
				x0, x1, ah := resizeQ11Coord(x, ws, g.half, g.iw)
				tl, tr := img[(y0*g.iw+x0)*c:], img[(y0*g.iw+x1)*c:]
				bl, br := img[(y1*g.iw+x0)*c:], img[(y1*g.iw+x1)*c:]
				out := dst[((b*g.oh+y)*g.ow+x)*c:][:c]
				for k := range out {
					t := int32(tl[k])<<11 + (int32(tr[k])-int32(tl[k]))*ah
					bo := int32(bl[k])<<11 + (int32(br[k])-int32(bl[k]))*ah
					acc := t<<11 + (bo-t)*av
					out[k] = T((acc + 1<<21) >> 22)
				}
			}
		}
	}
}

type resizeGeom struct {
	batch, ih, iw, c, oh, ow int
	align, half              bool
}

func resizeInteger[T int8 | int16](g resizeGeom, dst, src []T) {
	hs := resizeScale10(int32(g.ih), int32(g.oh), g.align)
	ws := resizeScale10(int32(g.iw), int32(g.ow), g.align)
	c := g.c
	for b := 0; b < g.batch; b++ {
		img := src[b*g.ih*g.iw*c:]
		for y := 0; y < g.oh; y++ {
			py, y0, y1 := resizeCoord10(int32(y), hs, g.half, int32(g.ih))
			wy1 := int64(py - (1<<10)*y0)
			wy0 := (1 << 10) - wy1
			for x := 0; x < g.ow; x++ {
				px, x0, x1 := resizeCoord10(int32(x), ws, g.half, int32(g.iw))
				wx1 := int64(px - (1<<10)*x0)
				wx0 := (1 << 10) - wx1
				p00, p10 := img[(int(y0)*g.iw+int(x0))*c:], img[(int(y1)*g.iw+int(x0))*c:]
				p01, p11 := img[(int(y0)*g.iw+int(x1))*c:], img[(int(y1)*g.iw+int(x1))*c:]
				out := dst[((b*g.oh+y)*g.ow+x)*c:][:c]
				for k := range out {
					acc := int64(p00[k])*wy0*wx0 + int64(p10[k])*wy1*wx0 + int64(p01[k])*wy0*wx1 + int64(p11[k])*wy1*wx1
					round := int64(1 << 19)
					if acc <= 0 {
						round = -round
					}
					out[k] = T((acc + round) / (1 << 20))
				}
			}
		}
	}
}

func init() {
	register(fb.BuiltinOperatorRESIZE_BILINEAR, &kernel{
		match: func(n *node) bool { return iqIsQuant(n.input(0)) },
		eval:  evalIntResizeBilinear,
	})
}
