// Full-integer quantization: the operators Options.FloatOps keeps float.

package quant

import (
	"fmt"
	"slices"
	"strings"

	fb "litequant/core/schema/tflitefb"
)

// firstOutput returns the name of op's first output tensor, the name that
// identifies an operator in --float-ops and in the verification rows.
func firstOutput(sg *fb.SubGraphT, op *fb.OperatorT) string {
	if len(op.Outputs) == 0 || op.Outputs[0] < 0 || int(op.Outputs[0]) >= len(sg.Tensors) {
		return ""
	}
	return sg.Tensors[op.Outputs[0]].Name
}

// resolveFloatOps finds the operators Options.FloatOps and TargetOps name
// (in every subgraph: a name may stand for operators of several). A name
// no operator writes first is an error naming them all.
func (p *fullPlan) resolveFloatOps() error {
	if len(p.opts.FloatOps)+len(p.opts.TargetOps) == 0 {
		return nil
	}
	want := map[string]string{}
	for _, n := range p.opts.TargetOps {
		want[n] = "left float for --target-sqnr"
	}
	for _, n := range p.opts.FloatOps {
		want[n] = "asked with --float-ops"
	}
	p.floatOps = map[opKey]string{}
	found := map[string]bool{}
	for si, info := range p.g.sgs {
		for oi, op := range info.sg.Operators {
			n := firstOutput(info.sg, op)
			if reason, ok := want[n]; ok {
				p.floatOps[opKey{si, oi}] = reason
				found[n] = true
			}
		}
	}
	var unknown []string
	for _, n := range append(slices.Clone(p.opts.FloatOps), p.opts.TargetOps...) {
		if !found[n] {
			unknown = append(unknown, fmt.Sprintf("%q", n))
			found[n] = true // named once
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("--float-ops: no operator writes %s first (name operators by their first output tensor, as the report's float operators and the verification layers do)",
			strings.Join(unknown, ", "))
	}
	return nil
}
