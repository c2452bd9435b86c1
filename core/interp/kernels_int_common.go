package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// What the integer convolutions, fully connected layers and matrix
// products (kernels_int_conv.go, kernels_int_fc.go, kernels_int_tconv.go,
// kernels_int_bmm.go) share: operand checks, weights
// and inputs widened to int32 with their offsets (so padding is a plain
// zero), the bias, and the output stage that requantizes accumulators.
//
// Three operand families, as in TensorFlow Lite:
//   - int8 activations, int8 weights (per channel or per tensor, zero
//     point 0), int32 bias;
//   - uint8 activations and weights (asymmetric, per tensor), int32 bias;
//   - int16 activations (zero point 0), int8 weights, int64 (or int32)
//     bias, accumulated in int64 (the 16x8 kernels).
//
// The output stage follows the kernel the pinned runtime actually runs;
// each node picks its arithmetic in prepare. Measured against the runtime
// (kernels_int_conv_test.go; counts are one-unit differences the other
// choice gave):
//   - 8-bit CONV_2D, DEPTHWISE_CONV_2D (with a bias) and FULLY_CONNECTED
//     with constant weights and bias go to XNNPACK (icDelegated), which
//     scales the accumulator in float32 (xnnRequant): TensorFlow Lite's
//     fixed-point stage gave 21 of 52,000 int8 CONV_2D outputs, 42 of 47 int8 and
//     uint8 DEPTHWISE_CONV_2D cases, 17 of 16,000 uint8 FULLY_CONNECTED
//     outputs;
//   - other int8 CONV_2D and FULLY_CONNECTED run on ruy, which rounds once
//     (qMulSingleRound): MultiplyByQuantizedMultiplier's double rounding
//     gave 9 of 32,768 and 9 of 11,400;
//   - other 8-bit DEPTHWISE_CONV_2D and uint8 CONV_2D and
//     FULLY_CONNECTED (gemmlowp) round twice (qMulByMultiplier; single
//     rounding gave 50 of 110,000 uint8 CONV_2D outputs);
//   - int16x8 with an int64 bias (or a zero point) takes the reference
//     kernels' int64 accumulator and 16-bit multiplier
//     (qMulByMultiplier64); int16x8 FULLY_CONNECTED without one runs on
//     ruy with int32 accumulators, rounding once (double rounding: 11 of
//     19,600).
//
// The multiplier itself: FULLY_CONNECTED and the uint8 convolutions take
// TensorFlow Lite's legacy GetQuantizedConvolutionMultipler, whose product
// of input and weight scales is rounded to float32 before the division in
// double; with the exact double product, 7 of 19,600 int16x8
// FULLY_CONNECTED outputs differed.
//
// A caution for tests: in a model holding one int8 node whose bias has a
// scale per channel under per-tensor weights, the runtime was seen to run
// every depthwise node on TensorFlow Lite's kernels, so such nodes are
// tested in a model of their own. TRANSPOSE_CONV and BATCH_MATMUL are
// never delegated; their rounding is noted in their files.

// icMatch selects the integer variant: quantized integer activations.
func icMatch(n *node) bool {
	in := n.input(0)
	if n.code == fb.BuiltinOperatorTRANSPOSE_CONV {
		in = n.input(2)
	}
	if in == nil {
		return false
	}
	switch in.Type {
	case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16:
		return true
	}
	return false
}

// icOperands checks the types and quantization of an integer operator's
// input, weights, optional bias and output.
func icOperands(in, w, bias, out *Tensor) error {
	if out.Type != in.Type {
		return unsupportedf("input of type %s with output of type %s", tflite.TypeName(in.Type), tflite.TypeName(out.Type))
	}
	wantW := fb.TensorTypeINT8
	if in.Type == fb.TensorTypeUINT8 {
		wantW = fb.TensorTypeUINT8
	}
	if w.Type != wantW {
		return unsupportedf("%s input with %s weights (want %s)", tflite.TypeName(in.Type), tflite.TypeName(w.Type), tflite.TypeName(wantW))
	}
	if bias != nil {
		ok := bias.Type == fb.TensorTypeINT32 || in.Type == fb.TensorTypeINT16 && bias.Type == fb.TensorTypeINT64
		if !ok {
			return unsupportedf("%s input with a %s bias", tflite.TypeName(in.Type), tflite.TypeName(bias.Type))
		}
	}
	for _, t := range []*Tensor{in, out} {
		if len(t.Scale) != 1 || len(t.ZeroPoint) > 1 {
			return unsupportedf("%v must be quantized per tensor (has %d scales)", t, len(t.Scale))
		}
	}
	if len(w.Scale) == 0 {
		return unsupportedf("weights %v have no quantization scale", w)
	}
	if in.Type == fb.TensorTypeINT16 && len(in.ZeroPoint) == 1 && in.ZeroPoint[0] != 0 {
		return unsupportedf("int16 input with zero point %d (want 0)", in.ZeroPoint[0])
	}
	return nil
}

// icZeroPoint returns a per-tensor zero point (0 when absent).
func icZeroPoint(t *Tensor) int32 {
	if len(t.ZeroPoint) == 0 {
		return 0
	}
	return int32(t.ZeroPoint[0])
}

// icWeights returns the weights as int32 with their offset (minus the zero
// point of each element's channel along axis) added.
func icWeights(w *Tensor, axis int) ([]int32, error) {
	channels, inner, err := qChannels(w)
	if err != nil {
		return nil, err
	}
	if channels > 1 && w.QuantAxis != axis {
		return nil, unsupportedf("weights quantized along axis %d (want %d)", w.QuantAxis, axis)
	}
	out := make([]int32, w.NumElements())
	zp := func(i int) int32 {
		c := i / inner % channels
		_, z := qParams(w, c)
		return int32(z)
	}
	switch w.Type {
	case fb.TensorTypeINT8:
		for i, v := range w.I8() {
			out[i] = int32(v) - zp(i)
		}
	case fb.TensorTypeUINT8:
		for i, v := range w.U8() {
			out[i] = int32(v) - zp(i)
		}
	default:
		return nil, unsupportedf("weights of type %s", tflite.TypeName(w.Type))
	}
	return out, nil
}

// icBias returns an optional bias of n values widened to int64 (nil when
// absent).
func icBias(bias *Tensor, n int) ([]int64, error) {
	if bias == nil {
		return nil, nil
	}
	if bias.NumElements() != n {
		return nil, fmt.Errorf("bias has %d elements (shape %v), want %d", bias.NumElements(), bias.Shape, n)
	}
	out := make([]int64, n)
	switch bias.Type {
	case fb.TensorTypeINT32:
		for i, v := range bias.I32() {
			out[i] = int64(v)
		}
	case fb.TensorTypeINT64:
		copy(out, bias.I64())
	default:
		return nil, unsupportedf("bias of type %s", tflite.TypeName(bias.Type))
	}
	return out, nil
}

// icLoad writes the input t's values plus off into dst (len(dst) values).
func icLoad(dst []int32, t *Tensor, off int32) {
	switch t.Type {
	case fb.TensorTypeINT8:
		for i, v := range t.I8()[:len(dst)] {
			dst[i] = int32(v) + off
		}
	case fb.TensorTypeUINT8:
		for i, v := range t.U8()[:len(dst)] {
			dst[i] = int32(v) + off
		}
	case fb.TensorTypeINT16:
		for i, v := range t.I16()[:len(dst)] {
			dst[i] = int32(v) + off
		}
	}
}

// icStore writes the already clamped values v to t's elements from at.
func icStore(t *Tensor, at int, v []int32) {
	switch t.Type {
	case fb.TensorTypeINT8:
		d := t.I8()[at : at+len(v)]
		for i, x := range v {
			d[i] = int8(x)
		}
	case fb.TensorTypeUINT8:
		d := t.U8()[at : at+len(v)]
		for i, x := range v {
			d[i] = uint8(x)
		}
	case fb.TensorTypeINT16:
		d := t.I16()[at : at+len(v)]
		for i, x := range v {
			d[i] = int16(x)
		}
	}
}

// icStage requantizes the accumulators of each output channel.
type icStage struct {
	mult   []int32 // Q31 multiplier per output channel
	shift  []int
	scale  []float32 // XNNPACK's float32 scale per output channel
	xnn    bool      // use XNNPACK's arithmetic (8-bit, delegated)
	wide   bool      // int64 accumulators (16x8)
	single bool      // ruy's single-rounding multiplier
	zp     int32
	lo, hi int32
}

// newICStage computes the output stage of an operator with channels
// output channels reading in and weights w (per-tensor weights scale every
// channel alike). TensorFlow Lite's effective scale is in·w/out in double
// precision for its per-channel kernels; with legacy (FULLY_CONNECTED and
// the uint8 convolutions) the product in·w is rounded to float32 first.
// XNNPACK's is all float32.
func newICStage(in, w, out *Tensor, channels int, act fb.ActivationFunctionType, xnn, legacy bool) (*icStage, error) {
	if len(w.Scale) != 1 && len(w.Scale) != channels {
		return nil, fmt.Errorf("weights have %d scales for %d output channels", len(w.Scale), channels)
	}
	q := &icStage{xnn: xnn, wide: in.Type == fb.TensorTypeINT16, zp: icZeroPoint(out)}
	q.mult, q.shift, q.scale = make([]int32, channels), make([]int, channels), make([]float32, channels)
	inS, outS := in.Scale[0], out.Scale[0]
	for c := range channels {
		ws := w.Scale[0]
		if len(w.Scale) > 1 {
			ws = w.Scale[c]
		}
		if legacy {
			// GetQuantizedConvolutionMultipler: the product in float32.
			q.mult[c], q.shift[c] = qMultiplier(float64(inS*ws) / float64(outS))
		} else {
			q.mult[c], q.shift[c] = qMultiplier(float64(inS) * float64(ws) / float64(outS))
		}
		q.scale[c] = float32(inS*ws) / outS
	}
	if xnn {
		qmin, qmax, _ := qRange(out.Type)
		flo, fhi := activationRange(act)
		q.lo = xnnQuantize(flo, outS, q.zp, qmin, qmax)
		q.hi = xnnQuantize(fhi, outS, q.zp, qmin, qmax)
	} else {
		q.lo, q.hi = qActivationRange(act, out.Type, outS, q.zp)
	}
	return q, nil
}

// out32 requantizes an int32 accumulator of channel c.
func (q *icStage) out32(acc int32, c int) int32 {
	if q.xnn {
		return xnnRequant(acc, q.scale[c], q.zp, q.lo, q.hi)
	}
	if q.single {
		return min(max(qMulSingleRound(acc, q.mult[c], q.shift[c])+q.zp, q.lo), q.hi)
	}
	return min(max(qMulByMultiplier(acc, q.mult[c], q.shift[c])+q.zp, q.lo), q.hi)
}

// dot returns output channel c of Σ x·w plus bias[c] (when bias is
// set), accumulated and requantized as the stage says.
func (q *icStage) dot(x, w []int32, bias []int64, c int) int32 {
	if q.wide {
		acc := icDot[int64](x, w)
		if bias != nil {
			acc += bias[c]
		}
		return q.out64(acc, c)
	}
	acc := icDot[int32](x, w)
	if bias != nil {
		acc += int32(bias[c])
	}
	return q.out32(acc, c)
}

// out64 requantizes an int64 accumulator (16x8) of channel c.
func (q *icStage) out64(acc int64, c int) int32 {
	return min(max(qMulByMultiplier64(acc, q.mult[c], q.shift[c])+q.zp, q.lo), q.hi)
}

// icDelegated reports whether the pinned runtime's XNNPACK delegate takes
// an 8-bit operator: constant weights and bias, a fused activation it
// knows (TensorFlow Lite's own kernel runs the others) and, for uint8, a
// bias quantized per tensor (a bias with one scale per channel, even
// equal ones, keeps uint8 on TensorFlow Lite's kernels). A
// DEPTHWISE_CONV_2D without bias stays on TensorFlow Lite's kernel.
func icDelegated(n *node, in, w, bias *Tensor, act fb.ActivationFunctionType) bool {
	switch in.Type {
	case fb.TensorTypeINT8:
	case fb.TensorTypeUINT8:
		if bias != nil && len(bias.Scale) > 1 {
			return false
		}
	default:
		return false
	}
	if !w.IsConst() || bias != nil && !bias.IsConst() {
		return false
	}
	if bias == nil && n.code == fb.BuiltinOperatorDEPTHWISE_CONV_2D {
		return false // measured: 465 of 196,608 outputs differ from XNNPACK's
	}
	switch act {
	case fb.ActivationFunctionTypeNONE, fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6, fb.ActivationFunctionTypeRELU_N1_TO_1:
		return true
	}
	return false
}

// icDot returns Σ a[i]·b[i] in accumulator type A (int32 wraps as the
// runtime's int32 arithmetic does).
func icDot[A int32 | int64](a, b []int32) A {
	b = b[:len(a)]
	var s0, s1, s2, s3 A
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += A(a[i]) * A(b[i])
		s1 += A(a[i+1]) * A(b[i+1])
		s2 += A(a[i+2]) * A(b[i+2])
		s3 += A(a[i+3]) * A(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += A(a[i]) * A(b[i])
	}
	return s0 + s1 + s2 + s3
}
