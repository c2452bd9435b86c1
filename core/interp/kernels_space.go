package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// SPACE_TO_DEPTH, DEPTH_TO_SPACE, SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND
// on NHWC tensors: each is a strided view copied with mvCopy.

func blockSize(n *node) (int, error) {
	bs := 0
	switch o := n.opts.(type) {
	case *fb.SpaceToDepthOptionsT:
		if o != nil {
			bs = int(o.BlockSize)
		}
	case *fb.DepthToSpaceOptionsT:
		if o != nil {
			bs = int(o.BlockSize)
		}
	}
	if bs < 1 {
		return 0, fmt.Errorf("block_size %d must be positive", bs)
	}
	return bs, nil
}

func spaceDepthCheck(n *node) (in, out *Tensor, es, bs int, err error) {
	in, out = n.inputs[0], n.outputs[0]
	if err = mvSame(in, out); err != nil {
		return
	}
	if es, err = moveSize(in); err != nil {
		return
	}
	if len(in.Shape) != 4 {
		err = fmt.Errorf("input %v: want 4 dimensions (NHWC)", in)
		return
	}
	bs, err = blockSize(n)
	return
}

func evalSpaceToDepth(n *node) error {
	in, _, es, bs, err := spaceDepthCheck(n)
	if err != nil {
		return err
	}
	b, h, w, c := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	if h%bs != 0 || w%bs != 0 {
		return fmt.Errorf("input %v: height and width must be multiples of block_size %d", in, bs)
	}
	oh, ow := h/bs, w/bs
	o := n.output(0, []int{b, oh, ow, c * bs * bs})
	// The output as [b, oh, ow, dy, dx, c] reads in[b, oh*bs+dy, ow*bs+dx, c].
	view := [6]int{b, oh, ow, bs, bs, c}
	src := [6]int{h * w * c, bs * w * c, bs * c, w * c, c, 1}
	var dst [6]int
	mvStrides(view[:], dst[:])
	mvCopy(o.Data, in.Data, es, view[:], 0, dst[:], 0, src[:])
	return nil
}

func evalDepthToSpace(n *node) error {
	in, _, es, bs, err := spaceDepthCheck(n)
	if err != nil {
		return err
	}
	b, h, w, c := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	if c%(bs*bs) != 0 {
		return fmt.Errorf("input %v: depth must be a multiple of block_size² (%d)", in, bs*bs)
	}
	oc := c / (bs * bs)
	o := n.output(0, []int{b, h * bs, w * bs, oc})
	// The output as [b, h, dy, w, dx, oc] reads in[b, h, w, (dy*bs+dx)*oc + d].
	view := [6]int{b, h, bs, w, bs, oc}
	src := [6]int{h * w * c, w * c, bs * oc, c, oc, 1}
	var dst [6]int
	mvStrides(view[:], dst[:])
	mvCopy(o.Data, in.Data, es, view[:], 0, dst[:], 0, src[:])
	return nil
}

// spaceBatchParams reads SPACE_TO_BATCH_ND's block shape and paddings (or
// BATCH_TO_SPACE_ND's crops) for a 3-D or 4-D input, extended to 4-D as
// TensorFlow Lite does ([b, h, c] is [b, h, 1, c]).
func spaceBatchParams(n *node, what string) (shape [4]int, block [2]int, pads [4]int, err error) {
	if len(n.inputs) != 3 || n.inputs[0] == nil {
		err = fmt.Errorf("want 3 inputs (input, block_shape, %s)", what)
		return
	}
	in := n.inputs[0]
	rank := len(in.Shape)
	if rank != 3 && rank != 4 {
		err = unsupportedf("input %v (3 or 4 dimensions only)", in)
		return
	}
	spatial := rank - 2
	bt, pt := n.inputs[1], n.inputs[2]
	if err = mvCheckInts(bt, "block_shape"); err != nil {
		return
	}
	if err = mvCheckInts(pt, what); err != nil {
		return
	}
	if len(bt.Shape) != 1 || bt.NumElements() != spatial {
		err = fmt.Errorf("block_shape %v: want a vector of %d", bt, spatial)
		return
	}
	if len(pt.Shape) != 2 || pt.Shape[0] != spatial || pt.Shape[1] != 2 {
		err = fmt.Errorf("%s %v: want shape [%d, 2]", what, pt, spatial)
		return
	}
	shape = [4]int{in.Shape[0], in.Shape[1], 1, in.Shape[rank-1]}
	block = [2]int{1, 1}
	if rank == 4 {
		shape[2] = in.Shape[2]
	}
	for i := 0; i < spatial; i++ {
		block[i] = mvIntAt(bt, i)
		pads[2*i], pads[2*i+1] = mvIntAt(pt, 2*i), mvIntAt(pt, 2*i+1)
		if block[i] < 1 {
			err = fmt.Errorf("block_shape %d must be positive", block[i])
			return
		}
		if pads[2*i] < 0 || pads[2*i+1] < 0 {
			err = fmt.Errorf("%s must not be negative", what)
			return
		}
	}
	return
}

// outShape3or4 returns shape4 cut back to the input's rank.
func outShape3or4(rank int, s [4]int, buf []int) []int {
	if rank == 3 {
		return append(buf[:0], s[0], s[1], s[3])
	}
	return append(buf[:0], s[:]...)
}

func evalSpaceToBatch(n *node) error {
	in, out := n.inputs[0], n.outputs[0]
	if err := mvSame(in, out); err != nil {
		return err
	}
	es, err := moveSize(in)
	if err != nil {
		return err
	}
	s, block, pads, err := spaceBatchParams(n, "paddings")
	if err != nil {
		return err
	}
	b, h, w, c := s[0], s[1], s[2], s[3]
	ph, pw := h+pads[0]+pads[1], w+pads[2]+pads[3]
	if ph%block[0] != 0 || pw%block[1] != 0 {
		return fmt.Errorf("padded spatial size %dx%d is not a multiple of block shape %v", ph, pw, block)
	}
	oh, ow := ph/block[0], pw/block[1]
	ob := b * block[0] * block[1]
	var buf [4]int
	o := n.output(0, outShape3or4(len(in.Shape), [4]int{ob, oh, ow, c}, buf[:]))
	if len(o.Data) == 0 {
		return nil
	}
	if oh*ow != h*w {
		var zero [8]byte
		if zp := mvZeroPoint(out); zp != 0 && es == 1 {
			zero[0] = byte(zp)
		}
		mvFill(o.Data, es, zero[:])
	}
	// Output batch (sh*bw + sw)*b + i holds in[i, oh*bh + sh - top, ow*bw + sw - left].
	src := [4]int{h * w * c, block[0] * w * c, block[1] * c, 1}
	dst := [4]int{oh * ow * c, ow * c, c, 1}
	for sh := 0; sh < block[0]; sh++ {
		y0, y1 := blockRange(sh, block[0], pads[0], h, oh)
		for sw := 0; sw < block[1]; sw++ {
			x0, x1 := blockRange(sw, block[1], pads[2], w, ow)
			if y1 <= y0 || x1 <= x0 {
				continue
			}
			view := [4]int{b, y1 - y0, x1 - x0, c}
			dOff := ((sh*block[1]+sw)*b*oh+y0)*ow*c + x0*c
			sOff := (y0*block[0]+sh-pads[0])*w*c + (x0*block[1]+sw-pads[2])*c
			mvCopy(o.Data, in.Data, es, view[:], dOff, dst[:], sOff, src[:])
		}
	}
	return nil
}

// blockRange returns the range [lo, hi) of block indices i < count for
// which i*bs + shift - pad falls inside [0, size).
func blockRange(shift, bs, pad, size, count int) (lo, hi int) {
	// i*bs + shift - pad >= 0  ⇔  i >= ceil((pad - shift) / bs)
	lo = max(0, ceilDiv(pad-shift, bs))
	// i*bs + shift - pad < size  ⇔  i < ceil((size + pad - shift) / bs)
	hi = min(count, ceilDiv(size+pad-shift, bs))
	return lo, hi
}

func ceilDiv(a, b int) int {
	if a <= 0 {
		return -((-a) / b)
	}
	return (a + b - 1) / b
}

func evalBatchToSpace(n *node) error {
	in, out := n.inputs[0], n.outputs[0]
	if err := mvSame(in, out); err != nil {
		return err
	}
	es, err := moveSize(in)
	if err != nil {
		return err
	}
	s, block, crops, err := spaceBatchParams(n, "crops")
	if err != nil {
		return err
	}
	ib, h, w, c := s[0], s[1], s[2], s[3]
	nb := block[0] * block[1]
	if ib%nb != 0 {
		return fmt.Errorf("input batch %d is not a multiple of the block size %d", ib, nb)
	}
	b := ib / nb
	oh := h*block[0] - crops[0] - crops[1]
	ow := w*block[1] - crops[2] - crops[3]
	if oh < 0 || ow < 0 {
		return fmt.Errorf("crops %v exceed the block-scaled input", crops)
	}
	var buf [4]int
	o := n.output(0, outShape3or4(len(in.Shape), [4]int{b, oh, ow, c}, buf[:]))
	if len(o.Data) == 0 {
		return nil
	}
	// Input batch (sh*bw + sw)*b + i holds out[i, y*bh + sh - top, x*bw + sw - left].
	src := [4]int{h * w * c, w * c, c, 1}
	dst := [4]int{oh * ow * c, block[0] * ow * c, block[1] * c, 1}
	for sh := 0; sh < block[0]; sh++ {
		y0, y1 := blockRange(sh, block[0], crops[0], oh, h)
		for sw := 0; sw < block[1]; sw++ {
			x0, x1 := blockRange(sw, block[1], crops[2], ow, w)
			if y1 <= y0 || x1 <= x0 {
				continue
			}
			view := [4]int{b, y1 - y0, x1 - x0, c}
			sOff := ((sh*block[1]+sw)*b*h+y0)*w*c + x0*c
			dOff := (y0*block[0]+sh-crops[0])*ow*c + (x0*block[1]+sw-crops[2])*c
			mvCopy(o.Data, in.Data, es, view[:], dOff, dst[:], sOff, src[:])
		}
	}
	return nil
}

func init() {
	register(fb.BuiltinOperatorSPACE_TO_DEPTH, &kernel{eval: evalSpaceToDepth})
	register(fb.BuiltinOperatorDEPTH_TO_SPACE, &kernel{eval: evalDepthToSpace})
	register(fb.BuiltinOperatorSPACE_TO_BATCH_ND, &kernel{eval: evalSpaceToBatch})
	register(fb.BuiltinOperatorBATCH_TO_SPACE_ND, &kernel{eval: evalBatchToSpace})
}
