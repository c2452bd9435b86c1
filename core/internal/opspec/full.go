package opspec

import (
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Full is an operator's behaviour under full-integer quantization: the
// activations become integers too (int8, or int16 in the 16x8 mode), so
// the operator runs only if the runtime has an integer kernel for it, and
// that kernel's constraints on scales and zero points must hold.
//
// Roles of the operator's inputs under full-integer quantization:
//   - Spec.Weights not listed in Inputs are weights: they must be
//     constant, and become symmetric int8 (per-channel along
//     Weight.ChannelAxis where WeightScales allows it, else per-tensor).
//   - Spec.Biases become int32 (int64 in 16x8) with zero point 0 and scale
//     input scale × weight scale (per channel): the input is Inputs[0],
//     the weight Spec.Weights[0].
//   - Inputs (or every input with AllInputs) carry real values quantized
//     like activations: with their own calibrated range, or, for a
//     constant, the range of its own values.
//   - Any other input (shapes, axes, indices, conditions) is left as it is.
type Full struct {
	// Int8 is the lowest operator version whose kernel takes int8
	// activations (TensorFlow Lite's op_version.cc), 0 when the runtime
	// has no int8 kernel: the operator then stays float.
	Int8 int32
	// Int16 is the same for 16x8 (int16 activations with zero point 0,
	// int8 weights, int64 biases); 0 when the runtime has no such kernel.
	Int16 int32
	// Uint8 is the same for the legacy uint8 scheme (uint8 activations
	// and weights, both asymmetric per-tensor, int32 biases); 0 when the
	// runtime has no uint8 kernel. Most uint8 kernels are version 1.
	Uint8 int32

	// Inputs lists the input positions holding real-valued activations.
	Inputs []int
	// AllInputs: every input is one (CONCATENATION, PACK).
	AllInputs bool
	// IntegerOutputs: the outputs are not real values (BOOL from a
	// comparison, INT32 from ARG_MAX) and are not quantized.
	IntegerOutputs bool

	// WeightScales is what the integer kernel accepts for its weights.
	WeightScales Scales

	// SameScale: the kernel moves, picks or compares values without
	// rescaling them (or checks that the parameters are equal), so every
	// real-valued input and every output must share one scale and zero
	// point.
	SameScale bool
	// Output8 and Output16 are the output parameters the int8 and int16
	// kernels demand, nil when any are accepted.
	Output8, Output16 *Params
	// OutputU8 is the output parameters the uint8 kernel demands, nil
	// when any are accepted.
	OutputU8 *Params

	// Supports, when set, reports whether the integer kernel for
	// activations of type act (INT8 or INT16) runs this operator; when it
	// cannot, the reason says why. Nil means always.
	Supports func(m *tflite.Model, sg *fb.SubGraphT, op *fb.OperatorT, act fb.TensorType) (ok bool, reason string)
	// Prepare, when set, adjusts the operator's options for its integer
	// kernel (ADD and SUB in 16x8 need pot_scale_int16 false for general
	// scales).
	Prepare func(op *fb.OperatorT, act fb.TensorType)
}

// Params are fixed quantization parameters.
type Params struct {
	Scale     float32
	ZeroPoint int64
}

// Kernel returns the operator version of the integer kernel for
// activations of type act (INT8, INT16 or UINT8), 0 when there is none.
func (f *Full) Kernel(act fb.TensorType) int32 {
	switch act {
	case fb.TensorTypeINT8:
		return f.Int8
	case fb.TensorTypeINT16:
		return f.Int16
	case fb.TensorTypeUINT8:
		return f.Uint8
	}
	return 0
}

// FixedOutput returns the output parameters the kernel for activations of
// type act demands, or nil.
func (f *Full) FixedOutput(act fb.TensorType) *Params {
	switch act {
	case fb.TensorTypeINT8:
		return f.Output8
	case fb.TensorTypeINT16:
		return f.Output16
	case fb.TensorTypeUINT8:
		return f.OutputU8
	}
	return nil
}

// IsInput reports whether input position k holds a real-valued activation.
func (f *Full) IsInput(k int) bool {
	if f.AllInputs {
		return true
	}
	for _, x := range f.Inputs {
		if x == k {
			return true
		}
	}
	return false
}

// Role is what an operator input is under full-integer quantization.
type Role int

const (
	// Other: not a real value (a shape, an axis, indices, a condition);
	// left as it is.
	Other Role = iota
	// Activation: a real value quantized with its range.
	Activation
	// WeightRole: a constant weight, symmetric int8.
	WeightRole
	// BiasRole: a bias, int32 (int64 in 16x8).
	BiasRole
)

// Role returns the role of input position k of the spec's operator.
func (s *Spec) Role(k int) Role {
	if s == nil {
		return Other
	}
	if s.Full.IsInput(k) {
		return Activation
	}
	if _, ok := s.Weight(k); ok {
		return WeightRole
	}
	if s.IsBias(k) {
		return BiasRole
	}
	return Other
}

// pot16 is the output scale TensorFlow Lite's int16 SOFTMAX, LOGISTIC and
// TANH produce: 2^-15.
var pot16 = &Params{Scale: 1.0 / 32768, ZeroPoint: 0}

// addPotScaleOff and subPotScaleOff clear pot_scale_int16 (which the
// schema defaults to true) in 16x8, so that the int16 ADD and SUB kernels
// take general scales (operator versions 3 and 5); int8 ignores the flag.
func addPotScaleOff(op *fb.OperatorT, act fb.TensorType) {
	if act == fb.TensorTypeINT16 {
		ensureOptions[fb.AddOptionsT](op, fb.BuiltinOptionsAddOptions).PotScaleInt16 = false
	}
}

func subPotScaleOff(op *fb.OperatorT, act fb.TensorType) {
	if act == fb.TensorTypeINT16 {
		ensureOptions[fb.SubOptionsT](op, fb.BuiltinOptionsSubOptions).PotScaleInt16 = false
	}
}

// ensureOptions returns op's options as T, replacing them with default
// options of type typ when they are not.
func ensureOptions[T any](op *fb.OperatorT, typ fb.BuiltinOptions) *T {
	o, _ := optionsValue(op).(*T)
	if o == nil {
		o = new(T)
		op.BuiltinOptions = &fb.BuiltinOptionsT{Type: typ, Value: o}
	}
	return o
}

func optionsValue(op *fb.OperatorT) any {
	if op.BuiltinOptions == nil {
		return nil
	}
	return op.BuiltinOptions.Value
}
