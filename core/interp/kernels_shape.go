package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// The kernels that only rearrange dimensions: RESHAPE, SQUEEZE,
// EXPAND_DIMS and TRANSPOSE.

// ---- RESHAPE ----

type reshapeState struct {
	fixed []int // the target shape when it does not depend on inputs; nil otherwise
}

// reshapeTarget returns the requested shape (with a possible -1), from the
// shape tensor when it is an INT32 vector, else from the options, as
// TensorFlow Lite does.
func reshapeTarget(n *node, buf []int) ([]int, error) {
	if shape := n.input(1); shape != nil {
		vector := len(shape.Shape) == 1
		if vector && shape.Type == fb.TensorTypeINT32 {
			return mvReadInts(shape, "shape", buf)
		}
		// TensorFlow Lite falls back to the options for any other shape
		// operand; an INT64 vector is honoured when the options are empty.
		opts, _ := n.opts.(*fb.ReshapeOptionsT)
		if vector && shape.Type == fb.TensorTypeINT64 && (opts == nil || len(opts.NewShape) == 0) {
			return mvReadInts(shape, "shape", buf)
		}
	}
	buf = buf[:0]
	if opts, _ := n.opts.(*fb.ReshapeOptionsT); opts != nil {
		ns := opts.NewShape
		// Legacy models write [0] for a scalar.
		if !(len(ns) == 1 && ns[0] == 0) {
			for _, d := range ns {
				buf = append(buf, int(d))
			}
		}
	}
	return buf, nil
}

// resolveReshape fills in the -1 dimension of target for count elements.
func resolveReshape(target []int, count int) error {
	stretch, known := -1, 1
	for i, d := range target {
		switch {
		case d == -1:
			if stretch >= 0 {
				return fmt.Errorf("new shape %v has more than one -1", mvList(target))
			}
			stretch = i
		case d < 0:
			return fmt.Errorf("new shape %v has a negative dimension", mvList(target))
		default:
			known *= d
		}
	}
	if stretch >= 0 {
		if known == 0 {
			return fmt.Errorf("cannot infer the -1 of new shape %v from %d elements", mvList(target), count)
		}
		target[stretch] = count / known
		known *= target[stretch]
	}
	if known != count {
		return fmt.Errorf("cannot reshape %d elements to %v", count, mvList(target))
	}
	return nil
}

func prepareReshape(n *node) error {
	in := n.input(0)
	if in == nil || len(n.outputs) != 1 {
		return fmt.Errorf("want 1 or 2 inputs and 1 output")
	}
	if err := mvSameType(in, n.outputs[0]); err != nil {
		return err
	}
	st := &reshapeState{}
	n.state = st
	if shape := n.input(1); shape == nil || shape.IsConst() {
		t, err := reshapeTarget(n, nil)
		if err != nil {
			return err
		}
		st.fixed = t
		if t == nil {
			st.fixed = []int{}
		}
	}
	return nil
}

func evalReshape(n *node) error {
	in := n.inputs[0]
	st := n.state.(*reshapeState)
	var buf mvDims
	var target []int
	if st.fixed != nil {
		target = append(buf[:0], st.fixed...)
	} else {
		t, err := reshapeTarget(n, buf[:0])
		if err != nil {
			return err
		}
		target = t
	}
	if err := resolveReshape(target, in.NumElements()); err != nil {
		return err
	}
	out := n.output(0, target)
	copy(out.Data, in.Data)
	return nil
}

// ---- SQUEEZE ----

func evalSqueeze(n *node) error {
	in, out := n.inputs[0], n.outputs[0]
	if err := mvSameType(in, out); err != nil {
		return err
	}
	rank := len(in.Shape)
	if rank > 32 {
		return unsupportedf("rank %d", rank)
	}
	var drop uint64
	opts, _ := n.opts.(*fb.SqueezeOptionsT)
	if opts == nil || len(opts.SqueezeDims) == 0 {
		for i, d := range in.Shape {
			if d == 1 {
				drop |= 1 << i
			}
		}
	} else {
		for _, a := range opts.SqueezeDims {
			ax, err := normAxis(int(a), rank)
			if err != nil {
				return err
			}
			if in.Shape[ax] != 1 {
				return fmt.Errorf("cannot squeeze dimension %d of %v: size is not 1", ax, in)
			}
			drop |= 1 << ax
		}
	}
	var buf [32]int
	shape := buf[:0]
	for i, d := range in.Shape {
		if drop&(1<<i) == 0 {
			shape = append(shape, d)
		}
	}
	copy(n.output(0, shape).Data, in.Data)
	return nil
}

// ---- EXPAND_DIMS ----

func evalExpandDims(n *node) error {
	in, out := n.inputs[0], n.outputs[0]
	if err := mvSameType(in, out); err != nil {
		return err
	}
	axis, err := mvScalarInt(n.input(1), "axis")
	if err != nil {
		return err
	}
	rank := len(in.Shape)
	if axis < 0 {
		axis += rank + 1
	}
	if axis < 0 || axis > rank {
		return fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if rank >= maxMoveDims {
		return unsupportedf("rank %d", rank+1)
	}
	var buf mvDims
	shape := append(buf[:0], in.Shape[:axis]...)
	shape = append(shape, 1)
	shape = append(shape, in.Shape[axis:]...)
	copy(n.output(0, shape).Data, in.Data)
	return nil
}

// ---- TRANSPOSE ----

type transposeState struct {
	perm []int // constant permutation, or nil
}

func readPerm(t *Tensor, rank int, buf []int) ([]int, error) {
	perm, err := mvReadInts(t, "perm", buf)
	if err != nil {
		return nil, err
	}
	if len(t.Shape) > 1 {
		return nil, fmt.Errorf("perm %v is not a vector", t)
	}
	if len(perm) > maxMoveDims {
		return nil, unsupportedf("rank %d", len(perm))
	}
	if rank >= 0 && len(perm) != rank {
		return nil, fmt.Errorf("perm has %d entries for an input of rank %d", len(perm), rank)
	}
	var seen uint64
	for _, p := range perm {
		if p < 0 || p >= len(perm) || seen&(1<<p) != 0 {
			return nil, fmt.Errorf("perm %v is not a permutation", mvList(perm))
		}
		seen |= 1 << p
	}
	return perm, nil
}

func prepareTranspose(n *node) error {
	if len(n.inputs) != 2 || n.inputs[0] == nil || len(n.outputs) != 1 {
		return fmt.Errorf("want 2 inputs and 1 output")
	}
	if err := mvSameType(n.inputs[0], n.outputs[0]); err != nil {
		return err
	}
	st := &transposeState{}
	n.state = st
	if p := n.inputs[1]; p != nil && p.IsConst() {
		perm, err := readPerm(p, -1, nil)
		if err != nil {
			return err
		}
		if len(perm) > maxMoveDims {
			return unsupportedf("rank %d", len(perm))
		}
		st.perm = perm
	}
	return nil
}

func evalTranspose(n *node) error {
	in := n.inputs[0]
	es, err := moveSize(in)
	if err != nil {
		return err
	}
	if err := mvCheckRank(in, maxMoveDims); err != nil {
		return err
	}
	st := n.state.(*transposeState)
	rank := len(in.Shape)
	var pbuf mvDims
	perm := st.perm
	if perm == nil {
		if perm, err = readPerm(n.inputs[1], rank, pbuf[:0]); err != nil {
			return err
		}
	} else if len(perm) != rank {
		return fmt.Errorf("perm has %d entries for an input of rank %d", len(perm), rank)
	}
	var inSt, shape, sStr, dStr mvDims
	mvStrides(in.Shape, inSt[:rank])
	for i, p := range perm {
		shape[i] = in.Shape[p]
		sStr[i] = inSt[p]
	}
	mvStrides(shape[:rank], dStr[:rank])
	out := n.output(0, shape[:rank])
	mvCopy(out.Data, in.Data, es, shape[:rank], 0, dStr[:rank], 0, sStr[:rank])
	return nil
}

func init() {
	register(fb.BuiltinOperatorRESHAPE, &kernel{prepare: prepareReshape, eval: evalReshape})
	register(fb.BuiltinOperatorSQUEEZE, &kernel{eval: evalSqueeze})
	register(fb.BuiltinOperatorEXPAND_DIMS, &kernel{eval: evalExpandDims})
	register(fb.BuiltinOperatorTRANSPOSE, &kernel{prepare: prepareTranspose, eval: evalTranspose})
}
