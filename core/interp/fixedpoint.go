package interp

import (
	"math"

	fb "litequant/core/schema/tflitefb"
)

// Fixed-point arithmetic of TensorFlow Lite's integer kernels (gemmlowp's
// primitives and tensorflow/lite/kernels/internal/common.h), shared by
// every integer kernel so that they all round the same way. Go's signed
// overflow wraps, as the runtime's two's-complement arithmetic does.

// qMultiplier splits a real multiplier into a Q31 fixed-point value and a
// power-of-two exponent (TensorFlow Lite's QuantizeMultiplier): m =
// mult × 2^(shift-31).
func qMultiplier(m float64) (int32, int) {
	if m == 0 {
		return 0, 0
	}
	frac, shift := math.Frexp(m)
	q := int64(math.Round(frac * (1 << 31)))
	if q == 1<<31 {
		q /= 2
		shift++
	}
	if shift < -31 {
		shift, q = 0, 0
	}
	return int32(q), shift
}

// srdhm is gemmlowp's SaturatingRoundingDoublingHighMul: the high 32 bits
// of 2·a·b, rounded to nearest (ties away from zero); saturates the one
// overflowing case a = b = MinInt32.
func srdhm(a, b int32) int32 {
	if a == math.MinInt32 && b == math.MinInt32 {
		return math.MaxInt32
	}
	ab := int64(a) * int64(b)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	return int32((ab + nudge) / (1 << 31))
}

// rdbpot is gemmlowp's RoundingDivideByPOT: x / 2^exp rounded to nearest,
// ties away from zero.
func rdbpot(x int32, exp int) int32 {
	if exp == 0 {
		return x
	}
	mask := int32(1)<<exp - 1
	rem := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> exp
	if rem > threshold {
		r++
	}
	return r
}

// qMulByMultiplier is TensorFlow Lite's MultiplyByQuantizedMultiplier for
// int32 values: x × mult × 2^(shift-31) as a saturating rounding doubling
// high multiply (after the left part of the shift), then a rounding right
// shift.
func qMulByMultiplier(x, mult int32, shift int) int32 {
	left, right := 0, 0
	if shift > 0 {
		left = shift
	} else {
		right = -shift
	}
	return rdbpot(srdhm(x*(1<<left), mult), right)
}

// qMulByMultiplier64 is TensorFlow Lite's MultiplyByQuantizedMultiplier
// for int64 accumulators (the int16×int8 kernels): the Q31 multiplier is
// first rounded to 16 bits (0x7FFF when that would overflow), then one
// rounding right shift by 15-shift bits, ties upward; the result is
// truncated to 32 bits as the runtime's cast does. x is expected within
// ±2^47.
func qMulByMultiplier64(x int64, mult int32, shift int) int32 {
	reduced := int64(0x7FFF)
	if mult < 0x7FFF0000 {
		reduced = (int64(mult) + 1<<15) >> 16
	}
	total := 15 - shift
	return int32((x*reduced + int64(1)<<(total-1)) >> total)
}

// qActivationRange is TensorFlow Lite's CalculateActivationRangeQuantized:
// the clamp a fused activation applies in the quantized domain of an
// output of type typ (scale, zero point). Bounds are zp + round(f/scale),
// f/scale in float32, rounded half away from zero, within the type's
// range; activations other than RELU, RELU6 and RELU_N1_TO_1 clamp to the
// type's range only.
func qActivationRange(act fb.ActivationFunctionType, typ fb.TensorType, scale float32, zp int32) (lo, hi int32) {
	lo, hi, _ = qRange(typ)
	q := func(f float32) int32 { return zp + int32(math.Round(float64(f/scale))) }
	switch act {
	case fb.ActivationFunctionTypeRELU:
		lo = max(lo, q(0))
	case fb.ActivationFunctionTypeRELU6:
		lo, hi = max(lo, q(0)), min(hi, q(6))
	case fb.ActivationFunctionTypeRELU_N1_TO_1:
		lo, hi = max(lo, q(-1)), min(hi, q(1))
	}
	return lo, hi
}

// xnnQuantize is XNNPACK's quantization of an activation bound f for an
// 8-bit output: lrintf of f/scale + zp (float32, ties to even) within
// [qmin, qmax].
func xnnQuantize(f, scale float32, zp, qmin, qmax int32) int32 {
	v := float32(f/scale) + float32(zp)
	v = min(max(v, float32(qmin)), float32(qmax))
	return int32(math.RoundToEven(float64(v)))
}

// xnnRequant is XNNPACK's fp32 requantization of 8-bit convolutions and
// fully connected layers: the int32 accumulator converted to float32,
// times the float32 scale, clamped to [lo-zp, hi-zp], rounded to nearest
// even, plus the zero point.
func xnnRequant(acc int32, scale float32, zp, lo, hi int32) int32 {
	f := float32(float32(acc) * scale)
	f = min(max(f, float32(lo-zp)), float32(hi-zp))
	return int32(math.RoundToEven(float64(f))) + zp
}

// qMulSingleRound is ruy's MultiplyByQuantizedMultiplier: x × mult ×
// 2^(shift-31) in 64 bits with one rounding, ties upward.
func qMulSingleRound(x, mult int32, shift int) int32 {
	total := 31 - shift
	return int32((int64(x)*int64(mult) + int64(1)<<(total-1)) >> total)
}
