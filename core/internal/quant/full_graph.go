// Full-integer quantization, phase 4: the graph edit, retyping values,
// adding QUANTIZE/DEQUANTIZE conversions and quantized constants.

package quant

import (
	"strings"

	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// edit applies f's plan.
func (p *fullPlan) edit(f *fullSG) {
	g, m := p.g, p.g.m
	sg := f.info.sg
	// The float activations, before any is retyped.
	isValue := make([]bool, len(sg.Tensors))
	for ti := range sg.Tensors {
		isValue[ti] = p.isValue(f, int32(ti))
	}
	// 1. Every value a quantized operator writes, and integer model I/O:
	// the producer writes the value's home representation; a model output
	// of another representation is converted right after it.
	for ti := range isValue {
		t := int32(ti)
		if !isValue[ti] {
			continue
		}
		home, orig := p.homeRep(f, t), p.origRep(f, t)
		if home.isFloat() && orig.isFloat() {
			continue
		}
		tt := sg.Tensors[t]
		if home == orig {
			f.homeT[t] = t
			retype(tt, home)
			p.recordAct(f, t, t, home)
			continue
		}
		// A model output whose producer writes another representation.
		name := suffix(home, "")
		if home.isFloat() {
			name = "_float"
		}
		nt := g.addTensor(f.si, viewTensor(tt, home, name))
		pr := f.info.producer[t]
		for k, o := range sg.Operators[pr].Outputs {
			if o == t {
				sg.Operators[pr].Outputs[k] = nt
			}
		}
		f.homeT[t] = nt
		f.setView(t, home, nt)
		retype(tt, orig)
		p.recordAct(f, t, nt, home)
		p.recordAct(f, t, t, orig)
		p.convert(f, t, nt, t, home, orig)
	}
	// 2. Every reader gets the representation it needs.
	for oi, op := range sg.Operators {
		for k, t := range op.Inputs {
			if t < 0 || int(t) >= len(isValue) || !isValue[t] {
				continue
			}
			want := floatRep
			if f.quant[oi] {
				if r, ok := f.inRep[ref{oi, k}]; ok {
					want = r
				}
			}
			op.Inputs[k] = p.viewOf(f, t, want)
		}
	}
	// 3. Quantized constants.
	local := map[string]int32{}
	var replaced []int32
	for oi, op := range sg.Operators {
		if !f.quant[oi] {
			continue
		}
		for k, t := range op.Inputs {
			req := f.reqs[ref{oi, k}]
			if t < 0 || req == nil {
				continue
			}
			key := req.key()
			nt, ok := local[key]
			if !ok {
				buf, ok := p.buffers[key]
				if !ok {
					m.Buffers = append(m.Buffers, &fb.BufferT{Data: req.data})
					buf = uint32(len(m.Buffers) - 1)
					p.buffers[key] = buf
				}
				src := sg.Tensors[t]
				q := &fb.QuantizationParametersT{Scale: append([]float32(nil), req.scales...), ZeroPoint: append([]int64(nil), req.zps...)}
				if req.axis > 0 {
					q.QuantizedDimension = int32(req.axis)
				}
				nt = g.addTensor(f.si, &fb.TensorT{Name: src.Name, Type: req.typ, Shape: append([]int32(nil), src.Shape...),
					ShapeSignature: append([]int32(nil), src.ShapeSignature...), HasRank: src.HasRank, Buffer: buf, Quantization: q})
				local[key] = nt
				p.recordConst(f, oi, k, nt, req)
			} else {
				p.addConsumer(f, oi, k, nt)
			}
			op.Inputs[k] = nt
			replaced = append(replaced, t)
		}
		spec := opspec.Lookup(m.Builtin(op))
		if spec.Full.Prepare != nil {
			spec.Full.Prepare(op, p.opScheme(f.si, oi).act)
		}
	}
	// 4. Constants nothing reads any more, and the DEQUANTIZE operators
	// that made them.
	for _, t := range replaced {
		if g.orphaned[tref{f.si, int(t)}] || f.info.io[t] || g.stillRead(f.si, t) {
			continue
		}
		g.orphaned[tref{f.si, int(t)}] = true
		if pr := f.info.producer[t]; pr >= 0 && f.constDeq[pr] {
			g.removed[opKey{f.si, pr}] = true
			src := sg.Operators[pr].Inputs[0]
			if !g.orphaned[tref{f.si, int(src)}] && !f.info.io[src] && !g.stillRead(f.si, src) {
				g.orphaned[tref{f.si, int(src)}] = true
			}
		}
	}
}

// homeRep is the representation value t's producer writes.
func (p *fullPlan) homeRep(f *fullSG, t int32) rep {
	if pr := f.info.producer[t]; pr >= 0 {
		if r, ok := f.outRep[t]; ok && f.quant[pr] {
			return r
		}
		return floatRep
	}
	if f.entry && f.calibrated && isIn(f.info.sg.Inputs, t) {
		return p.ioRep(f, t, p.opts.InputType)
	}
	return floatRep
}

// origRep is the representation tensor t keeps: its home, except for a
// model output of the requested output type.
func (p *fullPlan) origRep(f *fullSG, t int32) rep {
	sg := f.info.sg
	if f.entry && f.calibrated && isIn(sg.Outputs, t) && !isIn(sg.Inputs, t) && f.info.producer[t] >= 0 {
		return p.ioRep(f, t, p.opts.OutputType)
	}
	return p.homeRep(f, t)
}

// ioRep is the representation of model input or output t of type typ.
func (p *fullPlan) ioRep(f *fullSG, t int32, typ fb.TensorType) rep {
	if typ == fb.TensorTypeFLOAT32 {
		return floatRep
	}
	r := f.act[t].rep
	if r.typ == fb.TensorTypeINT16 && typ != fb.TensorTypeINT16 {
		// An int16 operator's output in a mixed plan, as an 8-bit model
		// output.
		r = p.ownIn(f, t, p.s).rep
	}
	if typ == fb.TensorTypeUINT8 && r.typ == fb.TensorTypeINT8 {
		return uint8Of(r)
	}
	return r
}

func isIn(list []int32, t int32) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

func (f *fullSG) setView(t int32, r rep, v int32) {
	if f.views[t] == nil {
		f.views[t] = map[rep]int32{}
	}
	f.views[t][r] = v
}

// viewOf returns a tensor holding value t in representation want,
// converting the producer's output after it (or, for a model input, at the
// start of the subgraph) when there is none yet.
func (p *fullPlan) viewOf(f *fullSG, t int32, want rep) int32 {
	home, ok := f.homeT[t]
	if !ok {
		home = t // float home, unchanged
		f.homeT[t] = t
		f.setView(t, floatRep, t)
	}
	if v, ok := f.views[t][want]; ok {
		return v
	}
	if h := p.homeRep(f, t); h == want {
		f.setView(t, want, home)
		return home
	}
	if o := p.origRep(f, t); o == want {
		f.setView(t, want, t)
		return t
	}
	tt := f.info.sg.Tensors[t]
	hr := p.homeRep(f, t)
	if !hr.isFloat() && !want.isFloat() && !directRequant(hr.typ, want.typ) {
		return p.viaFloat(f, t, want)
	}
	extra := ""
	if !want.isFloat() && want.typ == hr.typ {
		extra = "_requantized"
	}
	v := p.g.addTensor(f.si, viewTensor(tt, want, suffix(want, extra)))
	f.setView(t, want, v)
	p.convert(f, t, home, v, hr, want)
	if !want.isFloat() {
		p.recordAct(f, t, v, want)
	}
	return v
}

// convert adds the QUANTIZE or DEQUANTIZE writing tensor to from tensor
// from (value t), after t's producer, or first in the subgraph for a model
// input.
func (p *fullPlan) convert(f *fullSG, t, from, to int32, fromRep, toRep rep) {
	g := p.g
	code := g.opcode(fb.BuiltinOperatorQUANTIZE)
	if toRep.isFloat() {
		code = g.opcode(fb.BuiltinOperatorDEQUANTIZE)
	}
	op := &fb.OperatorT{OpcodeIndex: code, Inputs: []int32{from}, Outputs: []int32{to}}
	if pr := f.info.producer[t]; pr >= 0 {
		key := opKey{f.si, pr}
		g.after[key] = append(g.after[key], op)
	} else {
		key := opKey{f.si, 0}
		g.before[key] = append(g.before[key], op)
	}
	f.nConv++
}

// viewTensor returns a new activation tensor shaped like t in
// representation r.
func viewTensor(t *fb.TensorT, r rep, name string) *fb.TensorT {
	v := floatView(t, t.Name+name)
	retype(v, r)
	return v
}

func suffix(r rep, extra string) string {
	if extra != "" {
		return extra
	}
	if r.isFloat() {
		return "_dequantized"
	}
	return "_" + strings.ToLower(tflite.TypeName(r.typ))
}

func retype(t *fb.TensorT, r rep) {
	t.Type = r.typ
	t.Quantization = r.quantization()
}
