package interp

import "math"

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
