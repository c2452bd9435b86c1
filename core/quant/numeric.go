package quant

import (
	"encoding/binary"
	"math"
)

// qmax is the largest int8 magnitude weights use: symmetric quantization
// keeps -128 unused so that the range is [-127, 127] with zero point 0, as
// TensorFlow Lite's hybrid kernels expect.
const qmax = 127

// symmetricInt8 quantizes values of the given shape to int8. With axis < 0
// there is one scale; otherwise one per slice along axis. A slice's scale is
// max|v| / 127 rounded to float32 (1 when the slice is all zeros), and
// q = round(v / scale) clamped to [-127, 127], rounding halves away from
// zero.
func symmetricInt8(values []float32, shape []int32, axis int) (scales []float32, q []int8) {
	channels, inner := 1, len(values)
	if axis >= 0 {
		channels = int(shape[axis])
		inner = 1
		for _, d := range shape[axis+1:] {
			inner *= int(d)
		}
	}
	channel := func(i int) int {
		if axis < 0 {
			return 0
		}
		return (i / inner) % channels
	}
	maxAbs := make([]float64, channels)
	for i, v := range values {
		c := channel(i)
		maxAbs[c] = math.Max(maxAbs[c], math.Abs(float64(v)))
	}
	scales = make([]float32, channels)
	for c, m := range maxAbs {
		scales[c] = float32(m / qmax)
		if scales[c] == 0 {
			scales[c] = 1
		}
	}
	q = make([]int8, len(values))
	for i, v := range values {
		r := math.Round(float64(v) / float64(scales[channel(i)]))
		q[i] = int8(math.Max(-qmax, math.Min(qmax, r)))
	}
	return scales, q
}

func int8Bytes(q []int8) []byte {
	b := make([]byte, len(q))
	for i, x := range q {
		b[i] = byte(x)
	}
	return b
}

// decodeFloat32 reads little-endian float32 values.
func decodeFloat32(data []byte) []float32 {
	v := make([]float32, len(data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return v
}

// decodeFloat16 reads little-endian IEEE half-precision values.
func decodeFloat16(data []byte) []float32 {
	v := make([]float32, len(data)/2)
	for i := range v {
		v[i] = halfToFloat32(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return v
}

// halfToFloat32 converts IEEE binary16 bits to float32 (exactly).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal half: normalize.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// float32ToHalf converts to IEEE binary16, rounding to nearest even. ok is
// false for NaN, infinities and values whose magnitude rounds beyond the
// largest half (65504).
func float32ToHalf(f float32) (h uint16, ok bool) {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int(bits>>23&0xff) - 127 + 15
	mant := bits & 0x7fffff
	if bits>>23&0xff == 0xff {
		return sign | 0x7c00, false
	}
	if exp >= 0x1f {
		return sign | 0x7c00, false
	}
	if exp <= 0 {
		if exp < -10 {
			return sign, true // rounds to (signed) zero
		}
		mant |= 0x800000
		shift := uint(14 - exp)
		half := mant >> shift
		rem, halfway := mant&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > halfway || (rem == halfway && half&1 == 1) {
			half++
		}
		return sign | uint16(half), true
	}
	half := uint16(exp)<<10 | uint16(mant>>13)
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, which is still right
	}
	if half&0x7c00 == 0x7c00 {
		return sign | 0x7c00, false
	}
	return sign | half, true
}
