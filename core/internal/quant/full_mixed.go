// Full-integer quantization, mixed precision: in ModeInt8, the operators
// Options.Int16Ops names run on int16 activations (the 16x8 scheme of
// ModeInt16x8, per operator: symmetric int16 activations, int8 weights,
// int64 biases, the int16 fixed output scales), the others on int8.
// Where they meet, a value has both forms: int16 -> int8 is one QUANTIZE;
// int8 -> int16 is DEQUANTIZE + QUANTIZE through float, since the
// runtime's QUANTIZE takes no int8 input to int16 (TFLite's quantize.cc
// requantizes int8 to int8 or uint8 only; the pinned runtime refuses it,
// see convert's TestRuntimeRequantizes16To8Only).

package quant

import (
	"errors"
	"fmt"
	"strings"

	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
)

// opScheme returns the scheme of operator oi of subgraph si.
func (p *fullPlan) opScheme(si, oi int) *scheme {
	if p.int16[opKey{si, oi}] {
		return schemes[ModeInt16x8]
	}
	return p.s
}

// resolveInt16Ops finds the operators Options.Int16Ops names, and checks
// that each can run on int16 activations.
func (p *fullPlan) resolveInt16Ops() error {
	if len(p.opts.Int16Ops) == 0 {
		return nil
	}
	if p.s.mode != ModeInt8 {
		return fmt.Errorf("--int16-ops applies to --mode int8 (mixed int8/int16 activations), not --mode %s", p.s.mode)
	}
	want := map[string]bool{}
	for _, n := range p.opts.Int16Ops {
		want[n] = true
	}
	m := p.g.m
	p.int16 = map[opKey]bool{}
	found := map[string]bool{}
	var bad []string
	for si, info := range p.g.sgs {
		for oi, op := range info.sg.Operators {
			n := firstOutput(info.sg, op)
			if !want[n] {
				continue
			}
			found[n] = true
			if _, fl := p.floatOps[opKey{si, oi}]; fl {
				bad = append(bad, fmt.Sprintf("%q (%s) is also kept float", n, m.OpName(op)))
				continue
			}
			spec := opspec.Lookup(m.Builtin(op))
			if spec == nil || spec.Full.Kernel(fb.TensorTypeINT16) == 0 {
				bad = append(bad, fmt.Sprintf("%q (%s) has no int16x8 kernel in the runtime", n, m.OpName(op)))
				continue
			}
			if spec.Full.Supports != nil {
				if ok, reason := spec.Full.Supports(m, info.sg, op, fb.TensorTypeINT16); !ok {
					bad = append(bad, fmt.Sprintf("%q (%s) cannot run int16x8: %s", n, m.OpName(op), reason))
					continue
				}
			}
			p.int16[opKey{si, oi}] = true
		}
	}
	var unknown []string
	for _, n := range p.opts.Int16Ops {
		if !found[n] {
			unknown = append(unknown, fmt.Sprintf("%q", n))
			found[n] = true
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("--int16-ops: no operator writes %s first (name operators by their first output tensor, as the report's float operators and the verification layers do)",
			strings.Join(unknown, ", "))
	}
	if len(bad) > 0 {
		return noInt16Error("--int16-ops: " + strings.Join(bad, "; "))
	}
	return nil
}

// ErrNoInt16 is matched (errors.Is) by the error of Full when an operator
// Options.Int16Ops names cannot run on int16 activations: no int16x8
// kernel, a case the kernel refuses, or also kept float.
var ErrNoInt16 = errors.New("operator cannot run int16x8")

type noInt16Error string

func (e noInt16Error) Error() string        { return string(e) }
func (e noInt16Error) Is(target error) bool { return target == ErrNoInt16 }

// ownIn returns value t's parameters for an operator of scheme s: its own
// (those its producer writes, or from its range), or, when those are of
// the other activation type, the same range in s.
func (p *fullPlan) ownIn(f *fullSG, t int32, s *scheme) *actInfo {
	a := p.ownS(f, t, s)
	if len(p.int16) == 0 || a.rep.typ == s.act || (s == p.s && a.rep.typ != fb.TensorTypeINT16) {
		return a
	}
	if f.alt == nil {
		f.alt = map[fb.TensorType]map[int32]*actInfo{}
	}
	if f.alt[s.act] == nil {
		f.alt[s.act] = map[int32]*actInfo{}
	}
	if b := f.alt[s.act][t]; b != nil {
		return b
	}
	lo, hi := a.lo, a.hi
	if !a.ranged {
		lo, hi = a.rep.span()
	}
	b := &actInfo{rep: s.fromRange(lo, hi), lo: lo, hi: hi, ranged: true, source: a.source}
	if a.source == "missing" {
		b.ranged = false
	}
	f.alt[s.act][t] = b
	return b
}

// directRequant says whether one QUANTIZE converts from to to (both
// integer types).
func directRequant(from, to fb.TensorType) bool {
	switch {
	case from == to:
		return true
	case from == fb.TensorTypeINT16:
		return to == fb.TensorTypeINT8
	case from == fb.TensorTypeINT8 || from == fb.TensorTypeUINT8:
		return to == fb.TensorTypeINT8 || to == fb.TensorTypeUINT8
	}
	return false
}

// viaFloat returns a tensor holding value t in representation want, made
// from its float view (a DEQUANTIZE of its producer's output) by a
// QUANTIZE.
func (p *fullPlan) viaFloat(f *fullSG, t int32, want rep) int32 {
	fl := p.viewOf(f, t, floatRep)
	tt := f.info.sg.Tensors[t]
	v := p.g.addTensor(f.si, viewTensor(tt, want, suffix(want, "")))
	f.setView(t, want, v)
	p.convert(f, t, fl, v, floatRep, want)
	p.recordAct(f, t, v, want)
	return v
}
