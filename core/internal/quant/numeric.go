package quant

import (
	"encoding/binary"
	"github.com/x448/float16"
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
		if channels <= 0 || inner <= 0 || channels*inner == 0 || len(values)%(channels*inner) != 0 {
			// A damaged file's shape that does not describe the values
			// (found by the robustness sweep): one scale for them all.
			axis, channels, inner = -1, 1, len(values)
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

// float32Bytes encodes v little-endian.
func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
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
func halfToFloat32(h uint16) float32 { return float16.Frombits(h).Float32() }

// float32ToHalf converts to IEEE binary16, rounding to nearest even. ok is
// false for NaN, infinities and values whose magnitude rounds beyond the
// largest half (65504).
func float32ToHalf(f float32) (h uint16, ok bool) {
	x := float16.Fromfloat32(f)
	return x.Bits(), !x.IsNaN() && !x.IsInf(0)
}
