package interp

import (
	"fmt"
	"slices"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// The kernels that join tensors along an axis or split one apart:
// CONCATENATION, PACK, UNPACK, SPLIT and SPLIT_V.

// ---- CONCATENATION, PACK ----

// mvJoin copies each input's outer×chunk block into out, where an
// input's chunk is its size along axis ax times inner (just inner when ax
// is negative): the common core of CONCATENATION and PACK.
func mvJoin(out *Tensor, ins []*Tensor, es, outer, ax, inner int) {
	chunk := func(t *Tensor) int {
		if ax < 0 {
			return inner
		}
		return t.Shape[ax] * inner
	}
	total := 0
	for _, in := range ins {
		total += chunk(in)
	}
	off := 0
	for _, in := range ins {
		c := chunk(in) * es
		if c == 0 {
			continue
		}
		for o := 0; o < outer; o++ {
			copy(out.Data[(o*total)*es+off:], in.Data[o*c:(o+1)*c])
		}
		off += c
	}
}

func evalConcatenation(n *node) error {
	opts, _ := n.opts.(*fb.ConcatenationOptionsT)
	axis, act := 0, fb.ActivationFunctionTypeNONE
	if opts != nil {
		axis, act = int(opts.Axis), opts.FusedActivationFunction
	}
	if len(n.inputs) == 0 {
		return fmt.Errorf("no inputs")
	}
	first := n.inputs[0]
	if first == nil {
		return fmt.Errorf("input 0 is missing")
	}
	out := n.outputs[0]
	es, err := moveSize(first)
	if err != nil {
		return err
	}
	rank := len(first.Shape)
	if err := mvCheckRank(first, maxMoveDims); err != nil {
		return err
	}
	ax, err := normAxis(axis, rank)
	if err != nil {
		return err
	}
	var shape mvDims
	copy(shape[:], first.Shape)
	shape[ax] = 0
	for i, in := range n.inputs {
		if in == nil {
			return fmt.Errorf("input %d is missing", i)
		}
		if err := mvSame(in, out); err != nil {
			return err
		}
		if len(in.Shape) != rank {
			return fmt.Errorf("input %v does not have rank %d", in, rank)
		}
		for k, d := range in.Shape {
			if k != ax && d != first.Shape[k] {
				return fmt.Errorf("inputs %v and %v differ outside axis %d", first, in, ax)
			}
		}
		shape[ax] += in.Shape[ax]
	}
	if act != fb.ActivationFunctionTypeNONE && out.Type != fb.TensorTypeFLOAT32 {
		return unsupportedf("fused activation on %s", tflite.TypeName(out.Type))
	}
	o := n.output(0, shape[:rank])
	inner := mvProd(first.Shape[ax+1:])
	mvJoin(o, n.inputs, es, mvProd(first.Shape[:ax]), ax, inner)
	if act != fb.ActivationFunctionTypeNONE {
		return activate(o.F32(), act)
	}
	return nil
}

func evalPack(n *node) error {
	opts, _ := n.opts.(*fb.PackOptionsT)
	axis := 0
	if opts != nil {
		axis = int(opts.Axis)
		if opts.ValuesCount != 0 && int(opts.ValuesCount) != len(n.inputs) {
			return fmt.Errorf("values_count %d but %d inputs", opts.ValuesCount, len(n.inputs))
		}
	}
	if len(n.inputs) == 0 || n.inputs[0] == nil {
		return fmt.Errorf("no inputs")
	}
	first, out := n.inputs[0], n.outputs[0]
	es, err := moveSize(first)
	if err != nil {
		return err
	}
	rank := len(first.Shape)
	if rank >= maxMoveDims {
		return unsupportedf("rank %d", rank+1)
	}
	if axis < 0 {
		axis += rank + 1
	}
	if axis < 0 || axis > rank {
		return fmt.Errorf("axis %d out of range for rank %d", axis, rank+1)
	}
	for i, in := range n.inputs {
		if in == nil {
			return fmt.Errorf("input %d is missing", i)
		}
		if err := mvSame(in, out); err != nil {
			return err
		}
		if !slices.Equal(in.Shape, first.Shape) {
			return fmt.Errorf("inputs %v and %v have different shapes", first, in)
		}
	}
	var buf mvDims
	shape := append(buf[:0], first.Shape[:axis]...)
	shape = append(shape, len(n.inputs))
	shape = append(shape, first.Shape[axis:]...)
	o := n.output(0, shape)
	inner := mvProd(first.Shape[axis:])
	mvJoin(o, n.inputs, es, mvProd(first.Shape[:axis]), -1, inner)
	return nil
}

// ---- UNPACK, SPLIT, SPLIT_V ----

// mvSplit sizes output k to in's shape with sizes[k] along axis and
// copies its part of in.
func mvSplit(n *node, in *Tensor, es, axis int, sizes []int) error {
	rank := len(in.Shape)
	if err := mvCheckRank(in, maxMoveDims); err != nil {
		return err
	}
	outer := mvProd(in.Shape[:axis])
	inner := mvProd(in.Shape[axis+1:])
	total := in.Shape[axis] * inner * es
	off := 0
	var shape mvDims
	copy(shape[:], in.Shape)
	for k, s := range sizes {
		shape[axis] = s
		o := n.output(k, shape[:rank])
		c := s * inner * es
		if c == 0 {
			continue
		}
		for i := 0; i < outer; i++ {
			copy(o.Data[i*c:(i+1)*c], in.Data[i*total+off:])
		}
		off += c
	}
	return nil
}

func mvCheckOutputs(n *node, in *Tensor) error {
	for _, o := range n.outputs {
		if err := mvSameType(in, o); err != nil {
			return err
		}
		if err := mvSameQuant(in, o); err != nil {
			return err
		}
	}
	return nil
}

func evalUnpack(n *node) error {
	in := n.inputs[0]
	es, err := moveSize(in)
	if err != nil {
		return err
	}
	opts, _ := n.opts.(*fb.UnpackOptionsT)
	axis, num := 0, 0
	if opts != nil {
		axis, num = int(opts.Axis), int(opts.Num)
	}
	rank := len(in.Shape)
	ax, err := normAxis(axis, rank)
	if err != nil {
		return err
	}
	if num == 0 {
		num = len(n.outputs)
	}
	if in.Shape[ax] != num || len(n.outputs) != num {
		return fmt.Errorf("unpacking %d values along axis %d of %v into %d outputs", num, ax, in, len(n.outputs))
	}
	if err := mvCheckOutputs(n, in); err != nil {
		return err
	}
	if err := mvCheckRank(in, maxMoveDims); err != nil {
		return err
	}
	var shape mvDims
	r := copy(shape[:], in.Shape[:ax])
	r += copy(shape[r:], in.Shape[ax+1:])
	outer := mvProd(in.Shape[:ax])
	inner := mvProd(in.Shape[ax+1:]) * es
	for k := 0; k < num; k++ {
		o := n.output(k, shape[:r])
		if inner == 0 {
			continue
		}
		for i := 0; i < outer; i++ {
			copy(o.Data[i*inner:(i+1)*inner], in.Data[(i*num+k)*inner:])
		}
	}
	return nil
}

// splitOperands checks what SPLIT and SPLIT_V share: the input's element
// size, the scalar axis (negative counts from the end) and, when the
// options give num_splits, that it matches the outputs.
func splitOperands(n *node, in, axisT *Tensor, numSplits *int32) (_ *Tensor, es, axis, num int, err error) {
	if es, err = moveSize(in); err != nil {
		return nil, 0, 0, 0, err
	}
	a, err := mvScalarInt(axisT, "axis")
	if err != nil {
		return nil, 0, 0, 0, err
	}
	if axis, err = normAxis(a, len(in.Shape)); err != nil {
		return nil, 0, 0, 0, err
	}
	num = len(n.outputs)
	if numSplits != nil && int(*numSplits) != num {
		return nil, 0, 0, 0, fmt.Errorf("num_splits %d but %d outputs", *numSplits, num)
	}
	return in, es, axis, num, nil
}

func evalSplit(n *node) error {
	if len(n.inputs) != 2 || n.inputs[1] == nil {
		return fmt.Errorf("want 2 inputs (axis, input)")
	}
	var numSplits *int32
	if opts, _ := n.opts.(*fb.SplitOptionsT); opts != nil {
		numSplits = &opts.NumSplits
	}
	in, es, axis, num, err := splitOperands(n, n.inputs[1], n.inputs[0], numSplits)
	if err != nil {
		return err
	}
	if num == 0 || in.Shape[axis]%num != 0 {
		return fmt.Errorf("cannot split dimension %d of %v into %d equal parts", axis, in, num)
	}
	if err := mvCheckOutputs(n, in); err != nil {
		return err
	}
	var sizes mvDims
	if num > len(sizes) {
		return unsupportedf("%d splits", num)
	}
	for k := 0; k < num; k++ {
		sizes[k] = in.Shape[axis] / num
	}
	return mvSplit(n, in, es, axis, sizes[:num])
}

type splitVState struct{ sizes []int }

func evalSplitV(n *node) error {
	if len(n.inputs) != 3 || n.inputs[0] == nil {
		return fmt.Errorf("want 3 inputs (input, size_splits, axis)")
	}
	var numSplits *int32
	if opts, _ := n.opts.(*fb.SplitVOptionsT); opts != nil {
		numSplits = &opts.NumSplits
	}
	in, es, axis, num, err := splitOperands(n, n.inputs[0], n.inputs[2], numSplits)
	if err != nil {
		return err
	}
	st, _ := n.state.(*splitVState)
	if st == nil {
		st = &splitVState{}
		n.state = st
	}
	sizes, err := mvReadInts(n.inputs[1], "size_splits", st.sizes)
	if err != nil {
		return err
	}
	st.sizes = sizes
	if len(sizes) != num {
		return fmt.Errorf("size_splits has %d entries for %d outputs", len(sizes), num)
	}
	unknown, sum := -1, 0
	for i, s := range sizes {
		switch {
		case s == -1:
			if unknown >= 0 {
				return fmt.Errorf("size_splits %v has more than one -1", sizes)
			}
			unknown = i
		case s < 0:
			return fmt.Errorf("size_splits %v has a negative size", sizes)
		default:
			sum += s
		}
	}
	dim := in.Shape[axis]
	if unknown >= 0 {
		if sum > dim {
			return fmt.Errorf("size_splits %v exceed dimension %d of %v", sizes, axis, in)
		}
		sizes[unknown] = dim - sum
	} else if sum != dim {
		return fmt.Errorf("size_splits %v do not add up to dimension %d of %v", sizes, axis, in)
	}
	if err := mvCheckOutputs(n, in); err != nil {
		return err
	}
	return mvSplit(n, in, es, axis, sizes)
}

func init() {
	register(fb.BuiltinOperatorCONCATENATION, &kernel{eval: evalConcatenation})
	register(fb.BuiltinOperatorPACK, &kernel{eval: evalPack})
	register(fb.BuiltinOperatorUNPACK, &kernel{eval: evalUnpack})
	register(fb.BuiltinOperatorSPLIT, &kernel{eval: evalSplit})
	register(fb.BuiltinOperatorSPLIT_V, &kernel{eval: evalSplitV})
}
