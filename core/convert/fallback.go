package convert

// Float fallback to a target accuracy (--target-sqnr): after a
// full-integer conversion is verified, the operator doing the most damage
// on its own (the verification's isolated view) is left float, the model
// is quantized again from the same calibration statistics, and measured
// again, until every output reaches the target or nothing quantized is
// left to give back.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"litequant/core/internal/compare"
	"litequant/core/internal/quant"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Fallback is the report of --target-sqnr: the target, whether it was
// reached, and each operator given back to float.
type Fallback struct {
	TargetSQNR float64 `json:"target_sqnr"`
	Reached    bool    `json:"reached"`
	// Start are the outputs' SQNR before any fallback (with the
	// operators --float-ops named already float).
	Start []OutputSQNR `json:"start"`
	// Steps are the operators left float, in order.
	Steps []FallbackStep `json:"steps"`
	// FloatOps are the operators the fallback left float in the model it
	// returns (with those --float-ops named, --float-ops takes them to get
	// the same model again).
	FloatOps []string `json:"float_ops"`
	// Int16Ops are the operators the fallback made int16 (int8 mode), as
	// --int16-ops takes them.
	Int16Ops []string `json:"int16_ops"`
	// Best is the step whose model the conversion returns (0: the one
	// before any step); the last step unless the target was missed and an
	// earlier model did better.
	Best int `json:"best"`
	// Tried counts the operators the backward pass tried to give back to
	// integer once the target was reached (those it could are steps with
	// action "integer").
	Tried     int     `json:"tried_back"`
	ElapsedMS float64 `json:"elapsed_ms"`
}

// FallbackStep is one operator given back.
type FallbackStep struct {
	// Operator is the operator's first output tensor; Builtin its kind.
	Operator string `json:"operator"`
	Builtin  string `json:"builtin"`
	// Action is "float" (left float), "int16" (int16 activations, int8
	// mode: see tryInt16), or "integer" (given back to integer by the
	// backward pass: the target holds without it).
	Action string `json:"action"`
	// Isolated is the operator's isolated SQNR that chose it.
	Isolated compare.DB `json:"isolated_sqnr"`
	// Outputs are the outputs' SQNR after the step.
	Outputs []OutputSQNR `json:"outputs"`
	// Size is the model's size in bytes after the step; IntegerShare the
	// share of the operators computing on activations that still run an
	// integer kernel.
	Size         int     `json:"model_size"`
	IntegerShare float64 `json:"integer_share"`
	ElapsedMS    float64 `json:"elapsed_ms"`
}

// OutputSQNR is one model output's SQNR on the verification samples.
type OutputSQNR struct {
	Name string     `json:"name"`
	SQNR compare.DB `json:"sqnr_db"`
}

// checkTarget checks --target-sqnr and --float-ops against the options.
func (o Options) checkTarget() error {
	t := o.TargetSQNR
	if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
		return fmt.Errorf("--target-sqnr must be a positive number of dB, got %g", t)
	}
	if (t > 0 || len(o.FloatOps) > 0 || len(o.Int16Ops) > 0) && !o.NeedsCalibration() {
		flag := "--target-sqnr"
		if t == 0 {
			flag = "--float-ops"
			if len(o.FloatOps) == 0 {
				flag = "--int16-ops"
			}
		}
		return fmt.Errorf("%s applies to the full-integer modes (%s), not --mode %s", flag, calibratedModes(","), o.EffectiveMode())
	}
	if err := o.checkInt16Ops(); err != nil {
		return err
	}
	for _, n := range o.FloatOps {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("--float-ops: empty operator name (name operators by their first output tensor)")
		}
	}
	return nil
}

// checkTargetVerify checks that --target-sqnr has samples to measure on.
func (o Options) checkTargetVerify(verifyFiles int) error {
	if o.TargetSQNR > 0 && verifyFiles == 0 && o.VerifySplit == 0 && o.VerifyRandom == 0 {
		return fmt.Errorf("--target-sqnr %g needs verification samples to measure on: give --verify PATH or --verify-split F", o.TargetSQNR)
	}
	return nil
}

// requantizer quantizes the float model again with other options, from
// the same calibration statistics.
type requantizer func(q quant.Options) ([]byte, *PassReport, error)

// fallback runs --target-sqnr on a verified conversion, replacing res's
// model and rep's pass report and verification with the best found.
func fallback(ctx context.Context, req Request, qopts quant.Options, res *Result, plan *verifyPlan, requant requantizer, progress func(string, int, int)) error {
	start := time.Now()
	rep := res.Report
	target := req.Options.TargetSQNR
	fr := &Fallback{TargetSQNR: target, Start: outputSQNR(rep.Verification), Steps: []FallbackStep{}, FloatOps: []string{}}
	rep.Fallback = fr
	if rep.Verification == nil || rep.Verification.Error != "" {
		why := "no verification"
		if rep.Verification != nil {
			why = rep.Verification.Error
		}
		return fmt.Errorf("--target-sqnr: the verification could not run: %s", why)
	}
	floatOps, err := floatOpNames(req.Model)
	if err != nil {
		return err
	}
	type model struct {
		bytes []byte
		pass  *PassReport
		ver   *Verification
	}
	cur := model{res.Model, rep.Quantize, rep.Verification}
	best, bestScore := cur, worstSQNR(cur.ver)
	given := map[string]bool{} // float or int16 already: asked, or chosen
	for _, n := range append(slices.Clone(qopts.FloatOps), qopts.Int16Ops...) {
		given[n] = true
	}
	fr.Int16Ops = []string{}
	// states are the operators float and int16 after each step (0:
	// before any).
	states := []fallbackState{{float: []string{}, int16: []string{}}}
	limit := rep.Quantize.IntegerOps
	q := qopts
	q.IntegerOnly = false
	q.AllowNoop = true // every operator float: the float model
	// Progress counts re-quantizations (forward steps and tries back: at
	// most 2·limit), and each verification sample repeats the count, so
	// that the page's worker gets a turn for a cancel.
	runs, total := 0, 2*limit
	quiet := func(string, int, int) { progress("fallback", runs, total) }
	for step := 1; worstSQNR(cur.ver) < target; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		name, builtin, iso, ok := pickFallback(cur.bytes, cur.ver, floatOps, given)
		if !ok {
			break
		}
		runs++
		progress("fallback", runs, total)
		t0 := time.Now()
		given[name] = true
		// int16 first (int8 mode): kept when it reaches the target, or
		// when it gains and float gains no more (fallback_int16.go).
		prev := worstSQNR(cur.ver)
		i16, err := tryInt16(ctx, req, q, q.Int16Ops, name, requant, plan, quiet)
		if err != nil {
			return fmt.Errorf("--target-sqnr: step %d (making %s %q int16): %w", step, builtin, name, err)
		}
		action := "float"
		var b []byte
		var pass *PassReport
		var v *Verification
		if i16 != nil && worstSQNR(i16.ver) >= target {
			action = "int16"
		} else {
			fr.FloatOps = append(fr.FloatOps, name)
			q.TargetOps = slices.Clone(fr.FloatOps)
			b, pass, err = requant(q)
			if errors.Is(err, errAllFloat) {
				fr.FloatOps = fr.FloatOps[:len(fr.FloatOps)-1]
				err = nil
				if i16 == nil || worstSQNR(i16.ver) < prev+minInt16Gain {
					break
				}
				action = "int16"
			} else if err != nil {
				return fmt.Errorf("--target-sqnr: step %d (leaving %s %q float): %w", step, builtin, name, err)
			} else {
				if v, err = verify(ctx, req.Model, b, plan, quiet); err != nil {
					return err
				}
				if v.Error != "" {
					return fmt.Errorf("--target-sqnr: step %d (leaving %s %q float): verification: %s", step, builtin, name, v.Error)
				}
				if i16 != nil && worstSQNR(i16.ver) >= prev+minInt16Gain && worstSQNR(i16.ver) >= worstSQNR(v) {
					action = "int16"
					fr.FloatOps = fr.FloatOps[:len(fr.FloatOps)-1]
				}
			}
		}
		if action == "int16" {
			b, pass, v = i16.bytes, i16.pass, i16.ver
			fr.Int16Ops = append(fr.Int16Ops, name)
		}
		q.TargetOps = slices.Clone(fr.FloatOps)
		q.Int16Ops = append(slices.Clone(qopts.Int16Ops), fr.Int16Ops...) // --int16-ops and the chosen
		states = append(states, fallbackState{float: slices.Clone(fr.FloatOps), int16: slices.Clone(fr.Int16Ops)})
		cur = model{b, pass, v}
		fr.Steps = append(fr.Steps, FallbackStep{Operator: name, Builtin: builtin, Action: action, Isolated: iso,
			Outputs: outputSQNR(v), Size: len(b), IntegerShare: integerShare(pass), ElapsedMS: ms(time.Since(t0))})
		if s := worstSQNR(v); s > bestScore {
			best, bestScore, fr.Best = cur, s, step
		}
	}
	fr.Reached = bestScore >= target
	if !fr.Reached {
		cur = best
		fr.FloatOps, fr.Int16Ops = states[fr.Best].float, states[fr.Best].int16
		q.TargetOps, q.Int16Ops = fr.FloatOps, append(slices.Clone(qopts.Int16Ops), fr.Int16Ops...)
	} else if len(fr.FloatOps) > 0 && (len(fr.FloatOps) > 1 || fr.Steps[len(fr.Steps)-1].Action == "int16") {
		gaveBack := false // some operator was given back
		// Backward pass: give back to integer every operator the target
		// does not need, first left float first (the last one was needed:
		// the target was missed without it).
		tryBack := fr.FloatOps
		if fr.Steps[len(fr.Steps)-1].Action == "float" {
			tryBack = tryBack[:len(tryBack)-1]
		}
		for _, name := range slices.Clone(tryBack) {
			if err := ctx.Err(); err != nil {
				return err
			}
			fr.Tried++
			runs++
			progress("fallback", runs, total)
			t0 := time.Now()
			trial := slices.DeleteFunc(slices.Clone(fr.FloatOps), func(n string) bool { return n == name })
			q.TargetOps = trial
			b, pass, err := requant(q)
			if err != nil {
				return fmt.Errorf("--target-sqnr: giving %q back to integer: %w", name, err)
			}
			// The outputs decide: no isolated view (the kept model gets
			// it below).
			v, err := verifyView(ctx, req.Model, b, plan, false, quiet)
			if err != nil {
				return err
			}
			if v.Error != "" || worstSQNR(v) < target {
				continue
			}
			cur, fr.FloatOps = model{b, pass, v}, trial
			gaveBack = true
			fr.Steps = append(fr.Steps, FallbackStep{Operator: name, Builtin: floatOps[name], Action: "integer",
				Outputs: outputSQNR(v), Size: len(b), IntegerShare: integerShare(pass), ElapsedMS: ms(time.Since(t0))})
		}
		fr.Best = len(fr.Steps)
		if gaveBack {
			if cur.ver, err = verify(ctx, req.Model, cur.bytes, plan, quiet); err != nil {
				return err
			}
		}
	} else {
		fr.Best = len(fr.Steps)
	}
	res.Model, rep.Quantize, rep.Verification = cur.bytes, cur.pass, cur.ver
	fr.ElapsedMS = ms(time.Since(start))
	if qopts.IntegerOnly && len(fr.FloatOps) > 0 {
		named := make([]string, len(fr.FloatOps))
		for i, n := range fr.FloatOps {
			named[i] = fmt.Sprintf("%s %q", floatOps[n], n)
		}
		verb := "needs"
		if !fr.Reached {
			verb = "is not reached even with"
		}
		return fmt.Errorf("--integer-only: --target-sqnr %g %s %d operator(s) left float: %s", target, verb, len(fr.FloatOps), strings.Join(named, ", "))
	}
	if !fr.Reached {
		msg := fmt.Sprintf("--target-sqnr %g dB not reached: the best model found (worst output %s dB", target, compare.DB(bestScore))
		if len(fr.FloatOps) > 0 {
			msg += fmt.Sprintf(", %d operator(s) left float: %s", len(fr.FloatOps), strings.Join(fr.FloatOps, ", "))
		}
		if len(fr.Int16Ops) > 0 {
			msg += fmt.Sprintf(", %d made int16: %s", len(fr.Int16Ops), strings.Join(fr.Int16Ops, ", "))
		}
		msg += fmt.Sprintf(") is written, after %d step(s)", len(fr.Steps))
		rep.Quantize.Warnings = append(rep.Quantize.Warnings, msg)
	}
	return nil
}

// floatOpNames maps the first output tensor of each operator of the float
// model's primary subgraph to the operator's kind.
func floatOpNames(model []byte) (map[string]string, error) {
	m, err := tflite.Load(model)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sg := m.Subgraphs[0]
	for _, op := range sg.Operators {
		if len(op.Outputs) > 0 && op.Outputs[0] >= 0 {
			out[sg.Tensors[op.Outputs[0]].Name] = m.OpName(op)
		}
	}
	return out, nil
}

// pickFallback returns the integer operator of the quantized model with
// the lowest finite isolated SQNR, by the name of the float model's
// operator it stands for, skipping those in given.
func pickFallback(quantModel []byte, v *Verification, floatOps map[string]string, given map[string]bool) (name, builtin string, iso compare.DB, ok bool) {
	qm, err := tflite.Load(quantModel)
	if err != nil {
		return "", "", 0, false
	}
	sg := qm.Subgraphs[0]
	bestSQNR := math.Inf(1)
	for _, row := range v.Layers {
		if row.Isolated == nil || row.Type == "FLOAT32" || row.OpIndex < 0 || row.OpIndex >= len(sg.Operators) {
			continue
		}
		op := sg.Operators[row.OpIndex]
		switch qm.Builtin(op) {
		case fb.BuiltinOperatorQUANTIZE, fb.BuiltinOperatorDEQUANTIZE:
			continue
		}
		s := float64(row.Isolated.SQNR)
		if math.IsNaN(s) || s >= bestSQNR {
			continue
		}
		n, kind, found := floatName(sg, op, floatOps)
		if !found || given[n] {
			continue
		}
		name, builtin, iso, bestSQNR, ok = n, kind, row.Isolated.SQNR, s, true
	}
	return name, builtin, iso, ok
}

// floatName finds the float model's operator a quantized operator stands
// for: its first output keeps the float name, or, for a model output
// written through a conversion, the name with the type's suffix.
func floatName(sg *fb.SubGraphT, op *fb.OperatorT, floatOps map[string]string) (string, string, bool) {
	if len(op.Outputs) == 0 || op.Outputs[0] < 0 {
		return "", "", false
	}
	n := sg.Tensors[op.Outputs[0]].Name
	if kind, ok := floatOps[n]; ok {
		return n, kind, true
	}
	for _, suf := range []string{"_int8", "_int16", "_uint8"} {
		if b, cut := strings.CutSuffix(n, suf); cut {
			if kind, ok := floatOps[b]; ok {
				return b, kind, true
			}
		}
	}
	return "", "", false
}

// worstSQNR is the lowest output SQNR (NaN counts as -Inf).
func worstSQNR(v *Verification) float64 {
	w := math.Inf(1)
	if v == nil || len(v.Outputs) == 0 {
		return math.Inf(-1)
	}
	for _, o := range v.Outputs {
		s := float64(o.Metrics.SQNR)
		if math.IsNaN(s) {
			s = math.Inf(-1)
		}
		w = min(w, s)
	}
	return w
}

func outputSQNR(v *Verification) []OutputSQNR {
	out := []OutputSQNR{}
	if v == nil {
		return out
	}
	for _, o := range v.Outputs {
		out = append(out, OutputSQNR{Name: o.Name, SQNR: o.Metrics.SQNR})
	}
	return out
}

// integerShare is the share of the operators computing on activations
// that run an integer kernel.
func integerShare(r *PassReport) float64 {
	if r == nil || r.IntegerOps+len(r.FloatOps) == 0 {
		return 0
	}
	return float64(r.IntegerOps) / float64(r.IntegerOps+len(r.FloatOps))
}

// WriteText prints the fallback section of the text report.
func (f *Fallback) WriteText(w io.Writer) error {
	state := "reached"
	if !f.Reached {
		state = "NOT reached"
	}
	fmt.Fprintf(w, "fallback to --target-sqnr %g dB: %s after %d step(s), %.0f ms; start: %s\n", f.TargetSQNR, state, len(f.Steps), f.ElapsedMS, sqnrList(f.Start))
	for i, s := range f.Steps {
		mark := ""
		if i+1 == f.Best && !f.Reached {
			mark = "  <- kept"
		}
		why := ""
		if s.Action == "float" || s.Action == "int16" {
			why = fmt.Sprintf(" (isolated %s dB)", s.Isolated)
		}
		fmt.Fprintf(w, "  %-3d %-7s %-18s %s%s: %s; %d bytes, %.0f%% integer%s\n", i+1, s.Action, s.Builtin, s.Operator, why,
			sqnrList(s.Outputs), s.Size, 100*s.IntegerShare, mark)
	}
	if len(f.FloatOps) > 0 {
		if _, err := fmt.Fprintf(w, "  left float: --float-ops %s\n", strings.Join(f.FloatOps, ",")); err != nil {
			return err
		}
	}
	if len(f.Int16Ops) > 0 {
		_, err := fmt.Fprintf(w, "  made int16: --int16-ops %s\n", strings.Join(f.Int16Ops, ","))
		return err
	}
	return nil
}

func sqnrList(outs []OutputSQNR) string {
	parts := make([]string, len(outs))
	for i, o := range outs {
		parts[i] = fmt.Sprintf("%s %s dB", o.Name, o.SQNR)
	}
	return strings.Join(parts, ", ")
}

// errAllFloat: every operator would be float, and the model's integer
// inputs or outputs would go with them.
var errAllFloat = errors.New("every operator float")

// requantize quantizes a fresh copy of the float model (the pass changes
// the model it is given) with the given ranges and options.
func requantize(model []byte, mode quant.FullMode, ranges quant.Ranges, q quant.Options, save func(*tflite.Model) ([]byte, error)) ([]byte, *PassReport, error) {
	m, err := tflite.Load(model)
	if err != nil {
		return nil, nil, err
	}
	pass, err := quant.Full(m, mode, ranges, q)
	if err != nil {
		return nil, nil, err
	}
	if pass.Noop {
		if q.InputType != fb.TensorTypeFLOAT32 || q.OutputType != fb.TensorTypeFLOAT32 {
			return nil, nil, errAllFloat
		}
		return append([]byte{}, model...), pass, nil
	}
	b, err := save(m)
	if err != nil {
		return nil, nil, err
	}
	return b, pass, nil
}
