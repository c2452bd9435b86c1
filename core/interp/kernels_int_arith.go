package interp

import (
	"errors"
	"math"

	fb "litequant/core/schema/tflitefb"
)

// Integer ADD, SUB, MUL (int8, uint8, int16) and SQUARED_DIFFERENCE (int8)
// with general scales, fused activations and NumPy broadcasting (the plan of
// kernels_elementwise.go). Each element is computed on stored integers:
//
//   - TensorFlow Lite's kernels (add.cc, sub.cc, mul.cc,
//     squared_difference.cc): ADD and SUB scale both operands to
//     2·max(input scales) in fixed point after a left shift of 20 bits (15
//     for int16), add or subtract, and rescale to the output; MUL rescales
//     the product of the offset operands; SQUARED_DIFFERENCE scales like ADD
//     with a shift of 7 and rescales the squared difference.
//   - XNNPACK (the runtime's delegate takes int8 and uint8 ADD and SUB when
//     both input-to-output scale ratios lie in [2^-10, 2^8), and MUL when
//     the product-to-output ratio lies in [2^-16, 2^8)): ADD and SUB
//     multiply each operand by its ratio as a 21-bit integer and shift right
//     with rounding half up; MUL multiplies the offset operands and rounds
//     the float32 product with the ratio half to even. Both differ from
//     TensorFlow Lite's kernels by one unit on some elements.
//
// MAXIMUM and MINIMUM compare stored integers; the default kernels in
// kernels_elementwise.go already do that for int8, uint8 and int16.

type qBinKind int

const (
	qAdd qBinKind = iota
	qSub
	qMul
	qSquaredDiff
)

// qBinState is the per-node state: the broadcast plan and the elementwise
// function for the operand type, built once in prepare.
type qBinState struct {
	ew  ewState
	f   func(x, y int32) int32
	v8  ewVec[int8, int8]
	vu8 ewVec[uint8, uint8]
	v16 ewVec[int16, int16]
	xnn bool // computed as XNNPACK does (for tests and messages)
}

func init() {
	for code, kind := range map[fb.BuiltinOperator]qBinKind{
		fb.BuiltinOperatorADD:                qAdd,
		fb.BuiltinOperatorSUB:                qSub,
		fb.BuiltinOperatorMUL:                qMul,
		fb.BuiltinOperatorSQUARED_DIFFERENCE: qSquaredDiff,
	} {
		register(code, &kernel{match: qMatchInput0, prepare: prepareQBinary(kind), eval: evalQBinary})
	}
}

func prepareQBinary(kind qBinKind) func(n *node) error {
	return func(n *node) error {
		a, b := n.input(0), n.input(1)
		if a == nil || b == nil || len(n.outputs) != 1 {
			return errors.New("needs two inputs and one output")
		}
		out := n.outputs[0]
		if err := qSameTypes(a.Type, b, out); err != nil {
			return err
		}
		if kind == qSquaredDiff && a.Type != fb.TensorTypeINT8 {
			return unsupportedf("quantized SQUARED_DIFFERENCE of %v (TensorFlow Lite has an int8 kernel only)", a)
		}
		qa, err := tensorQOf(a, "input 0")
		if err != nil {
			return err
		}
		qb, err := tensorQOf(b, "input 1")
		if err != nil {
			return err
		}
		qo, err := tensorQOf(out, "output")
		if err != nil {
			return err
		}
		if a.Type == fb.TensorTypeINT16 && (qa.zp != 0 || qb.zp != 0 || qo.zp != 0) {
			return unsupportedf("int16 operands with nonzero zero points (%d, %d, %d): the runtime's 16-bit kernels require 0", qa.zp, qb.zp, qo.zp)
		}
		act := ewFusedActivation(n.opts)
		st := &qBinState{}
		switch kind {
		case qAdd, qSub:
			if o, ok := n.opts.(*fb.SubOptionsT); ok && o != nil && o.PotScaleInt16 && a.Type == fb.TensorTypeINT16 {
				return unsupportedf("int16 SUB with pot_scale_int16 (only the general-scale kernel is implemented)")
			}
			if o, ok := n.opts.(*fb.AddOptionsT); ok && o != nil && o.PotScaleInt16 && a.Type == fb.TensorTypeINT16 {
				return unsupportedf("int16 ADD with pot_scale_int16 (only the general-scale kernel is implemented)")
			}
			if xnnTakesAdd(a.Type, qa, qb, qo) && !xnnOff(n.it) {
				st.f, err = xnnAddFunc(kind == qSub, a.Type, act, qa, qb, qo)
				st.xnn = true
			} else {
				st.f, err = tfliteAddFunc(kind == qSub, a.Type, act, qa, qb, qo)
			}
		case qMul:
			if xnnTakesMul(a.Type, qa, qb, qo) && !xnnOff(n.it) {
				st.f, err = xnnMulFunc(a.Type, act, qa, qb, qo)
				st.xnn = true
			} else {
				st.f, err = tfliteMulFunc(a.Type, act, qa, qb, qo)
			}
		case qSquaredDiff:
			st.f, err = tfliteSquaredDiffFunc(a.Type, qa, qb, qo)
		}
		if err != nil {
			return err
		}
		f := st.f
		switch a.Type {
		case fb.TensorTypeINT8:
			st.v8 = ewVecOf(func(x, y int8) int8 { return int8(f(int32(x), int32(y))) })
		case fb.TensorTypeUINT8:
			st.vu8 = ewVecOf(func(x, y uint8) uint8 { return uint8(f(int32(x), int32(y))) })
		default:
			st.v16 = ewVecOf(func(x, y int16) int16 { return int16(f(int32(x), int32(y))) })
		}
		n.state = st
		return nil
	}
}

func evalQBinary(n *node) error {
	st := n.state.(*qBinState)
	a, b := n.inputs[0], n.inputs[1]
	shape, err := ewBroadcast(&st.ew.shape, a.Shape, b.Shape)
	if err != nil {
		return err
	}
	p := &st.ew.plan
	p.init(shape, a.Shape, b.Shape)
	out := n.output(0, shape)
	switch a.Type {
	case fb.TensorTypeINT8:
		ewRun(p, &st.v8, nil, out.I8(), a.I8(), b.I8())
	case fb.TensorTypeUINT8:
		ewRun(p, &st.vu8, nil, out.U8(), a.U8(), b.U8())
	default:
		ewRun(p, &st.v16, nil, out.I16(), a.I16(), b.I16())
	}
	return nil
}

// xnnTakesAdd reports whether the runtime's XNNPACK delegate runs an ADD or
// SUB with these parameters (its checks of the scale ratios, in float32).
func xnnTakesAdd(typ fb.TensorType, qa, qb, qo tensorQ) bool {
	if typ != fb.TensorTypeINT8 && typ != fb.TensorTypeUINT8 {
		return false
	}
	ok := func(r float32) bool { return r >= 1.0/1024 && r < 256 }
	return ok(qa.scale/qo.scale) && ok(qb.scale/qo.scale)
}

// xnnTakesMul is xnnTakesAdd for MUL: the product of the input scales over
// the output scale.
func xnnTakesMul(typ fb.TensorType, qa, qb, qo tensorQ) bool {
	if typ != fb.TensorTypeINT8 && typ != fb.TensorTypeUINT8 {
		return false
	}
	r := float32(qa.scale*qb.scale) / qo.scale
	return r >= 1.0/65536 && r < 256
}

// tfliteAddFunc is TensorFlow Lite's general quantized ADD or SUB.
func tfliteAddFunc(sub bool, typ fb.TensorType, act fb.ActivationFunctionType, qa, qb, qo tensorQ) (func(x, y int32) int32, error) {
	lo, hi, err := qActRange(act, typ, qo)
	if err != nil {
		return nil, err
	}
	left := 20
	if typ == fb.TensorTypeINT16 {
		left = 15
	}
	twiceMax := 2 * float64(max(qa.scale, qb.scale))
	ma, sa := qMultiplier(float64(qa.scale) / twiceMax)
	mb, sb := qMultiplier(float64(qb.scale) / twiceMax)
	mo, so := qMultiplier(twiceMax / float64(float32(int32(1)<<left)*qo.scale))
	offA, offB, zo := -qa.zp, -qb.zp, qo.zp
	return func(x, y int32) int32 {
		u := qMulByMultiplier((x+offA)*(1<<left), ma, sa)
		v := qMulByMultiplier((y+offB)*(1<<left), mb, sb)
		if sub {
			v = -v
		}
		r := qMulByMultiplier(u+v, mo, so) + zo
		return min(max(r, lo), hi)
	}, nil
}

// xnnAddFunc is XNNPACK's quantized ADD (SUB negates the second ratio), as
// xnn_init_qs8_add_minmax_wasmsimd_params and the qs8/qu8 vadd kernels
// compute it.
func xnnAddFunc(sub bool, typ fb.TensorType, act fb.ActivationFunctionType, qa, qb, qo tensorQ) (func(x, y int32) int32, error) {
	lo, hi, err := xnnActRange(act, typ, qo)
	if err != nil {
		return nil, err
	}
	ra, rb := qa.scale/qo.scale, qb.scale/qo.scale
	if sub {
		rb = -rb
	}
	absA, absB := float32(math.Abs(float64(ra))), float32(math.Abs(float64(rb)))
	exp := int32(math.Float32bits(max(absA, absB))>>23) - 127
	shift := uint32(20 - exp)
	mult := func(abs float32, neg bool) int32 {
		m := int32(math.RoundToEven(float64(math.Float32frombits(math.Float32bits(abs) + shift<<23))))
		if neg {
			return -m
		}
		return m
	}
	ma, mb := mult(absA, ra < 0), mult(absB, rb < 0)
	bias := int32(1)<<(shift-1) - ma*qa.zp - mb*qb.zp
	zo := qo.zp
	return func(x, y int32) int32 {
		acc := bias + x*ma + y*mb
		r := acc >> shift
		return min(max(r, lo-zo), hi-zo) + zo
	}, nil
}

// tfliteMulFunc is TensorFlow Lite's quantized MUL: the product of the
// offset operands times input scale × input scale / output scale (computed
// in float32, then quantized), plus the output zero point.
func tfliteMulFunc(typ fb.TensorType, act fb.ActivationFunctionType, qa, qb, qo tensorQ) (func(x, y int32) int32, error) {
	lo, hi, err := qActRange(act, typ, qo)
	if err != nil {
		return nil, err
	}
	m, s := qMultiplier(float64(float32(qa.scale*qb.scale) / qo.scale))
	offA, offB, zo := -qa.zp, -qb.zp, qo.zp
	return func(x, y int32) int32 {
		r := qMulByMultiplier((x+offA)*(y+offB), m, s) + zo
		return min(max(r, lo), hi)
	}, nil
}

// xnnMulFunc is XNNPACK's quantized MUL (fp32 requantization of the product
// of the offset operands).
func xnnMulFunc(typ fb.TensorType, act fb.ActivationFunctionType, qa, qb, qo tensorQ) (func(x, y int32) int32, error) {
	lo, hi, err := xnnActRange(act, typ, qo)
	if err != nil {
		return nil, err
	}
	rq := newXNNFP32Requant(float32(qa.scale*qb.scale)/qo.scale, typ, qo.zp, lo, hi)
	za, zb := qa.zp, qb.zp
	return func(x, y int32) int32 { return rq.apply((x - za) * (y - zb)) }, nil
}

// tfliteSquaredDiffFunc is TensorFlow Lite's int8 SQUARED_DIFFERENCE: both
// operands scaled to 2·max(input scales) after a left shift of 7, their
// difference squared and rescaled to the output, clamped to the type.
func tfliteSquaredDiffFunc(typ fb.TensorType, qa, qb, qo tensorQ) (func(x, y int32) int32, error) {
	lo, hi := qTypeRange(typ)
	const left = 7
	twiceMax := 2 * float64(max(qa.scale, qb.scale))
	ma, sa := qMultiplier(float64(qa.scale) / twiceMax)
	mb, sb := qMultiplier(float64(qb.scale) / twiceMax)
	mo, so := qMultiplier(twiceMax * twiceMax / (float64(1<<(2*left)) * float64(qo.scale)))
	offA, offB, zo := -qa.zp, -qb.zp, qo.zp
	return func(x, y int32) int32 {
		u := qMulByMultiplier((x+offA)*(1<<left), ma, sa)
		v := qMulByMultiplier((y+offB)*(1<<left), mb, sb)
		d := u - v
		r := qMulByMultiplier(d*d, mo, so) + zo
		return min(max(r, lo), hi)
	}, nil
}
