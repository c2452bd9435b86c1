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

// layout says which input and output channel each weight of an operator
// belongs to. CONV_2D weights are [O, kh, kw, I] and FULLY_CONNECTED
// [O, I]: the input channel is the innermost index, the output channel the
// outermost. DEPTHWISE_CONV_2D weights are [1, kh, kw, I·m]: output
// channel o is the innermost index and reads input channel o / m.
type layout struct {
	last      int // innermost dimension
	mult      int // depthwise: output channels per input channel
	outs      int // output channels
	depthwise bool
}

// newLayout checks that n weights in shape of an operator of kind fit an
// input of channels channels (not a grouped convolution, nor a
// FULLY_CONNECTED over a flattened input, nor another operator).
func newLayout(kind fb.BuiltinOperator, shape []int32, n, channels int) (layout, bool) {
	if len(shape) == 0 || channels <= 0 {
		return layout{}, false
	}
	l := layout{last: int(shape[len(shape)-1]), mult: 1}
	switch kind {
	case fb.BuiltinOperatorCONV_2D, fb.BuiltinOperatorFULLY_CONNECTED:
		rank := 4
		if kind == fb.BuiltinOperatorFULLY_CONNECTED {
			rank = 2
		}
		if len(shape) != rank || l.last != channels {
			return layout{}, false
		}
		l.outs = int(shape[0])
	case fb.BuiltinOperatorDEPTHWISE_CONV_2D:
		if len(shape) != 4 || shape[0] != 1 || l.last%channels != 0 {
			return layout{}, false
		}
		l.mult, l.outs, l.depthwise = l.last/channels, l.last, true
	default:
		return layout{}, false
	}
	if l.last == 0 || l.outs == 0 || n == 0 || n%l.last != 0 || n%l.outs != 0 {
		return layout{}, false
	}
	return l, true
}

// in is the input channel weight k applies to.
func (l layout) in(k int) int { return k % l.last / l.mult }

// out is the output channel weight k of n belongs to.
func (l layout) out(k, n int) int {
	if l.depthwise {
		return k % l.last
	}
	return k / (n / l.outs)
}

// Clear sets to zero the weights of an operator of kind kind (weights
// values in shape, as TensorFlow Lite lays them out; see layout) that
// apply to the input channels listed in dead, of an input with channels
// channels. It returns how many nonzero weights it cleared, or 0 when the
// weights do not fit that input.
func Clear(kind fb.BuiltinOperator, shape []int32, values []float32, channels int, dead []int) int {
	l, ok := newLayout(kind, shape, len(values), channels)
	if !ok || len(dead) == 0 {
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
		if isDead[l.in(k)] && v != 0 {
			values[k] = 0
			n++
		}
	}
	return n
}

// UpperBounds returns, for each output channel of a CONV_2D,
// DEPTHWISE_CONV_2D or FULLY_CONNECTED with weights values (in shape, see
// layout) and bias (nil for none), a bound that its pre-activation value
// never exceeds while each input channel c stays in [lo[c], hi[c]] (0
// included, for padding). ok is false when the weights do not fit an input
// of len(lo) channels.
//
// A channel whose bound is at most 0, behind a fused RELU or RELU6, is 0
// for every such input: in a quantized model, whose inputs are clamped to
// their calibrated ranges, always.
func UpperBounds(kind fb.BuiltinOperator, shape []int32, values, bias, lo, hi []float32) (bounds []float64, ok bool) {
	l, ok := newLayout(kind, shape, len(values), len(lo))
	if !ok || len(hi) != len(lo) || bias != nil && len(bias) != l.outs {
		return nil, false
	}
	bounds = make([]float64, l.outs)
	for o := range bounds {
		if bias != nil {
			bounds[o] = float64(bias[o])
		}
	}
	for k, w := range values {
		c := l.in(k)
		lc, hc := float64(min(lo[c], 0)), float64(max(hi[c], 0))
		bounds[l.out(k, len(values))] += max(float64(w)*lc, float64(w)*hc)
	}
	return bounds, true
}
