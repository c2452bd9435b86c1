// Full-integer quantization, phase 2: range assignment, the parameters of
// every activation the quantized operators read and write.

package quant

import (
	"fmt"
	"math"

	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
)

// Ranges gives the float range of a tensor: calibration statistics
// (*calib.Stats implements it) or any other source of ranges.
type Ranges interface {
	Range(subgraph, tensor int) (min, max float32, ok bool)
}

// own returns the quantization of value t from its own range, recording it
// as missing when there is none.
func (p *fullPlan) own(f *fullSG, t int32) *actInfo { return p.ownS(f, t, p.s) }

// ownS is own in scheme s (the scheme of the operator asking: see
// opScheme).
func (p *fullPlan) ownS(f *fullSG, t int32, s *scheme) *actInfo {
	if a := f.act[t]; a != nil {
		return a
	}
	name := f.info.sg.Tensors[t].Name
	if f.si != 0 {
		name = fmt.Sprintf("%s (subgraph %d)", name, f.si)
	}
	lo, hi, source, ok := p.rangeOf(f.si, int(t))
	if !ok {
		p.missing = append(p.missing, fmt.Sprintf("%q", name))
		a := &actInfo{rep: s.fromRange(0, 1), source: "missing"}
		f.act[t] = a
		return a
	}
	r := s.fromRange(lo, hi)
	switch source {
	case "FAKE_QUANT":
		// The trained parameters exactly, where the scheme holds them.
		if x, ok := p.fq.exact(f.si, int(t), s); ok {
			r = x
		}
	case defaultRangeSource:
		p.defaulted = append(p.defaulted, fmt.Sprintf("%q", name))
	}
	a := &actInfo{rep: r, lo: lo, hi: hi, ranged: true, source: source}
	f.act[t] = a
	return a
}

// rangeSource is one source of activation ranges.
type rangeSource struct {
	name string // for the report: "calibration", ...
	r    Ranges
}

// rangeOf returns tensor t's range from the first source that has it.
func (p *fullPlan) rangeOf(sg, t int) (lo, hi float32, source string, ok bool) {
	for _, s := range p.sources {
		if lo, hi, ok := s.r.Range(sg, t); ok {
			return lo, hi, s.name, true
		}
	}
	return 0, 0, "", false
}

// finiteRange returns the range of the finite values of v.
func finiteRange(v []float32) (lo, hi float32, ok bool) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, x := range v {
		if x != x || math.IsInf(float64(x), 0) {
			continue
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi, lo <= hi
}

// assign chooses the parameters of every activation the quantized
// operators of f read and write, in operator order (producers first).
func (p *fullPlan) assign(f *fullSG) {
	m := p.g.m
	sg := f.info.sg
	if f.si == 0 {
		for t, r := range p.inStats {
			lo, hi := r.span()
			f.act[t] = &actInfo{rep: r, lo: lo, hi: hi, ranged: true, source: "--input-stats"}
		}
	}
	// Integer model inputs and outputs take their own ranges.
	if f.entry && f.calibrated {
		if p.opts.InputType != fb.TensorTypeFLOAT32 {
			for _, t := range sg.Inputs {
				if p.isValue(f, t) {
					p.own(f, t)
				}
			}
		}
	}
	for oi, op := range sg.Operators {
		if !f.quant[oi] {
			continue
		}
		spec := opspec.Lookup(m.Builtin(op))
		full := &spec.Full
		s := p.opScheme(f.si, oi)
		ins := map[int]*actInfo{} // live input -> its parameters for this operator
		var live []int            // activation inputs that are values
		var consts []int
		for k, t := range op.Inputs {
			if t < 0 || spec.Role(k) != opspec.Activation {
				continue
			}
			if p.isConst(f, t) {
				consts = append(consts, k)
				continue
			}
			live = append(live, k)
			ins[k] = p.ownIn(f, t, s) // the value's parameters: set by its producer, or its own range
		}
		var outs []int32
		if !full.IntegerOutputs {
			for _, t := range op.Outputs {
				if t >= 0 {
					outs = append(outs, t)
				}
			}
		}
		for _, k := range live {
			f.inRep[ref{oi, k}] = ins[k].rep
		}
		switch fixed := full.FixedOutput(s.act); {
		case fixed != nil:
			r := rep{typ: s.act, scale: fixed.Scale, zp: fixed.ZeroPoint}
			for _, t := range outs {
				f.act[t] = &actInfo{rep: r, source: "fixed by " + m.OpName(op)}
			}
			p.ownConsts(f, oi, consts, s)
		case full.SameScale:
			var shared *actInfo
			if len(live) == 1 {
				in := ins[live[0]]
				shared = &actInfo{rep: in.rep, source: fmt.Sprintf("same as input %q", sg.Tensors[op.Inputs[live[0]]].Name)}
			} else {
				lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
				for _, k := range live {
					a, b := ins[k].rep.span()
					lo, hi = min(lo, a), max(hi, b)
				}
				if len(live) == 0 {
					// Constants only (a GATHER from a constant table): their
					// values and the output's range.
					for _, k := range consts {
						if a, b, ok := finiteRange(p.constValues(f, op.Inputs[k])); ok {
							lo, hi = min(lo, a), max(hi, b)
						}
					}
				}
				for _, t := range outs {
					if a, b, src, ok := p.rangeOf(f.si, int(t)); ok {
						lo, hi = min(lo, a), max(hi, b)
						if src == defaultRangeSource {
							p.defaulted = append(p.defaulted, fmt.Sprintf("%q", sg.Tensors[t].Name))
						}
					}
				}
				if lo > hi {
					for _, t := range outs {
						p.own(f, t) // records the missing range
					}
					lo, hi = 0, 1
				}
				shared = &actInfo{rep: s.fromRange(lo, hi), lo: lo, hi: hi, ranged: true,
					source: fmt.Sprintf("shared by the inputs and outputs of %s", m.OpName(op))}
			}
			for _, k := range live {
				f.inRep[ref{oi, k}] = shared.rep
			}
			for _, k := range consts {
				f.reqs[ref{oi, k}] = &constReq{role: opspec.Activation, typ: s.act,
					scales: []float32{shared.rep.scale}, zps: []int64{shared.rep.zp}, axis: -1}
			}
			for _, t := range outs {
				a := *shared
				f.act[t] = &a
			}
		default:
			for _, t := range outs {
				f.act[t] = p.ownIn(f, t, s)
			}
			p.ownConsts(f, oi, consts, s)
		}
		for _, t := range outs {
			f.outRep[t] = f.act[t].rep
		}
	}
	// Outputs of float operators read by quantized ones, and integer
	// model outputs, take their own ranges.
	if f.entry && f.calibrated && p.opts.OutputType != fb.TensorTypeFLOAT32 {
		for _, t := range sg.Outputs {
			if p.isValue(f, t) {
				p.own(f, t)
			}
		}
	}
}

// ownConsts quantizes constant activation inputs from their own values.
func (p *fullPlan) ownConsts(f *fullSG, oi int, consts []int, s *scheme) {
	op := f.info.sg.Operators[oi]
	for _, k := range consts {
		lo, hi, ok := finiteRange(p.constValues(f, op.Inputs[k]))
		if !ok {
			lo, hi = 0, 0
		}
		r := s.fromRange(lo, hi)
		f.reqs[ref{oi, k}] = &constReq{role: opspec.Activation, typ: r.typ, scales: []float32{r.scale}, zps: []int64{r.zp}, axis: -1}
	}
}
