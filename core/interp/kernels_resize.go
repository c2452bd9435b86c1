package interp

import (
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
)

// RESIZE_BILINEAR (float32) and RESIZE_NEAREST_NEIGHBOR (any element size)
// on NHWC tensors, with TensorFlow Lite's coordinate conventions.

// resizeState keeps the per-column tables between calls.
type resizeState struct {
	x0, x1 []int
	wx     []float32
}

// resizeSize reads the [2] INT32 size operand (new height, new width).
func resizeSize(n *node) (h, w int, err error) {
	in := n.inputs[0]
	if len(in.Shape) != 4 {
		return 0, 0, fmt.Errorf("input %v: want 4 dimensions (NHWC)", in)
	}
	size := n.input(1)
	if size == nil || size.Type != fb.TensorTypeINT32 || len(size.Shape) != 1 || size.NumElements() != 2 || len(size.Data) < 8 {
		return 0, 0, fmt.Errorf("size %v: want an INT32 vector of 2", size)
	}
	v := size.I32()
	if v[0] <= 0 || v[1] <= 0 {
		return 0, 0, fmt.Errorf("output size %v must be positive", v)
	}
	return int(v[0]), int(v[1]), nil
}

// resizeScale is the input/output coordinate ratio as TensorFlow Lite
// computes it in float32.
func resizeScale(in, out int, alignCorners bool) float32 {
	if alignCorners && out > 1 {
		return float32(in-1) / float32(out-1)
	}
	return float32(in) / float32(out)
}

// bilinearCoord returns the source coordinate of output index v and its two
// neighbours, as TensorFlow Lite's ComputeInterpolationValues.
func bilinearCoord(v int, scale float32, halfPixel bool, size int) (pos float32, lo, hi int) {
	if halfPixel {
		pos = float32(float32(float32(v)+0.5)*scale) - 0.5
	} else {
		pos = float32(v) * scale
	}
	lo = max(int(float32(math.Floor(float64(pos)))), 0)
	hi = min(int(float32(math.Ceil(float64(pos)))), size-1)
	return pos, lo, hi
}

func evalResizeBilinear(n *node) error {
	in, out := n.inputs[0], n.outputs[0]
	if in.Type != fb.TensorTypeFLOAT32 || out.Type != fb.TensorTypeFLOAT32 {
		return unsupportedf("%v (FLOAT32 only)", in)
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
		return fmt.Errorf("if half_pixel_centers is true, align_corners must be false")
	}
	batch, ih, iw, c := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	o := n.output(0, []int{batch, oh, ow, c})
	if batch*c == 0 {
		return nil
	}
	st, _ := n.state.(*resizeState)
	if st == nil {
		st = &resizeState{}
		n.state = st
	}
	if cap(st.x0) < ow {
		st.x0, st.x1, st.wx = make([]int, ow), make([]int, ow), make([]float32, ow)
	}
	x0, x1, wx := st.x0[:ow], st.x1[:ow], st.wx[:ow]
	hs, ws := resizeScale(ih, oh, align), resizeScale(iw, ow, align)
	for x := range ow {
		pos, lo, hi := bilinearCoord(x, ws, half, iw)
		x0[x], x1[x], wx[x] = lo*c, hi*c, pos-float32(lo)
	}
	src, dst := in.F32(), o.F32()
	for b := 0; b < batch; b++ {
		img := src[b*ih*iw*c : (b+1)*ih*iw*c]
		for y := 0; y < oh; y++ {
			pos, y0, y1 := bilinearCoord(y, hs, half, ih)
			dy := pos - float32(y0)
			r0, r1 := img[y0*iw*c:(y0+1)*iw*c], img[y1*iw*c:(y1+1)*iw*c]
			row := dst[((b*oh)+y)*ow*c : ((b*oh)+y+1)*ow*c]
			for x := 0; x < ow; x++ {
				dx := wx[x]
				w00 := float32(1-dy) * float32(1-dx)
				w10 := dy * float32(1-dx)
				w01 := float32(1-dy) * dx
				w11 := dy * dx
				a, bb := r0[x0[x]:x0[x]+c], r1[x0[x]:x0[x]+c]
				cc, d := r0[x1[x]:x1[x]+c], r1[x1[x]:x1[x]+c]
				px := row[x*c : (x+1)*c]
				for k := range px {
					px[k] = float32(a[k]*w00) + float32(bb[k]*w10) + float32(cc[k]*w01) + float32(d[k]*w11)
				}
			}
		}
	}
	return nil
}

// nearestIndex is TensorFlow Lite's GetNearestNeighbor: align_corners
// rounds (half away from zero), otherwise the coordinate is floored;
// half_pixel_centers samples at pixel centres.
func nearestIndex(v, inSize int, scale float32, align, half bool) int {
	offset := float32(0)
	if half {
		offset = 0.5
	}
	pos := float32(float32(v)+offset) * scale
	var i int
	if align {
		i = int(math.Round(float64(pos)))
	} else {
		i = int(math.Floor(float64(pos)))
	}
	i = min(i, inSize-1)
	if half {
		i = max(i, 0)
	}
	return i
}

func evalResizeNearest(n *node) error {
	in, out := n.inputs[0], n.outputs[0]
	if err := mvSameType(in, out); err != nil {
		return err
	}
	es, err := moveSize(in)
	if err != nil {
		return err
	}
	oh, ow, err := resizeSize(n)
	if err != nil {
		return err
	}
	var align, half bool
	if opts, _ := n.opts.(*fb.ResizeNearestNeighborOptionsT); opts != nil {
		align, half = opts.AlignCorners, opts.HalfPixelCenters
	}
	batch, ih, iw, c := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	o := n.output(0, []int{batch, oh, ow, c})
	if batch*c == 0 || ih*iw == 0 {
		return nil
	}
	st, _ := n.state.(*resizeState)
	if st == nil {
		st = &resizeState{}
		n.state = st
	}
	if cap(st.x0) < ow {
		st.x0 = make([]int, ow)
	}
	xs := st.x0[:ow]
	hs, ws := resizeScale(ih, oh, align), resizeScale(iw, ow, align)
	px := c * es
	for x := range xs {
		xs[x] = nearestIndex(x, iw, ws, align, half) * px
	}
	rowIn, rowOut := iw*px, ow*px
	for b := 0; b < batch; b++ {
		for y := 0; y < oh; y++ {
			iy := nearestIndex(y, ih, hs, align, half)
			srcRow := in.Data[(b*ih+iy)*rowIn : (b*ih+iy+1)*rowIn]
			dstRow := o.Data[(b*oh+y)*rowOut : (b*oh+y+1)*rowOut]
			if y > 0 && nearestIndex(y-1, ih, hs, align, half) == iy {
				copy(dstRow, o.Data[(b*oh+y-1)*rowOut:])
				continue
			}
			for x, sx := range xs {
				copy(dstRow[x*px:(x+1)*px], srcRow[sx:sx+px])
			}
		}
	}
	return nil
}

func init() {
	register(fb.BuiltinOperatorRESIZE_BILINEAR, &kernel{eval: evalResizeBilinear})
	register(fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR, &kernel{eval: evalResizeNearest})
}
