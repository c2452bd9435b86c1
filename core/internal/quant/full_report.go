// Full-integer quantization, phase 5: the report of activations, constants
// and warnings.

package quant

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// recordAct adds integer tensor v (holding value t in representation r) to
// the report.
func (p *fullPlan) recordAct(f *fullSG, t, v int32, r rep) {
	if r.isFloat() {
		return
	}
	a := f.act[t]
	e := Activation{Tensor: f.info.sg.Tensors[v].Name, Subgraph: f.si, Type: tflite.TypeName(r.typ), Scale: r.scale, ZeroPoint: r.zp}
	same := a != nil && (r == a.rep || r == uint8Of(a.rep))
	switch {
	case a == nil:
		e.Source = "unknown"
	case same:
		e.Source = a.source
		if r != a.rep {
			e.Source += " (uint8: zero point + 128)"
		}
		if a.ranged {
			lo, hi := a.lo, a.hi
			e.Min, e.Max = &lo, &hi
			p.checkSpread(f, t, a)
		}
	default:
		e.Source = fmt.Sprintf("requantized from %q for a reader that needs other parameters", f.info.sg.Tensors[t].Name)
	}
	p.r.Activations = append(p.r.Activations, e)
}

// checkSpread notes, in the 8-bit modes, a calibrated activation whose
// range a few samples set (see SampleSpread) and that the range given it
// still reaches (a calibration method that clipped the outliers' values
// leaves nothing to warn about). FAKE_QUANT removal renumbers tensors, so
// models that had any are not checked.
func (p *fullPlan) checkSpread(f *fullSG, t int32, a *actInfo) {
	sp, ok := p.ranges.(SampleSpread)
	if !ok || a.source != "calibration" || a.rep.typ == fb.TensorTypeINT16 || len(p.fq.ranges) > 0 {
		return
	}
	for _, x := range p.spread {
		if x.subgraph == f.si && x.t == t {
			return // another view of the same value
		}
	}
	if top, median, samples, ok := rangeSpread(sp.SampleMax(f.si, int(t))); ok {
		if peak := max(-a.lo, a.hi); peak < spreadFactor*median {
			return
		}
		p.spread = append(p.spread, outlierSpread{tensor: f.info.sg.Tensors[t].Name, top: top, median: median, samples: samples, peak: max(-a.lo, a.hi),
			subgraph: f.si, t: t, producer: f.info.producer[t]})
	}
}

// recordConst adds a quantized constant to the report's weights.
func (p *fullPlan) recordConst(f *fullSG, oi, k int, nt int32, req *constReq) {
	t := f.info.sg.Tensors[nt]
	w := Weight{Tensor: t.Name, Subgraph: f.si, Shape: append([]int32(nil), t.Shape...), Elements: tflite.NumElements(t.Shape),
		From: "FLOAT32", Type: tflite.TypeName(req.typ), Granularity: "per-tensor"}
	if src := f.info.sg.Tensors[req.tensor]; src.Type != fb.TensorTypeFLOAT32 {
		w.From = tflite.TypeName(src.Type)
	} else if pr := f.info.producer[req.tensor]; pr >= 0 && f.constDeq[pr] {
		w.From = tflite.TypeName(f.info.sg.Tensors[f.info.sg.Operators[pr].Inputs[0]].Type)
	}
	if len(req.scales) > 1 {
		a := req.axis
		w.Granularity, w.Axis = "per-channel", &a
	}
	w.ClearedDead = req.cleared
	w.ScaleMin, w.ScaleMax = req.scales[0], req.scales[0]
	for _, s := range req.scales {
		w.ScaleMin, w.ScaleMax = min(w.ScaleMin, s), max(w.ScaleMax, s)
	}
	if p.constIndex == nil {
		p.constIndex = map[tref]int{}
	}
	p.constIndex[tref{f.si, int(nt)}] = len(p.r.pending)
	p.r.pending = append(p.r.pending, pendingWeight{w: w})
	p.addConsumer(f, oi, k, nt)
}

// addConsumer records operator oi reading quantized constant nt at input k.
func (p *fullPlan) addConsumer(f *fullSG, oi, k int, nt int32) {
	i, ok := p.constIndex[tref{f.si, int(nt)}]
	if !ok {
		return
	}
	p.r.pending[i].consumers = append(p.r.pending[i].consumers, pendingConsumer{key: opKey{f.si, oi}, input: k, kernel: p.opScheme(f.si, oi).kernelName()})
}

// report completes the full-integer report after the edits are committed.
func (p *fullPlan) report(start time.Time) {
	name := func(t fb.TensorType) string { return tflite.TypeName(t) }
	p.r.InputType, p.r.OutputType = name(p.opts.InputType), name(p.opts.OutputType)
	for _, f := range p.sgs {
		for _, q := range f.quant {
			if q {
				p.r.IntegerOps++
			}
		}
		p.r.AddedOps += f.nConv
	}
	if p.r.Activations == nil {
		p.r.Activations = []Activation{}
	}
	// Name the first in operator order: where the outlying values start.
	slices.SortStableFunc(p.spread, func(a, b outlierSpread) int {
		return cmp.Or(cmp.Compare(a.subgraph, b.subgraph), cmp.Compare(a.producer, b.producer))
	})
	if sp, ok := p.ranges.(SampleSpread); ok && len(p.spread) > 0 {
		p.r.Warnings = append(p.r.Warnings, spreadWarning(p.spread, sp))
	}
	_ = start
}
