package quant

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"litequant/core/internal/opspec"
	"litequant/core/internal/opversion"
	"litequant/core/tflite"
)

// Report says what a pass did. Its JSON encoding is what `litequant
// quantize --report` writes; the field names are documented in the package
// doc.
type Report struct {
	Mode              string    `json:"mode"` // "dynamic" or "float16"
	Noop              bool      `json:"noop"`
	NoopReason        string    `json:"noop_reason,omitempty"`
	MinWeightElements int       `json:"min_weight_elements"`
	Weights           []Weight  `json:"weights"`
	FloatOps          []FloatOp `json:"float_ops"`
	// OpVersions lists the operator codes whose version was raised.
	OpVersions []opversion.Raise `json:"op_versions"`
	// MinRuntimeVersion is the min_runtime_version metadata before and
	// after ("" when the model has none).
	MinRuntimeBefore  string  `json:"min_runtime_before,omitempty"`
	MinRuntimeVersion string  `json:"min_runtime_version,omitempty"`
	SizeBefore        int     `json:"size_before"` // bytes, as saved
	SizeAfter         int     `json:"size_after"`
	ElapsedMS         float64 `json:"elapsed_ms"`

	// Full-integer modes (int8, int16x8) only.
	//
	// InputType and OutputType are the model's input and output types.
	InputType  string `json:"input_type,omitempty"`
	OutputType string `json:"output_type,omitempty"`
	// IntegerOps counts the operators running integer kernels; AddedOps
	// the QUANTIZE and DEQUANTIZE operators added around float operators
	// and model I/O.
	IntegerOps int `json:"integer_ops,omitempty"`
	AddedOps   int `json:"added_ops,omitempty"`
	// Activations lists every integer activation tensor of the output
	// model with its parameters and where they came from.
	Activations []Activation `json:"activations,omitempty"`
	// Warnings are things the user should know about the result, such
	// as the tensors --default-range was used for.
	Warnings []string `json:"warnings,omitempty"`

	floatOps []pendingFloatOp
	pending  []pendingWeight
	// finishFull, when set, completes a full-integer report after commit.
	finishFull func()
}

// Activation is one integer activation tensor of a full-integer model.
type Activation struct {
	Tensor    string  `json:"tensor"`
	Subgraph  int     `json:"subgraph"`
	Type      string  `json:"type"`
	Scale     float32 `json:"scale"`
	ZeroPoint int64   `json:"zero_point"`
	// Min and Max are the range the parameters were computed from (the
	// calibrated range of the float tensor, or a union of ranges); absent
	// when the parameters are fixed by the kernel or shared with an
	// input.
	Min *float32 `json:"min,omitempty"`
	Max *float32 `json:"max,omitempty"`
	// Source says where the parameters come from: "calibration", "fixed
	// by SOFTMAX", "same as input \"x\"", "shared by the inputs and
	// outputs of CONCATENATION", "model input", ...
	Source string `json:"source"`
}

// Weight is one quantized weight buffer. Tensors in several subgraphs (or
// several tensors) sharing the buffer are one Weight.
type Weight struct {
	Tensor   string  `json:"tensor"`
	Subgraph int     `json:"subgraph"`
	Shape    []int32 `json:"shape"`
	Elements int     `json:"elements"`
	From     string  `json:"from"` // FLOAT32, or FLOAT16 behind DEQUANTIZE
	Type     string  `json:"type"` // INT8 or FLOAT16
	// Granularity is "per-channel" or "per-tensor" (INT8 only); Axis is the
	// per-channel axis.
	Granularity string `json:"granularity,omitempty"`
	Axis        *int   `json:"axis,omitempty"`
	// ClearedDead counts the weights set to zero because the input
	// channel they apply to was 0 on every calibration sample (full
	// integer modes with tuned weights; see package deadchan).
	ClearedDead int        `json:"cleared_dead,omitempty"`
	ScaleMin    float32    `json:"scale_min,omitempty"`
	ScaleMax    float32    `json:"scale_max,omitempty"`
	Consumers   []Consumer `json:"consumers"`
	// SharedWith names the other tensors on the same buffer.
	SharedWith []string `json:"shared_with,omitempty"`
}

// Consumer is one operator reading a quantized weight.
type Consumer struct {
	Subgraph int    `json:"subgraph"`
	Op       int    `json:"op"` // operator index in the output model
	Name     string `json:"name"`
	Input    int    `json:"input"` // input position
	// Kernel is "hybrid" (reads int8 directly), "int8-passthrough" (moves
	// int8, dequantized after it) or "dequantize" (reads the weight through
	// a DEQUANTIZE).
	Kernel string `json:"kernel"`
}

// FloatOp is an operator with weights that runs a float kernel after the
// pass, and why.
type FloatOp struct {
	Subgraph int    `json:"subgraph"`
	Op       int    `json:"op"` // operator index in the output model
	Name     string `json:"name"`
	// Tensor is the operator's first output tensor, the name --float-ops
	// takes (full-integer modes).
	Tensor string `json:"tensor,omitempty"`
	Reason string `json:"reason"`
}

type pendingFloatOp struct {
	key    opKey
	name   string
	tensor string
	why    []string
}

type pendingConsumer struct {
	key    opKey
	input  int
	kernel string
}

// pendingWeights keep old operator indices until commit renumbers them.
type pendingWeight struct {
	w         Weight
	consumers []pendingConsumer
}

// addWeight records a quantized dynamic-range unit.
func (r *Report) addWeight(g *graph, u *unit, plans map[opKey]*opPlan) {
	first := g.tensor(u.tensors[0])
	w := Weight{Tensor: first.Name, Subgraph: u.tensors[0].sg, Shape: append([]int32(nil), first.Shape...),
		Elements: tflite.NumElements(first.Shape), From: tflite.TypeName(u.from), Type: "INT8"}
	for _, c := range u.tensors[1:] {
		w.SharedWith = append(w.SharedWith, g.tensor(c).Name)
	}
	w.Granularity = "per-tensor"
	if u.axis >= 0 {
		a := u.axis
		w.Granularity, w.Axis = "per-channel", &a
	}
	w.ScaleMin, w.ScaleMax = u.scales[0], u.scales[0]
	for _, s := range u.scales {
		w.ScaleMin, w.ScaleMax = min(w.ScaleMin, s), max(w.ScaleMax, s)
	}
	p := pendingWeight{w: w}
	for _, x := range u.uses {
		k := "dequantize"
		switch plans[opKey{x.sg, x.op}].kernel {
		case opspec.HybridKernel:
			k = "hybrid"
		case opspec.Int8Passthrough:
			k = "int8-passthrough"
		}
		p.consumers = append(p.consumers, pendingConsumer{key: opKey{x.sg, x.op}, input: x.pos, kernel: k})
	}
	r.pending = append(r.pending, p)
}

// finish resolves operator indices after commit and records the version
// updates; it runs opversion.Update.
func (r *Report) finish(g *graph) {
	r.resolve(g)
	res := opversion.Update(g.m)
	r.OpVersions = append(r.OpVersions, res.Raised...)
	r.MinRuntimeBefore, r.MinRuntimeVersion = res.MinRuntimeBefore, res.MinRuntimeVersion
}

// resolve turns the pending weights and float operators into the exported
// lists, with operator indices of the output model.
func (r *Report) resolve(g *graph) {
	idx := func(k opKey) int {
		if i, ok := g.opIndex[k]; ok {
			return i
		}
		return k.op
	}
	// Weights in the order the model first reads them.
	firstUse := func(p pendingWeight) opKey {
		best := opKey{1 << 30, 1 << 30}
		for _, c := range p.consumers {
			if c.key.sg < best.sg || c.key.sg == best.sg && c.key.op < best.op {
				best = c.key
			}
		}
		return best
	}
	sort.SliceStable(r.pending, func(i, j int) bool {
		a, b := firstUse(r.pending[i]), firstUse(r.pending[j])
		return a.sg < b.sg || a.sg == b.sg && a.op < b.op
	})
	for _, p := range r.pending {
		w := p.w
		for _, c := range p.consumers {
			w.Consumers = append(w.Consumers, Consumer{Subgraph: c.key.sg, Op: idx(c.key),
				Name: g.m.OpName(g.m.Subgraphs[c.key.sg].Operators[idx(c.key)]), Input: c.input, Kernel: c.kernel})
		}
		r.Weights = append(r.Weights, w)
	}
	// One line per operator, in operator order.
	merged := map[opKey]*pendingFloatOp{}
	var keys []opKey
	for _, f := range r.floatOps {
		if p := merged[f.key]; p != nil {
			p.why = append(p.why, f.why...)
			continue
		}
		f := f
		merged[f.key] = &f
		keys = append(keys, f.key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].sg != keys[j].sg {
			return keys[i].sg < keys[j].sg
		}
		return keys[i].op < keys[j].op
	})
	for _, k := range keys {
		f := merged[k]
		r.FloatOps = append(r.FloatOps, FloatOp{Subgraph: k.sg, Op: idx(k), Name: f.name, Tensor: f.tensor, Reason: strings.Join(dedupe(f.why), "; ")})
	}
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// WriteText prints the report as a short table.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Noop {
		fmt.Fprintf(&b, "%s: nothing to quantize (%s); the model is unchanged\n", r.Mode, r.NoopReason)
		_, err := io.WriteString(w, b.String())
		return err
	}
	if r.InputType != "" {
		r.writeFullText(&b)
		_, err := io.WriteString(w, b.String())
		return err
	}
	perChannel := 0
	for _, x := range r.Weights {
		if x.Granularity == "per-channel" {
			perChannel++
		}
	}
	typ := "INT8"
	if r.Mode == "float16" {
		typ = "FLOAT16"
	}
	fmt.Fprintf(&b, "%s: %d weight(s) -> %s", r.Mode, len(r.Weights), typ)
	if typ == "INT8" {
		fmt.Fprintf(&b, " (%d per-channel, %d per-tensor)", perChannel, len(r.Weights)-perChannel)
	}
	ratio := 0.0
	if r.SizeBefore > 0 {
		ratio = float64(r.SizeAfter) / float64(r.SizeBefore)
	}
	fmt.Fprintf(&b, "; %d -> %d bytes (%.3f); %.1f ms\n", r.SizeBefore, r.SizeAfter, ratio, r.ElapsedMS)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	if typ == "INT8" {
		fmt.Fprintln(tw, "  TENSOR\tCONSUMERS\tGRANULARITY\tELEMENTS\tSCALE MIN..MAX")
	} else {
		fmt.Fprintln(tw, "  TENSOR\tCONSUMERS\tELEMENTS")
	}
	for _, x := range r.Weights {
		var cons []string
		for _, c := range x.Consumers {
			cons = append(cons, fmt.Sprintf("%s#%d(%s)", c.Name, c.Op, c.Kernel))
		}
		if typ != "INT8" {
			fmt.Fprintf(tw, "  %s\t%s\t%d\n", shorten(x.Tensor, 48), strings.Join(cons, ","), x.Elements)
			continue
		}
		gran := x.Granularity
		if x.Axis != nil {
			gran = fmt.Sprintf("per-channel(axis %d)", *x.Axis)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%.3g..%.3g\n", shorten(x.Tensor, 48), strings.Join(cons, ","), gran, x.Elements, x.ScaleMin, x.ScaleMax)
	}
	tw.Flush()
	r.writeChanges(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeChanges prints what every report ends with: the operators left
// float, the raised operator versions and min_runtime_version.
func (r *Report) writeChanges(b *strings.Builder) {
	if len(r.FloatOps) > 0 {
		fmt.Fprintf(b, "left float (%d):\n", len(r.FloatOps))
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		for _, f := range r.FloatOps {
			if f.Tensor != "" { // full integer: the name --float-ops takes
				fmt.Fprintf(tw, "  %s#%d\t%s\t%s\n", f.Name, f.Op, shorten(f.Tensor, 48), f.Reason)
				continue
			}
			fmt.Fprintf(tw, "  %s#%d\t%s\n", f.Name, f.Op, f.Reason)
		}
		tw.Flush()
	}
	if len(r.OpVersions) > 0 {
		var v []string
		for _, x := range r.OpVersions {
			v = append(v, fmt.Sprintf("%s %d->%d", x.Op, x.From, x.To))
		}
		sort.Strings(v)
		fmt.Fprintf(b, "operator versions: %s\n", strings.Join(v, ", "))
	}
	if r.MinRuntimeVersion != r.MinRuntimeBefore {
		fmt.Fprintf(b, "min_runtime_version: %s -> %s\n", r.MinRuntimeBefore, r.MinRuntimeVersion)
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n+3:]
}

// writeFullText prints a full-integer report.
func (r *Report) writeFullText(b *strings.Builder) {
	perChannel := 0
	for _, x := range r.Weights {
		if x.Granularity == "per-channel" {
			perChannel++
		}
	}
	ratio := 0.0
	if r.SizeBefore > 0 {
		ratio = float64(r.SizeAfter) / float64(r.SizeBefore)
	}
	fmt.Fprintf(b, "%s: %d operator(s) on integer kernels, %d left float, %d QUANTIZE/DEQUANTIZE added; %d constant(s) quantized (%d per-channel); %d -> %d bytes (%.3f); %.1f ms\n",
		r.Mode, r.IntegerOps, len(r.FloatOps), r.AddedOps, len(r.Weights), perChannel, r.SizeBefore, r.SizeAfter, ratio, r.ElapsedMS)
	fmt.Fprintf(b, "model input %s, output %s\n", r.InputType, r.OutputType)
	cleared, in := 0, 0
	for _, x := range r.Weights {
		if x.ClearedDead > 0 {
			cleared += x.ClearedDead
			in++
		}
	}
	if cleared > 0 {
		fmt.Fprintf(b, "%d weight(s) in %d tensor(s) set to 0: their input channel was 0 on every calibration sample\n", cleared, in)
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ACTIVATION\tTYPE\tSCALE\tZERO POINT\tRANGE\tFROM")
	for _, a := range r.Activations {
		rng := ""
		if a.Min != nil && a.Max != nil {
			rng = fmt.Sprintf("%.4g..%.4g", *a.Min, *a.Max)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%.4g\t%d\t%s\t%s\n", shorten(a.Tensor, 40), a.Type, a.Scale, a.ZeroPoint, rng, shorten(a.Source, 48))
	}
	tw.Flush()
	r.writeChanges(b)
	for _, w := range r.Warnings {
		fmt.Fprintf(b, "warning: %s\n", w)
	}
}
