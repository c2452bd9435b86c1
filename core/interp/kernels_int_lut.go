package interp

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Integer kernels of the activations with fixed output parameters that
// TensorFlow Lite evaluates through lookup tables: LOGISTIC and TANH
// (int8/uint8: a 256-entry table of the float function; int16: the
// interpolated 256-entry sigmoid table, except at the power-of-two input
// scales where the runtime runs gemmlowp's fixed-point functions,
// fixedpoint_gemmlowp.go: LOGISTIC at 2^-12, TANH at 2^-12 and 2^-11) and
// SOFTMAX (int8/uint8: a float table of exponentials; int16: interpolated
// int16 tables of exp and 1/(1+x)).

// iqFloatTable builds the 8-bit table of the runtime's PopulateLookupTable:
// each input value dequantized in float32, transformed, divided by the
// output scale (as a product with its float32 inverse), rounded and
// offset by the output zero point, saturated.
func iqFloatTable(in, out *Tensor, transform func(float32) float32) (iqFn, error) {
	inS, inZ, err := iqParams(in)
	if err != nil {
		return nil, err
	}
	outS, outZ, err := iqParams(out)
	if err != nil {
		return nil, err
	}
	inv := 1 / outS
	lo, hi := iqRange(in.Type)
	return func(x int32) int32 {
		deq := inS * float32(x-inZ)
		rescaled := iqRoundF(transform(deq) * inv)
		return iqClamp(int32(rescaled+float32(outZ)), lo, hi)
	}, nil
}

func iqSigmoidF(x float32) float32 { return 1 / (1 + iqExpF(-x)) }

// iqLog2 is TensorFlow Lite's CheckedLog2: log2(x) rounded, and whether x
// is within 1e-3 (in the exponent) of that power of two.
func iqLog2(x float32) (int, bool) {
	l := float32(math.Log(float64(x))) * float32(1/math.Log(2))
	r := iqRoundF(l)
	return int(r), float32(math.Abs(float64(l-r))) < 1e-3
}

// iq16Activation checks the int16 LOGISTIC/TANH parameters (zero points
// 0, output scale 2^-15) and returns the input multiplier and shift that
// bring the input to the sigmoid table's scale of 1/(3·4096), as the
// runtime's Prepare computes them for a scale that is not a power of two.
// For an input scale 2^(s-12) with s among potShifts, where the runtime
// runs gemmlowp's fixed-point function instead of the table, it returns
// mult 0 and shift s.
func iq16Activation(in, out *Tensor, potShifts ...int) (mult int32, shift int, err error) {
	inS, inZ, err := iqParams(in)
	if err != nil {
		return 0, 0, err
	}
	outS, outZ, err := iqParams(out)
	if err != nil {
		return 0, 0, err
	}
	if inZ != 0 || outZ != 0 {
		return 0, 0, fmt.Errorf("int16 input and output need zero point 0, have %d and %d", inZ, outZ)
	}
	if l, ok := iqLog2(outS); !ok || l != -15 {
		return 0, 0, fmt.Errorf("int16 output scale %g, want 2^-15", outS)
	}
	if l, ok := iqLog2(inS); ok {
		for _, s := range potShifts {
			if 12+l == s {
				return 0, s, nil
			}
		}
	}
	m := float64(inS) * 4096.0 * 3.0
	for m <= 32767.0/2.0 && shift <= 30 {
		shift++
		m *= 2
	}
	return int32(m), shift, nil
}

// iqLogistic16 is the runtime's int16 Logistic over the sigmoid table:
// the input rescaled, its magnitude split into a table index (bits 9 and
// up) and a 9-bit interpolation fraction, the sign folded back as 1 - y.
func iqLogistic16(mult int32, shift int) iqFn {
	round := int32(0)
	if shift > 0 {
		round = 1 << (shift - 1)
	}
	return func(x int32) int32 {
		v := (x*mult + round) >> shift
		a := uint32(v)
		if v < 0 {
			a = uint32(-v)
		}
		var r uint32
		if uh := a >> 9; uh >= 255 {
			r = 0x7FFF << 10
		} else {
			ua, ub := uint32(sigmoidTable16[uh]), uint32(sigmoidTable16[uh+1])
			r = ua<<9 + (a&0x1ff)*(ub-ua)
		}
		if v >= 0 {
			r += 1 << 9
		} else {
			r = 1<<(16+9) - r + 1<<9 - 1
		}
		return int32(int16(r >> 10))
	}
}

// iqTanh16 is the runtime's int16 Tanh, 2·sigmoid(2x) - 1 over the same
// table with an 8-bit fraction.
func iqTanh16(mult int32, shift int) iqFn {
	round := int32(0)
	if shift > 0 {
		round = 1 << (shift - 1)
	}
	return func(x int32) int32 {
		v := (x*mult + round) >> shift
		a := uint32(v)
		if v < 0 {
			a = uint32(-v)
		}
		var r int32
		if uh := a >> 8; uh >= 255 {
			r = 0xFFFF << 8
		} else {
			ua, ub := uint32(sigmoidTable16[uh]), uint32(sigmoidTable16[uh+1])
			r = int32(ua<<8 + (a&0xff)*(ub-ua))
		}
		if v >= 0 {
			r = r - 1<<(14+9) + 1<<(9-2)
		} else {
			r = -r + 1<<(14+9) + 1<<(9-2) - 1
		}
		return int32(int16(r >> (9 - 1)))
	}
}

func iqLogistic(n *node, in, out *Tensor) (iqFn, error) {
	if in.Type == fb.TensorTypeINT16 {
		m, s, err := iq16Activation(in, out, 0)
		if err != nil {
			return nil, err
		}
		if m == 0 {
			// Input scale 2^-12: the input is gemmlowp's Q3.12.
			return func(x int32) int32 { return fp16.logistic(x, 3) }, nil
		}
		return iqLogistic16(m, s), nil
	}
	return iqFloatTable(in, out, iqSigmoidF)
}

func iqTanh(n *node, in, out *Tensor) (iqFn, error) {
	if in.Type == fb.TensorTypeINT16 {
		m, s, err := iq16Activation(in, out, 0, 1)
		if err != nil {
			return nil, err
		}
		if m == 0 {
			// Input scale 2^-12 or 2^-11: the input (doubled, saturating,
			// at 2^-11) is gemmlowp's Q3.12.
			return func(x int32) int32 { return fp16.tanh(fp16.mulPOT(x, s), 3) }, nil
		}
		return iqTanh16(m, s), nil
	}
	return iqFloatTable(in, out, iqTanhF)
}

// ---- SOFTMAX ----

type iqSoftmaxState struct {
	// 8-bit: exp(-inputScale·beta·d) at index 255-d.
	table [256]float32
	outS  float32
	outZ  int32
	// int16: the exp table over [-10, 0], the 1/(1+x) table over [0, 1]
	// and the multiplier taking input differences to 10/65535 steps.
	exp, recip *[lut16Size]int16
	mult       int32
	shift      int
	row        []int16
}

func prepareIntSoftmax(n *node) error {
	in := n.input(0)
	if len(n.outputs) < 1 {
		return errors.New("needs one input and one output")
	}
	out := n.outputs[0]
	if err := iqSameType(in, out); err != nil {
		return unsupportedf("%s input with %s output", tflite.TypeName(in.Type), tflite.TypeName(out.Type))
	}
	beta := float32(1)
	if o, ok := n.opts.(*fb.SoftmaxOptionsT); ok && o != nil {
		beta = o.Beta
	}
	inS, _, err := iqParams(in)
	if err != nil {
		return err
	}
	outS, outZ, err := iqParams(out)
	if err != nil {
		return err
	}
	st := &iqSoftmaxState{outS: outS, outZ: outZ}
	if in.Type == fb.TensorTypeINT16 {
		if outZ != 0 {
			return fmt.Errorf("int16 output zero point %d, want 0", outZ)
		}
		st.exp, st.recip = new([lut16Size]int16), new([lut16Size]int16)
		genLUT16(math.Exp, -10, 0, st.exp)
		genLUT16(func(x float64) float64 { return 1 / (1 + x) }, 0, 1, st.recip)
		st.mult, st.shift = qMultiplier(float64(inS*beta) / (10.0 / 65535.0))
	} else {
		scale := -inS * beta
		for d := 0; d < 256; d++ {
			st.table[255-d] = iqExpF(scale * float32(d))
		}
	}
	n.state = st
	return nil
}

func evalIntSoftmax(n *node) error {
	st, ok := n.state.(*iqSoftmaxState)
	if !ok {
		return errors.New("integer SOFTMAX not prepared")
	}
	in := n.input(0)
	if len(in.Shape) < 1 {
		return fmt.Errorf("%v: SOFTMAX needs at least one dimension", in)
	}
	out := n.output(0, in.Shape)
	depth := in.Shape[len(in.Shape)-1]
	if depth == 0 {
		return nil
	}
	switch in.Type {
	case fb.TensorTypeINT8:
		iqSoftmax8(st, out.I8(), in.I8(), depth, false)
	case fb.TensorTypeUINT8:
		iqSoftmax8(st, out.U8(), in.U8(), depth, true)
	default:
		if len(in.Shape) > 4 {
			return unsupportedf("int16 SOFTMAX of rank %d (the runtime takes 1 to 4)", len(in.Shape))
		}
		st.softmax16(out.I16(), in.I16(), depth)
	}
	return nil
}

// iqSoftmax8 is the runtime's 8-bit Softmax: per row, exponentials of the
// differences to the row's maximum from the table, summed in float32 in
// order, each scaled by 1/(sum × output scale) and rounded (uint8: +0.5
// and truncated, as the runtime does off ARM64).
func iqSoftmax8[T int8 | uint8](st *iqSoftmaxState, d, s []T, depth int, unsigned bool) {
	lo, hi := iqRange(fb.TensorTypeINT8)
	if unsigned {
		lo, hi = iqRange(fb.TensorTypeUINT8)
	}
	for r := 0; r+depth <= len(s); r += depth {
		row, o := s[r:r+depth], d[r:r+depth]
		mx := int32(row[0])
		for _, x := range row {
			mx = max(mx, int32(x))
		}
		off := 255 - mx
		var sum float32
		for _, x := range row {
			sum += st.table[off+int32(x)]
		}
		inv := 1 / float32(sum*st.outS)
		for i, x := range row {
			p := float32(st.table[off+int32(x)] * inv)
			var q int32
			if unsigned {
				q = int32(float32(p + 0.5))
			} else {
				q = int32(iqRoundF(p)) + st.outZ
			}
			o[i] = T(iqClamp(q, lo, hi))
		}
	}
}

// softmax16 is the runtime's SoftmaxInt16: differences to the row's
// maximum scaled to [-65535, 0] for [-10, 0], recentred and looked up in
// the exp table, summed in Q16.15; the sum normalized by its leading
// zeros, looked up in the 1/(1+x) table and multiplied back.
func (st *iqSoftmaxState) softmax16(d, s []int16, depth int) {
	if cap(st.row) < depth {
		st.row = make([]int16, depth)
	}
	e := st.row[:depth]
	for r := 0; r+depth <= len(s); r += depth {
		row, o := s[r:r+depth], d[r:r+depth]
		mx := row[0]
		for _, x := range row {
			mx = max(mx, x)
		}
		var sum int32
		for i, x := range row {
			diff := qMulByMultiplier(int32(x)-int32(mx), st.mult, st.shift)
			e[i] = lookup16(int16(iqClamp(diff+32767, -32768, 32767)), st.exp)
			sum += int32(e[i])
		}
		head := bits.LeadingZeros32(uint32(sum))
		shifted := int32((int64(sum)<<(head-1) + 1<<13) >> 14)
		recip := lookup16(int16(iqClamp(shifted-(1<<15+1<<16), -32768, 32767)), st.recip)
		rs := 31 - head
		round := int64(1) << (rs - 1)
		for i := range o {
			v := (int64(e[i])*int64(recip) + round) >> rs
			o[i] = int16(min(max(v, 0), 32767))
		}
	}
}

func init() {
	register(fb.BuiltinOperatorLOGISTIC, iqUnary(iqLogistic))
	register(fb.BuiltinOperatorTANH, iqUnary(iqTanh))
	register(fb.BuiltinOperatorSOFTMAX, &kernel{
		match:   func(n *node) bool { return iqIsQuant(n.input(0)) },
		prepare: prepareIntSoftmax,
		eval:    evalIntSoftmax,
	})
}
