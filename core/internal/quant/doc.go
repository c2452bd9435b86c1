// Package quant holds litequant's post-training quantization passes:
// [Dynamic] (dynamic-range: int8 weights, float activations), [Float16]
// (float16 weights) and [Full] (full integer: int8, int16 or legacy uint8
// activations from calibration ranges). Each rewrites the *tflite.Model it
// is given in place and returns a [Report]; on error the model is left
// unchanged (every check runs before the first edit). Which operator inputs are
// weights, which are biases and which kernels exist come from package
// opspec; operator versions and min_runtime_version from package
// opversion.
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
// # Full integer
//
// As TensorFlow's converter with optimizations=[DEFAULT] and a
// representative dataset, for the operators opspec gives an integer kernel
// (Spec.Full; every entry is checked in the pinned runtime):
//
//   - ModeInt8: activations int8, asymmetric, per-tensor, with
//     qparams.Asymmetric of the tensor's range (extended to include 0, the
//     zero point nudged as TensorFlow does); weights int8 symmetric in
//     [-127, 127], per-channel for CONV_2D (axis 0), DEPTHWISE_CONV_2D
//     (axis 3) and TRANSPOSE_CONV (axis 0), per-tensor for
//     FULLY_CONNECTED (the runtime's int8 kernel takes one scale) and
//     everything else; biases int32 with scale input scale × weight scale
//     and zero point 0 (an int32 bias that would overflow widens its
//     channel's weight scale).
//   - ModeInt16x8: activations int16 symmetric (zero point 0, scale
//     max|x| / 32767), weights int8 as above, biases int64. ADD and SUB get
//     pot_scale_int16 false (general scales).
//   - Mixed (ModeInt8 with Options.Int16Ops): the named operators take
//     ModeInt16x8's scheme, the others int8; a value read in the other
//     type is converted after its producer: int16 -> int8 by QUANTIZE,
//     int8 -> int16 by DEQUANTIZE + QUANTIZE through float (the runtime's
//     QUANTIZE takes no int8 input to int16). See full_mixed.go.
//   - ModeUint8: the legacy scheme of TensorFlow's v1 converter
//     (inference_type QUANTIZED_UINT8): activations uint8 asymmetric
//     per-tensor in [0, 255], weights uint8 asymmetric per-tensor (from
//     their FAKE_QUANT range when they have one, else from their own
//     values), biases int32. Options.InputStats gives the model inputs'
//     parameters (TensorFlow's quantized_input_stats).
//   - Every weight of a quantized operator is quantized, whatever its size
//     (Options.MinWeightElements applies to Dynamic and Float16 only):
//     integer kernels take integer weights.
//   - Ranges come from an ordered list of range sources (fullPlan.sources),
//     the first that knows a tensor's range giving it: FAKE_QUANT
//     operators (removed from the model), min/max recorded in the model's
//     quantization parameters, the Ranges given (calibration statistics)
//     and Options.DefaultRange; in uint8 mode Options.InputStats comes
//     before them for the inputs of subgraph 0. A tensor that needs a
//     range and has none is an error that lists them all.
//   - Constraints of the integer kernels, from opspec: operators that move,
//     pick or compare values (pooling, RESHAPE, SQUEEZE, EXPAND_DIMS,
//     TRANSPOSE, CONCATENATION, PAD, PADV2, SLICE, STRIDED_SLICE, GATHER,
//     RESIZE_*, SPACE_TO_DEPTH, DEPTH_TO_SPACE, SPLIT, SPLIT_V, PACK,
//     UNPACK, MAXIMUM, MINIMUM, SELECT, ...) give their outputs their input's
//     parameters; with several activation inputs (CONCATENATION, MAXIMUM),
//     the parameters of the union of their ranges and the output's, and an
//     input with other parameters is requantized by a QUANTIZE first.
//     Constant operands of such operators are quantized with the shared
//     parameters, saturating (PADV2's -inf padding becomes the lowest
//     integer). SOFTMAX and LOGISTIC outputs are 1/256 with -128 (int16:
//     1/32768 with 0), TANH 1/128 with 0 (int16: 1/32768 with 0),
//     LOG_SOFTMAX 16/256 with 127, L2_NORMALIZATION 1/128 with 0.
//   - Other constant activation operands (a constant ADD or MUL operand,
//     PRELU's alpha, a constant BATCH_MATMUL operand) are quantized from
//     their own values, like activations.
//   - Operators without an integer kernel in the mode (or in
//     Options.SkipOps, or reading or writing a tensor matching
//     Options.SkipTensors, or in a subgraph that was not calibrated) stay
//     float: they read DEQUANTIZEd copies of integer tensors and their
//     float outputs are QUANTIZEd for integer readers, one conversion per
//     tensor and representation, placed right after the producer. They are
//     listed in Report.FloatOps with the reason; with Options.IntegerOnly
//     any of them is an error that lists them all.
//   - Model inputs and outputs stay FLOAT32 (a QUANTIZE after each input,
//     a DEQUANTIZE before each output) unless Options.InputType and
//     OutputType say INT8 or UINT8 (int8 mode), INT16 (16x8) or UINT8
//     (uint8 mode; package convert makes it the default there): the I/O
//     tensors then take that type and the parameters of their own ranges
//     (UINT8 in int8 mode: zero point + 128, with a QUANTIZE converting to
//     and from the int8 the kernels compute on). This applies to subgraph
//     0 and every signature's subgraph that was calibrated.
//   - FLOAT16 (or INT8, UINT8) weights behind a DEQUANTIZE count as
//     constants: their values are quantized afresh and the DEQUANTIZE is
//     removed when nothing else reads it. A buffer quantized to the same
//     values and parameters by several readers (in any subgraph) is stored
//     once.
//
// # Weight tuning
//
// When the ranges also carry input-patch statistics (PatchSource:
// calibration with calib.Options.Patches, which convert always asks for),
// the weights of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED are
// tuned: each output channel's weights start at the nearest rounding and
// single weights move to their other neighbouring step while that lowers
// the expected squared output error over the calibration patches; then
// the bias absorbs the mean output error (bias correction). Scales, zero
// points and the [-127, 127] range are those of the plain rounding, so
// the model follows the int8 specification exactly; only which of the two
// nearest steps some weights take differs. Uint8 weights (per-tensor,
// asymmetric) without a FAKE_QUANT range also take, among shrinkings of
// their range, the one whose rounding error weighted by the patches'
// mean squares is smallest. Weights shared by several
// operators keep the nearest rounding (their biases are still
// corrected). Options.PlainWeights rounds every weight to nearest and
// keeps the biases, as TensorFlow's converter does. On
// mobilenet_v1_0.25_224 this is the difference between 54% and 92% top-1
// agreement with the float model on held-out crops.
//
// When the ranges also carry per-channel ranges (deadchan.Ranges:
// calibration with calib.Options.Channels, which convert asks for), tuned
// weights that apply to an input channel calibration saw at exactly 0 are
// set to 0 first (package deadchan), when that channel comes from a
// convolution or fully connected layer with fused RELU or RELU6 whose
// pre-activation is provably at most 0 for all inputs within their
// calibrated ranges, and no other operator reads the same weights. They
// only ever multiply zeros, but as the largest weights they would set the
// scale: mobilenet_v1_0.25_224's first depthwise layer holds -29.7 on a
// dead channel and at most 1.7 on the live ones, which per-tensor uint8
// weights cannot survive. Weight.ClearedDead reports
// them.
//
// # After any pass
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
//	mode                 "dynamic", "float16", "int8", "int16x8" or "uint8"
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
//	  cleared_dead         weights set to 0 on dead input channels (full
//	                       integer only; see Weight tuning)
//	float_ops[]          operators with weights that run a float kernel:
//	                     subgraph, op, name, reason
//	op_versions[]        raised operator codes: opcode, op, from, to
//	min_runtime_before, min_runtime_version
//	                     the min_runtime_version metadata before and after
//	size_before, size_after  model sizes in bytes
//	elapsed_ms           time the pass took
//	warnings[]           what the user should know about the result
//	                     (--default-range used, ranges a few samples set)
//
// Full-integer modes add (and use weights[] for every quantized constant:
// weights, biases and constant operands, with type INT8, UINT8, INT16,
// INT32 or INT64, and consumers' kernel "int8", "int16x8" or "uint8";
// float_ops[] lists every operator left float):
//
//	input_type, output_type  the model's I/O types (FLOAT32, INT8, ...)
//	integer_ops          operators running integer kernels
//	added_ops            QUANTIZE/DEQUANTIZE operators added
//	activations[]        every integer activation tensor:
//	  tensor, subgraph, type, scale, zero_point
//	  min, max             the range the parameters come from (absent when
//	                       fixed by the kernel or shared with an input)
//	  source               "calibration", "fixed by SOFTMAX", "same as
//	                       input \"x\"", "shared by the inputs and outputs
//	                       of CONCATENATION", "requantized from ...", with
//	                       " (uint8: zero point + 128)" for uint8 I/O
//
// [Report.WriteText] prints the same as a short table.
package quant
