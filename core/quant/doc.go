// Package quant holds litequant's post-training quantization passes:
// [Dynamic] (dynamic-range: int8 weights, float activations) and [Float16]
// (float16 weights). Both rewrite the *tflite.Model they are given in
// place and return a [Report]; on error the model is left unchanged (every
// check runs before the first edit). Which operator inputs are weights,
// which are biases and which kernels exist come from package opspec;
// operator versions and min_runtime_version from package opversion.
//
// # Dynamic range
//
// As TensorFlow's converter with optimizations=[DEFAULT] and no
// representative dataset:
//
//   - The constant FLOAT32 weights of the operators opspec lists
//     (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV,
//     BATCH_MATMUL, EMBEDDING_LOOKUP, GATHER, SVDF, RNN,
//     UNIDIRECTIONAL_SEQUENCE_RNN, UNIDIRECTIONAL_SEQUENCE_LSTM) with at
//     least Options.MinWeightElements elements (default 1024) become int8,
//     symmetric: scale = max|w| / 127, zero point 0, values in [-127, 127].
//   - Operators with a hybrid kernel read the int8 weights directly, with
//     asymmetric_quantize_inputs set where their options have it. The
//     scales are per-channel where the kernel takes them (CONV_2D axis 0,
//     DEPTHWISE_CONV_2D axis 3, which requires them) and per-tensor
//     otherwise (FULLY_CONNECTED's per-channel hybrid kernel is version 12,
//     newer than the runtime litequant targets). A kernel that needs all
//     of an operator's weights int8 (LSTM, RNN, SVDF) gets them all or
//     none. Operators without a usable hybrid kernel (TRANSPOSE_CONV,
//     grouped CONV_2D, a constant left operand of BATCH_MATMUL) read their
//     int8 weights through a DEQUANTIZE, which is per-tensor unless the
//     buffer is shared with a per-channel hybrid reader. GATHER gathers the
//     int8 rows and a DEQUANTIZE follows it.
//   - A buffer is quantized once, however many tensors (in any subgraph)
//     and operators share it, and stays shared. It stays float when any
//     of its readers must (a skipped operator, a non-weight input, a
//     subgraph output, a tensor name matching Options.SkipTensors).
//   - FLOAT16 weights behind DEQUANTIZE (as MediaPipe stores them) count
//     as float weights: their values are quantized, hybrid readers read
//     the int8 tensor, and the DEQUANTIZE is removed unless a float-kernel
//     reader still needs it (it then dequantizes the int8 tensor).
//   - Weights already INT8 or UINT8 are left as they are. Biases,
//     activations, inputs and outputs stay float. A model whose activations
//     are integers throughout is refused (ErrFullyQuantized).
//
// # Float16
//
// Every FLOAT32 constant read by an operator, with at least
// MinWeightElements elements and not a bias, becomes FLOAT16 and reaches
// its readers through one DEQUANTIZE, placed before the first of them, as
// the converter does with supported_types=[tf.float16].
//
// # After either pass
//
// Operator versions are raised to what the new input types need (never
// lowered), min_runtime_version metadata is raised when the model has it,
// buffers nothing refers to are removed, and the result is the same bytes
// for the same input every time. When nothing qualifies the pass returns
// an error wrapping ErrNothingToDo, or with Options.AllowNoop a Report
// with Noop set and the model untouched.
//
// # Report
//
// The JSON form of [Report] (`litequant quantize --report`):
//
//	mode                 "dynamic" or "float16"
//	noop, noop_reason    nothing was done, and why
//	min_weight_elements  the threshold used
//	weights[]            one per quantized buffer:
//	  tensor, subgraph     its (first) tensor's name and subgraph
//	  shape, elements
//	  from, type           FLOAT32 or FLOAT16 -> INT8 or FLOAT16
//	  granularity, axis    "per-channel" (with its axis) or "per-tensor" (INT8 only)
//	  scale_min, scale_max the range of its scales (INT8 only)
//	  consumers[]          subgraph, op (index in the output model), name,
//	                       input (position), kernel: "hybrid",
//	                       "int8-passthrough" or "dequantize"
//	  shared_with[]        other tensors on the same buffer
//	float_ops[]          operators with weights that run a float kernel:
//	                     subgraph, op, name, reason
//	op_versions[]        raised operator codes: opcode, op, from, to
//	min_runtime_before, min_runtime_version
//	                     the min_runtime_version metadata before and after
//	size_before, size_after  model sizes in bytes
//	elapsed_ms           time the pass took
//
// [Report.WriteText] prints the same as a short table.
package quant
