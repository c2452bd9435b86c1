package interp

import (
	"errors"
	"fmt"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Integer kernels of the comparisons (EQUAL NOT_EQUAL LESS LESS_EQUAL
// GREATER GREATER_EQUAL) on int8 and uint8: as TensorFlow Lite's
// ComparisonQuantized, each input is shifted left by 8 bits after its zero
// point is removed and multiplied by its own scale (as a Q31 multiplier
// below one), and the results are compared.

// iqCmpSide is one input's rescaling.
type iqCmpSide struct {
	zp    int32
	mult  int32
	shift int
}

func (s iqCmpSide) scale(x int32) int32 {
	return qMulByMultiplier((x-s.zp)*(1<<8), s.mult, s.shift)
}

type iqCmpState struct {
	ew   ewState
	a, b iqCmpSide
}

func iqCmpSideOf(t *Tensor) (iqCmpSide, error) {
	s, zp, err := iqParams(t)
	if err != nil {
		return iqCmpSide{}, err
	}
	if s >= 1 {
		return iqCmpSide{}, fmt.Errorf("%v: scale %g; the runtime's quantized comparison needs scales below 1", t, s)
	}
	m, sh := qMultiplier(float64(s))
	return iqCmpSide{zp: zp, mult: m, shift: sh}, nil
}

func iqIs8(t *Tensor) bool {
	return t != nil && (t.Type == fb.TensorTypeINT8 || t.Type == fb.TensorTypeUINT8)
}

// iqCmpKernel is the integer kernel of one comparison.
func iqCmpKernel(cmp func(a, b int32) bool) *kernel {
	return &kernel{
		match: func(n *node) bool { return iqIs8(n.input(0)) },
		prepare: func(n *node) error {
			a, b := n.input(0), n.input(1)
			if b == nil || len(n.outputs) < 1 {
				return errors.New("needs two inputs and one output")
			}
			if a.Type != b.Type {
				return fmt.Errorf("input types %s and %s differ", tflite.TypeName(a.Type), tflite.TypeName(b.Type))
			}
			if o := n.outputs[0]; o.Type != fb.TensorTypeBOOL {
				return fmt.Errorf("output type %s, want BOOL", tflite.TypeName(o.Type))
			}
			sa, err := iqCmpSideOf(a)
			if err != nil {
				return err
			}
			sb, err := iqCmpSideOf(b)
			if err != nil {
				return err
			}
			n.state = &iqCmpState{a: sa, b: sb}
			return nil
		},
		eval: func(n *node) error {
			st, ok := n.state.(*iqCmpState)
			if !ok {
				return errors.New("integer comparison not prepared")
			}
			a, b := n.input(0), n.input(1)
			shape, err := ewBroadcast(&st.ew.shape, a.Shape, b.Shape)
			if err != nil {
				return err
			}
			st.ew.plan.init(shape, a.Shape, b.Shape)
			out := n.output(0, shape)
			if a.Type == fb.TensorTypeINT8 {
				v := ewVecOf(func(x, y int8) bool { return cmp(st.a.scale(int32(x)), st.b.scale(int32(y))) })
				ewRun(&st.ew.plan, &v, nil, out.Bool(), a.I8(), b.I8())
			} else {
				v := ewVecOf(func(x, y uint8) bool { return cmp(st.a.scale(int32(x)), st.b.scale(int32(y))) })
				ewRun(&st.ew.plan, &v, nil, out.Bool(), a.U8(), b.U8())
			}
			return nil
		},
	}
}

func init() {
	register(fb.BuiltinOperatorEQUAL, iqCmpKernel(cmpEq[int32]))
	register(fb.BuiltinOperatorNOT_EQUAL, iqCmpKernel(cmpNe[int32]))
	register(fb.BuiltinOperatorLESS, iqCmpKernel(cmpLt[int32]))
	register(fb.BuiltinOperatorLESS_EQUAL, iqCmpKernel(cmpLe[int32]))
	register(fb.BuiltinOperatorGREATER, iqCmpKernel(cmpGt[int32]))
	register(fb.BuiltinOperatorGREATER_EQUAL, iqCmpKernel(cmpGe[int32]))
}
