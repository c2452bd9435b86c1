package interp

import (
	fb "litequant/core/schema/tflitefb"
)

// Which operators the runtime's XNNPACK delegate computes, model-wide.
//
// The delegate claims each operator it supports (for the integer kernels
// here: int8 and uint8 ADD, SUB and MUL within its scale-ratio ranges, MEAN
// over the spatial axes, MAX_POOL_2D, requantizing QUANTIZE), but it creates XNNPACK's operators
// only when the interpreter is prepared, and one that fails there (an output
// range whose quantized bounds meet, e.g. RELU with the output zero point at
// the type's top; a spatial MEAN whose input-to-output scale ratio is
// outside [2^-8, 2^8), which the delegate does not check) fails the
// delegate as a whole: TensorFlow Lite then runs
// the model without it, every operator on its own kernels. Measured: in a
// model of four int8 MUL operators, one of them with RELU and output zero
// point 127 moves the other three from XNNPACK's rounding to TensorFlow
// Lite's (1 to 4 of 120 elements each by one unit). Only the operators of
// these kernels are checked; a failing XNNPACK operator of another kind
// (convolutions, ...) would have the same effect and is not detected here.

// xnnOff reports whether the delegate fails on it's model as a whole.
func xnnOff(it *Interpreter) bool {
	for _, n := range it.nodes {
		if xnnNodeFails(n) {
			return true
		}
	}
	return false
}

// xnnNodeFails reports whether the delegate would claim n and then fail to
// create its XNNPACK operator.
func xnnNodeFails(n *node) bool {
	var act fb.ActivationFunctionType
	switch n.code {
	case fb.BuiltinOperatorADD, fb.BuiltinOperatorSUB, fb.BuiltinOperatorMUL:
		act = ewFusedActivation(n.opts)
	case fb.BuiltinOperatorMAX_POOL_2D:
		if o, ok := n.opts.(*fb.Pool2DOptionsT); ok && o != nil {
			act = o.FusedActivationFunction
		}
	case fb.BuiltinOperatorMEAN:
	default:
		return false
	}
	if len(n.outputs) != 1 || len(n.inputs) == 0 {
		return false
	}
	a, out := n.inputs[0], n.outputs[0]
	if a == nil || (a.Type != fb.TensorTypeINT8 && a.Type != fb.TensorTypeUINT8) || out.Type != a.Type {
		return false
	}
	qa, err := tensorQOf(a, "input 0")
	if err != nil {
		return false
	}
	qo, err := tensorQOf(out, "output")
	if err != nil {
		return false
	}
	switch n.code {
	case fb.BuiltinOperatorMEAN:
		// The delegate claims a MEAN over the spatial axes without looking
		// at the scales; XNNPACK's global average pooling then refuses a
		// ratio outside [2^-8, 2^8).
		if len(n.inputs) < 2 || n.inputs[1] == nil || !qRedSpatial(a, n.inputs[1]) {
			return false
		}
		r := qa.scale / qo.scale
		return r < 1.0/256 || r >= 256
	case fb.BuiltinOperatorADD, fb.BuiltinOperatorSUB, fb.BuiltinOperatorMUL:
		b := n.input(1)
		if b == nil || b.Type != a.Type {
			return false
		}
		qb, err := tensorQOf(b, "input 1")
		if err != nil {
			return false
		}
		if n.code == fb.BuiltinOperatorMUL && !xnnTakesMul(a.Type, qa, qb, qo) || n.code != fb.BuiltinOperatorMUL && !xnnTakesAdd(a.Type, qa, qb, qo) {
			return false
		}
	}
	lo, hi, err := xnnActRange(act, a.Type, qo)
	return err == nil && lo >= hi
}
