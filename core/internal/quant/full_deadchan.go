// Full-integer quantization, phase 3 (continued): weights on input
// channels proven 0 are cleared before they are quantized.

package quant

import (
	"litequant/core/internal/deadchan"
	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
)

// clearDead sets to zero, before they are quantized, the weights req (the
// weight w of op, whose layout opspec gives) that apply to input channels proven to be 0 (see package deadchan):
// calibration saw them at 0 on every sample and provenZero shows they
// cannot be anything else. It applies when the ranges carry per-channel
// ranges, the weights are tuned (not Options.PlainWeights) and no other
// operator reads them. The outputs stay the same; the weights' scales no
// longer serve values that only ever multiply zeros.
func (p *fullPlan) clearDead(f *fullSG, op *fb.OperatorT, w opspec.Weight, req *constReq) {
	cr, ok := p.ranges.(deadchan.Ranges)
	if !ok || p.opts.PlainWeights || req.values == nil || p.weightReaders[req.srcBuf] != 1 || !w.Known() {
		return
	}
	k := w.Layout.Activation
	if k >= len(op.Inputs) || op.Inputs[k] < 0 {
		return
	}
	y := op.Inputs[k]
	lo, hi, ok := cr.ChannelRange(f.si, int(y))
	if !ok {
		return
	}
	var dead []int
	if seen := deadchan.Dead(lo, hi); len(seen) > 0 {
		proven := p.provenZero(f, cr, y)
		for _, c := range seen {
			if c < len(proven) && proven[c] {
				dead = append(dead, c)
			}
		}
	}
	req.cleared = deadchan.Clear(w, req.shape, req.values, len(lo), dead)
}

// provenZero reports, per channel of activation y, whether it is 0 for
// every input within the calibrated ranges: y is made by an operator with
// a weight whose layout opspec gives (CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED) and a fused RELU or RELU6, whose
// pre-activation bound (deadchan.UpperBounds over its own input's channel
// ranges) is at most 0. The bound uses that operator's weights and bias
// as quantized by this pass when it has quantized them already (operators
// come in execution order), so it holds for the integer model, whose
// rounding may differ from the float values by a step. A channel that
// calibration merely never saw fire (a rare feature) is not proven, so
// its weights are kept.
func (p *fullPlan) provenZero(f *fullSG, cr deadchan.Ranges, y int32) []bool {
	sg := f.info.sg
	pr := f.info.producer[y]
	if pr < 0 {
		return nil
	}
	op := sg.Operators[pr]
	spec := opspec.Lookup(p.g.m.Builtin(op))
	wt, in, ok := spec.LaidOut()
	if !ok {
		return nil
	}
	var act fb.ActivationFunctionType
	switch o := optionsValue(op).(type) {
	case *fb.Conv2DOptionsT:
		act = o.FusedActivationFunction
	case *fb.DepthwiseConv2DOptionsT:
		act = o.FusedActivationFunction
	case *fb.FullyConnectedOptionsT:
		act = o.FusedActivationFunction
	default:
		return nil
	}
	if act != fb.ActivationFunctionTypeRELU && act != fb.ActivationFunctionTypeRELU6 || !present(op, in) || !present(op, wt.Input) {
		return nil
	}
	lo, hi, ok := cr.ChannelRange(f.si, int(op.Inputs[in]))
	if !ok {
		return nil
	}
	// values returns input k of the producer as this pass quantized it,
	// else its float values.
	values := func(k int) []float32 {
		if r := f.reqs[ref{pr, k}]; r != nil && r.data != nil {
			return r.dequantized()
		}
		return p.constValues(f, op.Inputs[k])
	}
	w := values(wt.Input)
	if w == nil {
		return nil
	}
	var bias []float32
	if len(spec.Biases) > 0 && present(op, spec.Biases[0]) {
		if bias = values(spec.Biases[0]); bias == nil {
			return nil
		}
	}
	bounds, ok := deadchan.UpperBounds(wt, sg.Tensors[op.Inputs[wt.Input]].Shape, w, bias, lo, hi)
	if !ok {
		return nil
	}
	out := make([]bool, len(bounds))
	for c, b := range bounds {
		out[c] = b <= 0
	}
	return out
}

// present reports whether op has an input at position k.
func present(op *fb.OperatorT, k int) bool { return k < len(op.Inputs) && op.Inputs[k] >= 0 }
