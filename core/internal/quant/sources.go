package quant

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"litequant/core/internal/calib"
	"litequant/core/internal/qparams"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Where the full-integer passes find activation ranges, in order of
// precedence (the first source that knows a tensor's range gives it):
//
//  1. FAKE_QUANT operators of the float model (quantization-aware
//     training): their nudged range, and, where the scheme holds them, their
//     exact scale and zero point, go to the tensor they guard; the
//     operators are removed.
//  2. min/max recorded in a float tensor's quantization parameters (a model
//     calibrated elsewhere).
//  3. Calibration statistics.
//  4. Options.DefaultRange, for whatever is still missing (with a warning).

// defaultRangeSource names the --default-range source.
const defaultRangeSource = "--default-range"

// fakeQuant is the range one FAKE_QUANT operator gives the tensor it
// guards: TensorFlow's nudged range over [qmin, qmax] and the scale and
// zero point that go with it.
type fakeQuant struct {
	lo, hi, scale float32
	zp            int
	qmin, qmax    int
}

// fakeQuants are the FAKE_QUANT operators removed from a model.
type fakeQuants struct {
	ranges map[tref]fakeQuant
	// opMap maps, per subgraph, an operator index of the model without
	// FAKE_QUANT operators to its index in the original model (for the
	// calibration statistics, taken on the original).
	opMap map[int][]int
	// dropped are the FAKE_QUANT outputs, read by nothing any more.
	dropped []tref
}

// Range implements Ranges.
func (f *fakeQuants) Range(sg, t int) (float32, float32, bool) {
	fq, ok := f.ranges[tref{sg, t}]
	return fq.lo, fq.hi, ok
}

// exact returns the parameters tensor t's FAKE_QUANT implies in scheme s,
// when s holds them exactly: uint8 takes the scale and zero point as they
// are, int8 the same scale with the zero point shifted by -128 (when the
// FAKE_QUANT has at most 8 bits).
func (f *fakeQuants) exact(sg, t int, s *scheme) (rep, bool) {
	if f == nil {
		return rep{}, false
	}
	fq, ok := f.ranges[tref{sg, t}]
	if !ok || fq.qmin < 0 || fq.qmax > 255 || !(fq.scale > 0) {
		return rep{}, false
	}
	switch s.act {
	case fb.TensorTypeUINT8:
		return rep{typ: fb.TensorTypeUINT8, scale: fq.scale, zp: int64(fq.zp)}, true
	case fb.TensorTypeINT8:
		return rep{typ: fb.TensorTypeINT8, scale: fq.scale, zp: int64(fq.zp) - 128}, true
	}
	return rep{}, false
}

// remap returns r with operator indices (of patch statistics) translated
// to the original model's.
func (f *fakeQuants) remap(r Ranges) Ranges { return remapped{r, f.opMap} }

type remapped struct {
	r     Ranges
	opMap map[int][]int
}

func (x remapped) Range(sg, t int) (float32, float32, bool) { return x.r.Range(sg, t) }

func (x remapped) Patch(sg, op int) *calib.PatchStats {
	ps, ok := x.r.(PatchSource)
	if !ok {
		return nil
	}
	if m, ok := x.opMap[sg]; ok {
		if op < 0 || op >= len(m) {
			return nil
		}
		op = m[op]
	}
	return ps.Patch(sg, op)
}

// removeFakeQuant returns m itself when it has no FAKE_QUANT operator, or
// else a copy without them: each one's readers (and the model outputs)
// take its input instead, and the input gets its range. A model output
// keeps its name.
func removeFakeQuant(m *tflite.Model) (*tflite.Model, *fakeQuants, error) {
	fq := &fakeQuants{ranges: map[tref]fakeQuant{}, opMap: map[int][]int{}}
	has := false
	for _, sg := range m.Subgraphs {
		for _, op := range sg.Operators {
			has = has || m.Builtin(op) == fb.BuiltinOperatorFAKE_QUANT
		}
	}
	if !has {
		return m, fq, nil
	}
	data, err := m.Save()
	if err != nil {
		return nil, nil, fmt.Errorf("input model: %w", err)
	}
	work, err := tflite.Load(data)
	if err != nil {
		return nil, nil, fmt.Errorf("input model: %w", err)
	}
	for si, sg := range work.Subgraphs {
		var kept []*fb.OperatorT
		var opMap []int
		for oi, op := range sg.Operators {
			if work.Builtin(op) != fb.BuiltinOperatorFAKE_QUANT {
				kept = append(kept, op)
				opMap = append(opMap, oi)
				continue
			}
			o, _ := optionsValue(op).(*fb.FakeQuantOptionsT)
			if o == nil || len(op.Inputs) != 1 || len(op.Outputs) != 1 || op.Inputs[0] < 0 || op.Outputs[0] < 0 {
				return nil, nil, fmt.Errorf("FAKE_QUANT (operator %d of subgraph %d) has no options or not one input and one output", oi, si)
			}
			if o.NumBits < 2 || o.NumBits > 16 || !(o.Min < o.Max) {
				return nil, nil, fmt.Errorf("FAKE_QUANT (operator %d of subgraph %d): num_bits %d, range [%g, %g]: want 2 to 16 bits and min < max", oi, si, o.NumBits, o.Min, o.Max)
			}
			x, y := op.Inputs[0], op.Outputs[0]
			if sg.Tensors[x].Type != fb.TensorTypeFLOAT32 {
				return nil, nil, fmt.Errorf("FAKE_QUANT (operator %d of subgraph %d) reads %s, not FLOAT32", oi, si, tflite.TypeName(sg.Tensors[x].Type))
			}
			qmin, qmax := qparams.FakeQuantRange(int(o.NumBits), o.NarrowRange)
			lo, hi, scale, zp := qparams.Nudge(o.Min, o.Max, qmin, qmax)
			if _, ok := fq.ranges[tref{si, int(x)}]; !ok {
				fq.ranges[tref{si, int(x)}] = fakeQuant{lo: lo, hi: hi, scale: scale, zp: zp, qmin: qmin, qmax: qmax}
			}
			for _, later := range sg.Operators[oi+1:] {
				replace(later.Inputs, y, x)
			}
			if isIn(sg.Outputs, y) {
				replace(sg.Outputs, y, x)
				if !isIn(sg.Inputs, x) {
					sg.Tensors[x].Name = sg.Tensors[y].Name
				}
				for _, sd := range work.SignatureDefs {
					if int(sd.SubgraphIndex) == si {
						for _, tm := range sd.Outputs {
							if tm.TensorIndex == uint32(y) {
								tm.TensorIndex = uint32(x)
							}
						}
					}
				}
			}
			fq.dropped = append(fq.dropped, tref{si, int(y)})
		}
		sg.Operators = kept
		fq.opMap[si] = opMap
	}
	return work, fq, nil
}

func replace(list []int32, from, to int32) {
	for i, t := range list {
		if t == from {
			list[i] = to
		}
	}
}

func optionsValue(op *fb.OperatorT) any {
	if op.BuiltinOptions == nil {
		return nil
	}
	return op.BuiltinOptions.Value
}

// recordedRanges are the min/max recorded in float tensors' quantization
// parameters. With calibration, those of subgraph inputs are not used
// (calibrated is set): TensorFlow's converter records a pixel range such as
// [0, 255] on float image inputs, which says nothing of the values the
// samples feed (mobilenet_v1_0.25_224_float's input has it).
type recordedRanges struct {
	m          *tflite.Model
	calibrated bool
}

func (r recordedRanges) Range(sg, t int) (float32, float32, bool) {
	if sg >= len(r.m.Subgraphs) || t >= len(r.m.Subgraphs[sg].Tensors) {
		return 0, 0, false
	}
	if r.calibrated && isIn(r.m.Subgraphs[sg].Inputs, int32(t)) {
		return 0, 0, false
	}
	tt := r.m.Subgraphs[sg].Tensors[t]
	q := tt.Quantization
	if tt.Type != fb.TensorTypeFLOAT32 || q == nil || len(q.Min) != 1 || len(q.Max) != 1 || !(q.Min[0] <= q.Max[0]) ||
		math.IsInf(float64(q.Min[0]), 0) || math.IsInf(float64(q.Max[0]), 0) {
		return 0, 0, false
	}
	return q.Min[0], q.Max[0], true
}

// any reports whether some tensor has a recorded range.
func (r recordedRanges) any() bool {
	for si, sg := range r.m.Subgraphs {
		for ti := range sg.Tensors {
			if _, _, ok := r.Range(si, ti); ok {
				return true
			}
		}
	}
	return false
}

// HasTrainedRanges reports whether m carries activation ranges of its own:
// FAKE_QUANT operators or min/max recorded in float tensors. Such a model
// converts to int8 or uint8 without calibration samples.
func HasTrainedRanges(m *tflite.Model) bool {
	for _, sg := range m.Subgraphs {
		for _, op := range sg.Operators {
			if m.Builtin(op) == fb.BuiltinOperatorFAKE_QUANT {
				return true
			}
		}
	}
	return recordedRanges{m: m}.any()
}

// constRange gives every tensor the same range.
type constRange MinMax

func (c constRange) Range(int, int) (float32, float32, bool) { return c.Min, c.Max, true }

// Check reports an impossible --input-stats value: STD must be positive
// and MEAN within [0, 255].
func (st InputStat) Check() error {
	what := "--input-stats"
	if st.Name != "" {
		what += " for " + strconv.Quote(st.Name)
	}
	if !(st.Std > 0) {
		return fmt.Errorf("%s: STD must be positive, got %g", what, st.Std)
	}
	if !(st.Mean >= 0 && st.Mean <= 255) {
		return fmt.Errorf("%s: MEAN %g is outside [0, 255] (it is the uint8 value that stands for 0.0)", what, st.Mean)
	}
	return nil
}

// inputStats resolves opts.InputStats against the float inputs of m's
// first subgraph: tensor -> uint8 parameters (scale 1/STD, zero point
// round(MEAN)).
func inputStats(m *tflite.Model, stats []InputStat) (map[int32]rep, error) {
	if len(stats) == 0 {
		return nil, nil
	}
	if len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("the model has no subgraph")
	}
	sg := m.Subgraphs[0]
	var inputs []int32
	var names []string
	for _, t := range sg.Inputs {
		if t >= 0 && sg.Tensors[t].Type == fb.TensorTypeFLOAT32 {
			inputs = append(inputs, t)
			names = append(names, strconv.Quote(sg.Tensors[t].Name))
		}
	}
	out := map[int32]rep{}
	set := func(t int32, st InputStat) error {
		if err := st.Check(); err != nil {
			return err
		}
		out[t] = rep{typ: fb.TensorTypeUINT8, scale: 1 / st.Std, zp: int64(qparams.RoundHalfAway(st.Mean))}
		return nil
	}
	if stats[0].Name == "" {
		if len(stats) != len(inputs) {
			return nil, fmt.Errorf("--input-stats: %d given for %d float model input(s) (%s): give one MEAN,STD per input, in order, or NAME=MEAN,STD",
				len(stats), len(inputs), strings.Join(names, ", "))
		}
		for i, st := range stats {
			if st.Name != "" {
				return nil, fmt.Errorf("--input-stats: give every input by name or none, not a mix")
			}
			if err := set(inputs[i], st); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	for _, st := range stats {
		found := int32(-1)
		for _, t := range inputs {
			if sg.Tensors[t].Name == st.Name {
				found = t
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("--input-stats: %q is not a float input of the model (inputs: %s)", st.Name, strings.Join(names, ", "))
		}
		if _, dup := out[found]; dup {
			return nil, fmt.Errorf("--input-stats: input %q given twice", st.Name)
		}
		if err := set(found, st); err != nil {
			return nil, err
		}
	}
	return out, nil
}
