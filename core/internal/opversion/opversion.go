// Package opversion works out which version of a builtin operator a model
// needs and which TensorFlow Lite runtime runs it.
//
// An operator code's version tells the runtime which kernel features an
// operator relies on (int8 inputs, hybrid weights, per-channel scales, ...);
// a runtime refuses versions it does not register. After a pass changes
// tensor types or options, [Update] raises each operator code's version to
// what its operators now need and refreshes the model's
// "min_runtime_version" metadata. Versions are only ever raised: a model
// that declares a higher version than litequant computes keeps it.
//
// The rules follow TensorFlow Lite's tools/versioning/op_version.cc for the
// operators and type combinations litequant produces (hybrid
// FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, BATCH_MATMUL,
// EMBEDDING_LOOKUP, SVDF, RNN and LSTM; int8 GATHER; DEQUANTIZE of int8 and
// float16; the int8 and int16 forms of every operator the full-integer
// passes quantize), with one
// deliberate difference: where op_version.cc returns the first feature that
// matches, [Required] returns the highest version among all the features
// the operator uses, so an operator needing two features gets a version
// that has both. The runtime versions come from runtime_version.cc's table.
//
// The versions of the integer kernels (int8, int16 and uint8 activations)
// are opspec's table (opspec.Full): an operator [Required] has no case for
// takes them from there, and the cases of the others add the features
// opspec does not describe (ranks, options, other types) to them. Only the
// operators whose type rules depend on more than their first activation
// input's type (CONV_2D and FULLY_CONNECTED on the weights', ADD and SUB on
// pot_scale_int16, PACK and MAXIMUM on the output's, ...) write their
// integer versions out here, and TestKernelVersions checks those against
// opspec. A new operator with integer kernels is an opspec entry only.
package opversion

import (
	"slices"
	"strconv"
	"strings"

	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// noType marks an absent input or output (index -1 or past the end).
const noType fb.TensorType = -1

// sig gives the rules convenient access to one operator.
type sig struct {
	sg *fb.SubGraphT
	op *fb.OperatorT
}

func (s sig) tensor(list []int32, k int) *fb.TensorT {
	if k < 0 || k >= len(list) || list[k] < 0 || int(list[k]) >= len(s.sg.Tensors) {
		return nil
	}
	return s.sg.Tensors[list[k]]
}

func (s sig) inT(k int) *fb.TensorT  { return s.tensor(s.op.Inputs, k) }
func (s sig) outT(k int) *fb.TensorT { return s.tensor(s.op.Outputs, k) }

func (s sig) in(k int) fb.TensorType {
	if t := s.inT(k); t != nil {
		return t.Type
	}
	return noType
}

func (s sig) out(k int) fb.TensorType {
	if t := s.outT(k); t != nil {
		return t.Type
	}
	return noType
}

// rank returns input k's rank (0 when absent).
func (s sig) rank(k int) int {
	if t := s.inT(k); t != nil {
		return len(t.Shape)
	}
	return 0
}

// quantized reports whether input k carries quantization scales.
func (s sig) quantized(k int) bool {
	t := s.inT(k)
	return t != nil && t.Quantization != nil && len(t.Quantization.Scale) > 0
}

// perChannel reports whether input k has more than one scale.
func (s sig) perChannel(k int) bool {
	t := s.inT(k)
	return t != nil && t.Quantization != nil && len(t.Quantization.Scale) > 1
}

// hybrid reports float activations with an int8 weight at input w.
func (s sig) hybrid(w int) bool {
	return s.in(0) == fb.TensorTypeFLOAT32 && s.in(w) == fb.TensorTypeINT8 && s.out(0) == fb.TensorTypeFLOAT32
}

// broadcastOver4D reports two inputs of different shapes with more than 4
// dimensions.
func (s sig) broadcastOver4D() bool {
	a, b := s.inT(0), s.inT(1)
	if a == nil || b == nil {
		return false
	}
	return !slices.Equal(a.Shape, b.Shape) && max(len(a.Shape), len(b.Shape)) > 4
}

// options returns op's builtin options as T, or nil.
func options[T any](op *fb.OperatorT) *T {
	if op.BuiltinOptions == nil {
		return nil
	}
	o, _ := op.BuiltinOptions.Value.(*T)
	return o
}

// level accumulates the highest version among the features that apply.
type level int32

func (l *level) need(cond bool, v int32) {
	if cond && int32(*l) < v {
		*l = level(v)
	}
}

// Required returns the lowest version of op's builtin operator that
// supports everything op uses (its tensors' types and quantization, its
// options), as far as litequant's rules know; 1 for custom operators and
// for operators whose every feature is in version 1.
func Required(m *tflite.Model, sg *fb.SubGraphT, op *fb.OperatorT) int32 {
	s := sig{sg: sg, op: op}
	v := level(1)
	in0 := s.in(0)
	int8In, int16In := in0 == fb.TensorTypeINT8, in0 == fb.TensorTypeINT16
	code := m.Builtin(op)
	switch code {
	case fb.BuiltinOperatorCONV_2D:
		o := options[fb.Conv2DOptionsT](op)
		v.need(int16In && s.in(1) == fb.TensorTypeINT8 && o != nil && o.QuantizedBiasType != 0, 8)
		v.need(int8In && s.in(1) == fb.TensorTypeINT4, 7)
		if in, f := s.inT(0), s.inT(1); in != nil && f != nil && len(in.Shape) == 4 && len(f.Shape) == 4 && in.Shape[3] > 0 && in.Shape[3] != f.Shape[3] {
			v.need(true, 6) // grouped convolution
		}
		v.need(s.hybrid(1) && s.perChannel(1), 5)
		v.need(int16In, 4)
		v.need(int8In && s.in(1) == fb.TensorTypeINT8, 3)
		v.need(s.hybrid(1), 2)
	case fb.BuiltinOperatorDEPTHWISE_CONV_2D:
		o := options[fb.DepthwiseConv2DOptionsT](op)
		v.need(int8In && s.in(1) == fb.TensorTypeINT4, 7)
		v.need(s.hybrid(1) && s.perChannel(1), 6)
		v.need(int16In, 5)
		v.need(s.hybrid(1), 4)
		v.need(int8In && s.in(1) == fb.TensorTypeINT8, 3)
		v.need(o != nil && (o.DilationWFactor > 1 || o.DilationHFactor > 1), 2)
	case fb.BuiltinOperatorFULLY_CONNECTED:
		o := options[fb.FullyConnectedOptionsT](op)
		if o == nil {
			o = &fb.FullyConnectedOptionsT{}
		}
		w := s.inT(1)
		v.need(int16In && s.in(1) == fb.TensorTypeINT4, 13)
		v.need(s.hybrid(1) && s.perChannel(1), 12)
		v.need(int16In && s.in(1) == fb.TensorTypeINT8 && o.QuantizedBiasType != 0, 11)
		v.need(int8In && s.in(1) == fb.TensorTypeINT4, 10)
		v.need(s.hybrid(1) && o.AsymmetricQuantizeInputs, 9)
		v.need(w != nil && w.Sparsity != nil, 8)
		v.need(int16In, 7)
		v.need(len(op.Inputs) == 2, 6)
		v.need(o.KeepNumDims, 5)
		v.need(int8In && s.in(1) == fb.TensorTypeINT8, 4)
		v.need(s.hybrid(1), 3)
		v.need(o.WeightsFormat == fb.FullyConnectedOptionsWeightsFormatSHUFFLED4x16INT8, 2)
	case fb.BuiltinOperatorTRANSPOSE_CONV:
		o := options[fb.TransposeConvOptionsT](op)
		// Inputs: output_shape, weights, input, bias.
		v.need(s.in(2) == fb.TensorTypeINT16 && o != nil && o.QuantizedBiasType != 0, 5)
		v.need(o != nil && o.FusedActivationFunction != fb.ActivationFunctionTypeNONE, 4)
		v.need(s.in(3) != noType, 3)
		v.need(s.in(1) == fb.TensorTypeINT8, 2)
	case fb.BuiltinOperatorBATCH_MATMUL:
		o := options[fb.BatchMatMulOptionsT](op)
		v.need(s.hybrid(1) && o != nil && o.AsymmetricQuantizeInputs, 4)
		v.kernel(s, code)
	case fb.BuiltinOperatorEMBEDDING_LOOKUP:
		// Inputs: ids, value. Version 3 is the int8 (hybrid) value that
		// TensorFlow's weight quantizer writes; op_version.cc returns 1 for
		// it, which the runtime also accepts.
		v.need(s.in(1) == fb.TensorTypeINT4 || s.perChannel(1), 4)
		v.need(s.in(1) == fb.TensorTypeINT8, 3)
		v.need(s.in(1) == fb.TensorTypeUINT8, 2)
	case fb.BuiltinOperatorGATHER:
		o := options[fb.GatherOptionsT](op)
		v.need(in0 == fb.TensorTypeINT4, 7)
		v.need(s.in(1) == fb.TensorTypeINT16, 6)
		v.need(o != nil && o.BatchDims != 0, 5)
		v.need(in0 == fb.TensorTypeBOOL, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorSVDF:
		o := options[fb.SVDFOptionsT](op)
		v.need(s.hybrid(1) && o != nil && o.AsymmetricQuantizeInputs, 4)
		v.need(int8In, 3)
		v.need(s.hybrid(1), 2)
	case fb.BuiltinOperatorRNN:
		o := options[fb.RNNOptionsT](op)
		v.recurrent(s, o != nil && o.AsymmetricQuantizeInputs)
	case fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN:
		o := options[fb.SequenceRNNOptionsT](op)
		v.recurrent(s, o != nil && o.AsymmetricQuantizeInputs)
	case fb.BuiltinOperatorBIDIRECTIONAL_SEQUENCE_RNN:
		o := options[fb.BidirectionalSequenceRNNOptionsT](op)
		v.recurrent(s, o != nil && o.AsymmetricQuantizeInputs)
	case fb.BuiltinOperatorBIDIRECTIONAL_SEQUENCE_LSTM:
		o := options[fb.BidirectionalSequenceLSTMOptionsT](op)
		v.recurrent(s, o != nil && o.AsymmetricQuantizeInputs)
	case fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM:
		o := options[fb.UnidirectionalSequenceLSTMOptionsT](op)
		v.need(int16In && s.in(2) == fb.TensorTypeINT8 && s.out(0) == fb.TensorTypeINT16, 5)
		v.need(o != nil && o.DiagonalRecurrentTensors, 4)
		v.need(s.hybrid(2) && o != nil && o.AsymmetricQuantizeInputs, 3)
		v.need(s.hybrid(2), 2)
	case fb.BuiltinOperatorLSTM:
		o := options[fb.LSTMOptionsT](op)
		full := o == nil || o.KernelType == fb.LSTMKernelTypeFULL
		v.need(full && int16In && s.in(2) == fb.TensorTypeINT8 && s.out(0) == fb.TensorTypeINT16, 5)
		v.need(full && s.hybrid(2) && o != nil && o.AsymmetricQuantizeInputs, 4)
		v.need(full && s.hybrid(2), 3)
		v.need(!full, 2)
	case fb.BuiltinOperatorDEQUANTIZE:
		v.need(in0 == fb.TensorTypeINT4, 6)
		v.need(int8In && s.perChannel(0), 5)
		v.need(int16In || in0 == fb.TensorTypeFLOAT16, 3)
		v.need(int8In, 2)
	case fb.BuiltinOperatorQUANTIZE:
		v.need(in0 == fb.TensorTypeINT4 || s.out(0) == fb.TensorTypeINT4, 4)
		t := s.outT(0)
		v.need(t != nil && t.Quantization != nil && len(t.Quantization.Scale) > 1, 3)
		v.need(s.out(0) == fb.TensorTypeINT16, 2)
	case fb.BuiltinOperatorADD:
		o := options[fb.AddOptionsT](op)
		v.need(int16In && !s.quantized(0), 5)
		v.need(in0 == fb.TensorTypeINT64, 4)
		v.need(int16In && s.quantized(0) && o != nil && !o.PotScaleInt16, 3)
		v.need(int8In, 2)
	case fb.BuiltinOperatorSUB:
		o := options[fb.SubOptionsT](op)
		v.need(int16In && o != nil && !o.PotScaleInt16, 5)
		v.need(in0 == fb.TensorTypeINT64, 4)
		v.need(s.broadcastOver4D(), 3)
		v.need(int8In, 2)
	case fb.BuiltinOperatorMUL:
		v.need((int16In && !s.quantized(0)) || in0 == fb.TensorTypeUINT32, 7)
		v.need(in0 == fb.TensorTypeCOMPLEX64, 6)
		v.need(in0 == fb.TensorTypeINT64, 5)
		v.need(mulRescaleAtLeastOne(s), 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorMAXIMUM, fb.BuiltinOperatorMINIMUM:
		v.need(int16In && s.out(0) == fb.TensorTypeINT16, 4)
		v.need(s.broadcastOver4D(), 3)
		v.need(int8In, 2)
	case fb.BuiltinOperatorMIRROR_PAD, fb.BuiltinOperatorRSQRT:
		// Their int16 versions (3) are newer than the pinned runtime, so
		// opspec has no int16 kernel for them.
		v.need(int16In, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorCONCATENATION:
		v.need(in0 == fb.TensorTypeUINT32, 4)
		v.kernel(s, code)
	case fb.BuiltinOperatorPAD, fb.BuiltinOperatorPADV2:
		v.need(s.rank(0) > 4, 4)
		v.kernel(s, code)
	case fb.BuiltinOperatorTRANSPOSE:
		v.need(s.rank(0) > 5, 6)
		v.need(s.rank(0) > 4, 4)
		v.need(in0 == fb.TensorTypeBOOL, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorSLICE:
		v.need(in0 == fb.TensorTypeUINT32, 6)
		v.need(s.rank(0) > 4, 5)
		v.need(in0 == fb.TensorTypeSTRING, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorSTRIDED_SLICE:
		o := options[fb.StridedSliceOptionsT](op)
		v.need(o != nil && o.Offset, 8)
		v.need(in0 == fb.TensorTypeUINT32, 7)
		v.need(o != nil && (o.EllipsisMask != 0 || o.NewAxisMask != 0), 6)
		v.need(in0 == fb.TensorTypeSTRING, 5)
		v.need(s.rank(0) > 4, 4)
		v.need(in0 == fb.TensorTypeBOOL, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorSPLIT:
		// Input 0 is the axis; the data is input 1.
		v.need(s.in(1) == fb.TensorTypeINT32, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorPACK:
		v.need(in0 == fb.TensorTypeUINT32, 4)
		v.need(int16In && s.out(0) == fb.TensorTypeINT16, 3)
		v.need(int8In, 2)
	case fb.BuiltinOperatorUNPACK:
		v.need(int16In && s.out(0) == fb.TensorTypeINT16, 4)
		v.need(in0 == fb.TensorTypeBOOL, 3)
		v.need(int8In || in0 == fb.TensorTypeUINT8, 2)
	case fb.BuiltinOperatorRESIZE_BILINEAR:
		o := options[fb.ResizeBilinearOptionsT](op)
		v.need(o != nil && o.HalfPixelCenters, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR:
		o := options[fb.ResizeNearestNeighborOptionsT](op)
		v.need(o != nil && (o.HalfPixelCenters || o.AlignCorners), 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorARG_MAX, fb.BuiltinOperatorARG_MIN:
		v.need(in0 == fb.TensorTypeBOOL, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorEQUAL:
		v.need(int16In, 4) // not in the pinned runtime: opspec has no int16 kernel
		v.need(in0 == fb.TensorTypeSTRING, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorNOT_EQUAL:
		v.need(in0 == fb.TensorTypeSTRING, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorLESS, fb.BuiltinOperatorGREATER_EQUAL:
		v.need(int16In, 3) // not in the pinned runtime: opspec has no int16 kernel
		v.kernel(s, code)
	case fb.BuiltinOperatorSELECT:
		// Input 0 is the BOOL condition: op_version.cc tests it for INT8,
		// which it never is; the int8 kernel arrived with version 2, so
		// litequant tests the values (input 1, opspec's first activation
		// input).
		v.need(in0 == fb.TensorTypeUINT32, 4)
		v.need(s.rank(0) == 5 || s.rank(1) == 5 || s.rank(2) == 5, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorSELECT_V2:
		v.need(in0 == fb.TensorTypeUINT32, 2)
		v.kernel(s, code)
	case fb.BuiltinOperatorSPACE_TO_BATCH_ND, fb.BuiltinOperatorBATCH_TO_SPACE_ND:
		v.need(int16In, 4) // not in the pinned runtime: opspec has no int16 kernel
		v.need(s.rank(0) != 4, 3)
		v.kernel(s, code)
	case fb.BuiltinOperatorTILE:
		v.need(in0 == fb.TensorTypeSTRING, 2)
		v.kernel(s, code)
	case fb.BuiltinOperatorGATHER_ND:
		v.need(in0 == fb.TensorTypeBOOL, 5)
		v.need(s.in(1) == fb.TensorTypeINT16, 4)
		v.need(in0 == fb.TensorTypeSTRING, 2)
		v.kernel(s, code)
	case fb.BuiltinOperatorL2_NORMALIZATION:
		v.need(s.out(0) == fb.TensorTypeINT8, 2)
	default:
		// Every other operator: its integer kernels' versions are
		// opspec's (AVERAGE_POOL_2D, SOFTMAX, RELU, LEAKY_RELU, ...).
		v.kernel(s, code)
	}
	return int32(v)
}

// recurrent is the rule RNN, UNIDIRECTIONAL_SEQUENCE_RNN and the
// bidirectional operators share: hybrid (int8 weights at input 1, float
// output) needs version 2, and 3 with asymmetric_quantize_inputs.
func (l *level) recurrent(s sig, asymmetric bool) {
	hybrid := s.in(1) == fb.TensorTypeINT8 && s.out(0) == fb.TensorTypeFLOAT32
	l.need(hybrid && asymmetric, 3)
	l.need(hybrid, 2)
}

// kernel raises l to the version opspec's table gives the integer kernel
// for the type of op's first activation input (Spec.Full): the versions
// of the int8, int16 and uint8 kernels are written there once.
func (l *level) kernel(s sig, code fb.BuiltinOperator) {
	spec := opspec.Lookup(code)
	if spec == nil {
		return
	}
	k := 0
	if len(spec.Full.Inputs) > 0 {
		k = spec.Full.Inputs[0]
	}
	l.need(true, spec.Full.Kernel(s.in(k)))
}

// mulRescaleAtLeastOne: quantized MUL whose input scales' product is at
// least its output scale needs version 3.
func mulRescaleAtLeastOne(s sig) bool {
	a, b, o := s.inT(0), s.inT(1), s.outT(0)
	scale := func(t *fb.TensorT) float64 {
		if t == nil || t.Quantization == nil || len(t.Quantization.Scale) == 0 {
			return 0
		}
		return float64(t.Quantization.Scale[0])
	}
	sa, sb, so := scale(a), scale(b), scale(o)
	return sa != 0 && sb != 0 && so != 0 && sa*sb/so >= 1
}

// Raise is one operator code whose version [Update] raised.
type Raise struct {
	OpCode int    `json:"opcode"` // index in the model's operator codes
	Op     string `json:"op"`     // BuiltinOperator name
	From   int32  `json:"from"`
	To     int32  `json:"to"`
}

// Result is what [Update] changed.
type Result struct {
	Raised []Raise `json:"raised"`
	// MinRuntimeVersion is the model's min_runtime_version metadata after
	// the update ("" when the model has none).
	MinRuntimeVersion string `json:"min_runtime_version,omitempty"`
	// MinRuntimeBefore is its value before.
	MinRuntimeBefore string `json:"min_runtime_before,omitempty"`
}

// Update raises every builtin operator code's version to the highest
// [Required] version among the operators using it (never lowering one) and,
// when the model has "min_runtime_version" metadata, raises it to the
// highest runtime version its operators need (see [MinRuntime]).
func Update(m *tflite.Model) Result {
	var res Result
	need := make([]int32, len(m.OperatorCodes))
	for _, sg := range m.Subgraphs {
		for _, op := range sg.Operators {
			if int(op.OpcodeIndex) >= len(need) || m.Builtin(op) == fb.BuiltinOperatorCUSTOM {
				continue
			}
			need[op.OpcodeIndex] = max(need[op.OpcodeIndex], Required(m, sg, op))
		}
	}
	for i, oc := range m.OperatorCodes {
		if oc.BuiltinCode == fb.BuiltinOperatorCUSTOM {
			continue
		}
		cur := max(oc.Version, 1)
		if need[i] > cur {
			res.Raised = append(res.Raised, Raise{OpCode: i, Op: tflite.OpCodeName(oc), From: oc.Version, To: need[i]})
			oc.Version = need[i]
		}
	}
	res.MinRuntimeBefore, res.MinRuntimeVersion = updateMinRuntime(m)
	return res
}

// MinRuntimeMetadata is the name of the metadata entry holding the lowest
// TensorFlow Lite runtime version that runs the model.
const MinRuntimeMetadata = "min_runtime_version"

// minRuntimeBufferSize is the size the converter gives that entry's buffer:
// the version string, zero-padded.
const minRuntimeBufferSize = 16

// MinRuntimeOf returns the model's min_runtime_version metadata value and
// whether the model has that entry.
func MinRuntimeOf(m *tflite.Model) (string, bool) {
	for _, md := range m.Metadata {
		if md.Name == MinRuntimeMetadata && int(md.Buffer) < len(m.Buffers) {
			return strings.TrimRight(string(m.Buffers[md.Buffer].Data), "\x00"), true
		}
	}
	return "", false
}

// ModelMinRuntime returns the highest runtime version among the model's
// operators ("" when none is known).
func ModelMinRuntime(m *tflite.Model) string {
	best := ""
	for _, sg := range m.Subgraphs {
		for _, op := range sg.Operators {
			oc := m.OpCode(op)
			if oc == nil {
				continue
			}
			if v := MinRuntime(oc.BuiltinCode, max(oc.Version, 1)); v != "" && CompareVersions(v, best) > 0 {
				best = v
			}
		}
	}
	return best
}

// updateMinRuntime raises the metadata to ModelMinRuntime. The buffer keeps
// its size when it is at least 16 bytes; a buffer shared with anything else
// is replaced by a new one rather than changed.
func updateMinRuntime(m *tflite.Model) (before, after string) {
	var md *fb.MetadataT
	for _, e := range m.Metadata {
		if e.Name == MinRuntimeMetadata && int(e.Buffer) < len(m.Buffers) {
			md = e
			break
		}
	}
	if md == nil {
		return "", ""
	}
	before = strings.TrimRight(string(m.Buffers[md.Buffer].Data), "\x00")
	want := ModelMinRuntime(m)
	if want == "" || CompareVersions(want, before) <= 0 || len(want) >= minRuntimeBufferSize {
		return before, before
	}
	data := make([]byte, max(minRuntimeBufferSize, len(m.Buffers[md.Buffer].Data)))
	copy(data, want)
	if md.Buffer == 0 || bufferShared(m, md) {
		m.Buffers = append(m.Buffers, &fb.BufferT{Data: data})
		md.Buffer = uint32(len(m.Buffers) - 1)
	} else {
		m.Buffers[md.Buffer].Data = data
	}
	return before, want
}

// bufferShared reports whether md's buffer is referenced by a tensor or
// another metadata entry.
func bufferShared(m *tflite.Model, md *fb.MetadataT) bool {
	for _, sg := range m.Subgraphs {
		for _, t := range sg.Tensors {
			if t.Buffer == md.Buffer {
				return true
			}
		}
	}
	for _, e := range m.Metadata {
		if e != md && e.Buffer == md.Buffer {
			return true
		}
	}
	for _, b := range m.MetadataBuffer {
		if uint32(b) == md.Buffer {
			return true
		}
	}
	return false
}

// CompareVersions compares dotted runtime versions numerically ("2.10.0" >
// "2.9.0"): it returns -1, 0 or +1. Missing components count as lower
// ("1.14" < "1.14.0"), as runtime_version.cc orders them; "" is the lowest.
func CompareVersions(a, b string) int {
	if a == b {
		return 0
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	if a == "" {
		pa = nil
	}
	if b == "" {
		pb = nil
	}
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, errx := strconv.Atoi(pa[i])
		y, erry := strconv.Atoi(pb[i])
		if errx != nil || erry != nil {
			continue
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(pa) < len(pb):
		return -1
	case len(pa) > len(pb):
		return 1
	}
	return 0
}
