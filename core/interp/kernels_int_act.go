package interp

import (
	"errors"
	"fmt"
	"math"
	"slices"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Integer kernels of the activations that rescale from the input's
// quantization to the output's: RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU,
// HARD_SWISH (activations.cc) and PRELU. Each is TensorFlow Lite's integer
// formula; on 8-bit types it is evaluated once per possible input value
// into a table at prepare.

// iqFn maps one quantized input value to the output value (already in
// the output type's range).
type iqFn func(x int32) int32

// iqUnaryState holds a unary integer kernel's function and, for 8-bit
// types, its table indexed by the input's byte.
type iqUnaryState struct {
	fn    iqFn
	table [256]uint8
}

// iqUnary is a unary integer kernel: build returns the function for the
// node's (static) quantization parameters.
func iqUnary(build func(n *node, in, out *Tensor) (iqFn, error)) *kernel {
	return &kernel{
		match: func(n *node) bool { return iqIsQuant(n.input(0)) },
		prepare: func(n *node) error {
			in := n.input(0)
			if len(n.outputs) < 1 {
				return errors.New("needs one input and one output")
			}
			out := n.outputs[0]
			if err := iqSameType(in, out); err != nil {
				return err
			}
			fn, err := build(n, in, out)
			if err != nil {
				return err
			}
			st := &iqUnaryState{fn: fn}
			switch in.Type {
			case fb.TensorTypeINT8:
				for v := int32(-128); v < 128; v++ {
					st.table[uint8(int8(v))] = uint8(int8(fn(v)))
				}
			case fb.TensorTypeUINT8:
				for v := int32(0); v < 256; v++ {
					st.table[v] = uint8(fn(v))
				}
			}
			n.state = st
			return nil
		},
		eval: func(n *node) error {
			st, ok := n.state.(*iqUnaryState)
			if !ok {
				return errors.New("integer kernel not prepared")
			}
			in := n.input(0)
			out := n.output(0, in.Shape)
			if in.Type == fb.TensorTypeINT16 {
				d, s := out.I16(), in.I16()
				for i, x := range s {
					d[i] = int16(st.fn(int32(x)))
				}
				return nil
			}
			d, s := out.U8(), in.U8()
			for i, x := range s {
				d[i] = st.table[x]
			}
			return nil
		},
	}
}

// iqOnly rejects types the runtime's kernel does not take.
func iqOnly(in *Tensor, types ...fb.TensorType) error {
	for _, t := range types {
		if in.Type == t {
			return nil
		}
	}
	return unsupportedf("%s input (the runtime's kernel takes %s)", tflite.TypeName(in.Type), iqTypeNames(types))
}

func iqTypeNames(types []fb.TensorType) string {
	s := ""
	for i, t := range types {
		if i > 0 {
			s += ", "
		}
		s += tflite.TypeName(t)
	}
	return s
}

// iqReluX is QuantizedReluX: rescale by input scale / output scale (a
// float32 quotient, as the runtime divides its float parameters), then
// clamp to [actMin, actMax] quantized with the output's parameters.
func iqReluX(actMin, actMax float32, types ...fb.TensorType) func(n *node, in, out *Tensor) (iqFn, error) {
	return func(n *node, in, out *Tensor) (iqFn, error) {
		if err := iqOnly(in, types...); err != nil {
			return nil, err
		}
		inS, inZ, err := iqParams(in)
		if err != nil {
			return nil, err
		}
		outS, outZ, err := iqParams(out)
		if err != nil {
			return nil, err
		}
		mult, shift := qMultiplier(float64(inS / outS))
		lo, hi := iqRange(in.Type)
		qmin := max(lo, outZ+int32(iqRoundF(actMin/outS)))
		qmax := hi
		if !math.IsInf(float64(actMax), 1) {
			qmax = min(hi, outZ+int32(iqRoundF(actMax/outS)))
		}
		return func(x int32) int32 {
			return iqClamp(outZ+qMulByMultiplier(x-inZ, mult, shift), qmin, qmax)
		}, nil
	}
}

// iqLeakyRelu is QuantizeLeakyRelu: the identity multiplier (input scale
// / output scale) for values at or above the zero point, the alpha one
// (input scale × alpha / output scale, in float32) below it; or, where the
// runtime delegates to XNNPACK, XNNPACK's 8-bit multipliers.
func iqLeakyRelu(n *node, in, out *Tensor) (iqFn, error) {
	var alpha float32
	if o, ok := n.opts.(*fb.LeakyReluOptionsT); ok && o != nil {
		alpha = o.Alpha
	}
	inS, inZ, err := iqParams(in)
	if err != nil {
		return nil, err
	}
	outS, outZ, err := iqParams(out)
	if err != nil {
		return nil, err
	}
	lo, hi := iqRange(in.Type)
	if in.Type != fb.TensorTypeINT16 {
		pos := inS / outS
		neg := pos * alpha
		if pos >= 0x1p-8 && pos <= 0x1p7 && neg >= -0x1.FFFCp6 && neg <= 0x1p7 && float32(math.Abs(float64(neg))) >= 0x1p-8 {
			// The runtime hands int8 and uint8 LEAKY_RELU to XNNPACK when
			// its multipliers fit: they are rounded to 1/256 steps
			// (lrintf(256 × scale)) and the product is shifted right by 8
			// after adding 128. Its results differ from the reference
			// kernel's Q31 multipliers by 1 in about 5-20% of the values
			// (measured over every int8 and uint8 input with alpha 0.2 and
			// 0.0137: 9 to 55 of 256).
			mp := int32(math.RoundToEven(float64(256 * pos)))
			mn := int32(math.RoundToEven(float64(256 * neg)))
			return func(x int32) int32 {
				v := x - inZ
				m := mn
				if v > 0 {
					m = mp
				}
				return iqClamp(outZ+((v*m+128)>>8), lo, hi)
			}, nil
		}
	}
	am, as := qMultiplier(float64(inS * alpha / outS))
	im, is := qMultiplier(float64(inS / outS))
	return func(x int32) int32 {
		v := x - inZ
		if v >= 0 {
			return iqClamp(outZ+qMulByMultiplier(v, im, is), lo, hi)
		}
		return iqClamp(outZ+qMulByMultiplier(v, am, as), lo, hi)
	}, nil
}

// iqHardSwish is the runtime's quantized HardSwish: the input on a scale
// 128 times finer, multiplied in 16-bit fixed point by the output
// multiplier and by a "relu-ish" factor in [0, 1] (the input rescaled so
// that 3 maps to 32768, saturated, then shifted to [0, 1]).
func iqHardSwish(n *node, in, out *Tensor) (iqFn, error) {
	if err := iqOnly(in, fb.TensorTypeINT8, fb.TensorTypeUINT8); err != nil {
		return nil, err
	}
	inS, inZ, err := iqParams(in)
	if err != nil {
		return nil, err
	}
	outS, outZ, err := iqParams(out)
	if err != nil {
		return nil, err
	}
	hires := (1.0 / 128.0) * inS
	const reluishScale = float32(3.0 / 32768.0)
	om32, oexp := qMultiplier(float64(hires / outS))
	om := downScaleQ31ToQ15(om32)
	if oexp > 0 {
		return nil, unsupportedf("HARD_SWISH output multiplier exponent %d > 0 (input scale %g, output scale %g)", oexp, inS, outS)
	}
	rm32, rexp := qMultiplier(float64(hires / reluishScale))
	rm := downScaleQ31ToQ15(rm32)
	lo, hi := iqRange(in.Type)
	return func(x int32) int32 {
		v := int16(x - inZ)
		hiresV := v * (1 << 7)
		preshift := srdhm16(hiresV, om)
		r := hiresV
		if rexp > 0 {
			r = satLeftShift16(r, rexp-1)
		}
		r = srdhm16(r, rm)
		if rexp > 0 {
			r = satLeftShift16(r, 1)
		}
		if rexp < 0 {
			r = rdbpot16(r, -rexp)
		}
		r = int16((int32(r) + (1 << 15)) >> 1)
		o := rdbpot16(sdhm16(r, preshift), -oexp)
		return iqClamp(int32(o)+outZ, lo, hi)
	}, nil
}

// ---- PRELU ----

type iqPreluState struct {
	ew             ewState
	inZ, alZ, outZ int32
	m1, m2         int32
	s1, s2         int
	lo, hi         int32
}

// prepareIntPrelu computes the two multipliers of the runtime's PRELU:
// input scale / output scale for x ≥ 0 and input scale × alpha scale /
// output scale (float32 arithmetic) for the products x × alpha.
func prepareIntPrelu(n *node) error {
	in, al := n.input(0), n.input(1)
	if al == nil || len(n.outputs) < 1 {
		return errors.New("needs two inputs (input, alpha) and one output")
	}
	out := n.outputs[0]
	if al.Type != in.Type {
		return fmt.Errorf("alpha type %s differs from input type %s", tflite.TypeName(al.Type), tflite.TypeName(in.Type))
	}
	if err := iqSameType(in, out); err != nil {
		return err
	}
	if err := iqOnly(in, fb.TensorTypeINT8, fb.TensorTypeUINT8); err != nil {
		return err
	}
	inS, inZ, err := iqParams(in)
	if err != nil {
		return err
	}
	alS, alZ, err := iqParams(al)
	if err != nil {
		return err
	}
	outS, outZ, err := iqParams(out)
	if err != nil {
		return err
	}
	st := &iqPreluState{inZ: inZ, alZ: alZ, outZ: outZ}
	st.m1, st.s1 = qMultiplier(float64(inS / outS))
	st.m2, st.s2 = qMultiplier(float64(inS * alS / outS))
	st.lo, st.hi = iqRange(in.Type)
	n.state = st
	return nil
}

func (st *iqPreluState) apply(x, a int32) int32 {
	v := x - st.inZ
	var o int32
	if v >= 0 {
		o = qMulByMultiplier(v, st.m1, st.s1)
	} else {
		o = qMulByMultiplier(v*(a-st.alZ), st.m2, st.s2)
	}
	return iqClamp(o+st.outZ, st.lo, st.hi)
}

func evalIntPrelu(n *node) error {
	st, ok := n.state.(*iqPreluState)
	if !ok {
		return errors.New("integer PRELU not prepared")
	}
	in, al := n.input(0), n.input(1)
	shape, err := ewBroadcast(&st.ew.shape, in.Shape, al.Shape)
	if err != nil {
		return err
	}
	if !slices.Equal(shape, in.Shape) {
		return fmt.Errorf("alpha %v does not broadcast to the input's shape %v", al.Shape, in.Shape)
	}
	st.ew.plan.init(shape, in.Shape, al.Shape)
	out := n.output(0, shape)
	switch in.Type {
	case fb.TensorTypeINT8:
		v := ewVecOf(func(x, a int8) int8 { return int8(st.apply(int32(x), int32(a))) })
		ewRun(&st.ew.plan, &v, nil, out.I8(), in.I8(), al.I8())
	default:
		v := ewVecOf(func(x, a uint8) uint8 { return uint8(st.apply(int32(x), int32(a))) })
		ewRun(&st.ew.plan, &v, nil, out.U8(), in.U8(), al.U8())
	}
	return nil
}

func init() {
	inf := float32(math.Inf(1))
	i8, u8, i16 := fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16
	register(fb.BuiltinOperatorRELU, iqUnary(iqReluX(0, inf, i8, u8, i16)))
	register(fb.BuiltinOperatorRELU6, iqUnary(iqReluX(0, 6, i8, u8, i16)))
	register(fb.BuiltinOperatorRELU_N1_TO_1, iqUnary(iqReluX(-1, 1, i8, u8)))
	register(fb.BuiltinOperatorLEAKY_RELU, iqUnary(iqLeakyRelu))
	register(fb.BuiltinOperatorHARD_SWISH, iqUnary(iqHardSwish))
	register(fb.BuiltinOperatorPRELU, &kernel{
		match:   func(n *node) bool { return iqIsQuant(n.input(0)) },
		prepare: prepareIntPrelu,
		eval:    evalIntPrelu,
	})
}
