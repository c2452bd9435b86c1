// Full-integer quantization, phase 1: classification, which operators run
// an integer kernel and why the others stay float.

package quant

import (
	"fmt"

	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// isConst reports whether tensor t of f's subgraph holds constant values:
// constant data, or the output of a DEQUANTIZE of constant data.
func (p *fullPlan) isConst(f *fullSG, t int32) bool {
	if t < 0 {
		return false
	}
	if p.g.constData(f.info.sg.Tensors[t]) != nil {
		return true
	}
	pr := f.info.producer[t]
	return pr >= 0 && f.constDeq[pr]
}

// isValue reports whether tensor t is a float activation: FLOAT32, not
// constant, not a variable.
func (p *fullPlan) isValue(f *fullSG, t int32) bool {
	if t < 0 || int(t) >= len(f.info.sg.Tensors) {
		return false
	}
	tt := f.info.sg.Tensors[t]
	return tt.Type == fb.TensorTypeFLOAT32 && !tt.IsVariable && !p.isConst(f, t)
}

// classify decides whether operator oi runs an integer kernel, recording
// why not for operators that compute on float activations.
func (p *fullPlan) classify(f *fullSG, oi int) {
	m := p.g.m
	sg := f.info.sg
	op := sg.Operators[oi]
	code := m.Builtin(op)
	if f.constDeq[oi] || code == fb.BuiltinOperatorQUANTIZE || code == fb.BuiltinOperatorDEQUANTIZE {
		return
	}
	floatAct := false
	for _, list := range [][]int32{op.Inputs, op.Outputs} {
		for _, t := range list {
			if t >= 0 && int(t) < len(sg.Tensors) && sg.Tensors[t].Type == fb.TensorTypeFLOAT32 && !p.isConst(f, t) {
				floatAct = true
			}
		}
	}
	if !floatAct {
		return // computes on integers already (shapes, indices, ...)
	}
	var why []string
	spec := opspec.Lookup(code)
	s := p.opScheme(f.si, oi)
	if spec == nil || spec.Full.Kernel(s.act) == 0 {
		why = append(why, fmt.Sprintf("no %s kernel", s.kernelName()))
		f.why[oi] = why
		return
	}
	if !f.calibrated {
		f.why[oi] = []string{fmt.Sprintf("subgraph %d was not calibrated", f.si)}
		return
	}
	if reason := p.floatOps[opKey{f.si, oi}]; reason != "" {
		why = append(why, reason)
	}
	if p.opts.skipsOp(code) {
		why = append(why, "--skip-ops")
	}
	if re := p.opts.SkipTensors; re != nil {
		for _, list := range [][]int32{op.Inputs, op.Outputs} {
			for _, t := range list {
				if t >= 0 && re.MatchString(sg.Tensors[t].Name) {
					why = append(why, fmt.Sprintf("tensor %q matches --skip-tensors", sg.Tensors[t].Name))
				}
			}
		}
	}
	if ok, reason := true, ""; spec.Full.Supports != nil {
		if ok, reason = spec.Full.Supports(m, sg, op, s.act); !ok {
			why = append(why, reason)
		}
	}
	for k, t := range op.Inputs {
		if t < 0 {
			continue
		}
		tt := sg.Tensors[t]
		role := spec.Role(k)
		if tt.IsVariable && role != opspec.Other {
			why = append(why, fmt.Sprintf("input %d (%q) is a variable", k, tt.Name))
			continue
		}
		switch role {
		case opspec.Activation:
			if tt.Type != fb.TensorTypeFLOAT32 || (p.isConst(f, t) && p.constValues(f, t) == nil) {
				why = append(why, fmt.Sprintf("input %d (%q) is %s", k, tt.Name, tflite.TypeName(tt.Type)))
			}
		case opspec.WeightRole, opspec.BiasRole:
			what := map[opspec.Role]string{opspec.WeightRole: "weights", opspec.BiasRole: "bias"}[role]
			if !p.isConst(f, t) {
				why = append(why, fmt.Sprintf("%s (input %d, %q) are not constant", what, k, tt.Name))
			} else if p.constValues(f, t) == nil {
				why = append(why, fmt.Sprintf("%s (input %d, %q) are %s", what, k, tt.Name, tflite.TypeName(tt.Type)))
			}
		}
	}
	if ok, reason := p.biasFits(f, op, spec); !ok {
		why = append(why, reason)
	}
	for _, t := range op.Outputs {
		if t < 0 || spec.Full.IntegerOutputs {
			continue
		}
		if tt := sg.Tensors[t]; tt.Type != fb.TensorTypeFLOAT32 {
			why = append(why, fmt.Sprintf("output %q is %s", tt.Name, tflite.TypeName(tt.Type)))
		}
	}
	if len(why) > 0 {
		f.why[oi] = dedupe(why)
		return
	}
	f.quant[oi] = true
}

// biasFits checks that a bias has one value per weight scale.
func (p *fullPlan) biasFits(f *fullSG, op *fb.OperatorT, spec *opspec.Spec) (bool, string) {
	sg := f.info.sg
	for _, b := range spec.Biases {
		if b >= len(op.Inputs) || op.Inputs[b] < 0 || len(spec.Weights) == 0 {
			continue
		}
		w := spec.Weights[0]
		if w.Input >= len(op.Inputs) || op.Inputs[w.Input] < 0 {
			continue
		}
		wt, bt := sg.Tensors[op.Inputs[w.Input]], sg.Tensors[op.Inputs[b]]
		n := tflite.NumElements(bt.Shape)
		if w.ChannelAxis >= 0 && w.ChannelAxis < len(wt.Shape) && n != int(wt.Shape[w.ChannelAxis]) {
			return false, fmt.Sprintf("bias %q has %d values for %d output channels", bt.Name, n, wt.Shape[w.ChannelAxis])
		}
	}
	return true, ""
}
