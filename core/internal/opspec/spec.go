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
		Weights: []Weight{{Input: 1, ChannelAxis: 0, Layout: Layout{Rank: 4, Activation: 0, In: 3}}},
		Biases:  []int{2},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerChannelOrTensor, Supports: convNotGrouped},
		// Full integer: int8 (version 3) and 16x8 (version 4; op_version.cc
		// leaves 16x8 at 1 through a slip in its type test, but any
		// registered version runs the same kernel). Per-channel scales on
		// axis 0 with zero points 0; the bias scale must equal input scale ×
		// filter scale (GetQuantizedConvolutionMultipler checks it to 1e-6).
		// Grouped convolution has no integer kernel in the runtime.
		Full: Full{Int8: 3, Int16: 4, Uint8: 1, Inputs: []int{0}, WeightScales: PerChannelOrTensor, Supports: fullConvNotGrouped},
	},
	{
		// depthwise_conv.cc: input, filter [1, h, w, in*multiplier], bias.
		// The hybrid kernel requires one scale per output channel (axis 3):
		// Prepare rejects a single scale.
		Op:      fb.BuiltinOperatorDEPTHWISE_CONV_2D,
		Weights: []Weight{{Input: 1, ChannelAxis: 3, Layout: Layout{Rank: 4, Activation: 0, In: 3, Depthwise: true}}},
		Biases:  []int{2},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerChannelOnly},
		// Full integer: int8 (version 3) and 16x8 (version 5), per-channel
		// on axis 3 as for the hybrid kernel.
		Full: Full{Int8: 3, Int16: 5, Uint8: 1, Inputs: []int{0}, WeightScales: PerChannelOnly},
	},
	{
		// fully_connected.cc: input, weights [out, in], optional bias. The
		// hybrid kernel takes one scale: per-channel hybrid weights need
		// operator version 12 (TensorFlow Lite 2.17), which the runtime
		// litequant targets does not register; given per-channel scales,
		// older kernels silently use the first one.
		Op:      fb.BuiltinOperatorFULLY_CONNECTED,
		Weights: []Weight{{Input: 1, ChannelAxis: 0, Layout: Layout{Rank: 2, Activation: 0, In: 1}}},
		Biases:  []int{2},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: asymmetric[fb.FullyConnectedOptionsT](fb.BuiltinOptionsFullyConnectedOptions), Supports: fcDefaultWeightsFormat},
		// Full integer: int8 (version 4) and 16x8 (version 7) with one
		// weight scale: the runtime's integer kernel computes one output
		// multiplier (per-channel int8 FULLY_CONNECTED came with TensorFlow
		// Lite 2.13/2.17). Bias int32 (int64 in 16x8).
		Full: Full{Int8: 4, Int16: 7, Uint8: 1, Inputs: []int{0}, WeightScales: PerTensor, Supports: fullFCDefaultFormat},
	},
	{
		// transpose_conv.cc: output_shape, weights [out, h, w, in], input,
		// optional bias. For float input Prepare requires float weights: no
		// hybrid kernel.
		Op:      fb.BuiltinOperatorTRANSPOSE_CONV,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}},
		Biases:  []int{3},
		Dynamic: Dynamic{Kernel: FloatKernel},
		// Full integer: the activation is input 2. int8 with per-channel
		// weights on axis 0 (version 2, 3 with a bias) and 16x8 with an
		// int64 bias (op_version.cc tests input 0, the INT32 output shape,
		// for int16, so 16x8 keeps versions 2 and 3).
		Full: Full{Int8: 2, Int16: 2, Uint8: 1, Inputs: []int{2}, WeightScales: PerChannelOrTensor},
	},
	{
		// batch_matmul.cc: lhs, rhs. The hybrid kernel reads the right-hand
		// operand as int8 with one scale (a constant left-hand operand goes
		// through DEQUANTIZE). Which axis holds output channels depends on
		// adj_y, so neither weight names one.
		Op:      fb.BuiltinOperatorBATCH_MATMUL,
		Weights: []Weight{{Input: 0, ChannelAxis: -1}, {Input: 1, ChannelAxis: -1}},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: asymmetric[fb.BatchMatMulOptionsT](fb.BuiltinOptionsBatchMatMulOptions), Supports: bmmRightOperand},
		// Full integer: both operands are activations (a constant one is
		// quantized from its own values, asymmetric), int8 version 2,
		// int16 version 3.
		Full: Full{Int8: 2, Int16: 3, Inputs: []int{0, 1}},
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
		// Full integer: params are an activation (a constant table is
		// quantized from its own values); the output has its parameters.
		Full: Full{Int8: 2, Int16: 4, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// svdf.cc: input, weights_feature, weights_time, bias,
		// activation_state. The hybrid kernel needs both weights int8, one
		// scale each.
		Op:      fb.BuiltinOperatorSVDF,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}, {Input: 2, ChannelAxis: 0}},
		Biases:  []int{3},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: asymmetric[fb.SVDFOptionsT](fb.BuiltinOptionsSVDFOptions)},
	},
	{
		// basic_rnn.cc: input, input_weights [units, in], recurrent_weights
		// [units, units], bias, hidden_state. Hybrid with both weights int8.
		Op:      fb.BuiltinOperatorRNN,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}, {Input: 2, ChannelAxis: 0}},
		Biases:  []int{3},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: asymmetric[fb.RNNOptionsT](fb.BuiltinOptionsRNNOptions)},
	},
	{
		// unidirectional_sequence_rnn.cc: the same inputs as RNN.
		Op:      fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN,
		Weights: []Weight{{Input: 1, ChannelAxis: 0}, {Input: 2, ChannelAxis: 0}},
		Biases:  []int{3},
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: asymmetric[fb.SequenceRNNOptionsT](fb.BuiltinOptionsSequenceRNNOptions)},
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
		Dynamic: Dynamic{Kernel: HybridKernel, Scales: PerTensor, AsymmetricInputs: asymmetric[fb.UnidirectionalSequenceLSTMOptionsT](fb.BuiltinOptionsUnidirectionalSequenceLSTMOptions)},
	},

	// Operators without weights: they matter only to full-integer
	// quantization. Versions from op_version.cc; kernel constraints from
	// each kernel's Prepare, and every entry is checked by running it in
	// the real runtime (quant's TestFullOperators). Entries without Int16
	// were tried in 16x8 and the runtime refuses them: its SPACE_TO_DEPTH,
	// DEPTH_TO_SPACE, L2_NORMALIZATION, LOG_SOFTMAX, RELU_N1_TO_1,
	// HARD_SWISH, PRELU, SQUARED_DIFFERENCE, TILE, ARG_MAX and comparison
	// kernels have no int16 case; SUM's int16 kernel demands equal input
	// and output scales; the int16 versions of SPACE_TO_BATCH_ND,
	// BATCH_TO_SPACE_ND (4), MIRROR_PAD and RSQRT (3) are not registered.
	{
		// add.cc: general scales in int8; int16 needs pot_scale_int16
		// false for them (version 3).
		Op:   fb.BuiltinOperatorADD,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0, 1}, Prepare: addPotScaleOff},
	},
	{
		// sub.cc: as ADD; int16 with general scales is version 5.
		Op:   fb.BuiltinOperatorSUB,
		Full: Full{Int8: 2, Int16: 5, Uint8: 1, Inputs: []int{0, 1}, Prepare: subPotScaleOff},
	},
	{
		// mul.cc: general scales; int16 version 4.
		Op:   fb.BuiltinOperatorMUL,
		Full: Full{Int8: 2, Int16: 4, Uint8: 1, Inputs: []int{0, 1}},
	},
	{
		// squared_difference.cc: int8 only.
		Op:   fb.BuiltinOperatorSQUARED_DIFFERENCE,
		Full: Full{Int8: 2, Inputs: []int{0, 1}},
	},
	{
		// pooling.cc: the quantized kernels require the output's scale and
		// zero point to equal the input's.
		Op:   fb.BuiltinOperatorAVERAGE_POOL_2D,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorMAX_POOL_2D,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// reshape.cc, squeeze.cc, expand_dims.cc: the data is copied, so
		// the output keeps the input's parameters. Input 1 is a shape or
		// an axis.
		Op:   fb.BuiltinOperatorRESHAPE,
		Full: Full{Int8: 1, Int16: 1, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorSQUEEZE,
		Full: Full{Int8: 1, Int16: 1, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorEXPAND_DIMS,
		Full: Full{Int8: 1, Int16: 1, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// transpose.cc: moves elements.
		Op:   fb.BuiltinOperatorTRANSPOSE,
		Full: Full{Int8: 2, Int16: 5, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// concatenation.cc: int8 and int16 require every input's
		// parameters to equal the output's (only uint8 rescales).
		Op:   fb.BuiltinOperatorCONCATENATION,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, AllInputs: true, SameScale: true},
	},
	{
		// pack.cc checks that inputs and output share parameters;
		// unpack.cc copies.
		Op:   fb.BuiltinOperatorPACK,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, AllInputs: true, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorUNPACK,
		Full: Full{Int8: 2, Int16: 4, Uint8: 2, Inputs: []int{0}, SameScale: true},
	},
	{
		// pad.cc: pads with the output's zero point and checks that the
		// input's parameters equal the output's; PADV2's constant value
		// (input 2) is quantized with them too.
		Op:   fb.BuiltinOperatorPAD,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorPADV2,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0, 2}, SameScale: true},
	},
	{
		// mirror_pad.cc: int16 is version 3, which the runtime lacks.
		Op:   fb.BuiltinOperatorMIRROR_PAD,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// slice.cc, strided_slice.cc: copy elements.
		Op:   fb.BuiltinOperatorSLICE,
		Full: Full{Int8: 2, Int16: 4, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorSTRIDED_SLICE,
		Full: Full{Int8: 2, Int16: 1, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// split.cc (input 0 is the axis), split_v.cc: copy elements.
		Op:   fb.BuiltinOperatorSPLIT,
		Full: Full{Int8: 2, Int16: 4, Uint8: 1, Inputs: []int{1}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorSPLIT_V,
		Full: Full{Int8: 2, Int16: 1, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// gather_nd.cc copies int8 at version 1 (op_version.cc has no
		// int8 case) and int16 at version 3.
		Op:   fb.BuiltinOperatorGATHER_ND,
		Full: Full{Int8: 1, Int16: 3, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// tile.cc copies int8 (version 3).
		Op:   fb.BuiltinOperatorTILE,
		Full: Full{Int8: 3, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// resize_bilinear.cc, resize_nearest_neighbor.cc: interpolate in
		// the input's integer domain, so the output shares its parameters.
		Op:   fb.BuiltinOperatorRESIZE_BILINEAR,
		Full: Full{Int8: 2, Int16: 4, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR,
		Full: Full{Int8: 2, Int16: 4, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// space_to_depth.cc, depth_to_space.cc, space_to_batch_nd.cc
		// (pads with the output's zero point), batch_to_space_nd.cc: move
		// elements. Their int16 versions are newer than the runtime.
		Op:   fb.BuiltinOperatorSPACE_TO_DEPTH,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorDEPTH_TO_SPACE,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorSPACE_TO_BATCH_ND,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorBATCH_TO_SPACE_ND,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		// maximum_minimum.cc compares the stored integers, so both inputs
		// and the output share parameters.
		Op:   fb.BuiltinOperatorMAXIMUM,
		Full: Full{Int8: 2, Int16: 4, Uint8: 1, Inputs: []int{0, 1}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorMINIMUM,
		Full: Full{Int8: 2, Int16: 4, Uint8: 1, Inputs: []int{0, 1}, SameScale: true},
	},
	{
		// reduce.cc: REDUCE_MAX/MIN pick elements (same parameters);
		// MEAN and SUM rescale. SUM has no int16 kernel.
		Op:   fb.BuiltinOperatorREDUCE_MAX,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorREDUCE_MIN,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorMEAN,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0}},
	},
	{
		Op:   fb.BuiltinOperatorSUM,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0}},
	},
	{
		// activations.cc: SOFTMAX's int8 kernel requires output scale
		// 1/256 and zero point -128 (a lookup table over [0, 1)); int16
		// output zero point 0 with the converter's scale 1/32768.
		Op:   fb.BuiltinOperatorSOFTMAX,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0}, Output8: &Params{1.0 / 256, -128}, Output16: pot16, OutputU8: &Params{1.0 / 256, 0}},
	},
	{
		// LOGISTIC: int8 output 1/256 with -128 (Prepare checks both);
		// int16 output 2^-15 with 0.
		Op:   fb.BuiltinOperatorLOGISTIC,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0}, Output8: &Params{1.0 / 256, -128}, Output16: pot16, OutputU8: &Params{1.0 / 256, 0}},
	},
	{
		// TANH: int8 output 1/128 with 0; int16 output 2^-15 with 0.
		Op:   fb.BuiltinOperatorTANH,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0}, Output8: &Params{1.0 / 128, 0}, Output16: pot16, OutputU8: &Params{1.0 / 128, 128}},
	},
	{
		// LOG_SOFTMAX: int8 output 16/256 with 127 (Prepare checks both).
		Op:   fb.BuiltinOperatorLOG_SOFTMAX,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0}, Output8: &Params{16.0 / 256, 127}, OutputU8: &Params{16.0 / 256, 255}},
	},
	{
		// l2norm.cc: int8 output 1/128 with 0.
		Op:   fb.BuiltinOperatorL2_NORMALIZATION,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0}, Output8: &Params{1.0 / 128, 0}, OutputU8: &Params{1.0 / 128, 128}},
	},
	{
		// RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU and HARD_SWISH rescale
		// from the input's parameters to the output's.
		Op:   fb.BuiltinOperatorRELU,
		Full: Full{Int8: 2, Int16: 3, Uint8: 2, Inputs: []int{0}},
	},
	{
		Op:   fb.BuiltinOperatorRELU6,
		Full: Full{Int8: 2, Int16: 3, Uint8: 1, Inputs: []int{0}},
	},
	{
		Op:   fb.BuiltinOperatorRELU_N1_TO_1,
		Full: Full{Int8: 1, Uint8: 1, Inputs: []int{0}},
	},
	{
		Op:   fb.BuiltinOperatorLEAKY_RELU,
		Full: Full{Int8: 1, Int16: 2, Uint8: 1, Inputs: []int{0}},
	},
	{
		Op:   fb.BuiltinOperatorHARD_SWISH,
		Full: Full{Int8: 1, Uint8: 1, Inputs: []int{0}},
	},
	{
		// PRELU: input and alpha (usually constant, quantized from its
		// own values) with their own parameters.
		Op:   fb.BuiltinOperatorPRELU,
		Full: Full{Int8: 1, Uint8: 1, Inputs: []int{0, 1}},
	},
	{
		// rsqrt (elementwise.cc): int8 through a lookup of the input's
		// and output's parameters; int16 is version 3, newer than the
		// runtime.
		Op:   fb.BuiltinOperatorRSQRT,
		Full: Full{Int8: 2, Inputs: []int{0}},
	},
	{
		// comparisons.cc: each input is rescaled with its own parameters;
		// the BOOL output is not quantized.
		Op:   fb.BuiltinOperatorEQUAL,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0, 1}, IntegerOutputs: true},
	},
	{
		Op:   fb.BuiltinOperatorNOT_EQUAL,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0, 1}, IntegerOutputs: true},
	},
	{
		Op:   fb.BuiltinOperatorLESS,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0, 1}, IntegerOutputs: true},
	},
	{
		Op:   fb.BuiltinOperatorLESS_EQUAL,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0, 1}, IntegerOutputs: true},
	},
	{
		Op:   fb.BuiltinOperatorGREATER,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0, 1}, IntegerOutputs: true},
	},
	{
		Op:   fb.BuiltinOperatorGREATER_EQUAL,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0, 1}, IntegerOutputs: true},
	},
	{
		// arg_min_max.cc: compares the stored integers; INT32 output.
		Op:   fb.BuiltinOperatorARG_MAX,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0}, IntegerOutputs: true},
	},
	{
		Op:   fb.BuiltinOperatorARG_MIN,
		Full: Full{Int8: 2, Uint8: 1, Inputs: []int{0}, IntegerOutputs: true},
	},
	{
		// select.cc: picks elements of inputs 1 and 2 by the BOOL input
		// 0, so they share the output's parameters. op_version.cc tests
		// the condition's type for SELECT's int8 version 2 (never INT8);
		// litequant gives int8 SELECT version 2, which the runtime has.
		// int16 runs at version 1.
		Op:   fb.BuiltinOperatorSELECT,
		Full: Full{Int8: 2, Int16: 1, Uint8: 1, Inputs: []int{1, 2}, SameScale: true},
	},
	{
		Op:   fb.BuiltinOperatorSELECT_V2,
		Full: Full{Int8: 1, Int16: 1, Uint8: 1, Inputs: []int{1, 2}, SameScale: true},
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

// fullConvNotGrouped: grouped convolution has no integer kernel.
func fullConvNotGrouped(m *tflite.Model, sg *fb.SubGraphT, op *fb.OperatorT, _ fb.TensorType) (bool, string) {
	return convNotGrouped(m, sg, op, 1)
}

// fullFCDefaultFormat: the integer FULLY_CONNECTED kernel reads weights in
// the default layout.
func fullFCDefaultFormat(_ *tflite.Model, _ *fb.SubGraphT, op *fb.OperatorT, _ fb.TensorType) (bool, string) {
	if o, ok := optionsValue(op).(*fb.FullyConnectedOptionsT); ok && o != nil && o.WeightsFormat != fb.FullyConnectedOptionsWeightsFormatDEFAULT {
		return false, "shuffled weights format has no integer kernel"
	}
	return true, ""
}
