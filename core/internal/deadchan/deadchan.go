// Package deadchan clears the weights that only ever multiply zeros: those
// a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED applies to an input
// channel that calibration saw at exactly 0 on every sample and position.
// Which weight applies to which input and output channel is opspec's
// table (opspec.Layout).
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
	"litequant/core/internal/opspec"
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

// Clear sets to zero the values of weight w (in shape, laid out as
// opspec's table says: see opspec.Layout) that apply to the input
// channels listed in dead, of an input with channels channels. It returns
// how many nonzero weights it cleared, or 0 when the weights do not fit
// that input.
func Clear(w opspec.Weight, shape []int32, values []float32, channels int, dead []int) int {
	l, ok := w.Fit(shape, len(values), channels)
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
		if isDead[l.In(k)] && v != 0 {
			values[k] = 0
			n++
		}
	}
	return n
}

// UpperBounds returns, for each output channel of an operator with weight
// w (values in shape, laid out as opspec says; a CONV_2D,
// DEPTHWISE_CONV_2D or FULLY_CONNECTED) and bias (nil for none), a bound that its pre-activation value
// never exceeds while each input channel c stays in [lo[c], hi[c]] (0
// included, for padding). ok is false when the weights do not fit an input
// of len(lo) channels.
//
// A channel whose bound is at most 0, behind a fused RELU or RELU6, is 0
// for every such input: in a quantized model, whose inputs are clamped to
// their calibrated ranges, always.
func UpperBounds(w opspec.Weight, shape []int32, values, bias, lo, hi []float32) (bounds []float64, ok bool) {
	l, ok := w.Fit(shape, len(values), len(lo))
	if !ok || len(hi) != len(lo) || bias != nil && len(bias) != l.Outs() {
		return nil, false
	}
	bounds = make([]float64, l.Outs())
	for o := range bounds {
		if bias != nil {
			bounds[o] = float64(bias[o])
		}
	}
	for k, v := range values {
		c := l.In(k)
		lc, hc := float64(min(lo[c], 0)), float64(max(hi[c], 0))
		bounds[l.Out(k)] += max(float64(v)*lc, float64(v)*hc)
	}
	return bounds, true
}
