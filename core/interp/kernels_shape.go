package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// This file holds the data-movement machinery shared by the shape, slice,
// gather, pad, resize and space kernels (an N-dimensional strided copy over
// 1, 2, 4 or 8-byte elements), and the kernels that only rearrange
// dimensions: RESHAPE, SQUEEZE, EXPAND_DIMS, TRANSPOSE, CONCATENATION, PACK,
// UNPACK, SPLIT and SPLIT_V.

// maxMoveDims bounds the rank of the strided copies. TILE doubles the rank
// of its input, so operands of up to maxMoveDims/2 dimensions always work.
const maxMoveDims = 16

// mvDims is a fixed-size shape buffer that lives on the stack, so kernels can
// compute output shapes without allocating.
type mvDims [maxMoveDims]int

// mvElem is the unsigned integer type of each supported element size; data
// movement kernels work on these views whatever the tensor's type.
type mvElem interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// moveSize returns the element size of t for data movement, or an error
// for types without a whole-byte element (INT4, STRING, ...).
func moveSize(t *Tensor) (int, error) {
	switch b := tflite.TypeBits(t.Type); b {
	case 8, 16, 32, 64:
		return b / 8, nil
	}
	return 0, unsupportedf("%s tensors", tflite.TypeName(t.Type))
}

// mvCheckRank rejects shapes the strided copies cannot index.
func mvCheckRank(t *Tensor, limit int) error {
	if len(t.Shape) > limit {
		return unsupportedf("%v has rank %d (at most %d supported)", t, len(t.Shape), limit)
	}
	return nil
}

// mvSameType checks that the output has the input's element type.
func mvSameType(in, out *Tensor) error {
	if in.Type != out.Type {
		return fmt.Errorf("output %v has a different type from input %v", out, in)
	}
	return nil
}

// moveOperands checks what a data-movement kernel needs before it moves
// anything: `inputs` inputs with input 0 present (names lists them for the
// message), an output of the input's type, a whole-byte element size and a
// rank of at most maxRank (0: no limit). It returns input 0, output 0 and
// the element size.
func moveOperands(n *node, inputs int, names string, maxRank int) (in, out *Tensor, es int, err error) {
	if len(n.inputs) != inputs || n.inputs[0] == nil {
		return nil, nil, 0, fmt.Errorf("want %d inputs %s", inputs, names)
	}
	in, out = n.inputs[0], n.outputs[0]
	if err := mvSameType(in, out); err != nil {
		return nil, nil, 0, err
	}
	if es, err = moveSize(in); err != nil {
		return nil, nil, 0, err
	}
	if maxRank > 0 {
		if err := mvCheckRank(in, maxRank); err != nil {
			return nil, nil, 0, err
		}
	}
	return in, out, es, nil
}

// mvSame checks that out can take in's elements as they are: the same
// type and, for quantized tensors, the same parameters.
func mvSame(in, out *Tensor) error {
	if err := mvSameType(in, out); err != nil {
		return err
	}
	return mvSameQuant(in, out)
}

// mvSameQuant rejects quantized tensors whose parameters differ: data
// movement kernels copy raw values and do not requantize.
func mvSameQuant(in, out *Tensor) error {
	switch in.Type {
	case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16:
	default:
		return nil
	}
	if len(in.Scale) == 0 || len(out.Scale) == 0 {
		return nil
	}
	if in.Scale[0] != out.Scale[0] || mvZeroPoint(in) != mvZeroPoint(out) {
		return unsupportedf("requantization from %v to %v", in, out)
	}
	return nil
}

func mvZeroPoint(t *Tensor) int64 {
	if len(t.ZeroPoint) > 0 {
		return t.ZeroPoint[0]
	}
	return 0
}

// mvStrides fills st with the element strides of a row-major shape.
func mvStrides(shape []int, st []int) {
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
}

// mvList copies v for an error message, so that stack buffers holding
// shapes do not escape to the heap on the error-free path.
func mvList(v []int) []int { return append([]int(nil), v...) }

func mvProd(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// mvIntAt returns element i of an INT32 or INT64 tensor.
func mvIntAt(t *Tensor, i int) int {
	if t.Type == fb.TensorTypeINT64 {
		return int(t.I64()[i])
	}
	return int(t.I32()[i])
}

// mvCheckInts checks that t is an INT32 or INT64 operand with its data.
func mvCheckInts(t *Tensor, what string) error {
	if t == nil {
		return fmt.Errorf("missing %s operand", what)
	}
	if t.Type != fb.TensorTypeINT32 && t.Type != fb.TensorTypeINT64 {
		return fmt.Errorf("%s %v: want INT32 or INT64", what, t)
	}
	if len(t.Data) < t.NumElements()*t.ElemSize() {
		return fmt.Errorf("%s %v has no data", what, t)
	}
	return nil
}

// mvReadInts appends the values of an INT32/INT64 operand to dst[:0].
func mvReadInts(t *Tensor, what string, dst []int) ([]int, error) {
	if err := mvCheckInts(t, what); err != nil {
		return nil, err
	}
	dst = dst[:0]
	n := t.NumElements()
	for i := 0; i < n; i++ {
		dst = append(dst, mvIntAt(t, i))
	}
	return dst, nil
}

// mvScalarInt reads a one-element INT32/INT64 operand (a scalar or [1]).
func mvScalarInt(t *Tensor, what string) (int, error) {
	if err := mvCheckInts(t, what); err != nil {
		return 0, err
	}
	if t.NumElements() != 1 {
		return 0, fmt.Errorf("%s %v: want a single value", what, t)
	}
	return mvIntAt(t, 0), nil
}

// mvCopy copies a strided view: for every index i of shape,
//
//	dst[dOff + Σ i_k·dStr_k] = src[sOff + Σ i_k·sStr_k]
//
// with offsets and strides counted in elements of esize bytes (strides may
// be zero or negative). Dimensions are merged where both sides are
// contiguous, contiguous runs are moved with copy, and a transposition of
// the two innermost source/destination dimensions is done in cache blocks.
func mvCopy(dst, src []byte, esize int, shape []int, dOff int, dStr []int, sOff int, sStr []int) {
	var sh, ds, ss mvDims
	r := 0
	for k := range shape {
		if shape[k] == 0 {
			return
		}
		if shape[k] == 1 {
			continue
		}
		if r > 0 && ds[r-1] == dStr[k]*shape[k] && ss[r-1] == sStr[k]*shape[k] {
			sh[r-1] *= shape[k]
			ds[r-1], ss[r-1] = dStr[k], sStr[k]
			continue
		}
		sh[r], ds[r], ss[r] = shape[k], dStr[k], sStr[k]
		r++
	}
	switch esize {
	case 1:
		mvCopyT(dst, src, r, &sh, &ds, &ss, dOff, sOff)
	case 2:
		mvCopyT(view[uint16](dst), view[uint16](src), r, &sh, &ds, &ss, dOff, sOff)
	case 4:
		mvCopyT(view[uint32](dst), view[uint32](src), r, &sh, &ds, &ss, dOff, sOff)
	case 8:
		mvCopyT(view[uint64](dst), view[uint64](src), r, &sh, &ds, &ss, dOff, sOff)
	default:
		panic(fmt.Sprintf("interp: mvCopy of %d-byte elements", esize))
	}
}

// mvTile is the block edge of the cache-blocked transposition.
const mvTile = 16

func mvCopyT[T mvElem](dst, src []T, r int, sh, ds, ss *mvDims, d, s int) {
	if r == 0 {
		dst[d] = src[s]
		return
	}
	last := r - 1
	n, di, si := sh[last], ds[last], ss[last]
	// A transposition: the destination is contiguous along the last
	// dimension and the source along another one; copy in square tiles so
	// both sides stay in cache.
	tj := -1
	if di == 1 && si != 1 && n >= mvTile/2 {
		for j := 0; j < last; j++ {
			if ss[j] == 1 && sh[j] >= mvTile/2 {
				tj = j
				break
			}
		}
	}
	var idx mvDims
	for {
		switch {
		case tj >= 0:
			mvTranspose(dst, src, d, ds[tj], s, si, sh[tj], n)
		case di == 1 && si == 1:
			copy(dst[d:d+n], src[s:s+n])
		case di == 1:
			out := dst[d : d+n]
			p := s
			for i := range out {
				out[i] = src[p]
				p += si
			}
		default:
			p, q := d, s
			for i := 0; i < n; i++ {
				dst[p] = src[q]
				p += di
				q += si
			}
		}
		// Advance the odometer over the outer dimensions.
		k := last - 1
		for ; k >= 0; k-- {
			if k == tj {
				continue
			}
			idx[k]++
			d += ds[k]
			s += ss[k]
			if idx[k] < sh[k] {
				break
			}
			d -= ds[k] * sh[k]
			s -= ss[k] * sh[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// mvTranspose copies rows×cols elements where the destination advances
// by dr per row and 1 per column, the source by 1 per row and sc per column.
func mvTranspose[T mvElem](dst, src []T, d, dr, s, sc, rows, cols int) {
	for r0 := 0; r0 < rows; r0 += mvTile {
		r1 := min(r0+mvTile, rows)
		for c0 := 0; c0 < cols; c0 += mvTile {
			c1 := min(c0+mvTile, cols)
			for r := r0; r < r1; r++ {
				out := dst[d+r*dr+c0 : d+r*dr+c1]
				p := s + r + c0*sc
				for i := range out {
					out[i] = src[p]
					p += sc
				}
			}
		}
	}
}

// mvFill sets every element of b (esize-byte elements) to the value
// whose little-endian bytes are v[:esize].
func mvFill(b []byte, esize int, v []byte) {
	if len(b) == 0 {
		return
	}
	zero := true
	for _, x := range v[:esize] {
		if x != 0 {
			zero = false
		}
	}
	if zero {
		clear(b)
		return
	}
	switch esize {
	case 1:
		mvFillT(b, v[0])
	case 2:
		mvFillT(view[uint16](b), view[uint16](v)[0])
	case 4:
		mvFillT(view[uint32](b), view[uint32](v)[0])
	case 8:
		mvFillT(view[uint64](b), view[uint64](v)[0])
	}
}

func mvFillT[T mvElem](b []T, v T) {
	for i := range b {
		b[i] = v
	}
}

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
		if !sameShape(in.Shape, first.Shape) {
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
	register(fb.BuiltinOperatorRESHAPE, &kernel{prepare: prepareReshape, eval: evalReshape})
	register(fb.BuiltinOperatorSQUEEZE, &kernel{eval: evalSqueeze})
	register(fb.BuiltinOperatorEXPAND_DIMS, &kernel{eval: evalExpandDims})
	register(fb.BuiltinOperatorTRANSPOSE, &kernel{prepare: prepareTranspose, eval: evalTranspose})
	register(fb.BuiltinOperatorCONCATENATION, &kernel{eval: evalConcatenation})
	register(fb.BuiltinOperatorPACK, &kernel{eval: evalPack})
	register(fb.BuiltinOperatorUNPACK, &kernel{eval: evalUnpack})
	register(fb.BuiltinOperatorSPLIT, &kernel{eval: evalSplit})
	register(fb.BuiltinOperatorSPLIT_V, &kernel{eval: evalSplitV})
}
