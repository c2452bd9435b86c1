package interp

import (
	"errors"
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// SOFTMAX, LOG_SOFTMAX and L2_NORMALIZATION over the last axis, any rank.

func init() {
	register(fb.BuiltinOperatorSOFTMAX, &kernel{eval: evalSoftmax})
	register(fb.BuiltinOperatorLOG_SOFTMAX, &kernel{eval: evalLogSoftmax})
	register(fb.BuiltinOperatorL2_NORMALIZATION, &kernel{eval: evalL2Norm})
}

// smRows checks a float32 input of rank >= 1 and returns it, its output
// (sized) and the row length (the last dimension).
func smRows(n *node) (in, out *Tensor, depth int, err error) {
	in = n.input(0)
	if in == nil || len(n.outputs) < 1 {
		return nil, nil, 0, errors.New("needs one input and one output")
	}
	if in.Type != fb.TensorTypeFLOAT32 {
		return nil, nil, 0, unsupportedf("%s input", tflite.TypeName(in.Type))
	}
	if o := n.outputs[0]; o.Type != fb.TensorTypeFLOAT32 {
		return nil, nil, 0, fmt.Errorf("output type %s, want FLOAT32", tflite.TypeName(o.Type))
	}
	if len(in.Shape) == 0 {
		return nil, nil, 0, errors.New("input is a scalar; need rank >= 1")
	}
	depth = in.Shape[len(in.Shape)-1]
	return in, n.output(0, in.Shape), depth, nil
}

// evalSoftmax: exp((x - max) * beta) / sum, in float32 as TensorFlow Lite.
// A missing options table gives beta 0, as in TensorFlow Lite.
func evalSoftmax(n *node) error {
	in, out, depth, err := smRows(n)
	if err != nil || depth == 0 {
		return err
	}
	var beta float32
	if o, ok := n.opts.(*fb.SoftmaxOptionsT); ok && o != nil {
		beta = o.Beta
	}
	src, dst := in.F32(), out.F32()
	for r := 0; r+depth <= len(src); r += depth {
		x, y := src[r:r+depth], dst[r:r+depth]
		m := x[0]
		for _, v := range x[1:] {
			if v > m {
				m = v
			}
		}
		var sum float32
		for i, v := range x {
			e := float32(math.Exp(float64((v - m) * beta)))
			y[i] = e
			sum += e
		}
		for i := range y {
			y[i] /= sum
		}
	}
	return nil
}

// evalLogSoftmax: (x - max) - log(sum(exp(x - max))).
func evalLogSoftmax(n *node) error {
	in, out, depth, err := smRows(n)
	if err != nil || depth == 0 {
		return err
	}
	src, dst := in.F32(), out.F32()
	for r := 0; r+depth <= len(src); r += depth {
		x, y := src[r:r+depth], dst[r:r+depth]
		m := x[0]
		for _, v := range x[1:] {
			if v > m {
				m = v
			}
		}
		var sum float32
		for _, v := range x {
			sum += float32(math.Exp(float64(v - m)))
		}
		ls := float32(math.Log(float64(sum)))
		for i, v := range x {
			y[i] = v - m - ls
		}
	}
	return nil
}

// evalL2Norm: x / max(sqrt(sum x^2), 1e-6) along the last axis, as
// TensorFlow Lite's float kernel; like it, no fused activation.
func evalL2Norm(n *node) error {
	if o, ok := n.opts.(*fb.L2NormOptionsT); ok && o != nil && o.FusedActivationFunction != fb.ActivationFunctionTypeNONE {
		// TensorFlow Lite's kernel refuses these too.
		return unsupportedf("fused activation %s", o.FusedActivationFunction)
	}
	in, out, depth, err := smRows(n)
	if err != nil || depth == 0 {
		return err
	}
	const epsilon = 1e-6
	src, dst := in.F32(), out.F32()
	for r := 0; r+depth <= len(src); r += depth {
		x, y := src[r:r+depth], dst[r:r+depth]
		var ss float32
		for _, v := range x {
			ss += v * v
		}
		norm := float32(math.Sqrt(float64(ss)))
		if norm < epsilon {
			norm = epsilon
		}
		for i, v := range x {
			y[i] = v / norm
		}
	}
	return nil
}
