package interp

// gemmlowp's fixed-point logistic and tanh (fixedpoint.h: exp on negative
// values by a Taylor polynomial and a barrel shifter of constants, then a
// Newton-Raphson division), as TensorFlow Lite evaluates them in its
// integer LSTM (ApplySigmoid, ApplyTanh) and in int16 LOGISTIC and TANH at
// power-of-two input scales. gemmlowp templates these on the raw integer
// type; fpRaw carries that type's width (16 or 32 bits), and every
// operation wraps or saturates to it as gemmlowp's does for that type.
// Values are held in int32 whatever the width.
//
// A fixed-point value with k integer bits has bits-1-k fractional bits;
// "F0" below is a value with no integer bits (in [-1, 1)).

type fpRaw struct{ bits int }

var (
	fp16 = fpRaw{16}
	fp32 = fpRaw{32}
)

func (f fpRaw) min() int32 { return -1 << (f.bits - 1) }
func (f fpRaw) max() int32 { return 1<<(f.bits-1) - 1 }

// wrap truncates x to the raw width (two's complement).
func (f fpRaw) wrap(x int64) int32 {
	if f.bits == 16 {
		return int32(int16(x))
	}
	return int32(x)
}

func (f fpRaw) add(a, b int32) int32 { return f.wrap(int64(a) + int64(b)) }
func (f fpRaw) sub(a, b int32) int32 { return f.wrap(int64(a) - int64(b)) }
func (f fpRaw) neg(a int32) int32    { return f.wrap(-int64(a)) }

// satAdd is gemmlowp's AddSaturatingIf16Bit: saturating for 16 bits, a
// plain (wrapping) sum for 32.
func (f fpRaw) satAdd(a, b int32) int32 {
	if f.bits == 32 {
		return f.add(a, b)
	}
	return int32(min(max(int64(a)+int64(b), int64(f.min())), int64(f.max())))
}

// mul is SaturatingRoundingDoublingHighMul at the raw width.
func (f fpRaw) mul(a, b int32) int32 {
	if a == f.min() && b == f.min() {
		return f.max()
	}
	ab := int64(a) * int64(b)
	nudge := int64(1) << (f.bits - 2)
	if ab < 0 {
		nudge = 1 - nudge
	}
	return f.wrap((ab + nudge) / (int64(1) << (f.bits - 1)))
}

// mulPOT is SaturatingRoundingMultiplyByPOT<e>: a saturating left shift
// for e > 0 (values beyond ±(2^(bits-1-e) - 1) saturate), a rounding
// right shift for e < 0.
func (f fpRaw) mulPOT(x int32, e int) int32 {
	switch {
	case e == 0:
		return x
	case e < 0:
		return rdbpot(x, -e)
	}
	threshold := int32(1)<<(f.bits-1-e) - 1
	if x > threshold {
		return f.max()
	}
	if x < -threshold {
		return f.min()
	}
	return f.wrap(int64(x) << e)
}

// halfSum is RoundingHalfSum: (a+b)/2 rounded away from zero.
func (f fpRaw) halfSum(a, b int32) int32 {
	s := int64(a) + int64(b)
	sign := int64(1)
	if s < 0 {
		sign = -1
	}
	return f.wrap((s + sign) / 2)
}

// constant is a Q31 constant of gemmlowp's source, rescaled to the raw
// width (RescaleConstantInitializer).
func (f fpRaw) constant(q31 int32) int32 {
	if f.bits == 32 {
		return q31
	}
	return rdbpot(q31, 32-f.bits)
}

// one is 1 in a value with k integer bits (the largest value for k = 0).
func (f fpRaw) one(k int) int32 {
	if k == 0 {
		return f.max()
	}
	return 1 << (f.bits - 1 - k)
}

// pot is 2^e in a value with k integer bits (ConstantPOT).
func (f fpRaw) pot(k, e int) int32 { return 1 << (f.bits - 1 - k + e) }

// expNegQuarter is exp_on_interval_between_negative_one_quarter_and_0_excl
// on an F0 value.
func (f fpRaw) expNegQuarter(a int32) int32 {
	constTerm := f.constant(1895147668) // exp(-1/8)
	oneThird := f.constant(715827883)
	x := f.add(a, f.pot(0, -3))
	x2 := f.mul(x, x)
	x3 := f.mul(x2, x)
	x4 := f.mul(x2, x2)
	x4q := f.mulPOT(x4, -2)
	poly := f.mulPOT(f.add(f.mul(f.add(x4q, x3), oneThird), x2), -1)
	return f.satAdd(constTerm, f.mul(constTerm, f.add(x, poly)))
}

// expBarrel are gemmlowp's multipliers exp(-2^e) for e = -2..4.
var expBarrel = [...]int32{1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242}

// expNeg is exp_on_negative_values of a value with k integer bits (a ≤ 0);
// the result is F0.
func (f fpRaw) expNeg(a int32, k int) int32 {
	frac := f.bits - 1 - k
	quarter := f.pot(k, -2)
	mask := quarter - 1
	aMod := f.sub(a&mask, quarter)
	result := f.expNegQuarter(f.mulPOT(aMod, k))
	rem := f.sub(aMod, a)
	for i, m := range expBarrel {
		e := i - 2
		if k > e && rem&(1<<(frac+e)) != 0 {
			result = f.mul(result, f.constant(m))
		}
	}
	if k > 5 {
		clamp := f.constant(-1 << (36 - k)) // -32
		if a < clamp {
			result = 0
		}
	}
	if a == 0 {
		result = f.one(0)
	}
	return result
}

// newtonDiv runs gemmlowp's Newton-Raphson iterations for 1/(1+a), a in
// [0, 1) as F0; it returns x ≈ 2/(1+a) as a value with 2 integer bits.
func (f fpRaw) newtonDiv(a int32) int32 {
	half := f.halfSum(a, f.one(0))
	x := f.add(f.constant(1515870810), f.mul(half, f.constant(-1010580540))) // 48/17 - 32/17·half
	for range 3 {
		hx := f.mul(half, x)
		x = f.add(x, f.mulPOT(f.mul(x, f.sub(f.one(2), hx)), 2))
	}
	return x
}

// logistic is gemmlowp's logistic of a value with k integer bits; the
// result is F0.
func (f fpRaw) logistic(a int32, k int) int32 {
	if a == 0 {
		return f.constant(1 << 30)
	}
	abs := a
	if a <= 0 {
		abs = f.neg(a)
	}
	// logistic_on_positive_values: 1/(1+exp(-|a|)).
	pos := f.mulPOT(f.newtonDiv(f.expNeg(f.neg(abs), k)), 1)
	if a > 0 {
		return pos
	}
	return f.sub(f.one(0), pos)
}

// tanh is gemmlowp's tanh of a value with k integer bits; the result is F0.
func (f fpRaw) tanh(a int32, k int) int32 {
	if a == 0 {
		return 0
	}
	n := a // -|a|
	if a >= 0 {
		n = f.neg(a)
	}
	// neg_tanh_on_negative_values: (1-e)/(1+e), e = exp(2n).
	x := f.newtonDiv(f.expNeg(n, k+1))
	t := f.mulPOT(f.sub(x, f.one(2)), 2)
	if a < 0 {
		return f.neg(t)
	}
	return t
}
