package interp

import (
	"errors"
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Activations (RELU RELU6 RELU_N1_TO_1 RELU_0_TO_1 LEAKY_RELU ELU LOGISTIC
// TANH HARD_SWISH GELU) and unary math (SQRT RSQRT EXP LOG ABS NEG SIN COS
// SQUARE FLOOR CEIL ROUND). PRELU, being a broadcasting binary operator,
// lives in kernels_elementwise.go.

// unOp is a unary operator: a loop per supported element type. Output and
// input have the same type and shape.
type unOp struct {
	f32 func(n *node, d, s []float32)
	i32 func(d, s []int32)
	i64 func(d, s []int64)
}

func (u *unOp) eval(n *node) error {
	in := n.input(0)
	if in == nil || len(n.outputs) < 1 {
		return errors.New("needs one input and one output")
	}
	if o := n.outputs[0]; o.Type != in.Type {
		return fmt.Errorf("output type %s differs from input type %s", tflite.TypeName(o.Type), tflite.TypeName(in.Type))
	}
	switch {
	case in.Type == fb.TensorTypeFLOAT32 && u.f32 != nil:
		out := n.output(0, in.Shape)
		u.f32(n, out.F32(), in.F32())
	case in.Type == fb.TensorTypeINT32 && u.i32 != nil:
		out := n.output(0, in.Shape)
		u.i32(out.I32(), in.I32())
	case in.Type == fb.TensorTypeINT64 && u.i64 != nil:
		out := n.output(0, in.Shape)
		u.i64(out.I64(), in.I64())
	default:
		return unsupportedf("%s input", tflite.TypeName(in.Type))
	}
	return nil
}

// unF32 adapts a loop that needs no options.
func unF32(f func(d, s []float32)) func(n *node, d, s []float32) {
	return func(_ *node, d, s []float32) { f(d, s) }
}

// unMap maps fn over s in float64 (for the transcendental functions).
func unMap(fn func(float64) float64) func(n *node, d, s []float32) {
	return func(_ *node, d, s []float32) {
		d = d[:len(s)]
		for i, x := range s {
			d[i] = float32(fn(float64(x)))
		}
	}
}

func unReg(code fb.BuiltinOperator, u *unOp) { register(code, &kernel{eval: u.eval}) }

// unClamp clamps to [lo, hi] (hi may be +Inf), passing NaN through as
// TensorFlow Lite's comparisons do.
func unClamp(lo, hi float32) func(n *node, d, s []float32) {
	return unF32(func(d, s []float32) {
		d = d[:len(s)]
		for i, x := range s {
			if x < lo {
				x = lo
			} else if x > hi {
				x = hi
			}
			d[i] = x
		}
	})
}

func unAbs[T ~int32 | ~int64](d, s []T) {
	d = d[:len(s)]
	for i, x := range s {
		if x < 0 {
			x = -x
		}
		d[i] = x
	}
}

func unNeg[T ~int32 | ~int64 | ~float32](d, s []T) {
	d = d[:len(s)]
	for i, x := range s {
		d[i] = -x
	}
}

// unLogistic is 1/(1+e^-x), evaluated without overflow for either sign.
func unLogistic(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func unLeakyRelu(n *node, d, s []float32) {
	var alpha float32 // the schema's default
	if o, ok := n.opts.(*fb.LeakyReluOptionsT); ok && o != nil {
		alpha = o.Alpha
	}
	d = d[:len(s)]
	for i, x := range s {
		if x > 0 {
			d[i] = x
		} else {
			d[i] = x * alpha
		}
	}
}

func unGelu(n *node, d, s []float32) {
	approximate := false
	if o, ok := n.opts.(*fb.GeluOptionsT); ok && o != nil {
		approximate = o.Approximate
	}
	d = d[:len(s)]
	if approximate {
		// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
		const k = 0.7978845608028654 // sqrt(2/pi)
		for i, x := range s {
			v := float64(x)
			d[i] = float32(0.5 * v * (1 + math.Tanh(k*(v+0.044715*v*v*v))))
		}
		return
	}
	// 0.5 x erfc(-x/sqrt(2)) == 0.5 x (1 + erf(x/sqrt(2)))
	for i, x := range s {
		v := float64(x)
		d[i] = float32(0.5 * v * math.Erfc(-v*(1/math.Sqrt2)))
	}
}

func init() {
	inf := float32(math.Inf(1))
	unReg(fb.BuiltinOperatorRELU, &unOp{f32: unClamp(0, inf)})
	unReg(fb.BuiltinOperatorRELU6, &unOp{f32: unClamp(0, 6)})
	unReg(fb.BuiltinOperatorRELU_N1_TO_1, &unOp{f32: unClamp(-1, 1)})
	unReg(fb.BuiltinOperatorRELU_0_TO_1, &unOp{f32: unClamp(0, 1)})
	unReg(fb.BuiltinOperatorLEAKY_RELU, &unOp{f32: unLeakyRelu})
	unReg(fb.BuiltinOperatorELU, &unOp{f32: unMap(func(x float64) float64 {
		if x < 0 {
			return math.Expm1(x)
		}
		return x
	})})
	unReg(fb.BuiltinOperatorLOGISTIC, &unOp{f32: unMap(unLogistic)})
	unReg(fb.BuiltinOperatorTANH, &unOp{f32: unMap(math.Tanh)})
	unReg(fb.BuiltinOperatorHARD_SWISH, &unOp{f32: unF32(func(d, s []float32) {
		d = d[:len(s)]
		for i, x := range s {
			r := x + 3
			if r < 0 {
				r = 0
			} else if r > 6 {
				r = 6
			}
			d[i] = x * r / 6
		}
	})})
	unReg(fb.BuiltinOperatorGELU, &unOp{f32: unGelu})

	unReg(fb.BuiltinOperatorSQRT, &unOp{f32: unMap(math.Sqrt)})
	unReg(fb.BuiltinOperatorRSQRT, &unOp{f32: unMap(func(x float64) float64 { return 1 / math.Sqrt(x) })})
	unReg(fb.BuiltinOperatorEXP, &unOp{f32: unMap(math.Exp)})
	unReg(fb.BuiltinOperatorLOG, &unOp{f32: unMap(math.Log)})
	unReg(fb.BuiltinOperatorSIN, &unOp{f32: unMap(math.Sin)})
	unReg(fb.BuiltinOperatorCOS, &unOp{f32: unMap(math.Cos)})
	unReg(fb.BuiltinOperatorFLOOR, &unOp{f32: unMap(math.Floor)})
	unReg(fb.BuiltinOperatorCEIL, &unOp{f32: unMap(math.Ceil)})
	unReg(fb.BuiltinOperatorROUND, &unOp{f32: unMap(math.RoundToEven)})
	unReg(fb.BuiltinOperatorSQUARE, &unOp{f32: unF32(func(d, s []float32) {
		d = d[:len(s)]
		for i, x := range s {
			d[i] = x * x
		}
	})})
	unReg(fb.BuiltinOperatorABS, &unOp{
		f32: unF32(func(d, s []float32) {
			d = d[:len(s)]
			for i, x := range s {
				d[i] = math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
			}
		}),
		i32: unAbs[int32], i64: unAbs[int64],
	})
	unReg(fb.BuiltinOperatorNEG, &unOp{f32: unF32(unNeg[float32]), i32: unNeg[int32], i64: unNeg[int64]})
}
