package interp

import (
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Quantization helpers of the integer elementwise, pooling and reduction
// kernels (kernels_int_arith.go, kernels_int_pool.go, kernels_int_reduce.go):
// per-tensor parameters, the clamp bounds of fused activations as
// TensorFlow Lite and XNNPACK compute them, and XNNPACK's float rounding.
//
// The runtime litequant is judged against (the tfjs-tflite WebAssembly
// build) runs int8 and uint8 ADD, SUB, MUL and MEAN over the spatial axes in
// its XNNPACK delegate, whose arithmetic differs from TensorFlow Lite's
// kernels; those kernels reproduce XNNPACK's where the delegate takes the
// operator. Its XNNPACK is from between 2022-08-23 and 2022-10-10 (the
// operators named in the binary: "Space To Depth (NHWC, X8)" is there,
// "Slice (ND, X8)" is not).

// tensorQ is a tensor's per-tensor quantization.
type tensorQ struct {
	scale float32
	zp    int32
}

// tensorQOf returns t's single scale and zero point.
func tensorQOf(t *Tensor, what string) (tensorQ, error) {
	if len(t.Scale) != 1 || len(t.ZeroPoint) != 1 {
		return tensorQ{}, unsupportedf("%s %v has %d scales and %d zero points, want one of each (per-tensor quantization)", what, t, len(t.Scale), len(t.ZeroPoint))
	}
	if !(t.Scale[0] > 0) {
		return tensorQ{}, fmt.Errorf("%s %v has scale %g, want a positive one", what, t, t.Scale[0])
	}
	return tensorQ{t.Scale[0], int32(t.ZeroPoint[0])}, nil
}

// qIntType reports whether typ is a quantized activation type of the
// integer kernels.
func qIntType(typ fb.TensorType) bool {
	return typ == fb.TensorTypeINT8 || typ == fb.TensorTypeUINT8 || typ == fb.TensorTypeINT16
}

// qMatchInput0 selects the integer variant by the type of input 0.
func qMatchInput0(n *node) bool {
	in := n.input(0)
	return in != nil && qIntType(in.Type)
}

// qTypeRange is the range of a quantized type.
func qTypeRange(typ fb.TensorType) (lo, hi int32) {
	switch typ {
	case fb.TensorTypeINT8:
		return math.MinInt8, math.MaxInt8
	case fb.TensorTypeUINT8:
		return 0, math.MaxUint8
	}
	return math.MinInt16, math.MaxInt16
}

// qSameTypes checks that every tensor has type typ.
func qSameTypes(typ fb.TensorType, ts ...*Tensor) error {
	for _, t := range ts {
		if t.Type != typ {
			return fmt.Errorf("%v: type %s, want %s like input 0", t, tflite.TypeName(t.Type), tflite.TypeName(typ))
		}
	}
	return nil
}

// qActRange is TensorFlow Lite's CalculateActivationRangeQuantized: the
// activation's bounds quantized with the output's parameters (f/scale
// rounded half away from zero, plus the zero point), within the type.
func qActRange(act fb.ActivationFunctionType, typ fb.TensorType, q tensorQ) (lo, hi int32, err error) {
	lo, hi = qTypeRange(typ)
	quant := func(f float32) int32 { return q.zp + int32(math.Round(float64(f/q.scale))) }
	switch act {
	case fb.ActivationFunctionTypeNONE:
	case fb.ActivationFunctionTypeRELU:
		lo = max(lo, quant(0))
	case fb.ActivationFunctionTypeRELU6:
		lo, hi = max(lo, quant(0)), min(hi, quant(6))
	case fb.ActivationFunctionTypeRELU_N1_TO_1:
		lo, hi = max(lo, quant(-1)), min(hi, quant(1))
	default:
		return 0, 0, unsupportedf("fused activation %s on quantized operands", fb.EnumNamesActivationFunctionType[act])
	}
	return lo, hi, nil
}

// xnnActRange is the same bounds as XNNPACK quantizes them
// (xnn_qs8_quantize, xnn_qu8_quantize): f/scale + zero point in float,
// clamped to the type, rounded half to even.
func xnnActRange(act fb.ActivationFunctionType, typ fb.TensorType, q tensorQ) (lo, hi int32, err error) {
	tlo, thi := qTypeRange(typ)
	quant := func(f float32) int32 {
		v := float32(f/q.scale) + float32(q.zp)
		v = min(max(v, float32(tlo)), float32(thi))
		return int32(math.RoundToEven(float64(v)))
	}
	lo, hi = tlo, thi
	switch act {
	case fb.ActivationFunctionTypeNONE:
	case fb.ActivationFunctionTypeRELU:
		lo = quant(0)
	case fb.ActivationFunctionTypeRELU6:
		lo, hi = quant(0), quant(6)
	case fb.ActivationFunctionTypeRELU_N1_TO_1:
		lo, hi = quant(-1), quant(1)
	default:
		return 0, 0, unsupportedf("fused activation %s on quantized operands", fb.EnumNamesActivationFunctionType[act])
	}
	return lo, hi, nil
}

// xnnMagicBias is XNNPACK's 1.5·2^23: adding it to a float32 rounds the
// value to an integer (half to even) in the low mantissa bits.
const xnnMagicBias = float32(12582912.0)

// xnnFP32Requant is XNNPACK's "fp32" requantization as its WebAssembly SIMD
// kernels do it (qs8/qu8 vmul and gavgpool): acc × scale in float32, the
// magic bias added, the bits taken as an integer and bounded below by the
// output minimum, the bias and zero point taken off, then saturated to
// int16, to the type, and bounded above by the output maximum.
type xnnFP32Requant struct {
	scale       float32
	magicMin    int32
	magicLessZp int32
	hi          int32
	tlo, thi    int32
}

func newXNNFP32Requant(scale float32, typ fb.TensorType, zp, lo, hi int32) xnnFP32Requant {
	tlo, thi := qTypeRange(typ)
	return xnnFP32Requant{
		scale:       scale,
		magicMin:    int32(math.Float32bits(float32(xnnMagicBias + float32(lo-zp)))),
		magicLessZp: 0x4B400000 - zp,
		hi:          hi,
		tlo:         tlo,
		thi:         thi,
	}
}

func (r *xnnFP32Requant) apply(acc int32) int32 {
	f := float32(float32(acc) * r.scale)
	v := int32(math.Float32bits(float32(f + xnnMagicBias)))
	v = max(v, r.magicMin) - r.magicLessZp
	v = min(max(v, math.MinInt16), math.MaxInt16)
	v = min(max(v, r.tlo), r.thi)
	return min(v, r.hi)
}

// roundDivAway divides by a positive count rounding half away from zero,
// as TensorFlow Lite's integer average pooling and MEAN do.
func roundDivAway(acc, count int32) int32 {
	if acc > 0 {
		return (acc + count/2) / count
	}
	return (acc - count/2) / count
}
