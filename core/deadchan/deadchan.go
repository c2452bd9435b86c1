// Package deadchan clears the weights that only ever multiply zeros: those
// a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED applies to an input
// channel that calibration saw at exactly 0 on every sample and position.
//
// Batch-norm folding leaves such channels behind: a ReLU whose
// pre-activation never turns positive outputs 0 everywhere, while the next
// layer still holds trained weights for it, sometimes far larger than the
// live ones (mobilenet_v1_0.25's first depthwise layer has -29.7 on a dead
// channel and at most 1.7 on the live ones). Those weights do not change
// the model's outputs, but a quantizer that sizes one scale on the largest
// weight (per tensor, or per output channel of a convolution) spends its
// steps on them. Setting them to zero leaves the outputs unchanged
// wherever the channel stays 0.
//
// Seeing a channel at 0 on the calibration samples is not enough (a rare
// feature may not fire on them); UpperBounds proves it for every input in
// the calibrated ranges, which is all a quantized model ever sees, since
// quantization clamps to those ranges.
package deadchan

import (
	fb "litequant/core/schema/tflitefb"
)

// Ranges gives the per-channel (last axis) range of a float activation
// seen in calibration (*calib.Stats implements it).
type Ranges interface {
	ChannelRange(sg, t int) (min, max []float32, ok bool)
}

// Dead lists the channels whose range is exactly [0, 0].
func Dead(min, max []float32) []int {
	var out []int
	for i := range min {
		if i < len(max) && min[i] == 0 && max[i] == 0 {
			out = append(out, i)
		}
	}
	return out
}

// Clear sets to zero the weights of an operator of kind kind (weights
// values in shape, as TensorFlow Lite lays them out) that apply to the
// input channels listed in dead, of an input with channels channels. It
// returns how many nonzero weights it cleared, or 0 when the weights do
// not fit that input (grouped convolution, a FULLY_CONNECTED over a
// flattened input, another operator).
//
// CONV_2D weights are [O, kh, kw, I] and FULLY_CONNECTED [O, I]: input
// channel c is the innermost index. DEPTHWISE_CONV_2D weights are
// [1, kh, kw, I·m]: output channel o reads input channel o / m.
func Clear(kind fb.BuiltinOperator, shape []int32, values []float32, channels int, dead []int) int {
	if len(dead) == 0 || len(shape) == 0 || channels <= 0 {
		return 0
	}
	last := int(shape[len(shape)-1])
	mult := 1
	switch kind {
	case fb.BuiltinOperatorCONV_2D:
		if len(shape) != 4 || last != channels {
			return 0
		}
	case fb.BuiltinOperatorFULLY_CONNECTED:
		if len(shape) != 2 || last != channels {
			return 0
		}
	case fb.BuiltinOperatorDEPTHWISE_CONV_2D:
		if len(shape) != 4 || shape[0] != 1 || last%channels != 0 || last == 0 {
			return 0
		}
		mult = last / channels
	default:
		return 0
	}
	if last == 0 || len(values)%last != 0 {
		return 0
	}
	isDead := make([]bool, channels)
	for _, c := range dead {
		if c < 0 || c >= channels {
			return 0
		}
		isDead[c] = true
	}
	n := 0
	for k, v := range values {
		if isDead[k%last/mult] && v != 0 {
			values[k] = 0
			n++
		}
	}
	return n
}

// UpperBounds returns, for each output channel of a CONV_2D,
// DEPTHWISE_CONV_2D or FULLY_CONNECTED with weights values (in shape, laid
// out as Clear says) and bias (nil for none), a bound that its
// pre-activation value never exceeds while each input channel c stays in
// [lo[c], hi[c]] (0 included, for padding). ok is false when the weights
// do not fit an input of len(lo) channels.
//
// A channel whose bound is at most 0, behind a fused RELU or RELU6, is 0
// for every such input: in a quantized model, whose inputs are clamped to
// their calibrated ranges, always.
func UpperBounds(kind fb.BuiltinOperator, shape []int32, values, bias, lo, hi []float32) (bounds []float64, ok bool) {
	channels := len(lo)
	if len(hi) != channels || channels == 0 || len(shape) == 0 {
		return nil, false
	}
	last := int(shape[len(shape)-1])
	var outs int
	// out and in give the output and input channel of weight k.
	var out func(k int) int
	in := func(k int) int { return k % last }
	switch kind {
	case fb.BuiltinOperatorCONV_2D, fb.BuiltinOperatorFULLY_CONNECTED:
		if kind == fb.BuiltinOperatorCONV_2D && len(shape) != 4 || kind == fb.BuiltinOperatorFULLY_CONNECTED && len(shape) != 2 || last != channels {
			return nil, false
		}
		outs = int(shape[0])
		if outs == 0 {
			return nil, false
		}
		per := len(values) / outs
		out = func(k int) int { return k / per }
	case fb.BuiltinOperatorDEPTHWISE_CONV_2D:
		if len(shape) != 4 || shape[0] != 1 || last == 0 || last%channels != 0 {
			return nil, false
		}
		outs = last
		mult := last / channels
		out = func(k int) int { return k % last }
		in = func(k int) int { return k % last / mult }
	default:
		return nil, false
	}
	if len(values) == 0 || len(values)%last != 0 || bias != nil && len(bias) != outs {
		return nil, false
	}
	bounds = make([]float64, outs)
	for o := range bounds {
		if bias != nil {
			bounds[o] = float64(bias[o])
		}
	}
	for k, w := range values {
		c := in(k)
		l, h := float64(min(lo[c], 0)), float64(max(hi[c], 0))
		bounds[out(k)] += max(float64(w)*l, float64(w)*h)
	}
	return bounds, true
}
