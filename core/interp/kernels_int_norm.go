package interp

import (
	"errors"
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Integer kernels built on the runtime's fixed-point inverse square root
// (invSqrtMultiplier): L2_NORMALIZATION (int8, uint8) and RSQRT (int8).

func evalIntL2Norm(n *node) error {
	in := n.input(0)
	if len(n.outputs) < 1 {
		return errors.New("needs one input and one output")
	}
	out := n.outputs[0]
	if err := iqSameType(in, out); err != nil {
		return err
	}
	if in.Type != fb.TensorTypeINT8 && in.Type != fb.TensorTypeUINT8 {
		return unsupportedf("%s input (the runtime's kernel takes INT8 and UINT8)", tflite.TypeName(in.Type))
	}
	if o, ok := n.opts.(*fb.L2NormOptionsT); ok && o != nil && o.FusedActivationFunction != fb.ActivationFunctionTypeNONE {
		return unsupportedf("fused activation on %s", tflite.TypeName(in.Type))
	}
	_, zp, err := iqParams(in)
	if err != nil {
		return err
	}
	if len(in.Shape) < 1 {
		return fmt.Errorf("%v: needs at least one dimension", in)
	}
	o := n.output(0, in.Shape)
	depth := in.Shape[len(in.Shape)-1]
	if depth == 0 {
		return nil
	}
	if in.Type == fb.TensorTypeINT8 {
		l2NormInt8(o.I8(), in.I8(), depth, zp)
	} else {
		l2NormUint8(o.U8(), in.U8(), depth, zp)
	}
	return nil
}

// l2NormInt8 is reference_integer_ops::L2Normalization: each row's sum of
// squares turned into an inverse-square-root multiplier, applied with 7
// more bits of left shift (output scale 1/128).
func l2NormInt8(d, s []int8, depth int, zp int32) {
	for r := 0; r+depth <= len(s); r += depth {
		row, o := s[r:r+depth], d[r:r+depth]
		var acc int32
		for _, x := range row {
			v := int32(x) - zp
			acc += v * v
		}
		m, sh := invSqrtMultiplier(acc, -1)
		for i, x := range row {
			o[i] = int8(iqClamp(qMulByMultiplier(int32(x)-zp, m, sh+7), math.MinInt8, math.MaxInt8))
		}
	}
}

// l2NormUint8 is the uint8 L2Normalization: 128 × the difference,
// multiplied, offset by 128.
func l2NormUint8(d, s []uint8, depth int, zp int32) {
	for r := 0; r+depth <= len(s); r += depth {
		row, o := s[r:r+depth], d[r:r+depth]
		var acc int32
		for _, x := range row {
			v := int32(x) - zp
			acc += v * v
		}
		m, sh := invSqrtMultiplier(acc, -1)
		for i, x := range row {
			o[i] = uint8(iqClamp(128+qMulByMultiplier(128*(int32(x)-zp), m, sh), 0, 255))
		}
	}
}

// iqRsqrt is the runtime's int8 RSQRT: 2^20/sqrt(x - zero point) from the
// fixed-point inverse square root, then multiplied by 1/(sqrt(input
// scale) × output scale) (a float32 product) with the 20 bits taken back;
// the zero point itself maps to 127. Values below the zero point are an
// error, as in the runtime.
func iqRsqrt(n *node, in, out *Tensor) (iqFn, error) {
	if err := iqOnly(in, fb.TensorTypeINT8); err != nil {
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
	mult, shift := qMultiplier(1 / float64(float32(float32(math.Sqrt(float64(inS)))*outS)))
	const kShift = 20
	return func(x int32) int32 {
		v := x - inZ
		if v <= 0 {
			return math.MaxInt8 // below the zero point: rejected in eval
		}
		m, s := invSqrtMultiplier(v, -1)
		data := qMulByMultiplier(1, m, s+kShift)
		return iqClamp(qMulByMultiplier(data, mult, shift-kShift)+outZ, math.MinInt8, math.MaxInt8)
	}, nil
}

// iqRsqrtKernel is iqUnary with the runtime's check that no input is
// below the zero point.
func iqRsqrtKernel() *kernel {
	k := iqUnary(iqRsqrt)
	eval := k.eval
	k.eval = func(n *node) error {
		in := n.input(0)
		_, zp, err := iqParams(in)
		if err != nil {
			return err
		}
		for i, x := range in.I8() {
			if int32(x) < zp {
				return fmt.Errorf("%v: element %d (%d) is below the zero point %d: RSQRT is only defined for positive values", in, i, x, zp)
			}
		}
		return eval(n)
	}
	return k
}

func init() {
	register(fb.BuiltinOperatorL2_NORMALIZATION, &kernel{
		match: func(n *node) bool { return iqIsQuant(n.input(0)) },
		eval:  evalIntL2Norm,
	})
	register(fb.BuiltinOperatorRSQRT, iqRsqrtKernel())
}
