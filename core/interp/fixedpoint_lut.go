package interp

import (
	"fmt"
	"math"
	"math/bits"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Helpers of the integer activation, lookup-table and comparison kernels
// (kernels_int_*.go): per-tensor quantization parameters, the integer
// ranges of the quantized types, 16-bit fixed-point arithmetic
// (gemmlowp's int16 primitives), TensorFlow Lite's int16 lookup tables
// (gen_lut and their interpolated lookup), its 256-entry sigmoid table and
// its fixed-point inverse square root (GetInvSqrtQuantizedMultiplierExp).

// iqElem is the element types of quantized activations.
type iqElem interface{ ~int8 | ~uint8 | ~int16 }

// iqIsQuant reports whether t is an INT8, UINT8 or INT16 tensor.
func iqIsQuant(t *Tensor) bool {
	if t == nil {
		return false
	}
	switch t.Type {
	case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16:
		return true
	}
	return false
}

// iqRange returns the smallest and largest value of a quantized type.
func iqRange(t fb.TensorType) (lo, hi int32) {
	switch t {
	case fb.TensorTypeINT8:
		return math.MinInt8, math.MaxInt8
	case fb.TensorTypeUINT8:
		return 0, math.MaxUint8
	case fb.TensorTypeINT16:
		return math.MinInt16, math.MaxInt16
	}
	return math.MinInt32, math.MaxInt32
}

// iqParams returns t's per-tensor scale and zero point, as the runtime's
// TfLiteQuantizationParams hold them (float32 and int32).
func iqParams(t *Tensor) (scale float32, zp int32, err error) {
	if len(t.Scale) != 1 || len(t.ZeroPoint) > 1 {
		return 0, 0, fmt.Errorf("%v: want one scale and zero point (per-tensor quantization), have %d scales", t, len(t.Scale))
	}
	if len(t.ZeroPoint) == 1 {
		zp = int32(t.ZeroPoint[0])
	}
	if !(t.Scale[0] > 0) {
		return 0, 0, fmt.Errorf("%v: scale %g is not positive", t, t.Scale[0])
	}
	return t.Scale[0], zp, nil
}

// iqSameType checks that the output has the input's quantized type.
func iqSameType(in, out *Tensor) error {
	if in.Type != out.Type {
		return fmt.Errorf("output type %s differs from input type %s", tflite.TypeName(out.Type), tflite.TypeName(in.Type))
	}
	return nil
}

func iqClamp(v, lo, hi int32) int32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// iqRoundF is C's roundf: to nearest, ties away from zero, on a float32.
func iqRoundF(x float32) float32 { return float32(math.Round(float64(x))) }

// iqExpF and iqTanhF stand for the C library's expf and tanhf (the
// runtime's lookup tables are computed with them): the float64 result
// rounded to float32, which is the correctly rounded value but for rare
// double roundings.
func iqExpF(x float32) float32  { return float32(math.Exp(float64(x))) }
func iqTanhF(x float32) float32 { return float32(math.Tanh(float64(x))) }

// ---- 16-bit fixed point (gemmlowp's int16 overloads) ----

// srdhm16 is SaturatingRoundingDoublingHighMul on int16.
func srdhm16(a, b int16) int16 {
	if a == math.MinInt16 && b == math.MinInt16 {
		return math.MaxInt16
	}
	ab := int32(a) * int32(b)
	nudge := int32(1 << 14)
	if ab < 0 {
		nudge = 1 - (1 << 14)
	}
	return int16((ab + nudge) / (1 << 15))
}

// sdhm16 is TensorFlow Lite's SaturatingDoublingHighMul on int16: the
// doubled high half truncated toward zero.
func sdhm16(a, b int16) int16 {
	if a == math.MinInt16 && b == math.MinInt16 {
		return math.MaxInt16
	}
	return int16(int32(a) * int32(b) / (1 << 15))
}

// rdbpot16 is RoundingDivideByPOT on int16.
func rdbpot16(x int16, exp int) int16 { return int16(rdbpot(int32(x), exp)) }

// satLeftShift16 is TensorFlow Lite's SaturatingLeftShift on int16.
func satLeftShift16(x int16, amount int) int16 {
	return int16(iqClamp(int32(x)*(1<<amount), math.MinInt16, math.MaxInt16))
}

// satMulPOT is gemmlowp's SaturatingRoundingMultiplyByPOT<exp> on int32:
// a saturating left shift for exp > 0, a rounding right shift otherwise.
func satMulPOT(x int32, exp int) int32 {
	if exp <= 0 {
		return rdbpot(x, -exp)
	}
	threshold := int32(1)<<(31-exp) - 1
	switch {
	case x > threshold:
		return math.MaxInt32
	case x < -threshold:
		return math.MinInt32
	}
	return x << exp
}

// downScaleQ31ToQ15 is DownScaleInt32ToInt16Multiplier: a Q31 multiplier
// rounded to Q15.
func downScaleQ31ToQ15(m int32) int16 {
	const round = 1 << 15
	if m >= math.MaxInt32-round {
		return math.MaxInt16
	}
	return int16((m + round) >> 16)
}

// ---- int16 lookup tables ----

// lut16Size is the entries of the runtime's int16 tables: 512 intervals
// and one more value for the last slope.
const lut16Size = 513

// genLUT16 fills table with fn sampled over [lo, hi] in Q0.15 (× 32768),
// each sample biased by half the error the linear interpolation makes at
// the interval's midpoint, as TensorFlow Lite's gen_lut does (in double
// precision).
func genLUT16(fn func(float64) float64, lo, hi float64, table *[lut16Size]int16) {
	const n = lut16Size
	step := (hi - lo) / (n - 1)
	half := step / 2
	clamp := func(v float64) int16 { return int16(math.Min(math.Max(v, -32768), 32767)) }
	for i := 0; i < n-1; i++ {
		x := lo + float64(i)*step
		sample := math.Round(fn(x) * 32768)
		next := lo + float64(i+1)*step
		interp := math.Round((fn(next)*32768 + math.Round(fn(x)*32768)) / 2)
		mid := math.Round(fn(x+half) * 32768)
		bias := math.Round((interp - mid) / 2)
		table[i] = clamp(sample - bias)
	}
	table[n-1] = clamp(math.Round(fn(hi) * 32768))
}

// lookup16 is generic_int16_table_lookup: the table's value at x (Q0.15
// over the table's range mapped to [-32768, 32767]), interpolated between
// entries from x's low 7 bits.
func lookup16(x int16, table *[lut16Size]int16) int16 {
	idx := 256 + int(x>>7)
	off := int32(x & 0x7f)
	base := table[idx]
	slope := int32(table[idx+1] - table[idx])
	return base + int16((slope*off+64)>>7)
}

// sigmoidTable16 is the runtime's sigmoid_table_uint16: sigmoid(i/24) in
// Q0.16 for i in [0, 256). Its entries are close to, but in 44 places one
// more than, round(65536·sigmoid(i/24)), so they are data here: measured
// from the runtime (TANH on int16 input of scale 1/6144 gives entry i - 32768
// for input 128·i; the last entry, where TANH saturates, from the
// interpolation at entry 254) and checked by TestSigmoidTable16.
var sigmoidTable16 = [256]uint16{
	32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
	40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
	47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
	53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
	57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
	60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
	62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
	63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
	64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
	64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
	65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
	65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
	65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
	65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
	65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
	65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
	65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
	65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
	65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
	65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
	65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
	65534, 65534, 65534, 65535,
}

// ---- inverse square root ----

// invSqrtMultiplier is GetInvSqrtQuantizedMultiplierExp: 1/sqrt(x) as a
// Q31 multiplier and a shift (left when positive, reverseShift being -1),
// by five Newton-Raphson steps in gemmlowp's fixed point with three
// integer bits.
func invSqrtMultiplier(x int32, reverseShift int) (mult int32, shift int) {
	if x <= 1 {
		return math.MaxInt32, 0
	}
	shift = 11
	for x >= 1<<29 {
		x /= 4
		shift++
	}
	maxLeftBits := bits.LeadingZeros32(uint32(x)) - 1
	pairs := maxLeftBits/2 - 1
	shift -= pairs
	x <<= 2 * pairs
	// F3 values: raw int32 with 28 fractional bits. Products of Fa and Fb
	// are F(a+b) (srdhm of the raws); Rescale<3> multiplies by 2^(k-3).
	input := x >> 1
	halfInput := satMulPOT(input, -1)
	const halfThree = 1<<28 + 1<<27 // 1.5 in F3
	xr := int32(1 << 28)            // 1 in F3
	for i := 0; i < 5; i++ {
		x3 := satMulPOT(srdhm(srdhm(xr, xr), xr), 9-3)
		xr = satMulPOT(srdhm(halfThree, xr)-srdhm(halfInput, x3), 6-3)
	}
	const halfSqrt2 = 1518500250 // sqrt(2)/2 in F0
	mult = srdhm(xr, halfSqrt2)
	if shift < 0 {
		mult <<= -shift
		shift = 0
	}
	return mult, shift * reverseShift
}
