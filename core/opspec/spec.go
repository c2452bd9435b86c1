package opspec

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// specs is the table. Input positions and kernel facts come from the
// runtime's kernels (tensorflow/lite/kernels/<name>.cc); each entry says
// what was checked.
var specs = []Spec{
	{
		// conv.cc: input, filter [out, h, w, in], bias. The hybrid kernel
		// takes per-channel scales on axis 0 (one per output channel) or one
		// scale, and quantizes activations asymmetrically per batch when
		// per-channel (there is no option). Grouped convolution has no
		// hybrid kernel.
		Op:      fb.BuiltinOperatorCONV_2D,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}},
		Biases:  []int{2},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerChannelOrTensor, Supports: convNotGrouped},
	},
	{
		// depthwise_conv.cc: input, filter [1, h, w, in*multiplier], bias.
		// The hybrid kernel requires one scale per output channel (axis 3):
		// Prepare rejects a single scale.
		Op:      fb.BuiltinOperatorDEPTHWISE_CONV_2D,
		Weights: []Weight{{Input: 1, ChannelAxis: 3}},
		Biases:  []int{2},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerChannelOnly},
	},
	{
		// fully_connected.cc: input, weights [out, in], optional bias. The
		// hybrid kernel takes one scale: per-channel hybrid weights need
		// operator version 12 (TensorFlow Lite 2.17), which the runtime
		// litequant targets does not register; given per-channel scales,
		// older kernels silently use the first one.
		Op:      fb.BuiltinOperatorFULLY_CONNECTED,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}},
		Biases:  []int{2},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: true, Supports: fcDefaultWeightsFormat},
	},
	{
		// transpose_conv.cc: output_shape, weights [out, h, w, in], input,
		// optional bias. For float input Prepare requires float weights: no
		// hybrid kernel.
		Op:      fb.BuiltinOperatorTRANSPOSE_CONV,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}},
		Biases:  []int{3},
		Dynamic: Dynamic{Kernel: FloatKernel},
	},
	{
		// batch_matmul.cc: lhs, rhs. The hybrid kernel reads the right-hand
		// operand as int8 with one scale (a constant left-hand operand goes
		// through DEQUANTIZE). Which axis holds output channels depends on
		// adj_y, so neither weight names one.
		Op:      fb.BuiltinOperatorBATCH_MATMUL,
		Weights: []Weight{{Input: 0, ChannelAxis: -1}, {Input: 1, ChannelAxis: -1}},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: true, Supports: bmmRightOperand},
	},
	{
		// embedding_lookup.cc: ids, value [rows, ...]. int8 or uint8 values
		// take the hybrid path (rows dequantized as they are looked up) with
		// one scale; per-row scales need version 4 (TensorFlow Lite 2.18).
		Op:      fb.BuiltinOperatorEMBEDDING_LOOKUP,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor},
	},
	{
		// gather.cc: params, indices. GATHER copies elements, int8 included
		// (version 2), and gives its output the params' scale.
		Op:      fb.BuiltinOperatorGATHER,
		Weights: []Weight{{Input: 0, ChannelAxis: -1}},
		Dynamic: Dynamic{Kernel: Int8Passthrough, Scales: PerTensor},
	},
	{
		// svdf.cc: input, weights_feature, weights_time, bias,
		// activation_state. The hybrid kernel needs both weights int8, one
		// scale each.
		Op:      fb.BuiltinOperatorSVDF,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}, {Input: 2, ChannelAxis: 0}},
		Biases:  []int{3},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: true},
	},
	{
		// basic_rnn.cc: input, input_weights [units, in], recurrent_weights
		// [units, units], bias, hidden_state. Hybrid with both weights int8.
		Op:      fb.BuiltinOperatorRNN,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}, {Input: 2, ChannelAxis: 0}},
		Biases:  []int{3},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: true},
	},
	{
		// unidirectional_sequence_rnn.cc: the same inputs as RNN.
		Op:      fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}, {Input: 2, ChannelAxis: 0}},
		Biases:  []int{3},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: true},
	},
	{
		// unidirectional_sequence_lstm.cc: input; input-to-{input, forget,
		// cell, output} weights 1-4 [cell, in]; recurrent-to-* weights 5-8
		// [cell, out]; peephole cell-to-{input, forget, output} weights 9-11
		// [cell]; gate biases 12-15; projection weights 16 [out, cell] and
		// bias 17; states 18-19; layer-norm coefficients 20-23. The hybrid
		// kernel checks that every weight has the same type, one scale each.
		Op: fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM,
		Weights: []Weight{
			{Input: 1, ChannelAxis: 0}, {Input: 2, ChannelAxis: 0}, {Input: 3, ChannelAxis: 0}, {Input: 4, ChannelAxis: 0},
			{Input: 5, ChannelAxis: 0}, {Input: 6, ChannelAxis: 0}, {Input: 7, ChannelAxis: 0}, {Input: 8, ChannelAxis: 0},
			{Input: 9, ChannelAxis: -1}, {Input: 10, ChannelAxis: -1}, {Input: 11, ChannelAxis: -1},
			{Input: 16, ChannelAxis: 0},
		},
		Biases:  []int{12, 13, 14, 15, 17},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: true},
	},
}

// tensorAt returns the tensor at op's input position k, or nil.
func tensorAt(sg *fb.SubGraphT, op *fb.OperatorT, k int) *fb.TensorT {
	if k >= len(op.Inputs) || op.Inputs[k] < 0 || int(op.Inputs[k]) >= len(sg.Tensors) {
		return nil
	}
	return sg.Tensors[op.Inputs[k]]
}

// convNotGrouped: the hybrid CONV_2D kernel rejects grouped convolution
// (input channels a multiple of the filter's).
func convNotGrouped(_ *tflite.Model, sg *fb.SubGraphT, op *fb.OperatorT, _ int) (bool, string) {
	in, filter := tensorAt(sg, op, 0), tensorAt(sg, op, 1)
	if in == nil || filter == nil || len(filter.Shape) != 4 {
		return false, "filter is not 4-D"
	}
	if len(in.Shape) == 4 && in.Shape[3] > 0 && in.Shape[3] != filter.Shape[3] {
		return false, fmt.Sprintf("grouped convolution (%d input channels, filter takes %d) has no hybrid kernel", in.Shape[3], filter.Shape[3])
	}
	return true, ""
}

// fcDefaultWeightsFormat: the hybrid FULLY_CONNECTED kernel reads weights in
// the default layout and 2-D.
func fcDefaultWeightsFormat(_ *tflite.Model, sg *fb.SubGraphT, op *fb.OperatorT, _ int) (bool, string) {
	if op.BuiltinOptions != nil {
		if o, ok := op.BuiltinOptions.Value.(*fb.FullyConnectedOptionsT); ok && o != nil && o.WeightsFormat != fb.FullyConnectedOptionsWeightsFormatDEFAULT {
			return false, "shuffled weights format has no hybrid kernel"
		}
	}
	if w := tensorAt(sg, op, 1); w == nil || len(w.Shape) != 2 {
		return false, "weights are not 2-D"
	}
	return true, ""
}

// bmmRightOperand: hybrid BATCH_MATMUL quantizes only its right-hand
// operand; the left one must be a float activation.
func bmmRightOperand(_ *tflite.Model, sg *fb.SubGraphT, op *fb.OperatorT, input int) (bool, string) {
	if input != 1 {
		return false, "the hybrid kernel reads only the right-hand operand as int8"
	}
	if lhs := tensorAt(sg, op, 0); lhs == nil || lhs.Type != fb.TensorTypeFLOAT32 {
		return false, "left-hand operand is not FLOAT32"
	}
	return true, ""
}
