package interp

import (
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// SHAPE, RANK, FILL, ZEROS_LIKE, RANGE, ARG_MAX and ARG_MIN. (TensorFlow
// Lite has no ONES_LIKE builtin: converters emit FILL or ONES_LIKE as a
// Flex op.)

func evalShapeOp(n *node) error {
	in, out := n.inputs[0], n.outputs[0]
	if in == nil {
		return fmt.Errorf("missing input")
	}
	rank := len(in.Shape)
	o := n.output(0, []int{rank})
	switch out.Type {
	case fb.TensorTypeINT32:
		v := o.I32()
		for i, d := range in.Shape {
			v[i] = int32(d)
		}
	case fb.TensorTypeINT64:
		v := o.I64()
		for i, d := range in.Shape {
			v[i] = int64(d)
		}
	default:
		return fmt.Errorf("output %v: want INT32 or INT64", out)
	}
	return nil
}

func evalRank(n *node) error {
	in, out := n.inputs[0], n.outputs[0]
	if in == nil {
		return fmt.Errorf("missing input")
	}
	o := n.output(0, nil)
	switch out.Type {
	case fb.TensorTypeINT32:
		o.I32()[0] = int32(len(in.Shape))
	case fb.TensorTypeINT64:
		o.I64()[0] = int64(len(in.Shape))
	default:
		return fmt.Errorf("output %v: want INT32", out)
	}
	return nil
}

func evalFill(n *node) error {
	if len(n.inputs) != 2 || n.inputs[1] == nil {
		return fmt.Errorf("want 2 inputs (dims, value)")
	}
	dimsT, value, out := n.inputs[0], n.inputs[1], n.outputs[0]
	if err := mvSameType(value, out); err != nil {
		return err
	}
	es, err := moveSize(value)
	if err != nil {
		return err
	}
	if value.NumElements() != 1 || len(value.Data) < es {
		return fmt.Errorf("value %v must be a scalar", value)
	}
	if err := mvCheckInts(dimsT, "dims"); err != nil {
		return err
	}
	if len(dimsT.Shape) != 1 {
		return fmt.Errorf("dims %v is not a vector", dimsT)
	}
	rank := dimsT.NumElements()
	if rank > maxMoveDims {
		return unsupportedf("rank %d", rank)
	}
	var shape mvDims
	for i := 0; i < rank; i++ {
		shape[i] = mvIntAt(dimsT, i)
		if shape[i] < 0 {
			return fmt.Errorf("dims has a negative value %d", shape[i])
		}
	}
	o := n.output(0, shape[:rank])
	var v [8]byte
	copy(v[:], value.Data[:es])
	mvFill(o.Data, es, v[:])
	return nil
}

func evalZerosLike(n *node) error {
	in, out := n.inputs[0], n.outputs[0]
	if err := mvSameType(in, out); err != nil {
		return err
	}
	clear(n.output(0, in.Shape).Data)
	return nil
}

// ---- RANGE ----

func evalRange(n *node) error {
	if len(n.inputs) != 3 {
		return fmt.Errorf("want 3 inputs (start, limit, delta)")
	}
	start, limit, delta, out := n.inputs[0], n.inputs[1], n.inputs[2], n.outputs[0]
	for _, t := range n.inputs {
		if t == nil || t.Type != out.Type || len(t.Shape) != 0 || len(t.Data) < t.ElemSize() {
			return fmt.Errorf("start, limit and delta must be scalars of the output's type %s", tflite.TypeName(out.Type))
		}
	}
	switch out.Type {
	case fb.TensorTypeINT32:
		return rangeInt(n, int64(start.I32()[0]), int64(limit.I32()[0]), int64(delta.I32()[0]))
	case fb.TensorTypeINT64:
		return rangeInt(n, start.I64()[0], limit.I64()[0], delta.I64()[0])
	case fb.TensorTypeFLOAT32:
		s, l, d := start.F32()[0], limit.F32()[0], delta.F32()[0]
		if err := rangeCheck(s < l, s > l, d == 0, d > 0); err != nil {
			return err
		}
		size := math.Ceil(math.Abs(float64((l - s) / d)))
		if size > math.MaxInt32 {
			return fmt.Errorf("range of %v elements is too large", size)
		}
		v := n.output(0, []int{int(size)}).F32()
		x := s
		for i := range v {
			v[i] = x
			x += d
		}
		return nil
	}
	return unsupportedf("%s range", tflite.TypeName(out.Type))
}

func rangeCheck(less, greater, zero, positive bool) error {
	if zero {
		return fmt.Errorf("delta must not be zero")
	}
	if (less && !positive) || (greater && positive) {
		return fmt.Errorf("delta has the wrong sign to go from start to limit")
	}
	return nil
}

func rangeInt(n *node, s, l, d int64) error {
	if err := rangeCheck(s < l, s > l, d == 0, d > 0); err != nil {
		return err
	}
	diff, step := l-s, d
	if diff < 0 {
		diff = -diff
	}
	if step < 0 {
		step = -step
	}
	size := (diff + step - 1) / step
	if size > math.MaxInt32 {
		return fmt.Errorf("range of %d elements is too large", size)
	}
	o := n.output(0, []int{int(size)})
	if o.Type == fb.TensorTypeINT64 {
		v := o.I64()
		for i := range v {
			v[i] = s + int64(i)*d
		}
		return nil
	}
	v := o.I32()
	for i := range v {
		v[i] = int32(s + int64(i)*d)
	}
	return nil
}

// ---- ARG_MAX, ARG_MIN ----

type argNum interface {
	~float32 | ~float64 | ~int8 | ~uint8 | ~int16 | ~int32 | ~int64
}

// argBest writes, for every outer×inner position, the index along the axis
// of the first maximum (or minimum) value.
func argBest[T argNum, O int32 | int64](in []T, out []O, outer, size, inner int, isMax bool) {
	for o := 0; o < outer; o++ {
		base := o * size * inner
		for i := 0; i < inner; i++ {
			best, bi := in[base+i], 0
			for k := 1; k < size; k++ {
				v := in[base+k*inner+i]
				if (isMax && v > best) || (!isMax && v < best) {
					best, bi = v, k
				}
			}
			out[o*inner+i] = O(bi)
		}
	}
}

func argDispatch[O int32 | int64](in *Tensor, out []O, outer, size, inner int, isMax bool) error {
	switch in.Type {
	case fb.TensorTypeFLOAT32:
		argBest(in.F32(), out, outer, size, inner, isMax)
	case fb.TensorTypeINT8:
		argBest(in.I8(), out, outer, size, inner, isMax)
	case fb.TensorTypeUINT8, fb.TensorTypeBOOL:
		argBest(in.U8(), out, outer, size, inner, isMax)
	case fb.TensorTypeINT16:
		argBest(in.I16(), out, outer, size, inner, isMax)
	case fb.TensorTypeINT32:
		argBest(in.I32(), out, outer, size, inner, isMax)
	case fb.TensorTypeINT64:
		argBest(in.I64(), out, outer, size, inner, isMax)
	default:
		return unsupportedf("%s input", tflite.TypeName(in.Type))
	}
	return nil
}

func evalArgMinMax(n *node, isMax bool) error {
	if len(n.inputs) != 2 || n.inputs[0] == nil {
		return fmt.Errorf("want 2 inputs (input, axis)")
	}
	in, out := n.inputs[0], n.outputs[0]
	a, err := mvScalarInt(n.inputs[1], "axis")
	if err != nil {
		return err
	}
	rank := len(in.Shape)
	axis, err := normAxis(a, rank)
	if err != nil {
		return err
	}
	if rank > maxMoveDims {
		return unsupportedf("rank %d", rank)
	}
	if out.Type != fb.TensorTypeINT32 && out.Type != fb.TensorTypeINT64 {
		return fmt.Errorf("output %v: want INT32 or INT64", out)
	}
	size := in.Shape[axis]
	if size == 0 {
		return fmt.Errorf("axis %d of %v is empty", axis, in)
	}
	var shape mvDims
	r := copy(shape[:], in.Shape[:axis])
	r += copy(shape[r:], in.Shape[axis+1:])
	o := n.output(0, shape[:r])
	outer, inner := mvProd(in.Shape[:axis]), mvProd(in.Shape[axis+1:])
	if out.Type == fb.TensorTypeINT64 {
		return argDispatch(in, o.I64(), outer, size, inner, isMax)
	}
	return argDispatch(in, o.I32(), outer, size, inner, isMax)
}

func init() {
	register(fb.BuiltinOperatorSHAPE, &kernel{eval: evalShapeOp})
	register(fb.BuiltinOperatorRANK, &kernel{eval: evalRank})
	register(fb.BuiltinOperatorFILL, &kernel{eval: evalFill})
	register(fb.BuiltinOperatorZEROS_LIKE, &kernel{eval: evalZerosLike})
	register(fb.BuiltinOperatorRANGE, &kernel{eval: evalRange})
	register(fb.BuiltinOperatorARG_MAX, &kernel{eval: func(n *node) error { return evalArgMinMax(n, true) }})
	register(fb.BuiltinOperatorARG_MIN, &kernel{eval: func(n *node) error { return evalArgMinMax(n, false) }})
}
