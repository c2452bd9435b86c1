package interp

import (
	"errors"
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Reductions MEAN SUM REDUCE_MAX REDUCE_MIN REDUCE_PROD over the axes of an
// int32 (or int64) tensor, negative and repeated axes allowed, keep_dims
// from ReducerOptions. The input is walked in row-major order and each
// element is folded into its output slot, which is TensorFlow Lite's
// reference order, so float32 results match it bit for bit; MEAN of float32
// sums in float32 and divides, MEAN of integers sums in int64 and divides
// with truncation.

type redKind int

const (
	redSum redKind = iota
	redProd
	redMax
	redMin
)

type redState struct {
	ew      ewState
	keep    [ewMaxDims]int // output shape with reduced dims set to 1
	out     [ewMaxDims]int // output shape as produced
	reduced [ewMaxDims]bool
}

type redOp struct {
	kind redKind
	mean bool
}

func init() {
	register(fb.BuiltinOperatorSUM, &kernel{eval: (&redOp{kind: redSum}).eval})
	register(fb.BuiltinOperatorMEAN, &kernel{eval: (&redOp{kind: redSum, mean: true}).eval})
	register(fb.BuiltinOperatorREDUCE_PROD, &kernel{eval: (&redOp{kind: redProd}).eval})
	register(fb.BuiltinOperatorREDUCE_MAX, &kernel{eval: (&redOp{kind: redMax}).eval})
	register(fb.BuiltinOperatorREDUCE_MIN, &kernel{eval: (&redOp{kind: redMin}).eval})
}

// redPlan checks n's operands, resolves the axes and sizes the output: it
// returns the plan of the reduction (operand 0 is the output, with the
// reduced dimensions kept as 1), the output and the number of input
// elements folded into each output element. st holds the buffers.
func redPlan(n *node, st *redState) (*ewPlan, *Tensor, int, error) {
	in, axis := n.input(0), n.input(1)
	if in == nil || axis == nil || len(n.outputs) < 1 {
		return nil, nil, 0, errors.New("needs an input, an axis tensor and one output")
	}
	if o := n.outputs[0]; o.Type != in.Type {
		return nil, nil, 0, fmt.Errorf("output type %s differs from input type %s", tflite.TypeName(o.Type), tflite.TypeName(in.Type))
	}
	rank := len(in.Shape)
	if rank > ewMaxDims {
		return nil, nil, 0, unsupportedf("input rank %d (at most %d)", rank, ewMaxDims)
	}
	reduced := st.reduced[:rank]
	clear(reduced)
	read := func(a int) error {
		if a < -rank || a >= rank {
			if rank == 0 {
				return nil // a scalar reduces to itself
			}
			return fmt.Errorf("axis %d out of range for rank %d", a, rank)
		}
		if a < 0 {
			a += rank
		}
		reduced[a] = true
		return nil
	}
	switch axis.Type {
	case fb.TensorTypeINT32:
		for _, a := range axis.I32() {
			if err := read(int(a)); err != nil {
				return nil, nil, 0, err
			}
		}
	case fb.TensorTypeINT64:
		for _, a := range axis.I64() {
			if err := read(int(a)); err != nil {
				return nil, nil, 0, err
			}
		}
	default:
		return nil, nil, 0, fmt.Errorf("axis tensor is %s, want INT32", tflite.TypeName(axis.Type))
	}
	keepDims := false
	if o, ok := n.opts.(*fb.ReducerOptionsT); ok && o != nil {
		keepDims = o.KeepDims
	}
	keep, outShape := st.keep[:rank], st.out[:0]
	count := 1
	for i, d := range in.Shape {
		if d < 0 {
			return nil, nil, 0, fmt.Errorf("%v has an unknown dimension", in)
		}
		keep[i] = d
		if reduced[i] {
			keep[i] = 1
			count *= d
			if keepDims {
				outShape = append(outShape, 1)
			}
		} else {
			outShape = append(outShape, d)
		}
	}
	p := &st.ew.plan
	p.init(in.Shape, keep)
	return p, n.output(0, outShape), count, nil
}

func (op *redOp) eval(n *node) error {
	st, ok := n.state.(*redState)
	if !ok {
		st = &redState{}
		n.state = st
	}
	p, out, count, err := redPlan(n, st)
	if err != nil {
		return err
	}
	in := n.inputs[0]

	switch in.Type {
	case fb.TensorTypeFLOAT32:
		d := out.F32()
		redFill(d, op.kind)
		redRun(p, op.kind, d, in.F32())
		if op.mean {
			c := float32(count)
			for i := range d {
				d[i] /= c
			}
		}
	case fb.TensorTypeINT32:
		if op.mean {
			acc := view[int64](n.scratch(8 * len(out.I32())))
			clear(acc)
			redRun(p, redSum, acc, in.I32())
			redMeanInt(out.I32(), acc, count)
		} else {
			d := out.I32()
			redFill(d, op.kind)
			redRun(p, op.kind, d, in.I32())
		}
	case fb.TensorTypeINT64:
		d := out.I64()
		redFill(d, op.kind)
		redRun(p, op.kind, d, in.I64())
		if op.mean {
			redMeanInt(d, d, count)
		}
	case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16:
		// Raw integer extremes are exact for any quantization that input
		// and output share.
		if op.kind != redMax && op.kind != redMin {
			return unsupportedf("%s input", tflite.TypeName(in.Type))
		}
		if !redSameQuant(in, out) {
			return unsupportedf("%s input and output with different quantization", tflite.TypeName(in.Type))
		}
		switch in.Type {
		case fb.TensorTypeINT8:
			redFill(out.I8(), op.kind)
			redRun(p, op.kind, out.I8(), in.I8())
		case fb.TensorTypeUINT8:
			redFill(out.U8(), op.kind)
			redRun(p, op.kind, out.U8(), in.U8())
		default:
			redFill(out.I16(), op.kind)
			redRun(p, op.kind, out.I16(), in.I16())
		}
	default:
		return unsupportedf("%s input", tflite.TypeName(in.Type))
	}
	return nil
}

func redSameQuant(a, b *Tensor) bool {
	if len(a.Scale) != len(b.Scale) || len(a.ZeroPoint) != len(b.ZeroPoint) {
		return false
	}
	for i := range a.Scale {
		if a.Scale[i] != b.Scale[i] {
			return false
		}
	}
	for i := range a.ZeroPoint {
		if a.ZeroPoint[i] != b.ZeroPoint[i] {
			return false
		}
	}
	return true
}

func redMeanInt[T ~int32 | ~int64](d []T, acc []int64, count int) {
	for i, s := range acc {
		if count == 0 {
			d[i] = 0
		} else {
			d[i] = T(s / int64(count))
		}
	}
}

// redFill sets the reduction's identity: 0, 1, the lowest value (as
// TensorFlow Lite: -FLT_MAX for float32) or the highest.
func redFill[T ewNum](d []T, kind redKind) {
	var v T
	switch kind {
	case redProd:
		v = 1
	case redMax:
		v = redLimit[T](true)
	case redMin:
		v = redLimit[T](false)
	}
	for i := range d {
		d[i] = v
	}
}

func redLimit[T ewNum](lowest bool) T {
	var z T
	var lo, hi any
	switch any(z).(type) {
	case float32:
		lo, hi = float32(-math.MaxFloat32), float32(math.MaxFloat32)
	case int32:
		lo, hi = int32(math.MinInt32), int32(math.MaxInt32)
	case int64:
		lo, hi = int64(math.MinInt64), int64(math.MaxInt64)
	case int8:
		lo, hi = int8(math.MinInt8), int8(math.MaxInt8)
	case uint8:
		lo, hi = uint8(0), uint8(math.MaxUint8)
	case int16:
		lo, hi = int16(math.MinInt16), int16(math.MaxInt16)
	}
	if lowest {
		return lo.(T)
	}
	return hi.(T)
}

// redRun folds every element of s into d along the plan (operand 0 of the
// plan is the output). The innermost run of the input is either kept
// (folded elementwise into a run of d) or reduced (folded into one slot).
func redRun[D, S ewNum](p *ewPlan, kind redKind, d []D, s []S) {
	if p.size == 0 {
		return
	}
	L := p.dims[0]
	kept := p.st[0][0] != 0
	var idx [ewMaxDims]int
	od := 0
	for o := 0; o < p.size; o += L {
		x := s[o : o+L]
		if kept {
			y := d[od : od+L]
			switch kind {
			case redSum:
				for i, v := range x {
					y[i] += D(v)
				}
			case redProd:
				for i, v := range x {
					y[i] = D(v) * y[i]
				}
			case redMax:
				for i, v := range x {
					if D(v) > y[i] {
						y[i] = D(v)
					}
				}
			case redMin:
				for i, v := range x {
					if D(v) < y[i] {
						y[i] = D(v)
					}
				}
			}
		} else {
			acc := d[od]
			switch kind {
			case redSum:
				for _, v := range x {
					acc += D(v)
				}
			case redProd:
				for _, v := range x {
					acc = D(v) * acc
				}
			case redMax:
				for _, v := range x {
					if D(v) > acc {
						acc = D(v)
					}
				}
			case redMin:
				for _, v := range x {
					if D(v) < acc {
						acc = D(v)
					}
				}
			}
			d[od] = acc
		}
		for k := 1; k < p.rank; k++ {
			idx[k]++
			od += p.st[0][k]
			if idx[k] < p.dims[k] {
				break
			}
			od -= p.st[0][k] * p.dims[k]
			idx[k] = 0
		}
	}
}
