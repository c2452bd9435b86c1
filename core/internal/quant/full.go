// Full-integer quantization: the entry point, Full, and the plan that runs
// its phases in order (full_modes.go, full_classify.go, full_ranges.go,
// full_constants.go, full_deadchan.go, full_graph.go, full_report.go).

package quant

import (
	"fmt"
	"sort"
	"strings"
	"time"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

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
	// alt are the parameters of values in the other activation type of a
	// mixed int8/int16 plan (ownIn).
	alt   map[fb.TensorType]map[int32]*actInfo
	nConv int // QUANTIZE/DEQUANTIZE added
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
	// floatOps are the operators Options.FloatOps and TargetOps name,
	// with the reason.
	floatOps map[opKey]string
	// int16 are the operators Options.Int16Ops names (int8 mode): they
	// use the 16x8 scheme (opScheme).
	int16 map[opKey]bool
}

// Full applies full-integer quantization to m in place, as TensorFlow's
// converter does with optimizations=[DEFAULT] and a representative
// dataset: the activations of every operator the runtime has an integer
// kernel for (opspec's Full entries) become int8 (ModeInt8), int16
// (ModeInt16x8) or uint8 (ModeUint8) with parameters computed from ranges,
// their weights symmetric int8 (uint8 asymmetric per-tensor in ModeUint8)
// and their biases int32 (int64 in 16x8). Operators without
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

// plan analyses the model without changing it.
func (p *fullPlan) plan() (func(), string, error) {
	g, m := p.g, p.g.m
	entries := map[int]bool{0: true}
	for _, sd := range m.SignatureDefs {
		entries[int(sd.SubgraphIndex)] = true
	}
	if err := p.resolveFloatOps(); err != nil {
		return nil, "", err
	}
	if err := p.resolveInt16Ops(); err != nil {
		return nil, "", err
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
				p.r.floatOps = append(p.r.floatOps, pendingFloatOp{key: opKey{f.si, oi}, name: m.OpName(op), tensor: firstOutput(f.info.sg, op), why: why})
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
