package interp

import (
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
)

// SLICE and STRIDED_SLICE: strided views of the input copied with mvCopy.

// sliceMaxDims is TensorFlow Lite's limit for SLICE and STRIDED_SLICE
// (including the axes STRIDED_SLICE adds).
const sliceMaxDims = 5

func evalSlice(n *node) error {
	in, _, es, err := moveOperands(n, 3, "(input, begin, size)", sliceMaxDims)
	if err != nil {
		return err
	}
	rank := len(in.Shape)
	begin, size := n.inputs[1], n.inputs[2]
	if err := mvCheckInts(begin, "begin"); err != nil {
		return err
	}
	if err := mvCheckInts(size, "size"); err != nil {
		return err
	}
	if len(begin.Shape) != 1 || len(size.Shape) != 1 || begin.NumElements() != rank || size.NumElements() != rank {
		return fmt.Errorf("begin %v and size %v must be vectors of length %d", begin, size, rank)
	}
	var shape, inSt, sStr, dStr mvDims
	mvStrides(in.Shape, inSt[:rank])
	off := 0
	for i := 0; i < rank; i++ {
		b, s, d := mvIntAt(begin, i), mvIntAt(size, i), in.Shape[i]
		if b < 0 || b > d {
			return fmt.Errorf("begin %d out of range for dimension %d of %v", b, i, in)
		}
		if s == -1 {
			s = d - b
		} else if s < 0 || b+s > d {
			return fmt.Errorf("invalid begin %d and size %d for dimension %d of %v", b, s, i, in)
		}
		shape[i] = s
		off += b * inSt[i]
		sStr[i] = inSt[i]
	}
	mvStrides(shape[:rank], dStr[:rank])
	o := n.output(0, shape[:rank])
	mvCopy(o.Data, in.Data, es, shape[:rank], 0, dStr[:rank], off, sStr[:rank])
	return nil
}

// stridedSpec is a STRIDED_SLICE over the effective input (the input with
// the axes of new_axis_mask inserted), as TensorFlow Lite builds it.
type stridedSpec struct {
	rank                int
	shape               mvDims // effective input shape
	inDim               mvDims // input dimension of each effective one, -1 for a new axis
	start, stop, stride mvDims
	beginMask, endMask  uint32
	shrinkMask          uint32
	offset              bool
}

func (p *stridedSpec) startFor(i int) int {
	size, s := p.shape[i], p.start[i]
	if s < 0 {
		s += size
	}
	if p.stride[i] > 0 {
		s = mvClamp(s, 0, size)
	} else {
		s = mvClamp(s, -1, size-1)
	}
	if p.beginMask&(1<<i) != 0 {
		if p.stride[i] > 0 {
			s = 0
		} else {
			s = size - 1
		}
	}
	return s
}

func (p *stridedSpec) stopFor(i, start int) int {
	size := p.shape[i]
	if p.shrinkMask&(1<<i) != 0 {
		if start >= size {
			return start
		}
		return start + 1
	}
	e := p.stop[i]
	if p.offset {
		e += start
	}
	if e < 0 {
		e += size
	}
	if p.stride[i] > 0 {
		e = mvClamp(e, 0, size)
	} else {
		e = mvClamp(e, -1, size-1)
	}
	if p.endMask&(1<<i) != 0 {
		if p.stride[i] > 0 {
			e = size
		} else {
			e = -1
		}
	}
	return e
}

func mvClamp(v, lo, hi int) int {
	if v > hi {
		return hi
	}
	if v < lo {
		return lo
	}
	return v
}

// buildStridedSpec expands the ellipsis and new axes of the masks into a
// spec over the effective input, following TensorFlow Lite's
// BuildStridedSliceParams.
func buildStridedSpec(p *stridedSpec, opts *fb.StridedSliceOptionsT, inShape []int, begin, end, strides *Tensor) error {
	var o fb.StridedSliceOptionsT
	if opts != nil {
		o = *opts
	}
	ellipsis, newAxis := uint32(o.EllipsisMask), uint32(o.NewAxisMask)
	count := begin.NumElements()
	inRank := len(inShape)
	numAdd := 0
	for i := 0; i < count && i < 32; i++ {
		if ellipsis&(1<<i) == 0 && newAxis&(1<<i) != 0 {
			numAdd++
		}
	}
	eff := inRank + numAdd
	if eff > sliceMaxDims {
		return unsupportedf("%d dimensions including added axes (at most %d)", eff, sliceMaxDims)
	}
	var effEllipsis, effNewAxis uint32
	ellipsisStart, expanded := eff, 0
	for i := 0; i < eff; {
		if ellipsis&(1<<i) != 0 {
			ellipsisStart = i
			last := max(i+1, min(i+1+numAdd+inRank-count, eff))
			expanded = last - ellipsisStart - 1
			for ; i < last; i++ {
				effEllipsis |= 1 << i
			}
			continue
		}
		if j := i - expanded; j >= 0 && newAxis&(1<<j) != 0 {
			effNewAxis |= 1 << i
		}
		i++
	}
	*p = stridedSpec{rank: eff, offset: o.Offset}
	addedEllipsis, addedAxes := 0, 0
	for i := 0; i < eff; i++ {
		src := i - addedAxes
		switch {
		case effEllipsis&(1<<i) != 0:
			addedEllipsis = max(0, i-ellipsisStart)
			p.beginMask |= 1 << i
			p.endMask |= 1 << i
			p.stride[i] = 1
		case effNewAxis&(1<<i) != 0:
			p.start[i], p.stop[i], p.stride[i] = 0, 1, 1
			p.shape[i], p.inDim[i] = 1, -1
			addedAxes++
			continue
		case i >= count+expanded:
			p.start[i], p.stop[i], p.stride[i] = 0, 0, 1
			p.beginMask |= 1 << i
			p.endMask |= 1 << i
		default:
			j := i - addedEllipsis
			if j >= count {
				return fmt.Errorf("begin/end/strides have %d entries for %d dimensions", count, eff)
			}
			p.start[i], p.stop[i], p.stride[i] = mvIntAt(begin, j), mvIntAt(end, j), mvIntAt(strides, j)
			if o.BeginMask&(1<<j) != 0 {
				p.beginMask |= 1 << i
			}
			if o.EndMask&(1<<j) != 0 {
				p.endMask |= 1 << i
			}
			if o.ShrinkAxisMask&(1<<j) != 0 {
				p.shrinkMask |= 1 << i
			}
		}
		if src < 0 || src >= inRank {
			return fmt.Errorf("begin/end/strides index more dimensions than the input's %d", inRank)
		}
		p.shape[i], p.inDim[i] = inShape[src], src
	}
	return nil
}

func evalStridedSlice(n *node) error {
	in, _, es, err := moveOperands(n, 4, "(input, begin, end, strides)", sliceMaxDims)
	if err != nil {
		return err
	}
	begin, end, strides := n.inputs[1], n.inputs[2], n.inputs[3]
	for i, t := range []*Tensor{begin, end, strides} {
		if err := mvCheckInts(t, [...]string{"begin", "end", "strides"}[i]); err != nil {
			return err
		}
		if len(t.Shape) != 1 {
			return fmt.Errorf("%v is not a vector", t)
		}
	}
	if end.NumElements() != begin.NumElements() || strides.NumElements() < begin.NumElements() {
		return fmt.Errorf("begin %v, end %v and strides %v differ in length", begin, end, strides)
	}
	opts, _ := n.opts.(*fb.StridedSliceOptionsT)
	var p stridedSpec
	if err := buildStridedSpec(&p, opts, in.Shape, begin, end, strides); err != nil {
		return err
	}
	var inSt, shape, sStr, dStr, outShape mvDims
	mvStrides(in.Shape, inSt[:len(in.Shape)])
	off, r := 0, 0
	for i := 0; i < p.rank; i++ {
		stride := p.stride[i]
		if stride == 0 {
			return fmt.Errorf("stride value has to be non-zero")
		}
		start := p.startFor(i)
		stop := p.stopFor(i, start)
		cnt := int(math.Ceil(float64(stop-start) / float64(stride)))
		if cnt < 0 {
			cnt = 0
		}
		if p.shrinkMask&(1<<i) != 0 {
			if start < 0 || start >= p.shape[i] {
				return fmt.Errorf("shrunk index out of range for dimension %d of size %d", i, p.shape[i])
			}
		} else {
			if p.offset && p.endMask&(1<<i) == 0 {
				// The offset form sizes the output from end alone; a
				// slice clamped by the input's bounds would not fill it.
				if want := max(0, int(math.Ceil(float64(p.stop[i])/float64(stride)))); want != cnt {
					return fmt.Errorf("offset slice of dimension %d runs out of the input", i)
				}
			}
			outShape[r] = cnt
			r++
		}
		shape[i] = cnt
		if d := p.inDim[i]; d >= 0 && cnt > 0 {
			off += start * inSt[d]
			sStr[i] = stride * inSt[d]
		}
	}
	mvStrides(shape[:p.rank], dStr[:p.rank])
	o := n.output(0, outShape[:r])
	mvCopy(o.Data, in.Data, es, shape[:p.rank], 0, dStr[:p.rank], off, sStr[:p.rank])
	return nil
}

func init() {
	register(fb.BuiltinOperatorSLICE, &kernel{eval: evalSlice})
	register(fb.BuiltinOperatorSTRIDED_SLICE, &kernel{eval: evalStridedSlice})
}
