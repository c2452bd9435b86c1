package interp

import (
	"errors"
	"fmt"
	"slices"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Comparisons (EQUAL NOT_EQUAL LESS LESS_EQUAL GREATER GREATER_EQUAL),
// logical operators (LOGICAL_AND LOGICAL_OR LOGICAL_NOT) and selection
// (SELECT, SELECT_V2), on the broadcasting engine of kernels_elementwise.go.

type cmpOrdered interface {
	~int32 | ~int64 | ~float32
}

func cmpEq[T comparable](a, b T) bool          { return a == b }
func cmpNe[T comparable](a, b T) bool          { return a != b }
func cmpLt[T cmpOrdered](a, b T) bool          { return a < b }
func cmpLe[T cmpOrdered](a, b T) bool          { return a <= b }
func cmpGt[T cmpOrdered](a, b T) bool          { return a > b }
func cmpGe[T cmpOrdered](a, b T) bool          { return a >= b }
func cmpAnd(a, b bool) bool                    { return a && b }
func cmpOr(a, b bool) bool                     { return a || b }
func cmpFn[T any](f func(a, b T) bool) ewBinFn { return ewPlain(ewVecOf(f)) }

// cmpOrderedFns builds an ordered comparison for the numeric types.
func cmpOrderedFns(f32 func(a, b float32) bool, i32 func(a, b int32) bool, i64 func(a, b int64) bool) map[fb.TensorType]ewBinFn {
	return map[fb.TensorType]ewBinFn{ewF32: cmpFn(f32), ewI32: cmpFn(i32), ewI64: cmpFn(i64)}
}

func init() {
	eq := cmpOrderedFns(cmpEq[float32], cmpEq[int32], cmpEq[int64])
	eq[fb.TensorTypeBOOL] = cmpFn(cmpEq[bool])
	ne := cmpOrderedFns(cmpNe[float32], cmpNe[int32], cmpNe[int64])
	ne[fb.TensorTypeBOOL] = cmpFn(cmpNe[bool])
	register(fb.BuiltinOperatorEQUAL, (&ewBinary{fns: eq, outBool: true}).kernel())
	register(fb.BuiltinOperatorNOT_EQUAL, (&ewBinary{fns: ne, outBool: true}).kernel())
	register(fb.BuiltinOperatorLESS, (&ewBinary{fns: cmpOrderedFns(cmpLt[float32], cmpLt[int32], cmpLt[int64]), outBool: true}).kernel())
	register(fb.BuiltinOperatorLESS_EQUAL, (&ewBinary{fns: cmpOrderedFns(cmpLe[float32], cmpLe[int32], cmpLe[int64]), outBool: true}).kernel())
	register(fb.BuiltinOperatorGREATER, (&ewBinary{fns: cmpOrderedFns(cmpGt[float32], cmpGt[int32], cmpGt[int64]), outBool: true}).kernel())
	register(fb.BuiltinOperatorGREATER_EQUAL, (&ewBinary{fns: cmpOrderedFns(cmpGe[float32], cmpGe[int32], cmpGe[int64]), outBool: true}).kernel())
	register(fb.BuiltinOperatorLOGICAL_AND, (&ewBinary{fns: map[fb.TensorType]ewBinFn{fb.TensorTypeBOOL: cmpFn(cmpAnd)}, outBool: true}).kernel())
	register(fb.BuiltinOperatorLOGICAL_OR, (&ewBinary{fns: map[fb.TensorType]ewBinFn{fb.TensorTypeBOOL: cmpFn(cmpOr)}, outBool: true}).kernel())
	register(fb.BuiltinOperatorLOGICAL_NOT, &kernel{eval: evalLogicalNot})
	register(fb.BuiltinOperatorSELECT, &kernel{eval: evalSelectV1})
	register(fb.BuiltinOperatorSELECT_V2, &kernel{eval: evalSelectV2})
}

func evalLogicalNot(n *node) error {
	in := n.input(0)
	if in == nil || len(n.outputs) < 1 {
		return errors.New("needs one input and one output")
	}
	if in.Type != fb.TensorTypeBOOL || n.outputs[0].Type != fb.TensorTypeBOOL {
		return fmt.Errorf("input %s and output %s, want BOOL", tflite.TypeName(in.Type), tflite.TypeName(n.outputs[0].Type))
	}
	out := n.output(0, in.Shape)
	src, dst := in.U8(), out.U8()
	for i, v := range src {
		dst[i] = 1 &^ v // bools are stored as 0 or 1
	}
	return nil
}

// selOperands checks SELECT's operand types.
func selOperands(n *node) (c, x, y, out *Tensor, err error) {
	c, x, y = n.input(0), n.input(1), n.input(2)
	if c == nil || x == nil || y == nil || len(n.outputs) < 1 {
		return nil, nil, nil, nil, errors.New("needs three inputs and one output")
	}
	out = n.outputs[0]
	if c.Type != fb.TensorTypeBOOL {
		return nil, nil, nil, nil, fmt.Errorf("condition is %s, want BOOL", tflite.TypeName(c.Type))
	}
	if x.Type != y.Type || out.Type != x.Type {
		return nil, nil, nil, nil, fmt.Errorf("value types %s, %s and output %s differ", tflite.TypeName(x.Type), tflite.TypeName(y.Type), tflite.TypeName(out.Type))
	}
	if s := x.ElemSize(); s != 1 && s != 2 && s != 4 && s != 8 || tflite.TypeBits(x.Type) < 8 {
		return nil, nil, nil, nil, unsupportedf("%s values", tflite.TypeName(x.Type))
	}
	return c, x, y, out, nil
}

// evalSelectV1 is SELECT: the condition has the values' shape, or is a
// scalar, or a vector choosing along the values' first dimension.
func evalSelectV1(n *node) error {
	c, x, y, _, err := selOperands(n)
	if err != nil {
		return err
	}
	if !slices.Equal(x.Shape, y.Shape) {
		return fmt.Errorf("values have shapes %v and %v; SELECT needs equal shapes", x.Shape, y.Shape)
	}
	nc, nx := c.NumElements(), x.NumElements()
	switch {
	case slices.Equal(c.Shape, x.Shape), nc == 1 && nx == 1:
		out := n.output(0, x.Shape)
		selElementwise(out.Data, c.Bool(), x.Data, y.Data, x.ElemSize())
	case len(c.Shape) == 0 || len(c.Shape) == 1 && len(x.Shape) >= 1 && c.Shape[0] == x.Shape[0]:
		out := n.output(0, x.Shape)
		if nc == 0 {
			return nil
		}
		block := len(x.Data) / nc
		for i, v := range c.Bool() {
			src := y.Data
			if v {
				src = x.Data
			}
			copy(out.Data[i*block:(i+1)*block], src[i*block:])
		}
	default:
		return fmt.Errorf("condition shape %v does not fit values of shape %v (SELECT needs the same shape, a scalar, or a vector over the first dimension)", c.Shape, x.Shape)
	}
	return nil
}

func selElementwise(d []byte, c []bool, x, y []byte, size int) {
	switch size {
	case 1:
		selSame(d, c, x, y)
	case 2:
		selSame(view[uint16](d), c, view[uint16](x), view[uint16](y))
	case 4:
		selSame(view[uint32](d), c, view[uint32](x), view[uint32](y))
	case 8:
		selSame(view[uint64](d), c, view[uint64](x), view[uint64](y))
	}
}

func selSame[T any](d []T, c []bool, x, y []T) {
	c, x, y = c[:len(d)], x[:len(d)], y[:len(d)]
	for i := range d {
		if c[i] {
			d[i] = x[i]
		} else {
			d[i] = y[i]
		}
	}
}

// evalSelectV2 is SELECT_V2: condition, x and y broadcast together.
func evalSelectV2(n *node) error {
	c, x, y, _, err := selOperands(n)
	if err != nil {
		return err
	}
	st := ewStateOf(n)
	shape, err := ewBroadcast(&st.shape, c.Shape, x.Shape, y.Shape)
	if err != nil {
		return err
	}
	st.plan.init(shape, c.Shape, x.Shape, y.Shape)
	out := n.output(0, shape)
	p := &st.plan
	switch x.ElemSize() {
	case 1:
		selRun(p, out.Data, c.Bool(), x.Data, y.Data)
	case 2:
		selRun(p, view[uint16](out.Data), c.Bool(), view[uint16](x.Data), view[uint16](y.Data))
	case 4:
		selRun(p, view[uint32](out.Data), c.Bool(), view[uint32](x.Data), view[uint32](y.Data))
	case 8:
		selRun(p, view[uint64](out.Data), c.Bool(), view[uint64](x.Data), view[uint64](y.Data))
	}
	return nil
}

func selRun[T any](p *ewPlan, d []T, c []bool, x, y []T) {
	if p.size == 0 {
		return
	}
	L := p.dims[0]
	sc, sx, sy := p.st[0][0], p.st[1][0], p.st[2][0]
	var idx [ewMaxDims]int
	oc, ox, oy := 0, 0, 0
	for o := 0; o < p.size; o += L {
		dd := d[o : o+L]
		if sc == 0 {
			src, s, off := y, sy, oy
			if c[oc] {
				src, s, off = x, sx, ox
			}
			if s != 0 {
				copy(dd, src[off:off+L])
			} else {
				v := src[off]
				for i := range dd {
					dd[i] = v
				}
			}
		} else {
			cc := c[oc : oc+L]
			for i := range dd {
				if cc[i] {
					dd[i] = x[ox+i*sx]
				} else {
					dd[i] = y[oy+i*sy]
				}
			}
		}
		for k := 1; k < p.rank; k++ {
			idx[k]++
			oc += p.st[0][k]
			ox += p.st[1][k]
			oy += p.st[2][k]
			if idx[k] < p.dims[k] {
				break
			}
			oc -= p.st[0][k] * p.dims[k]
			ox -= p.st[1][k] * p.dims[k]
			oy -= p.st[2][k] * p.dims[k]
			idx[k] = 0
		}
	}
}
