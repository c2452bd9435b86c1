package interp

import (
	"errors"
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
)

// uint8 CONCATENATION with inputs quantized unlike the output. TensorFlow
// Lite's kernel (ConcatenationWithScaling) requantizes each such input in
// float32, round(q × s + b) + output zero point with s = input scale × (1 /
// output scale) and b = -input zero point × s, and copies the others. But
// the runtime hands a concatenation of 2 to 4 inputs to XNNPACK, which
// copies the stored values whatever their parameters (measured: with 2
// and 4 inputs the runtime's output is the raw bytes, with 1 and 5 the
// requantized ones), so that is what happens here too. int8 and int16
// inputs must share the output's parameters (the runtime's Prepare checks
// it; the default kernel does too).

// concatNeedsRescale reports whether n is a uint8 CONCATENATION with an
// input whose parameters differ from the output's.
func concatNeedsRescale(n *node) bool {
	if len(n.outputs) < 1 || n.outputs[0].Type != fb.TensorTypeUINT8 {
		return false
	}
	out := n.outputs[0]
	for _, in := range n.inputs {
		if in != nil && in.Type == fb.TensorTypeUINT8 && mvSameQuant(in, out) != nil {
			return true
		}
	}
	return false
}

func evalConcatRescale(n *node) error {
	opts, _ := n.opts.(*fb.ConcatenationOptionsT)
	axis := 0
	if opts != nil {
		axis = int(opts.Axis)
		if opts.FusedActivationFunction != fb.ActivationFunctionTypeNONE {
			return unsupportedf("fused activation on UINT8")
		}
	}
	if len(n.inputs) == 0 || n.inputs[0] == nil {
		return errors.New("needs at least one input")
	}
	out := n.outputs[0]
	outS, outZ, err := iqParams(out)
	if err != nil {
		return err
	}
	first := n.inputs[0]
	rank := len(first.Shape)
	if err := mvCheckRank(first, maxMoveDims); err != nil {
		return err
	}
	ax, err := normAxis(axis, rank)
	if err != nil {
		return err
	}
	var shape mvDims
	copy(shape[:], first.Shape)
	shape[ax] = 0
	views := make([]*Tensor, len(n.inputs))
	inv := 1 / outS
	for i, in := range n.inputs {
		if in == nil || in.Type != fb.TensorTypeUINT8 {
			return fmt.Errorf("input %d: want UINT8 like the output", i)
		}
		if len(in.Shape) != rank {
			return fmt.Errorf("input %v does not have rank %d", in, rank)
		}
		for k, d := range in.Shape {
			if k != ax && d != first.Shape[k] {
				return fmt.Errorf("inputs %v and %v differ outside axis %d", first, in, ax)
			}
		}
		shape[ax] += in.Shape[ax]
		views[i] = in
		if mvSameQuant(in, out) == nil {
			continue
		}
		inS, inZ, err := iqParams(in)
		if err != nil {
			return err
		}
		s := inS * inv
		b := float32(-inZ) * s
		buf := make([]byte, len(in.Data))
		for j, q := range in.Data {
			v := int32(math.Round(float64(float32(float32(q)*s) + b)))
			buf[j] = uint8(iqClamp(v+outZ, 0, 255))
		}
		views[i] = &Tensor{Type: in.Type, Shape: in.Shape, Data: buf}
	}
	if k := len(n.inputs); k >= 2 && k <= 4 {
		views = n.inputs // XNNPACK: the stored values, as they are
	}
	o := n.output(0, shape[:rank])
	mvJoin(o, views, 1, mvProd(first.Shape[:ax]), ax, mvProd(first.Shape[ax+1:]))
	return nil
}

func init() {
	register(fb.BuiltinOperatorCONCATENATION, &kernel{match: concatNeedsRescale, eval: evalConcatRescale})
}
