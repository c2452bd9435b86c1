package quant

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"litequant/core/internal/deadchan"
	"litequant/core/internal/opspec"
	"litequant/core/internal/qparams"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// FullMode names a full-integer quantization mode.
type FullMode string

const (
	// ModeInt8 is TensorFlow Lite's int8 scheme: activations int8
	// asymmetric per-tensor, weights int8 symmetric (per-channel where the
	// kernel takes it), biases int32.
	ModeInt8 FullMode = "int8"
	// ModeInt16x8 keeps activations in int16, symmetric (zero point 0),
	// with int8 weights and int64 biases.
	ModeInt16x8 FullMode = "int16x8"
	// ModeUint8 is the legacy scheme of TensorFlow's v1 converter
	// (inference_type QUANTIZED_UINT8): activations and weights uint8
	// asymmetric per-tensor, biases int32, model input and output uint8.
	ModeUint8 FullMode = "uint8"
)

// Ranges gives the float range of a tensor: calibration statistics
// (*calib.Stats implements it) or any other source of ranges.
type Ranges interface {
	Range(subgraph, tensor int) (min, max float32, ok bool)
}

// scheme is the arithmetic of a full-integer mode: its activation type
// names its kernel column in opspec.
type scheme struct {
	mode       FullMode
	act        fb.TensorType // activation type
	qmin, qmax int64         // its integer range
	symmetric  bool          // activations have zero point 0
	bias       fb.TensorType // INT32 or INT64
	// weight is INT8 (symmetric, per-channel where the kernel takes it)
	// or UINT8 (the legacy scheme: asymmetric per-tensor over [0, 255]).
	weight fb.TensorType
}

var schemes = map[FullMode]*scheme{
	ModeInt8:    {mode: ModeInt8, act: fb.TensorTypeINT8, qmin: -128, qmax: 127, bias: fb.TensorTypeINT32, weight: fb.TensorTypeINT8},
	ModeInt16x8: {mode: ModeInt16x8, act: fb.TensorTypeINT16, qmin: -32767, qmax: 32767, symmetric: true, bias: fb.TensorTypeINT64, weight: fb.TensorTypeINT8},
	ModeUint8:   {mode: ModeUint8, act: fb.TensorTypeUINT8, qmin: 0, qmax: 255, bias: fb.TensorTypeINT32, weight: fb.TensorTypeUINT8},
}

// ioTypes lists the model input and output types each mode accepts.
var ioTypes = map[FullMode][]fb.TensorType{
	ModeInt8:    {fb.TensorTypeFLOAT32, fb.TensorTypeINT8, fb.TensorTypeUINT8},
	ModeInt16x8: {fb.TensorTypeFLOAT32, fb.TensorTypeINT16},
	ModeUint8:   {fb.TensorTypeUINT8, fb.TensorTypeFLOAT32},
}

// IOTypes returns the model input/output types mode accepts.
func IOTypes(mode FullMode) []fb.TensorType { return append([]fb.TensorType(nil), ioTypes[mode]...) }

// rep is how a real value is stored: FLOAT32, or an integer type with a
// scale and zero point.
type rep struct {
	typ   fb.TensorType
	scale float32
	zp    int64
}

var floatRep = rep{typ: fb.TensorTypeFLOAT32}

func (r rep) isFloat() bool { return r.typ == fb.TensorTypeFLOAT32 }

// bounds returns the integer range of r's type.
func (r rep) bounds() (lo, hi int64) {
	switch r.typ {
	case fb.TensorTypeINT8:
		return -128, 127
	case fb.TensorTypeUINT8:
		return 0, 255
	case fb.TensorTypeINT16:
		return -32768, 32767
	case fb.TensorTypeINT32:
		return -math.MaxInt32, math.MaxInt32
	}
	return math.MinInt64 + 1, math.MaxInt64
}

// span returns the real range r can represent.
func (r rep) span() (lo, hi float32) {
	a, b := r.bounds()
	return r.scale * float32(a-r.zp), r.scale * float32(b-r.zp)
}

func (r rep) quantization() *fb.QuantizationParametersT {
	if r.isFloat() {
		return nil
	}
	return &fb.QuantizationParametersT{Scale: []float32{r.scale}, ZeroPoint: []int64{r.zp}}
}

// uint8Of returns the uint8 form of an int8 representation (zero point +
// 128), as TensorFlow's converter gives uint8 model I/O.
func uint8Of(r rep) rep { return rep{typ: fb.TensorTypeUINT8, scale: r.scale, zp: r.zp + 128} }

// fromRange returns the scheme's activation parameters for [lo, hi].
func (s *scheme) fromRange(lo, hi float32) rep {
	if s.symmetric {
		return rep{typ: s.act, scale: qparams.Symmetric(lo, hi, int(s.qmax))}
	}
	scale, zp := qparams.Asymmetric(lo, hi, int(s.qmin), int(s.qmax))
	return rep{typ: s.act, scale: scale, zp: zp}
}

// actInfo is the quantization chosen for one activation value.
type actInfo struct {
	rep    rep
	lo, hi float32 // the range it was computed from (for the report)
	ranged bool    // lo/hi are set
	source string
}

// fullSG is the plan for one subgraph.
type fullSG struct {
	si         int
	info       *sgInfo
	calibrated bool
	entry      bool
	quant      []bool           // per operator: runs an integer kernel
	why        map[int][]string // operators left float, and why
	constDeq   []bool           // DEQUANTIZE of a constant (a weight stored as FLOAT16 or INT8)
	act        map[int32]*actInfo
	inRep      map[ref]rep // quantized operator input -> the representation it reads
	outRep     map[int32]rep
	reqs       map[ref]*constReq // quantized operator input -> its constant
	// Edits.
	homeT map[int32]int32         // value -> the tensor its producer writes
	views map[int32]map[rep]int32 // value -> representation -> tensor
	nConv int                     // QUANTIZE/DEQUANTIZE added
}

// constReq is a constant read by a quantized operator.
type constReq struct {
	role   opspec.Role
	values []float32
	shape  []int32
	srcBuf uint32 // the buffer the values come from (for sharing)
	tensor int32  // the constant tensor (or the DEQUANTIZE output) read
	// Results.
	typ    fb.TensorType
	scales []float32
	zps    []int64
	axis   int
	data   []byte
	// corr is a weight's bias correction per output channel; tuned names
	// the operator a tuned weight or corrected bias belongs to.
	corr  []float64
	tuned string
	// cleared counts the weights set to zero because the input channel
	// they apply to is proven 0 (see clearDead).
	cleared int
}

type fullPlan struct {
	g      *graph
	s      *scheme
	opts   Options
	ranges Ranges // calibration (also the source of patch statistics)
	// sources are where activation ranges come from, in order of
	// precedence: the first that knows a tensor's range gives it. Issue 6
	// puts FAKE_QUANT ranges, ranges recorded in the model and a default
	// range around calibration here.
	sources []rangeSource
	fq      *fakeQuants // FAKE_QUANT ranges (also for uint8 weights)
	// spread lists the calibrated activations whose range a few samples
	// set (checkSpread).
	spread []outlierSpread
	// inStats are the parameters --input-stats gives inputs of subgraph 0.
	inStats map[int32]rep
	// defaulted lists the tensors given --default-range.
	defaulted []string
	r         *Report
	sgs       []*fullSG
	missing   []string
	buffers   map[string]uint32 // quantized constant content -> buffer
	// constIndex maps a quantized constant tensor to its report entry.
	constIndex map[tref]int
	// weightReaders counts the quantized operators reading each weight
	// buffer.
	weightReaders map[uint32]int
}

// countWeightReaders fills weightReaders.
func (p *fullPlan) countWeightReaders() {
	p.weightReaders = map[uint32]int{}
	for _, f := range p.sgs {
		for oi, op := range f.info.sg.Operators {
			if !f.quant[oi] {
				continue
			}
			spec := opspec.Lookup(p.g.m.Builtin(op))
			for _, w := range spec.Weights {
				if w.Input < len(op.Inputs) && op.Inputs[w.Input] >= 0 && spec.Role(w.Input) == opspec.WeightRole {
					p.weightReaders[p.constSource(f, op.Inputs[w.Input])]++
				}
			}
		}
	}
}

// Full applies full-integer quantization to m in place, as TensorFlow's
// converter does with optimizations=[DEFAULT] and a representative
// dataset: the activations of every operator the runtime has an integer
// kernel for (opspec's Full entries) become int8 (ModeInt8) or int16
// (ModeInt16x8) with parameters computed from ranges, their weights
// symmetric int8 and their biases int32 (int64 in 16x8). Operators without
// an integer kernel stay float, with QUANTIZE and DEQUANTIZE operators
// around them (an error with opts.IntegerOnly). Model inputs and outputs
// stay FLOAT32 unless opts.InputType and opts.OutputType say otherwise.
//
// ranges gives the range of every activation (calibration statistics). On
// error the model is unchanged. See the package documentation for the
// rules.
func Full(m *tflite.Model, mode FullMode, ranges Ranges, opts Options) (*Report, error) {
	s := schemes[mode]
	if s == nil {
		return nil, fmt.Errorf("unknown full-integer mode %q", mode)
	}
	if err := CheckIOTypes(mode, opts); err != nil {
		return nil, err
	}
	if len(opts.InputStats) > 0 && mode != ModeUint8 {
		return nil, fmt.Errorf("--input-stats applies to --mode uint8, not --mode %s", mode)
	}
	if d := opts.DefaultRange; d != nil && !(d.Min <= d.Max) {
		return nil, fmt.Errorf("--default-range %g,%g: MIN must not exceed MAX", d.Min, d.Max)
	}
	// FAKE_QUANT operators are removed from a copy of the model, which
	// replaces m only when the pass succeeds (m is unchanged on error).
	work, fq, err := removeFakeQuant(m)
	if err != nil {
		return nil, err
	}
	inStats, err := inputStats(work, opts.InputStats)
	if err != nil {
		return nil, err
	}
	var sources []rangeSource
	if len(fq.ranges) > 0 {
		sources = append(sources, rangeSource{"FAKE_QUANT", fq})
	}
	if rec := (recordedRanges{m: work, calibrated: ranges != nil}); rec.any() {
		sources = append(sources, rangeSource{"recorded min/max", rec})
	}
	if ranges != nil {
		if len(fq.ranges) > 0 {
			ranges = fq.remap(ranges)
		}
		sources = append(sources, rangeSource{"calibration", ranges})
	}
	if d := opts.DefaultRange; d != nil {
		sources = append(sources, rangeSource{defaultRangeSource, constRange(*d)})
	}
	if len(sources) == 0 && len(inStats) == 0 {
		return nil, fmt.Errorf("--mode %s needs calibration ranges: calibration samples, FAKE_QUANT operators or min/max recorded in the model, or --default-range", mode)
	}
	start := time.Now()
	rep, err := runE(work, opts, string(mode), func(g *graph, opts Options, r *Report) (func(), string, error) {
		p := &fullPlan{g: g, s: s, opts: opts, ranges: ranges, r: r, buffers: map[string]uint32{},
			sources: sources, fq: fq, inStats: inStats}
		apply, noop, err := p.plan()
		if apply == nil {
			return nil, noop, err
		}
		for _, y := range fq.dropped {
			g.orphaned[y] = true
		}
		return func() {
			apply()
			r.finishFull = func() { p.report(start) }
		}, "", err
	})
	if err == nil && work != m && !rep.Noop {
		*m = *work
	}
	return rep, err
}

// CheckIOTypes checks opts.InputType and opts.OutputType against mode.
func CheckIOTypes(mode FullMode, opts Options) error {
	for _, x := range []struct {
		flag string
		t    fb.TensorType
	}{{"--input-type", opts.InputType}, {"--output-type", opts.OutputType}} {
		ok := false
		for _, a := range ioTypes[mode] {
			ok = ok || a == x.t
		}
		if !ok {
			var names []string
			for _, a := range ioTypes[mode] {
				names = append(names, strings.ToLower(tflite.TypeName(a)))
			}
			return fmt.Errorf("%s %s is not available with --mode %s (want %s)", x.flag, strings.ToLower(tflite.TypeName(x.t)), mode, strings.Join(names, ", "))
		}
	}
	return nil
}

// kernelName names the integer kernel a mode needs, for reasons.
func (s *scheme) kernelName() string {
	if s.mode == ModeInt16x8 {
		return "int16x8"
	}
	return strings.ToLower(tflite.TypeName(s.act))
}

// plan analyses the model without changing it.
func (p *fullPlan) plan() (func(), string, error) {
	g, m := p.g, p.g.m
	entries := map[int]bool{0: true}
	for _, sd := range m.SignatureDefs {
		entries[int(sd.SubgraphIndex)] = true
	}
	anyQuant := false
	for si, info := range g.sgs {
		f := &fullSG{si: si, info: info, entry: entries[si], why: map[int][]string{},
			quant: make([]bool, len(info.sg.Operators)), constDeq: make([]bool, len(info.sg.Operators)),
			act: map[int32]*actInfo{}, inRep: map[ref]rep{}, outRep: map[int32]rep{}, reqs: map[ref]*constReq{},
			homeT: map[int32]int32{}, views: map[int32]map[rep]int32{}}
		p.sgs = append(p.sgs, f)
		for ti := range info.sg.Tensors {
			if _, _, _, ok := p.rangeOf(si, ti); ok {
				f.calibrated = true
				break
			}
		}
		for oi, op := range info.sg.Operators {
			if m.Builtin(op) == fb.BuiltinOperatorDEQUANTIZE && len(op.Inputs) == 1 && op.Inputs[0] >= 0 &&
				g.constData(info.sg.Tensors[op.Inputs[0]]) != nil && !info.io[op.Outputs[0]] {
				f.constDeq[oi] = true
			}
		}
		for oi := range info.sg.Operators {
			p.classify(f, oi)
			anyQuant = anyQuant || f.quant[oi]
		}
	}
	var floatOps []string
	for _, f := range p.sgs {
		for oi := range f.info.sg.Operators {
			if why := f.why[oi]; len(why) > 0 {
				op := f.info.sg.Operators[oi]
				p.r.floatOps = append(p.r.floatOps, pendingFloatOp{key: opKey{f.si, oi}, name: m.OpName(op), why: why})
				floatOps = append(floatOps, fmt.Sprintf("%s (subgraph %d, operator %d: %s)", m.OpName(op), f.si, oi, why[0]))
			}
		}
	}
	if p.opts.IntegerOnly && len(floatOps) > 0 {
		return nil, "", fmt.Errorf("--integer-only: %d operator(s) have no %s kernel in the runtime and would stay float: %s",
			len(floatOps), p.s.kernelName(), strings.Join(floatOps, "; "))
	}
	if !anyQuant {
		return nil, fmt.Sprintf("no operator of the model has an %s kernel (%d left float)", p.s.kernelName(), len(floatOps)), nil
	}
	for _, f := range p.sgs {
		p.assign(f)
	}
	if len(p.missing) > 0 {
		sort.Strings(p.missing)
		return nil, "", fmt.Errorf("no range for %d activation tensor(s) (no FAKE_QUANT, no min/max recorded in the model, never computed or never finite during calibration; --default-range MIN,MAX gives them one): %s",
			len(p.missing), strings.Join(dedupe(p.missing), ", "))
	}
	if len(p.defaulted) > 0 {
		d := p.opts.DefaultRange
		names := dedupe(p.defaulted)
		p.r.Warnings = append(p.r.Warnings, fmt.Sprintf("--default-range %g,%g used for %d tensor(s) with no other range: %s",
			d.Min, d.Max, len(names), strings.Join(names, ", ")))
	}
	p.countWeightReaders()
	for _, f := range p.sgs {
		if err := p.constants(f); err != nil {
			return nil, "", err
		}
	}
	return func() {
		for _, f := range p.sgs {
			p.edit(f)
		}
	}, "", nil
}

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
	if spec == nil || spec.Full.Kernel(p.s.act) == 0 {
		why = append(why, fmt.Sprintf("no %s kernel", p.s.kernelName()))
		f.why[oi] = why
		return
	}
	if !f.calibrated {
		f.why[oi] = []string{fmt.Sprintf("subgraph %d was not calibrated", f.si)}
		return
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
		if ok, reason = spec.Full.Supports(m, sg, op, p.s.act); !ok {
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

// constValues returns the float values of constant tensor t (FLOAT32,
// FLOAT16, or INT8/UINT8 with quantization parameters; directly or behind
// a DEQUANTIZE), or nil.
func (p *fullPlan) constValues(f *fullSG, t int32) []float32 {
	sg := f.info.sg
	tt := sg.Tensors[t]
	if pr := f.info.producer[t]; pr >= 0 && f.constDeq[pr] {
		tt = sg.Tensors[sg.Operators[pr].Inputs[0]]
	}
	data := p.g.constData(tt)
	if data == nil {
		return nil
	}
	switch tt.Type {
	case fb.TensorTypeFLOAT32:
		return decodeFloat32(data)
	case fb.TensorTypeFLOAT16:
		return decodeFloat16(data)
	case fb.TensorTypeINT8, fb.TensorTypeUINT8:
		q := tt.Quantization
		if q == nil || len(q.Scale) == 0 {
			return nil
		}
		return dequantizeBytes(data, tt.Type, tt.Shape, q)
	}
	return nil
}

// constSource returns the buffer constant t's values come from.
func (p *fullPlan) constSource(f *fullSG, t int32) uint32 {
	sg := f.info.sg
	if pr := f.info.producer[t]; pr >= 0 && f.constDeq[pr] {
		return sg.Tensors[sg.Operators[pr].Inputs[0]].Buffer
	}
	return sg.Tensors[t].Buffer
}

// dequantizeBytes decodes integer data of type typ (8 to 64 bits) in
// shape with per-tensor or per-channel parameters q, or returns nil when
// they do not fit.
func dequantizeBytes(data []byte, typ fb.TensorType, shape []int32, q *fb.QuantizationParametersT) []float32 {
	size := tflite.TypeBits(typ) / 8
	n := tflite.NumElements(shape)
	if size == 0 || n < 0 || len(data) != size*n || len(q.Scale) == 0 {
		return nil
	}
	out := make([]float32, n)
	inner, channels := n, 1
	if len(q.Scale) > 1 {
		axis := int(q.QuantizedDimension)
		if axis >= len(shape) || int(shape[axis]) != len(q.Scale) {
			return nil
		}
		channels, inner = len(q.Scale), 1
		for _, d := range shape[axis+1:] {
			inner *= int(d)
		}
	}
	for i := range out {
		var v int64
		switch {
		case typ == fb.TensorTypeINT8:
			v = int64(int8(data[i]))
		case size == 1:
			v = int64(data[i])
		case size == 2:
			v = int64(int16(binary.LittleEndian.Uint16(data[2*i:])))
		case size == 4:
			v = int64(int32(binary.LittleEndian.Uint32(data[4*i:])))
		case size == 8:
			v = int64(binary.LittleEndian.Uint64(data[8*i:]))
		default:
			return nil
		}
		c := (i / inner) % channels
		zp := int64(0)
		if c < len(q.ZeroPoint) {
			zp = q.ZeroPoint[c]
		}
		out[i] = float32(v-zp) * q.Scale[c]
	}
	return out
}

// own returns the quantization of value t from its own range, recording it
// as missing when there is none.
func (p *fullPlan) own(f *fullSG, t int32) *actInfo {
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
		a := &actInfo{rep: p.s.fromRange(0, 1), source: "missing"}
		f.act[t] = a
		return a
	}
	r := p.s.fromRange(lo, hi)
	switch source {
	case "FAKE_QUANT":
		// The trained parameters exactly, where the scheme holds them.
		if x, ok := p.fq.exact(f.si, int(t), p.s); ok {
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
		var live []int // activation inputs that are values
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
			p.own(f, t) // the value's parameters: set by its producer, or its own range
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
			f.inRep[ref{oi, k}] = f.act[op.Inputs[k]].rep
		}
		switch fixed := full.FixedOutput(p.s.act); {
		case fixed != nil:
			r := rep{typ: p.s.act, scale: fixed.Scale, zp: fixed.ZeroPoint}
			for _, t := range outs {
				f.act[t] = &actInfo{rep: r, source: "fixed by " + m.OpName(op)}
			}
			p.ownConsts(f, oi, consts)
		case full.SameScale:
			var shared *actInfo
			if len(live) == 1 {
				in := f.act[op.Inputs[live[0]]]
				shared = &actInfo{rep: in.rep, source: fmt.Sprintf("same as input %q", sg.Tensors[op.Inputs[live[0]]].Name)}
			} else {
				lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
				for _, k := range live {
					a, b := f.act[op.Inputs[k]].rep.span()
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
				shared = &actInfo{rep: p.s.fromRange(lo, hi), lo: lo, hi: hi, ranged: true,
					source: fmt.Sprintf("shared by the inputs and outputs of %s", m.OpName(op))}
			}
			for _, k := range live {
				f.inRep[ref{oi, k}] = shared.rep
			}
			for _, k := range consts {
				f.reqs[ref{oi, k}] = &constReq{role: opspec.Activation, typ: p.s.act,
					scales: []float32{shared.rep.scale}, zps: []int64{shared.rep.zp}, axis: -1}
			}
			for _, t := range outs {
				a := *shared
				f.act[t] = &a
			}
		default:
			for _, t := range outs {
				p.own(f, t)
			}
			p.ownConsts(f, oi, consts)
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
func (p *fullPlan) ownConsts(f *fullSG, oi int, consts []int) {
	op := f.info.sg.Operators[oi]
	for _, k := range consts {
		lo, hi, ok := finiteRange(p.constValues(f, op.Inputs[k]))
		if !ok {
			lo, hi = 0, 0
		}
		r := p.s.fromRange(lo, hi)
		f.reqs[ref{oi, k}] = &constReq{role: opspec.Activation, typ: r.typ, scales: []float32{r.scale}, zps: []int64{r.zp}, axis: -1}
	}
}

// constants quantizes every constant a quantized operator of f reads:
// weights symmetric int8, biases int32/int64 at input scale × weight
// scale, constant activations with the parameters assign chose.
func (p *fullPlan) constants(f *fullSG) error {
	m := p.g.m
	sg := f.info.sg
	for oi, op := range sg.Operators {
		if !f.quant[oi] {
			continue
		}
		spec := opspec.Lookup(m.Builtin(op))
		// Weights first: biases need their scales.
		var wreq *constReq
		for _, w := range spec.Weights {
			if w.Input >= len(op.Inputs) || op.Inputs[w.Input] < 0 || spec.Role(w.Input) != opspec.WeightRole {
				continue
			}
			t := op.Inputs[w.Input]
			tt := sg.Tensors[t]
			axis := -1
			if p.s.weight == fb.TensorTypeINT8 && spec.Full.WeightScales != opspec.PerTensor && w.ChannelAxis >= 0 && w.ChannelAxis < len(tt.Shape) {
				axis = w.ChannelAxis
			}
			req := &constReq{role: opspec.WeightRole, values: p.constValues(f, t), shape: tt.Shape,
				srcBuf: p.constSource(f, t), tensor: t, typ: p.s.weight, axis: axis}
			p.clearDead(f, op, spec, req)
			var q []int64
			var zp, qlo, qhi int64
			if p.s.weight == fb.TensorTypeUINT8 {
				// The legacy scheme: asymmetric per-tensor over [0, 255],
				// from the weights' FAKE_QUANT range when they have one,
				// else from their own values.
				var r rep
				if x, ok := p.fq.exact(f.si, int(t), p.s); ok {
					r = x
				} else {
					// Without a trained range, the range whose rounding
					// error costs the output least (see clipRange).
					lo, hi, _ := finiteRange(req.values)
					var imp []float64
					if ps, ok := p.ranges.(PatchSource); ok && !p.opts.PlainWeights {
						imp = importance(spec.Op, len(req.values), tt.Shape, ps.Patch(f.si, oi))
					}
					r = clipRange(p.s, req.values, lo, hi, imp)
				}
				req.scales, req.zps = []float32{r.scale}, []int64{r.zp}
				q = quantizeValues(req.values, r)
				zp, qlo, qhi = r.zp, 0, 255
			} else {
				var q8 []int8
				req.scales, q8 = symmetricInt8(req.values, tt.Shape, axis)
				req.zps = make([]int64, len(req.scales))
				q = make([]int64, len(q8))
				for i, x := range q8 {
					q[i] = int64(x)
				}
				qlo, qhi = -qmax, qmax
			}
			if ps, ok := p.ranges.(PatchSource); ok && !p.opts.PlainWeights && wreq == nil {
				if st := ps.Patch(f.si, oi); st != nil {
					hasBias := false
					for _, b := range spec.Biases {
						hasBias = hasBias || b < len(op.Inputs) && op.Inputs[b] >= 0
					}
					single := p.weightReaders[req.srcBuf] == 1
					req.corr = tuneInts(spec.Op, req.values, tt.Shape, req.scales, zp, qlo, qhi, q, st, hasBias, single)
					if single {
						req.tuned = fmt.Sprintf("%d/%d", f.si, oi)
					}
				}
			}
			req.data = encodeInts(q, req.typ)
			f.reqs[ref{oi, w.Input}] = req
			if wreq == nil {
				wreq = req
			}
		}
		for _, b := range spec.Biases {
			if b >= len(op.Inputs) || op.Inputs[b] < 0 {
				continue
			}
			t := op.Inputs[b]
			if wreq == nil || len(spec.Full.Inputs) == 0 {
				return fmt.Errorf("internal error: %s has a bias but no weight or input", m.OpName(op))
			}
			in, ok := f.inRep[ref{oi, spec.Full.Inputs[0]}]
			if !ok {
				if r := f.reqs[ref{oi, spec.Full.Inputs[0]}]; r != nil {
					in = rep{scale: r.scales[0]}
				}
			}
			req := &constReq{role: opspec.BiasRole, values: p.constValues(f, t), shape: sg.Tensors[t].Shape,
				srcBuf: p.constSource(f, t), tensor: t, typ: p.s.bias}
			if len(wreq.corr) == len(req.values) {
				for c := range req.values {
					req.values[c] -= float32(wreq.corr[c])
				}
				req.tuned = fmt.Sprintf("%d/%d", f.si, oi)
			}
			if err := p.quantizeBias(req, wreq, in.scale); err != nil {
				return fmt.Errorf("%s (operator %d of subgraph %d): %w", m.OpName(op), oi, f.si, err)
			}
			f.reqs[ref{oi, b}] = req
		}
		for k, t := range op.Inputs {
			req := f.reqs[ref{oi, k}]
			if t < 0 || req == nil || req.role != opspec.Activation {
				continue
			}
			req.values, req.shape, req.srcBuf, req.tensor = p.constValues(f, t), sg.Tensors[t].Shape, p.constSource(f, t), t
			r := rep{typ: req.typ, scale: req.scales[0], zp: req.zps[0]}
			req.data = encodeInts(quantizeValues(req.values, r), req.typ)
		}
	}
	return nil
}

// clearDead sets to zero, before they are quantized, the weights req of
// op that apply to input channels proven to be 0 (see package deadchan):
// calibration saw them at 0 on every sample and provenZero shows they
// cannot be anything else. It applies when the ranges carry per-channel
// ranges, the weights are tuned (not Options.PlainWeights) and no other
// operator reads them. The outputs stay the same; the weights' scales no
// longer serve values that only ever multiply zeros.
func (p *fullPlan) clearDead(f *fullSG, op *fb.OperatorT, spec *opspec.Spec, req *constReq) {
	cr, ok := p.ranges.(deadchan.Ranges)
	if !ok || p.opts.PlainWeights || req.values == nil || p.weightReaders[req.srcBuf] != 1 || len(spec.Full.Inputs) == 0 {
		return
	}
	k := spec.Full.Inputs[0]
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
	req.cleared = deadchan.Clear(spec.Op, req.shape, req.values, len(lo), dead)
}

// provenZero reports, per channel of activation y, whether it is 0 for
// every input within the calibrated ranges: y is made by a CONV_2D,
// DEPTHWISE_CONV_2D or FULLY_CONNECTED with fused RELU or RELU6 whose
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
	if act != fb.ActivationFunctionTypeRELU && act != fb.ActivationFunctionTypeRELU6 || len(op.Inputs) < 2 || op.Inputs[0] < 0 || op.Inputs[1] < 0 {
		return nil
	}
	lo, hi, ok := cr.ChannelRange(f.si, int(op.Inputs[0]))
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
	w := values(1)
	if w == nil {
		return nil
	}
	var bias []float32
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		if bias = values(2); bias == nil {
			return nil
		}
	}
	bounds, ok := deadchan.UpperBounds(p.g.m.Builtin(op), sg.Tensors[op.Inputs[1]].Shape, w, bias, lo, hi)
	if !ok {
		return nil
	}
	out := make([]bool, len(bounds))
	for c, b := range bounds {
		out[c] = b <= 0
	}
	return out
}

// dequantized returns the real values of a quantized constant (c.data in
// c.typ with c.scales and c.zps along c.axis), or nil.
func (c *constReq) dequantized() []float32 {
	return dequantizeBytes(c.data, c.typ, c.shape, &fb.QuantizationParametersT{Scale: c.scales, ZeroPoint: c.zps, QuantizedDimension: int32(max(c.axis, 0))})
}

// quantizeBias quantizes a bias for weight w and the given input scale.
// An int32 bias that would overflow widens the scale of its channel's
// weights (requantizing them) until it fits, as TensorFlow's quantizer
// does.
func (p *fullPlan) quantizeBias(b, w *constReq, inScale float32) error {
	n := len(b.values)
	if len(w.scales) != 1 && len(w.scales) != n {
		return fmt.Errorf("bias has %d values for %d weight scales", n, len(w.scales))
	}
	wscale := func(c int) float32 {
		if len(w.scales) == 1 {
			return w.scales[0]
		}
		return w.scales[c]
	}
	limit := float64(math.MaxInt32)
	if b.typ == fb.TensorTypeINT64 {
		limit = math.MaxInt64 / 2
	}
	widened := false
	for c, v := range b.values {
		s := float64(inScale * wscale(c))
		if s == 0 || math.Abs(float64(v))/s <= limit || len(w.scales) != n || w.typ != fb.TensorTypeINT8 {
			continue
		}
		// Widen this channel's weight scale so that the bias fits.
		need := float32(math.Abs(float64(v)) / (limit * float64(inScale)) * (1 + 1e-6))
		w.scales[c] = max(w.scales[c], need)
		widened = true
	}
	if widened {
		w.data = int8Bytes(requantizeSymmetric(w.values, w.shape, w.axis, w.scales))
	}
	b.scales = make([]float32, 0, len(w.scales))
	for _, s := range w.scales {
		b.scales = append(b.scales, inScale*s)
	}
	b.zps = make([]int64, len(b.scales))
	b.axis = 0
	if len(b.scales) == 1 {
		b.axis = -1
	}
	q := make([]int64, n)
	for c, v := range b.values {
		s := b.scales[0]
		if len(b.scales) > 1 {
			s = b.scales[c]
		}
		r := math.Round(float64(v) / float64(s))
		if s == 0 || r != r {
			r = 0
		}
		q[c] = int64(math.Max(-limit, math.Min(limit, r)))
	}
	b.data = encodeInts(q, b.typ)
	return nil
}

// requantizeSymmetric quantizes values with the given per-slice scales
// (zero point 0, [-127, 127]).
func requantizeSymmetric(values []float32, shape []int32, axis int, scales []float32) []int8 {
	channels, inner := 1, len(values)
	if axis >= 0 {
		channels, inner = int(shape[axis]), 1
		for _, d := range shape[axis+1:] {
			inner *= int(d)
		}
	}
	q := make([]int8, len(values))
	for i, v := range values {
		s := scales[(i/inner)%channels]
		r := math.Round(float64(v) / float64(s))
		q[i] = int8(math.Max(-qmax, math.Min(qmax, r)))
	}
	return q
}

// quantizeValues quantizes values with r, clamping to r's type.
func quantizeValues(values []float32, r rep) []int64 {
	lo, hi := r.bounds()
	q := make([]int64, len(values))
	for i, v := range values {
		q[i] = qparams.Quantize(v, r.scale, r.zp, lo, hi)
	}
	return q
}

// encodeInts stores integers little-endian in type typ.
func encodeInts(q []int64, typ fb.TensorType) []byte {
	size := tflite.TypeBits(typ) / 8
	out := make([]byte, size*len(q))
	for i, v := range q {
		switch size {
		case 1:
			out[i] = byte(v)
		case 2:
			binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(out[4*i:], uint32(v))
		case 8:
			binary.LittleEndian.PutUint64(out[8*i:], uint64(v))
		}
	}
	return out
}

// key names a quantized constant's content, so equal ones share a buffer.
func (c *constReq) key() string {
	return fmt.Sprintf("%d|%v|%d|%v|%v|%d|%s", c.srcBuf, c.shape, c.typ, c.scales, c.zps, c.axis, c.tuned)
}

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
			spec.Full.Prepare(op, p.s.act)
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
	code := g.quantizeOpcode()
	if toRep.isFloat() {
		code = g.dequantizeOpcode()
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

// quantizeOpcode returns the model's QUANTIZE operator code, adding one
// when there is none (its version is set by opversion.Update).
func (g *graph) quantizeOpcode() uint32 {
	for i, oc := range g.m.OperatorCodes {
		if oc.BuiltinCode == fb.BuiltinOperatorQUANTIZE {
			return uint32(i)
		}
	}
	g.m.OperatorCodes = append(g.m.OperatorCodes, &fb.OperatorCodeT{BuiltinCode: fb.BuiltinOperatorQUANTIZE, Version: 1})
	return uint32(len(g.m.OperatorCodes) - 1)
}

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
			p.checkSpread(f, t, a.source)
		}
	default:
		e.Source = fmt.Sprintf("requantized from %q for a reader that needs other parameters", f.info.sg.Tensors[t].Name)
	}
	p.r.Activations = append(p.r.Activations, e)
}

// checkSpread notes, in the 8-bit modes, a calibrated activation whose
// range a few samples set (see SampleSpread). FAKE_QUANT removal
// renumbers tensors, so models that had any are not checked.
func (p *fullPlan) checkSpread(f *fullSG, t int32, source string) {
	sp, ok := p.ranges.(SampleSpread)
	if !ok || source != "calibration" || p.s.act == fb.TensorTypeINT16 || len(p.fq.ranges) > 0 {
		return
	}
	for _, x := range p.spread {
		if x.subgraph == f.si && x.t == t {
			return // another view of the same value
		}
	}
	if top, median, samples, ok := rangeSpread(sp.SampleMax(f.si, int(t))); ok {
		p.spread = append(p.spread, outlierSpread{tensor: f.info.sg.Tensors[t].Name, top: top, median: median, samples: samples,
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
	p.r.pending[i].consumers = append(p.r.pending[i].consumers, pendingConsumer{key: opKey{f.si, oi}, input: k, kernel: p.s.kernelName()})
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
