// Package compare measures how far a quantized model strays from the float
// model it was made from, tensor by tensor, the way TensorFlow's
// QuantizationDebugger does: both models run on the same samples in
// litequant's interpreter, tensors are paired by name (a quantized model
// keeps the float model's tensor names; QUANTIZE and DEQUANTIZE outputs
// pair with what their input pairs with), and each pair gets its error
// figures.
//
// Two views, as in TensorFlow's debugger:
//   - accumulated: each model runs on its own, so a tensor's error is all
//     the error of the quantized model up to it;
//   - isolated: every operator of the quantized model reads the float
//     model's values (quantized with the quantized tensor's parameters)
//     instead of its predecessors' outputs, so its error is the damage it
//     does itself. The layer that causes the harm stands out from those
//     that only inherit it.
package compare

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"litequant/core/internal/calib"
	"litequant/core/interp"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Source gives the samples: for each, one buffer per input of the float
// model (in its types) and their shapes, as calibration takes them.
type Source = calib.Source

// Options controls a comparison.
type Options struct {
	// Isolated also runs the isolated view (one more run of the quantized
	// model per sample).
	Isolated bool
	// Progress, if set, is called after each sample.
	Progress func(done, total int)
	// MaxMemory is the interpreters' activation memory limit
	// (interp.Options.MaxMemory; 0: its default).
	MaxMemory int64
}

// Report is the outcome of a comparison.
type Report struct {
	Samples int `json:"samples"`
	// Tensors are the paired tensors in the quantized model's execution
	// order.
	Tensors []*TensorRow `json:"tensors"`
	// Outputs are the model outputs, in output order.
	Outputs []*OutputRow `json:"outputs"`
	// WorstIsolated names up to ten tensors with the lowest isolated SQNR
	// (accumulated when the isolated view was not run), worst first.
	WorstIsolated []string `json:"worst"`
	ElapsedMS     float64  `json:"elapsed_ms"`
}

// TensorRow is one paired tensor.
type TensorRow struct {
	Name     string `json:"tensor"`
	Operator string `json:"operator"` // the quantized model's operator producing it
	OpIndex  int    `json:"operator_index"`
	Elements int    `json:"elements"` // per sample
	Type     string `json:"type"`     // the quantized tensor's type
	// Scale and ZeroPoint are the quantized tensor's parameters (absent
	// for a float tensor).
	Scale     float32 `json:"scale,omitempty"`
	ZeroPoint int64   `json:"zero_point"`

	Accumulated Metrics  `json:"accumulated"`
	Isolated    *Metrics `json:"isolated,omitempty"`

	index int // tensor index in the quantized model
	float int // paired tensor index in the float model
	acc   errSums
	iso   errSums
}

// OutputRow is one model output.
type OutputRow struct {
	Name    string  `json:"name"`
	Metrics Metrics `json:"metrics"`
	// Top1 is the share of samples whose largest element is at the same
	// place in both models, for outputs with one vector of two or more
	// values per sample (a class axis); absent otherwise.
	Top1 *float64 `json:"top1_agreement,omitempty"`

	float, quant int // tensor indices
	sums         errSums
	agree, n     int
}

// Metrics are the error figures of one tensor over every sample.
type Metrics struct {
	// SQNR is 10·log10(Σ float² / Σ (quantized − float)²) in dB; +Inf when
	// the quantized values are exact (JSON: null).
	SQNR DB      `json:"sqnr_db"`
	RMSE float64 `json:"rmse"`
	// MaxAbs is the largest |quantized − float|.
	MaxAbs float64 `json:"max_abs_error"`
	// Mean is the mean of quantized − float (a bias).
	Mean float64 `json:"mean_error"`
	// Clipped is the share of float values outside the quantized tensor's
	// representable range (half a step beyond either end), which
	// quantization clips.
	Clipped float64 `json:"clipped"`
}

// DB is a figure in decibels; it encodes as null in JSON when infinite or
// undefined.
type DB float64

// MarshalJSON writes the value, or null when it is not finite.
func (d DB) MarshalJSON() ([]byte, error) {
	f := float64(d)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return []byte("null"), nil
	}
	return []byte(fmt.Sprintf("%.3f", f)), nil
}

// UnmarshalJSON reads a value written by MarshalJSON (null is +Inf).
func (d *DB) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = DB(math.Inf(1))
		return nil
	}
	var f float64
	if _, err := fmt.Sscan(string(b), &f); err != nil {
		return err
	}
	*d = DB(f)
	return nil
}

// String prints the value with one decimal, "exact" when infinite.
func (d DB) String() string {
	switch f := float64(d); {
	case math.IsInf(f, 1):
		return "exact"
	case math.IsNaN(f):
		return "-"
	default:
		return fmt.Sprintf("%.1f", f)
	}
}

// errSums accumulates one tensor's error over samples.
type errSums struct {
	n                     int
	signal, noise, sumErr float64
	maxAbs                float64
	clipped               int
}

func (s *errSums) metrics() Metrics {
	m := Metrics{MaxAbs: s.maxAbs}
	if s.n == 0 {
		m.SQNR = DB(math.NaN())
		return m
	}
	m.RMSE = math.Sqrt(s.noise / float64(s.n))
	m.Mean = s.sumErr / float64(s.n)
	m.Clipped = float64(s.clipped) / float64(s.n)
	switch {
	case s.noise == 0:
		m.SQNR = DB(math.Inf(1))
	default:
		m.SQNR = DB(10 * math.Log10(s.signal/s.noise))
	}
	return m
}

// Run compares quant against float on every sample of src.
func Run(ctx context.Context, float, quant *tflite.Model, src Source, opts Options) (*Report, error) {
	start := time.Now()
	if src.Len() == 0 {
		return nil, errors.New("no samples to compare on")
	}
	fit, err := interp.New(float, interp.Options{MaxMemory: opts.MaxMemory})
	if err != nil {
		return nil, fmt.Errorf("float model: %w", err)
	}
	qit, err := interp.New(quant, interp.Options{MaxMemory: opts.MaxMemory})
	if err != nil {
		return nil, fmt.Errorf("quantized model: %w", err)
	}
	if err := sameInputs(fit, qit); err != nil {
		return nil, err
	}
	rep := &Report{Samples: src.Len()}
	pairs := pair(float, quant)
	rows := map[int]*TensorRow{} // quantized tensor index → row
	qsg := quant.Subgraphs[0]
	for oi, op := range qsg.Operators {
		code := quant.Builtin(op)
		if code == fb.BuiltinOperatorDEQUANTIZE {
			continue // the same values as its input
		}
		for _, o := range op.Outputs {
			f, ok := pairs[int(o)]
			if !ok || !realValued(qsg.Tensors[o]) {
				continue
			}
			t := qsg.Tensors[o]
			row := &TensorRow{Name: t.Name, Operator: quant.OpName(op), OpIndex: oi, Type: tflite.TypeName(t.Type), index: int(o), float: f}
			if q := t.Quantization; q != nil && len(q.Scale) > 0 {
				row.Scale = q.Scale[0]
				if len(q.ZeroPoint) > 0 {
					row.ZeroPoint = q.ZeroPoint[0]
				}
			}
			rows[int(o)] = row
			rep.Tensors = append(rep.Tensors, row)
		}
	}
	fsg := float.Subgraphs[0]
	for k, o := range qsg.Outputs {
		rep.Outputs = append(rep.Outputs, &OutputRow{Name: qsg.Tensors[o].Name, quant: int(o), float: int(fsg.Outputs[k])})
	}
	if len(rep.Tensors) == 0 {
		return nil, errors.New("no tensor of the quantized model pairs with one of the float model by name: were they made from each other?")
	}

	// The float model's values of every tensor a row or the isolated view
	// needs, per sample.
	want := map[int]bool{}
	for q, f := range pairs {
		_ = q
		want[f] = true
	}
	fvals := map[int][]float32{}
	fit.SetObserver(func(t *interp.Tensor) {
		if want[t.Index] && t.Type == fb.TensorTypeFLOAT32 {
			fvals[t.Index] = append(fvals[t.Index][:0], t.F32()...)
		}
	})
	accObs := func(t *interp.Tensor) {
		if row := rows[t.Index]; row != nil {
			row.acc.add(t, fvals[row.float])
		}
	}
	isoObs := func(t *interp.Tensor) {
		if row := rows[t.Index]; row != nil {
			row.iso.add(t, fvals[row.float])
		}
		if f, ok := pairs[t.Index]; ok && !t.IsConst() {
			overwrite(t, fvals[f])
		}
	}

	var buf [][]byte
	for i := 0; i < src.Len(); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if buf, err = src.SampleTo(i, buf); err != nil {
			return nil, err
		}
		shapes := src.Shapes(i)
		if err := feed(fit, shapes, buf); err != nil {
			return nil, fmt.Errorf("sample %s: float model: %w", src.Source(i), err)
		}
		if err := fit.Invoke(); err != nil {
			return nil, fmt.Errorf("sample %s: float model: %w", src.Source(i), err)
		}
		if err := feedQuantized(qit, fit, shapes); err != nil {
			return nil, fmt.Errorf("sample %s: quantized model: %w", src.Source(i), err)
		}
		qit.SetObserver(accObs)
		if err := qit.Invoke(); err != nil {
			return nil, fmt.Errorf("sample %s: quantized model: %w", src.Source(i), err)
		}
		for k, o := range rep.Outputs {
			o.add(fit.Output(k), qit.Output(k))
		}
		if opts.Isolated {
			if err := feedQuantized(qit, fit, shapes); err != nil {
				return nil, fmt.Errorf("sample %s: quantized model: %w", src.Source(i), err)
			}
			qit.SetObserver(isoObs)
			if err := qit.Invoke(); err != nil {
				return nil, fmt.Errorf("sample %s: quantized model (isolated): %w", src.Source(i), err)
			}
		}
		if opts.Progress != nil {
			opts.Progress(i+1, src.Len())
		}
	}
	for _, row := range rep.Tensors {
		row.Elements = row.acc.n / src.Len()
		row.Accumulated = row.acc.metrics()
		if opts.Isolated {
			m := row.iso.metrics()
			row.Isolated = &m
		}
	}
	for _, o := range rep.Outputs {
		o.Metrics = o.sums.metrics()
		if o.n > 0 {
			share := float64(o.agree) / float64(o.n)
			o.Top1 = &share
		}
	}
	rep.WorstIsolated = worst(rep.Tensors, 10)
	rep.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	return rep, nil
}

// sameInputs checks that the two models take the same inputs: as many, of
// the same shapes (their types may differ: float or integer I/O).
func sameInputs(f, q *interp.Interpreter) error {
	if f.NumInputs() != q.NumInputs() {
		return fmt.Errorf("the float model has %d inputs, the quantized one %d: they do not take the same samples", f.NumInputs(), q.NumInputs())
	}
	if f.NumOutputs() != q.NumOutputs() {
		return fmt.Errorf("the float model has %d outputs, the quantized one %d", f.NumOutputs(), q.NumOutputs())
	}
	for k := 0; k < f.NumInputs(); k++ {
		a, b := f.Input(k), q.Input(k)
		if !slices.Equal(a.Shape, b.Shape) {
			return fmt.Errorf("input %d: the float model's %q has shape %v, the quantized model's %q %v", k, a.Name, a.Shape, b.Name, b.Shape)
		}
	}
	return nil
}

// pair maps tensors of quant's primary subgraph to the float model's
// tensors they stand for: the same name, or, for a QUANTIZE or DEQUANTIZE
// output without a namesake, what the operator's input stands for.
func pair(float, quant *tflite.Model) map[int]int {
	byName := map[string]int{}
	fsg := float.Subgraphs[0]
	for i, t := range fsg.Tensors {
		if _, dup := byName[t.Name]; !dup && realValued(t) {
			byName[t.Name] = i
		}
	}
	qsg := quant.Subgraphs[0]
	out := map[int]int{}
	for i, t := range qsg.Tensors {
		if f, ok := byName[t.Name]; ok && realValued(t) {
			out[i] = f
		}
	}
	// Subgraph inputs pair by position too (a model with integer I/O may
	// rename them).
	for k, q := range qsg.Inputs {
		if _, ok := out[int(q)]; !ok && k < len(fsg.Inputs) {
			out[int(q)] = int(fsg.Inputs[k])
		}
	}
	for _, op := range qsg.Operators {
		switch quant.Builtin(op) {
		case fb.BuiltinOperatorQUANTIZE, fb.BuiltinOperatorDEQUANTIZE:
		default:
			continue
		}
		if len(op.Inputs) == 0 || len(op.Outputs) == 0 || op.Inputs[0] < 0 {
			continue
		}
		if _, ok := out[int(op.Outputs[0])]; ok {
			continue
		}
		if f, ok := out[int(op.Inputs[0])]; ok {
			out[int(op.Outputs[0])] = f
		}
	}
	// Model outputs pair by position.
	for k, q := range qsg.Outputs {
		if _, ok := out[int(q)]; !ok && k < len(fsg.Outputs) {
			out[int(q)] = int(fsg.Outputs[k])
		}
	}
	// A DEQUANTIZE's input without a namesake stands for what its output
	// stands for (a quantized operator feeding a float consumer or a model
	// output).
	for i := len(qsg.Operators) - 1; i >= 0; i-- {
		op := qsg.Operators[i]
		if quant.Builtin(op) != fb.BuiltinOperatorDEQUANTIZE || len(op.Inputs) == 0 || len(op.Outputs) == 0 || op.Inputs[0] < 0 {
			continue
		}
		if _, ok := out[int(op.Inputs[0])]; ok || !realValued(qsg.Tensors[op.Inputs[0]]) {
			continue
		}
		if f, ok := out[int(op.Outputs[0])]; ok {
			out[int(op.Inputs[0])] = f
		}
	}
	return out
}

// realValued: a float tensor, or an integer one with quantization
// parameters (not indices, shapes or booleans).
func realValued(t *fb.TensorT) bool {
	switch t.Type {
	case fb.TensorTypeFLOAT32:
		return true
	case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16:
		return t.Quantization != nil && len(t.Quantization.Scale) > 0
	}
	return false
}

func feed(it *interp.Interpreter, shapes [][]int, data [][]byte) error {
	if len(data) != it.NumInputs() {
		return fmt.Errorf("%d inputs given, the model takes %d", len(data), it.NumInputs())
	}
	for k := range data {
		if err := it.SetInput(k, shapes[k], data[k]); err != nil {
			return err
		}
	}
	return nil
}

// feedQuantized gives q the float model's current inputs, quantized where
// q's input is an integer.
func feedQuantized(q, f *interp.Interpreter, shapes [][]int) error {
	for k := 0; k < q.NumInputs(); k++ {
		in := q.Input(k)
		fv := f.Input(k)
		if in.Type == fv.Type {
			if err := q.SetInput(k, shapes[k], fv.Data); err != nil {
				return err
			}
			continue
		}
		if fv.Type != fb.TensorTypeFLOAT32 {
			return fmt.Errorf("input %d (%q): %s in the float model, %s in the quantized one", k, in.Name, tflite.TypeName(fv.Type), tflite.TypeName(in.Type))
		}
		if err := q.SetInput(k, shapes[k], make([]byte, len(fv.F32())*in.ElemSize())); err != nil {
			return err
		}
		if !overwrite(in, fv.F32()) {
			return fmt.Errorf("input %d (%q): cannot feed float samples to a %s input", k, in.Name, tflite.TypeName(in.Type))
		}
	}
	return nil
}

// params returns t's per-tensor scale and zero point.
func params(t *interp.Tensor) (scale float64, zp int64, ok bool) {
	if len(t.Scale) == 0 {
		return 0, 0, false
	}
	if len(t.ZeroPoint) > 0 {
		zp = t.ZeroPoint[0]
	}
	return float64(t.Scale[0]), zp, true
}

// value returns element i of t as a real number (dequantized).
func value(t *interp.Tensor, i int, scale float64, zp int64) float64 {
	switch t.Type {
	case fb.TensorTypeFLOAT32:
		return float64(t.F32()[i])
	case fb.TensorTypeINT8:
		return scale * float64(int64(t.I8()[i])-zp)
	case fb.TensorTypeUINT8:
		return scale * float64(int64(t.U8()[i])-zp)
	case fb.TensorTypeINT16:
		return scale * float64(int64(t.I16()[i])-zp)
	}
	return math.NaN()
}

// overwrite stores the float values v in t, quantized with t's parameters
// (round half away from zero, then clamp, as TensorFlow Lite's QUANTIZE).
// It reports false when t cannot hold them (another type or size).
func overwrite(t *interp.Tensor, v []float32) bool {
	if len(v) != t.NumElements() {
		return false
	}
	if t.Type == fb.TensorTypeFLOAT32 {
		copy(t.F32(), v)
		return true
	}
	scale, zp, ok := params(t)
	if !ok || scale == 0 {
		return false
	}
	for i, x := range v {
		q := samples.QuantizeValue(float64(x), scale, zp, t.Type)
		switch t.Type {
		case fb.TensorTypeINT8:
			t.I8()[i] = int8(q)
		case fb.TensorTypeUINT8:
			t.U8()[i] = uint8(q)
		case fb.TensorTypeINT16:
			t.I16()[i] = int16(q)
		default:
			return false
		}
	}
	return true
}

// add accumulates the error of quantized tensor t against float values f.
func (s *errSums) add(t *interp.Tensor, f []float32) {
	n := t.NumElements()
	if len(f) != n {
		return // a shape the float model did not produce this time
	}
	scale, zp, quantized := params(t)
	lo, hi := tflite.IntRange(t.Type)
	for i, fv := range f {
		x := float64(fv)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		e := value(t, i, scale, zp) - x
		s.n++
		s.signal += x * x
		s.noise += e * e
		s.sumErr += e
		s.maxAbs = max(s.maxAbs, math.Abs(e))
		if quantized && t.Type != fb.TensorTypeFLOAT32 {
			if x > scale*(float64(hi-zp)+0.5) || x < scale*(float64(lo-zp)-0.5) {
				s.clipped++
			}
		}
	}
}

// add accumulates one sample of an output pair.
func (o *OutputRow) add(f, q *interp.Tensor) {
	if f.Type != fb.TensorTypeFLOAT32 {
		return
	}
	fv := f.F32()
	o.sums.add(q, fv)
	// A class axis: one vector of two or more values per sample.
	if len(f.Shape) == 0 || f.Shape[len(f.Shape)-1] < 2 || f.Shape[len(f.Shape)-1] != len(fv) || q.NumElements() != len(fv) {
		return
	}
	scale, zp, _ := params(q)
	best, qbest := 0, 0
	for i := range fv {
		if fv[i] > fv[best] {
			best = i
		}
		if value(q, i, scale, zp) > value(q, qbest, scale, zp) {
			qbest = i
		}
	}
	o.n++
	if best == qbest {
		o.agree++
	}
}

// worst names up to n rows with the lowest isolated (else accumulated)
// SQNR, worst first.
func worst(rows []*TensorRow, n int) []string {
	sorted := slices.Clone(rows)
	key := func(r *TensorRow) float64 {
		if r.Isolated != nil {
			return float64(r.Isolated.SQNR)
		}
		return float64(r.Accumulated.SQNR)
	}
	slices.SortStableFunc(sorted, func(a, b *TensorRow) int {
		ka, kb := key(a), key(b)
		switch {
		case math.IsNaN(ka) && math.IsNaN(kb):
			return 0
		case math.IsNaN(ka):
			return 1
		case math.IsNaN(kb):
			return -1
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	var out []string
	for _, r := range sorted[:min(n, len(sorted))] {
		if math.IsInf(key(r), 1) || math.IsNaN(key(r)) {
			break
		}
		out = append(out, r.Name)
	}
	return out
}

// Summary is the one-line digest: the worst layers first.
func (r *Report) Summary() string {
	byName := map[string]*TensorRow{}
	for _, t := range r.Tensors {
		byName[t.Name] = t
	}
	var parts []string
	view := "accumulated"
	for _, name := range r.WorstIsolated[:min(5, len(r.WorstIsolated))] {
		t := byName[name]
		m := t.Accumulated
		if t.Isolated != nil {
			m, view = *t.Isolated, "isolated"
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %s dB)", t.Name, t.Operator, m.SQNR))
	}
	if len(parts) == 0 {
		return "worst layers: none (every paired tensor is exact)"
	}
	return fmt.Sprintf("worst layers (%s): %s", view, strings.Join(parts, ", "))
}
