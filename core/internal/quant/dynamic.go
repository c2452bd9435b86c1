package quant

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// use is one operator reading a weight: op (in subgraph sg) reads, at input
// position pos, either the constant tensor itself (via < 0) or the output
// of DEQUANTIZE operator via whose input is the constant.
type use struct {
	sg, op, pos int
	via         int
	weight      opspec.Weight
	spec        *opspec.Spec
	u           *unit // the buffer it reads
	tensor      int   // the constant tensor it reads (directly or via)
}

// unit is one constant buffer: the quantity quantized once, however many
// tensors and operators share it.
type unit struct {
	buf     uint32
	from    fb.TensorType // FLOAT32, or FLOAT16 behind DEQUANTIZE
	tensors []tref
	uses    []*use
	values  []float32
	// reason is why the buffer stays as it is ("" when it is quantized).
	reason string

	// Results.
	axis   int // per-channel axis, -1 per-tensor
	scales []float32
}

// opPlan is the decision for one operator that reads weights.
type opPlan struct {
	kernel opspec.Kernel // how it runs after the pass
	why    []string      // why it does not run a hybrid/passthrough kernel, or why weights stay float
	uses   []*use
}

// Dynamic applies dynamic-range quantization to m in place, as TensorFlow's
// converter does with optimizations=[DEFAULT] and no representative
// dataset: constant FLOAT32 weights (and FLOAT16 weights behind DEQUANTIZE)
// of the operators in opspec become symmetric int8; operators with a hybrid
// kernel read them directly with asymmetric_quantize_inputs set, the others
// through a DEQUANTIZE. Activations, inputs, outputs and biases stay float.
// Operator versions and min_runtime_version are raised to match, and
// unused buffers are dropped.
//
// On error the model is unchanged: the analysis runs before any edit. A
// model with nothing to quantize gives an error wrapping ErrNothingToDo
// unless opts.AllowNoop, when the Report has Noop set. A fully quantized
// model gives an error wrapping ErrFullyQuantized.
func Dynamic(m *tflite.Model, opts Options) (*Report, error) {
	return run(m, opts, "dynamic", planDynamic)
}

func planDynamic(g *graph, opts Options, r *Report) (func(), string) {
	m := g.m
	units := map[uint32]*unit{}
	plans := map[opKey]*opPlan{}
	var planOrder []opKey
	alreadyInt8, weightOps := 0, 0

	unitOf := func(buf uint32, from fb.TensorType) *unit {
		u := units[buf]
		if u == nil {
			u = &unit{buf: buf, from: from, tensors: g.byBuffer[buf], axis: -1}
			units[buf] = u
		}
		return u
	}

	// 1. Find every weight read by a specced operator.
	for si, info := range g.sgs {
		for oi, op := range info.sg.Operators {
			spec := opspec.Lookup(m.Builtin(op))
			if len(spec.WeightsOrNil()) == 0 {
				continue // no weights (nil spec, or an entry for full-integer only)
			}
			weightOps++
			key := opKey{si, oi}
			plan := &opPlan{kernel: opspec.FloatKernel}
			plans[key] = plan
			planOrder = append(planOrder, key)
			constant := false
			for _, w := range spec.Weights {
				if w.Input >= len(op.Inputs) || op.Inputs[w.Input] < 0 {
					continue
				}
				ti := op.Inputs[w.Input]
				t := info.sg.Tensors[ti]
				u := &use{sg: si, op: oi, pos: w.Input, via: -1, weight: w, spec: spec, tensor: int(ti)}
				switch {
				case t.Type == fb.TensorTypeFLOAT32 && g.constData(t) != nil:
					constant = true
					x := unitOf(t.Buffer, fb.TensorTypeFLOAT32)
					x.uses = append(x.uses, u)
					u.u = x
					plan.uses = append(plan.uses, u)
				case t.Type == fb.TensorTypeFLOAT32 && g.isDequantize(si, info.producer[ti]):
					d := info.sg.Operators[info.producer[ti]]
					src := info.sg.Tensors[d.Inputs[0]]
					switch {
					case src.Type == fb.TensorTypeFLOAT16 && g.constData(src) != nil:
						constant = true
						u.via = info.producer[ti]
						u.tensor = int(d.Inputs[0])
						x := unitOf(src.Buffer, fb.TensorTypeFLOAT16)
						x.uses = append(x.uses, u)
						u.u = x
						plan.uses = append(plan.uses, u)
					case g.constData(src) != nil:
						constant = true
						alreadyInt8++
						plan.why = append(plan.why, fmt.Sprintf("input %d (%q) is already %s", w.Input, src.Name, tflite.TypeName(src.Type)))
					}
				case g.constData(t) != nil:
					constant = true
					if t.Type == fb.TensorTypeINT8 || t.Type == fb.TensorTypeUINT8 {
						alreadyInt8++
						plan.kernel = spec.Dynamic.Kernel // it reads int8 weights already
					}
					plan.why = append(plan.why, fmt.Sprintf("input %d (%q) is already %s", w.Input, t.Name, tflite.TypeName(t.Type)))
				}
			}
			if !constant {
				plan.why = append(plan.why, "no constant weights")
			}
		}
	}

	// 2. Decide which buffers can be quantized.
	bufs := make([]uint32, 0, len(units))
	for b := range units {
		bufs = append(bufs, b)
	}
	sort.Slice(bufs, func(i, j int) bool { return bufs[i] < bufs[j] })
	for _, b := range bufs {
		u := units[b]
		u.reason = g.eligible(u, opts)
		if u.reason == "" {
			u.values = g.unitValues(u)
			if !allFinite(u.values) {
				u.reason = "holds NaN or infinite values"
			}
		}
	}

	// 3. Decide each operator's kernel: hybrid (or passthrough) when the
	// kernel exists, supports this operator and every weight it reads will
	// be int8.
	quantized := func(x *use) bool { return x.u.reason == "" }
	for _, key := range planOrder {
		p := plans[key]
		op := m.Subgraphs[key.sg].Operators[key.op]
		spec := opspec.Lookup(m.Builtin(op))
		some := false
		for _, x := range p.uses {
			if quantized(x) {
				some = true
			} else {
				p.why = append(p.why, fmt.Sprintf("input %d (%q) stays %s: %s", x.pos, g.useName(x), tflite.TypeName(x.u.from), x.u.reason))
			}
		}
		if !some {
			continue
		}
		p.kernel = spec.Dynamic.Kernel
		if p.kernel == opspec.FloatKernel {
			p.why = append(p.why, "no hybrid kernel: int8 weights are dequantized in front")
			continue
		}
		if spec.Dynamic.Supports != nil {
			for _, x := range p.uses {
				if ok, why := spec.Dynamic.Supports(m, m.Subgraphs[key.sg], op, x.pos); !ok && quantized(x) {
					p.kernel = opspec.FloatKernel
					p.why = append(p.why, why+": int8 weights are dequantized in front")
					break
				}
			}
		}
		if p.kernel != opspec.FloatKernel && !g.allWeightsInt8(key, spec, units) {
			p.kernel = opspec.FloatKernel
			p.why = append(p.why, "the hybrid kernel needs every weight int8: int8 weights are dequantized in front")
		}
	}

	// 4. Granularity: per-channel when every operator reading the buffer
	// directly as int8 takes per-channel scales on the same axis.
	for changed := true; changed; {
		changed = false
		for _, b := range bufs {
			u := units[b]
			if u.reason != "" {
				continue
			}
			u.axis = g.channelAxis(u, plans)
			if u.axis >= 0 {
				continue
			}
			for _, x := range u.uses {
				p := plans[opKey{x.sg, x.op}]
				if p.kernel != opspec.FloatKernel && x.spec.Dynamic.Scales == opspec.PerChannelOnly {
					p.kernel = opspec.FloatKernel
					p.why = append(p.why, "the hybrid kernel needs per-channel scales, but the weight is shared with a per-tensor use: int8 weights are dequantized in front")
					changed = true
				}
			}
		}
	}

	var todo []*unit
	for _, b := range bufs {
		if units[b].reason == "" {
			todo = append(todo, units[b])
		}
	}
	for _, key := range planOrder {
		p := plans[key]
		if p.kernel == opspec.FloatKernel {
			r.floatOps = append(r.floatOps, pendingFloatOp{key: key, name: g.opName(key.sg, key.op), why: p.why})
		}
	}
	if len(todo) == 0 {
		return nil, nothingReason(weightOps, alreadyInt8, units, bufs, opts)
	}

	return func() {
		g.kernels = map[opKey]opspec.Kernel{}
		for key, p := range plans {
			g.kernels[key] = p.kernel
		}
		for _, u := range todo {
			u.scales = g.writeInt8(u)
			r.addWeight(g, u, plans)
		}
		for _, key := range planOrder {
			g.rewireDynamic(key, plans[key], units)
		}
		g.removeDeadDequantizes(todo)
		g.dropUnreadFloat16()
	}, ""
}

// nothingReason explains an empty dynamic-range pass.
func nothingReason(weightOps, alreadyInt8 int, units map[uint32]*unit, bufs []uint32, opts Options) string {
	if weightOps == 0 {
		return "the model has no operators with weights to quantize (" + specNames() + ")"
	}
	counts := map[string]int{}
	for _, b := range bufs {
		counts[category(units[b].reason, opts)]++
	}
	var parts []string
	if alreadyInt8 > 0 {
		parts = append(parts, fmt.Sprintf("%d already int8", alreadyInt8))
	}
	for _, c := range sortedKeys(counts) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[c], c))
	}
	if len(parts) == 0 {
		return "the model's weight operators have no constant float weights"
	}
	return "no float weights to quantize: " + strings.Join(parts, ", ")
}

// category shortens a unit's reason for the no-op summary.
func category(reason string, opts Options) string {
	switch {
	case strings.Contains(reason, "fewer than"):
		return fmt.Sprintf("with fewer than %d elements", opts.minElements())
	case strings.Contains(reason, "--skip") || strings.Contains(reason, "skip"):
		return "skipped"
	}
	return "left float for other reasons"
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func specNames() string {
	var names []string
	for _, s := range opspec.All() {
		if len(s.Weights) > 0 {
			names = append(names, s.Name())
		}
	}
	return strings.Join(names, ", ")
}

// useName returns the name of the constant tensor a use reads.
func (g *graph) useName(x *use) string {
	return g.m.Subgraphs[x.sg].Tensors[x.tensor].Name
}

// eligible returns why unit u must stay as it is, or "".
func (g *graph) eligible(u *unit, opts Options) string {
	direct := map[tref]map[ref]bool{} // constant tensor -> the uses reading it
	for _, x := range u.uses {
		c, r := tref{x.sg, x.tensor}, ref{x.op, x.pos}
		if x.via >= 0 {
			r = ref{x.via, 0}
		}
		if direct[c] == nil {
			direct[c] = map[ref]bool{}
		}
		direct[c][r] = true
	}
	// Options first: they are the user's explicit choice.
	for _, x := range u.uses {
		if opts.skipsOp(x.spec.Op) {
			return fmt.Sprintf("%s is in the skip list (--skip-ops)", x.spec.Name())
		}
	}
	if opts.SkipTensors != nil {
		for _, name := range g.unitNames(u) {
			if opts.SkipTensors.MatchString(name) {
				return fmt.Sprintf("tensor name %q matches the skip pattern (--skip-tensors)", name)
			}
		}
	}
	first := g.tensor(u.tensors[0])
	n := tflite.NumElements(first.Shape)
	if n < opts.minElements() {
		return fmt.Sprintf("%d elements, fewer than %d", n, opts.minElements())
	}
	for _, c := range u.tensors {
		t := g.tensor(c)
		info := g.sgs[c.sg]
		switch {
		case t.Type != u.from:
			return fmt.Sprintf("its buffer is also tensor %q of type %s", t.Name, tflite.TypeName(t.Type))
		case t.Sparsity != nil:
			return "sparse tensor"
		case t.IsVariable:
			return "variable tensor"
		case info.io[c.t]:
			return fmt.Sprintf("tensor %q is a subgraph input or output", t.Name)
		case tflite.NumElements(t.Shape) != n:
			return "tensors sharing the buffer have different sizes"
		}
		for _, r := range info.consumers[c.t] {
			if u.from == fb.TensorTypeFLOAT32 {
				if !direct[c][r] {
					return fmt.Sprintf("its buffer also feeds %s #%d input %d, which is not a weight of a quantizable operator", g.opName(c.sg, r.op), r.op, r.pos)
				}
				continue
			}
			// FLOAT16: every reader is a DEQUANTIZE whose output only feeds
			// weight inputs.
			if !g.isDequantize(c.sg, r.op) || !direct[c][r] {
				return fmt.Sprintf("its buffer also feeds %s #%d input %d, which is not a weight of a quantizable operator", g.opName(c.sg, r.op), r.op, r.pos)
			}
			d := info.sg.Operators[r.op]
			out := d.Outputs[0]
			if info.io[out] {
				return fmt.Sprintf("its DEQUANTIZE output %q is a subgraph output", info.sg.Tensors[out].Name)
			}
			for _, rr := range info.consumers[out] {
				if !u.reads(c.sg, rr, r.op) {
					return fmt.Sprintf("its dequantized value also feeds %s #%d input %d, which is not a weight of a quantizable operator", g.opName(c.sg, rr.op), rr.op, rr.pos)
				}
			}
		}
	}
	return ""
}

// reads reports whether u has a use by operator r.op at r.pos through
// DEQUANTIZE via.
func (u *unit) reads(sg int, r ref, via int) bool {
	for _, x := range u.uses {
		if x.sg == sg && x.op == r.op && x.pos == r.pos && x.via == via {
			return true
		}
	}
	return false
}

// unitNames lists the names a skip pattern is matched against: the
// constant tensors and, behind DEQUANTIZE, the dequantized tensors.
func (g *graph) unitNames(u *unit) []string {
	var names []string
	for _, c := range u.tensors {
		names = append(names, g.tensor(c).Name)
	}
	for _, x := range u.uses {
		if x.via >= 0 {
			sg := g.m.Subgraphs[x.sg]
			names = append(names, sg.Tensors[sg.Operators[x.via].Outputs[0]].Name)
		}
	}
	return names
}

// unitValues decodes a unit's data as float32.
func (g *graph) unitValues(u *unit) []float32 {
	data := g.m.Buffers[u.buf].Data
	if u.from == fb.TensorTypeFLOAT16 {
		return decodeFloat16(data)
	}
	return decodeFloat32(data)
}

func allFinite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

// allWeightsInt8 reports whether every constant weight the operator reads
// will be int8 and read directly (quantized by this pass, or int8
// already). Weight inputs fed by activations do not count.
func (g *graph) allWeightsInt8(key opKey, spec *opspec.Spec, units map[uint32]*unit) bool {
	sg := g.m.Subgraphs[key.sg]
	op := sg.Operators[key.op]
	for _, w := range spec.Weights {
		if w.Input >= len(op.Inputs) || op.Inputs[w.Input] < 0 {
			continue
		}
		ti := op.Inputs[w.Input]
		t := sg.Tensors[ti]
		if g.constData(t) != nil {
			if t.Type == fb.TensorTypeINT8 || t.Type == fb.TensorTypeFLOAT32 && units[t.Buffer] != nil && units[t.Buffer].reason == "" {
				continue
			}
			return false
		}
		if p := g.sgs[key.sg].producer[ti]; g.isDequantize(key.sg, p) {
			src := sg.Tensors[sg.Operators[p].Inputs[0]]
			if g.constData(src) == nil {
				continue // dequantizing an activation: not a weight
			}
			if src.Type == fb.TensorTypeFLOAT16 && units[src.Buffer] != nil && units[src.Buffer].reason == "" {
				continue
			}
			return false
		}
		// An activation (BATCH_MATMUL's left operand): not a weight.
	}
	return true
}

// channelAxis returns the per-channel axis for u, or -1 for per-tensor: the
// axis every operator reading u as int8 takes per-channel scales on.
func (g *graph) channelAxis(u *unit, plans map[opKey]*opPlan) int {
	axis := -1
	direct := 0
	for _, x := range u.uses {
		if plans[opKey{x.sg, x.op}].kernel == opspec.FloatKernel {
			continue
		}
		direct++
		if x.spec.Dynamic.Scales == opspec.PerTensor || x.weight.ChannelAxis < 0 {
			return -1
		}
		if axis >= 0 && axis != x.weight.ChannelAxis {
			return -1
		}
		axis = x.weight.ChannelAxis
	}
	if direct == 0 {
		return -1
	}
	shape := g.tensor(u.tensors[0]).Shape
	if axis >= len(shape) || shape[axis] <= 0 {
		return -1
	}
	for _, c := range u.tensors[1:] {
		if !slices.Equal(g.tensor(c).Shape, shape) {
			return -1
		}
	}
	return axis
}

// writeInt8 quantizes u into its buffer and retypes its tensors.
func (g *graph) writeInt8(u *unit) []float32 {
	shape := g.tensor(u.tensors[0]).Shape
	scales, q := symmetricInt8(u.values, shape, u.axis)
	g.m.Buffers[u.buf].Data = int8Bytes(q)
	dim := int32(0)
	if u.axis > 0 {
		dim = int32(u.axis)
	}
	for _, c := range u.tensors {
		t := g.tensor(c)
		t.Type = fb.TensorTypeINT8
		t.Quantization = &fb.QuantizationParametersT{Scale: append([]float32(nil), scales...),
			ZeroPoint: make([]int64, len(scales)), QuantizedDimension: dim}
	}
	return scales
}

// rewireDynamic connects one operator to its quantized weights.
func (g *graph) rewireDynamic(key opKey, p *opPlan, units map[uint32]*unit) {
	sg := g.m.Subgraphs[key.sg]
	op := sg.Operators[key.op]
	for _, x := range p.uses {
		if x.u.reason != "" {
			continue
		}
		switch {
		case p.kernel != opspec.FloatKernel && x.via >= 0:
			// Read the (now int8) constant directly; the DEQUANTIZE may die.
			op.Inputs[x.pos] = sg.Operators[x.via].Inputs[0]
		case p.kernel == opspec.FloatKernel && x.via < 0:
			c := tref{key.sg, x.tensor}
			if out, done := g.dequant[c]; done {
				op.Inputs[x.pos] = out
			} else {
				g.dequantizeBefore(c, g.floatReaders(c, units))
			}
		}
	}
	if p.kernel == opspec.FloatKernel || len(p.uses) == 0 {
		return
	}
	spec := p.uses[0].spec
	spec.SetAsymmetricInputs(op)
	if p.kernel == opspec.HybridKernel {
		g.float32Biases(key, spec)
	}
	if p.kernel == opspec.Int8Passthrough {
		g.passthroughOutput(key, p.uses[0].u)
	}
}

// floatReaders lists the readers of constant c that run a float kernel and
// so need it dequantized.
func (g *graph) floatReaders(c tref, units map[uint32]*unit) []ref {
	var out []ref
	u := units[g.tensor(c).Buffer]
	for _, r := range g.sgs[c.sg].consumers[c.t] {
		for _, x := range u.uses {
			if x.sg == c.sg && x.op == r.op && x.pos == r.pos && x.via < 0 && g.kernelOf(x) == opspec.FloatKernel {
				out = append(out, r)
			}
		}
	}
	return out
}

// kernelOf returns the kernel decided for the operator of a use.
func (g *graph) kernelOf(x *use) opspec.Kernel { return g.kernels[opKey{x.sg, x.op}] }

// passthroughOutput makes an int8-passthrough operator (GATHER) write int8
// with u's parameters into a new tensor, dequantized after it into the
// original output, so its consumers are untouched.
func (g *graph) passthroughOutput(key opKey, u *unit) {
	sg := g.m.Subgraphs[key.sg]
	op := sg.Operators[key.op]
	out := sg.Tensors[op.Outputs[0]]
	q := &fb.TensorT{Name: out.Name + "_int8", Type: fb.TensorTypeINT8,
		Shape: append([]int32(nil), out.Shape...), ShapeSignature: append([]int32(nil), out.ShapeSignature...), HasRank: out.HasRank,
		Quantization: &fb.QuantizationParametersT{Scale: append([]float32(nil), u.scales...), ZeroPoint: make([]int64, len(u.scales))}}
	qi := g.addTensor(key.sg, q)
	orig := op.Outputs[0]
	op.Outputs[0] = qi
	d := &fb.OperatorT{OpcodeIndex: g.opcode(fb.BuiltinOperatorDEQUANTIZE), Inputs: []int32{qi}, Outputs: []int32{orig}}
	g.after[key] = append(g.after[key], d)
}

// float32Biases makes the FLOAT16 biases behind DEQUANTIZE (MediaPipe's
// storage) of a hybrid operator FLOAT32 constants: the DEQUANTIZE's output
// becomes the constant and the DEQUANTIZE goes. TensorFlow's hybrid
// operators always read FLOAT32 biases, and LiteRT's XNNPack delegate
// (LiteRT.js 2.5) turns a hybrid convolution with a dequantized bias into
// NaN. The FLOAT16 constant is dropped when nothing else reads it.
func (g *graph) float32Biases(key opKey, spec *opspec.Spec) {
	info := g.sgs[key.sg]
	sg := info.sg
	op := sg.Operators[key.op]
	for _, b := range spec.Biases {
		if b >= len(op.Inputs) || op.Inputs[b] < 0 {
			continue
		}
		out := op.Inputs[b]
		d := info.producer[out]
		if !g.isDequantize(key.sg, d) || g.removed[opKey{key.sg, d}] || info.io[out] {
			continue
		}
		srcIndex := sg.Operators[d].Inputs[0]
		src := sg.Tensors[srcIndex]
		data := g.constData(src)
		if src.Type != fb.TensorTypeFLOAT16 || data == nil {
			continue
		}
		g.m.Buffers = append(g.m.Buffers, &fb.BufferT{Data: float32Bytes(decodeFloat16(data))})
		t := sg.Tensors[out]
		t.Buffer = uint32(len(g.m.Buffers) - 1)
		g.removed[opKey{key.sg, d}] = true
		g.float16Sources = append(g.float16Sources, tref{key.sg, int(srcIndex)})
	}
}

// dropUnreadFloat16 drops the FLOAT16 constants float32Biases left unread.
func (g *graph) dropUnreadFloat16() {
	for _, c := range g.float16Sources {
		if !g.orphaned[c] && !g.stillRead(c.sg, int32(c.t)) {
			g.orphaned[c] = true
		}
	}
}

// removeDeadDequantizes drops the DEQUANTIZE operators in front of FLOAT16
// weights that no longer feed anything, and their outputs.
func (g *graph) removeDeadDequantizes(todo []*unit) {
	for _, u := range todo {
		for _, x := range u.uses {
			if x.via < 0 {
				continue
			}
			key := opKey{x.sg, x.via}
			if g.removed[key] {
				continue
			}
			sg := g.m.Subgraphs[x.sg]
			out := sg.Operators[x.via].Outputs[0]
			if g.sgs[x.sg].io[out] || g.stillRead(x.sg, out) {
				continue
			}
			g.removed[key] = true
			g.orphaned[tref{x.sg, int(out)}] = true
		}
	}
}

// stillRead reports whether any operator of subgraph si reads tensor t.
func (g *graph) stillRead(si int, t int32) bool {
	for oi, op := range g.m.Subgraphs[si].Operators {
		if g.removed[opKey{si, oi}] {
			continue
		}
		for _, in := range op.Inputs {
			if in == t {
				return true
			}
		}
	}
	return false
}
