// Package opspec is litequant's single table of how each builtin operator
// takes part in quantization: which of its inputs hold constant weights (and
// along which axis a weight's output channels lie), which hold biases, and
// how the operator runs once its weights are quantized. Every quantization
// pass reads this table rather than knowing operators itself, the way
// TensorFlow Lite's tools/optimize/operator_property.cc serves its quantizer.
//
// Adding an operator is one entry in the specs table (spec.go) plus tests.
// An entry says which inputs are weights and biases, how the operator runs
// under dynamic-range quantization ([Dynamic]) and under full-integer
// quantization ([Full]: which integer kernels exist and from which
// operator version, which inputs carry activations, and the kernels'
// constraints on scales and zero points). An operator without an entry has
// no weights and no integer kernel as far as quantization knows: it stays
// float. Package opversion takes the integer kernels' versions from the
// entry, so that the operator version a quantized model declares is the
// one written here.
//
// The facts describe the TensorFlow Lite runtime litequant tests against
// (the WebAssembly build in @tensorflow/tfjs-tflite 0.0.1-alpha.10, whose
// operator registrations match TensorFlow Lite 2.9: see
// opversion.PinnedMax); each entry says which kernel it was checked
// against, and the integer kernels were each run in it.
package opspec

import (
	"fmt"
	"sort"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Spec is one builtin operator's quantization properties.
type Spec struct {
	// Op is the builtin operator the entry describes.
	Op fb.BuiltinOperator

	// Weights lists the inputs that hold weights when they are constant, in
	// input order.
	Weights []Weight

	// Biases lists the inputs that hold biases (added to a product of
	// weights and activations). Dynamic-range and float16 quantization keep
	// them FLOAT32.
	Biases []int

	// Dynamic describes the operator under dynamic-range quantization (int8
	// weights, float activations).
	Dynamic Dynamic

	// Full describes the operator under full-integer quantization (int8 or
	// int16 activations); the zero value means it has no integer kernel
	// and stays float.
	Full Full
}

// Weight is one weight input of an operator.
type Weight struct {
	// Input is the position in Operator.inputs.
	Input int
	// ChannelAxis is the weight's output-channel dimension: the axis
	// per-channel quantization gives each slice its own scale along. -1
	// when the weight has no such axis.
	ChannelAxis int
	// Layout maps the weight's values to input and output channels where
	// the table knows it (see Layout).
	Layout Layout
}

// Kernel says how an operator runs when a weight is int8 and its
// activations are float.
type Kernel int

const (
	// FloatKernel: the runtime has only a float kernel for float
	// activations, so an int8 weight is fed through a DEQUANTIZE operator.
	FloatKernel Kernel = iota
	// HybridKernel: a hybrid kernel takes the int8 weights directly and
	// float activations (quantizing them on the fly). When an operator has
	// several weights, the hybrid kernel needs all of them int8.
	HybridKernel
	// Int8Passthrough: the operator only moves elements (GATHER), so it runs
	// on the int8 weight itself and outputs int8 with the weight's
	// parameters; a DEQUANTIZE after it restores float for its consumers.
	Int8Passthrough
)

// String returns the kernel's name as reports print it.
func (k Kernel) String() string {
	switch k {
	case FloatKernel:
		return "float"
	case HybridKernel:
		return "hybrid"
	case Int8Passthrough:
		return "int8-passthrough"
	}
	return fmt.Sprintf("Kernel(%d)", int(k))
}

// Scales says which weight scales an operator's hybrid kernel takes.
type Scales int

const (
	// PerTensor: one scale for the whole weight.
	PerTensor Scales = iota
	// PerChannelOrTensor: per-channel scales along Weight.ChannelAxis, or
	// one scale.
	PerChannelOrTensor
	// PerChannelOnly: only per-channel scales along Weight.ChannelAxis.
	PerChannelOnly
)

// Dynamic is an operator's behaviour under dynamic-range quantization.
type Dynamic struct {
	// Kernel is how the operator runs with int8 weights and float
	// activations.
	Kernel Kernel
	// Scales is what the hybrid or passthrough kernel accepts.
	Scales Scales
	// AsymmetricInputs, set when the operator's options have
	// asymmetric_quantize_inputs, sets it (creating default options when
	// the operator has none): the converter sets it on hybrid operators
	// (activations quantized with a zero point per batch row, more
	// accurate than symmetric). Spec.SetAsymmetricInputs calls it.
	AsymmetricInputs func(op *fb.OperatorT)
	// Supports, when set, reports whether Kernel can run this particular
	// operator with the weight at input position input quantized; when it
	// cannot, the reason says why (the operator then takes its weight
	// through DEQUANTIZE). Nil means always.
	Supports func(m *tflite.Model, sg *fb.SubGraphT, op *fb.OperatorT, input int) (ok bool, reason string)
}

// Lookup returns the spec of a builtin operator, or nil when the table has
// none (the operator has no weights and no integer kernel).
func Lookup(op fb.BuiltinOperator) *Spec {
	return byOp[op]
}

// All returns every spec, ordered by operator code.
func All() []*Spec {
	out := make([]*Spec, 0, len(byOp))
	for _, s := range byOp {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}

// Weight returns the weight at input position input, if that input holds a
// weight.
func (s *Spec) Weight(input int) (Weight, bool) {
	if s == nil {
		return Weight{}, false
	}
	for _, w := range s.Weights {
		if w.Input == input {
			return w, true
		}
	}
	return Weight{}, false
}

// WeightsOrNil returns the spec's weights; nil for a nil spec.
func (s *Spec) WeightsOrNil() []Weight {
	if s == nil {
		return nil
	}
	return s.Weights
}

// IsBias reports whether input position input holds a bias.
func (s *Spec) IsBias(input int) bool {
	if s == nil {
		return false
	}
	for _, b := range s.Biases {
		if b == input {
			return true
		}
	}
	return false
}

// Name returns the operator's BuiltinOperator name.
func (s *Spec) Name() string {
	if n, ok := fb.EnumNamesBuiltinOperator[s.Op]; ok {
		return n
	}
	return fmt.Sprintf("BuiltinOperator(%d)", int(s.Op))
}

var byOp = func() map[fb.BuiltinOperator]*Spec {
	m := make(map[fb.BuiltinOperator]*Spec, len(specs))
	for i := range specs {
		s := &specs[i]
		if _, dup := m[s.Op]; dup {
			panic("opspec: two entries for " + s.Name())
		}
		m[s.Op] = s
	}
	return m
}()
