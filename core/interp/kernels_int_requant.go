package interp

import (
	"math"

	fb "litequant/core/schema/tflitefb"
)

// Requantizing QUANTIZE (8-bit to 8-bit of the same type with other
// parameters) as the pinned runtime runs it: its XNNPACK delegate takes
// the operator when the scale ratio r = input scale / output scale
// (float32) is within [2^-8, 2^7), and converts with an 8-bit fixed-point
// multiplier: M = lrintf(256·r), out = ((x - in_zp)·M + 128) >> 8 +
// out_zp, saturated (XNNPACK's QS8/QU8 convert). Other requantizations
// (mixed int8/uint8, int16, ratios out of that range) run TensorFlow
// Lite's Requantize (MultiplyByQuantizedMultiplier), qRequant; so do all
// of them in a model on which the delegate fails as a whole (xnnOff,
// kernels_int_xnn.go).

// xnnRequantizes reports whether XNNPACK takes the requantization from
// type in to type out with float32 ratio r.
func xnnRequantizes(in, out fb.TensorType, r float32) bool {
	if in != out || (in != fb.TensorTypeINT8 && in != fb.TensorTypeUINT8) {
		return false
	}
	return r >= 1.0/256 && r < 128
}

// xnnRequantMultiplier is XNNPACK's Q8 multiplier of ratio r.
func xnnRequantMultiplier(r float32) int32 {
	return int32(math.RoundToEven(float64(256 * r)))
}

func (rq *qRequant) applyXNN(v int32) int32 {
	q := (v-rq.inZP)*rq.xnnMult + 128
	return min(max(q>>8+rq.outZP, rq.lo), rq.hi)
}
