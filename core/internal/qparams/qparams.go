// Package qparams holds the arithmetic of affine quantization parameters
// that several parts of litequant share: the interpreter's FAKE_QUANT
// kernel and the quantization passes must agree on it to the bit.
package qparams

import "math"

// Nudge computes TensorFlow's fake-quantization parameters for the float
// range [min, max] over the integer range [quantMin, quantMax]: the range
// is shifted so that 0.0 is exactly representable, and the returned
// zeroPoint is the integer that stands for 0.0. This is the nudging of
// FakeQuantWithMinMaxArgs, done in float32 as TensorFlow does.
func Nudge(min, max float32, quantMin, quantMax int) (nudgedMin, nudgedMax, scale float32, zeroPoint int) {
	qmin, qmax := float32(quantMin), float32(quantMax)
	scale = (max - min) / (qmax - qmin)
	zpFromMin := qmin - min/scale
	switch {
	case zpFromMin < qmin:
		zeroPoint = quantMin
	case zpFromMin > qmax:
		zeroPoint = quantMax
	default:
		zeroPoint = int(RoundHalfAway(zpFromMin))
	}
	nudgedMin = (qmin - float32(zeroPoint)) * scale
	nudgedMax = (qmax - float32(zeroPoint)) * scale
	return nudgedMin, nudgedMax, scale, zeroPoint
}

// FakeQuantRange returns the integer range of a FAKE_QUANT op's options:
// [0, 2^numBits - 1], or [1, 2^numBits - 1] with narrowRange.
func FakeQuantRange(numBits int, narrowRange bool) (quantMin, quantMax int) {
	quantMax = 1<<numBits - 1
	if narrowRange {
		quantMin = 1
	}
	return quantMin, quantMax
}

// RoundHalfAway rounds to the nearest integer, halves away from zero (C's
// roundf, which TensorFlow Lite uses).
func RoundHalfAway(x float32) float32 { return float32(math.Round(float64(x))) }

// Asymmetric computes the affine parameters TensorFlow's post-training
// quantizer gives an activation whose values lie in [min, max], over the
// integer range [quantMin, quantMax] (GetAsymmetricQuantizationParams in
// tensorflow/lite/tools/optimize/quantization_utils.cc): the range is first
// extended to include 0, scale = (max - min) / (quantMax - quantMin), and
// the zero point is quantMin - min/scale rounded half away from zero,
// clamped to the integer range. The arithmetic is float32, as there.
//
// A range that is empty once extended (min = max = 0) has no scale that
// describes it; Asymmetric then uses [0, 1] so that the parameters stay
// usable by kernels (any scale represents an all-zero tensor exactly).
func Asymmetric(min, max float32, quantMin, quantMax int) (scale float32, zeroPoint int64) {
	min, max = float32(math.Min(float64(min), 0)), float32(math.Max(float64(max), 0))
	if max == min {
		max = 1
	}
	qmin, qmax := float32(quantMin), float32(quantMax)
	scale = (max - min) / (qmax - qmin)
	zpFromMin := qmin - min/scale
	switch {
	case zpFromMin < qmin:
		zeroPoint = int64(quantMin)
	case zpFromMin > qmax:
		zeroPoint = int64(quantMax)
	default:
		zeroPoint = int64(RoundHalfAway(zpFromMin))
	}
	return scale, zeroPoint
}

// Symmetric computes the scale of symmetric quantization (zero point 0) of
// values in [min, max] over [-quantMax, quantMax]: max(|min|, |max|) /
// quantMax, in float32. TensorFlow's 16x8 mode gives int16 activations this
// scale with quantMax 32767. An all-zero range gives the scale of [-1, 1].
func Symmetric(min, max float32, quantMax int) float32 {
	peak := float32(math.Max(math.Abs(float64(min)), math.Abs(float64(max))))
	if peak == 0 {
		peak = 1
	}
	return peak / float32(quantMax)
}

// Quantize returns round(v/scale) + zeroPoint (halves away from zero),
// clamped to [quantMin, quantMax]: the value a quantized tensor stores for
// the real value v. Non-finite values clamp to the nearer end (NaN to the
// zero point).
func Quantize(v, scale float32, zeroPoint int64, quantMin, quantMax int64) int64 {
	if v != v {
		return min(max(zeroPoint, quantMin), quantMax)
	}
	r := math.Round(float64(v)/float64(scale)) + float64(zeroPoint)
	switch {
	case r < float64(quantMin):
		return quantMin
	case r > float64(quantMax):
		return quantMax
	}
	return int64(r)
}
