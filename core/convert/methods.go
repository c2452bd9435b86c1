package convert

import (
	"context"
	"fmt"
	"math"

	"litequant/core/internal/calib"
	"litequant/core/internal/compare"
	"litequant/core/internal/quant"
	"litequant/core/internal/rangemethod"
	"litequant/core/tflite"
)

// Calibration methods (Options.Calibration): how a calibrated activation's
// range is chosen from the statistics. One calibration pass records what
// every method needs (min/max and a histogram per activation), so the
// method and percentile are not calibration settings: changing them
// reuses cached statistics (CalibrationSettings leaves them out).

// AutoCheck is auto's end-to-end check on the verification samples: the
// model with auto's per-tensor picks and the models of each single method
// are run beside the float model. Min/max's model is kept unless
// another's worst-output SQNR is higher by more than 0.5 dB and 5% of
// min/max's (smaller differences are within what other samples reverse)
// and none of its
// outputs is worse than min/max's by more than 0.5 dB; of those, the one
// with the highest worst-output SQNR is kept.
type AutoCheck struct {
	// Kept is "auto" (the per-tensor picks) or the method kept for the
	// whole model.
	Kept string `json:"kept"`
	// Candidates are the whole models compared.
	Candidates []AutoCandidate `json:"candidates,omitempty"`
	// Note says why the whole models were not compared.
	Note string `json:"note,omitempty"`
}

// AutoCandidate is one whole model auto compared.
type AutoCandidate struct {
	Method string `json:"method"`
	// Outputs are the SQNR of each output (dB; null when exact), Worst
	// the lowest.
	Outputs []compare.DB `json:"outputs_sqnr_db"`
	Worst   compare.DB   `json:"worst_sqnr_db"`
	Error   string       `json:"error,omitempty"`
}

// autoTolerance is how much worse than min/max (dB) auto's kept model may
// be on any output of the verification samples; to replace min/max its
// worst output must be better by autoTolerance or autoMargin of min/max's
// figure, whichever is more: at 90 dB (int16x8 on a single operator) a
// dB is sample noise, at 3 dB it is not.
const (
	autoTolerance = 0.5
	autoMargin    = 0.05
)

// checkMethod checks Calibration and Percentile (quantOptions).
func (o Options) checkMethod() error {
	if err := rangemethod.Check(o.Calibration, o.Percentile); err != nil {
		return err
	}
	if o.Calibration != "" && !o.NeedsCalibration() {
		return fmt.Errorf("--calibration applies to the full-integer modes (%s), not --mode %s", calibratedModes(","), o.EffectiveMode())
	}
	return nil
}

// method returns the calibration method, "minmax" when unset.
func (o Options) method() string {
	if o.Calibration == "" {
		return rangemethod.MinMax
	}
	return o.Calibration
}

// resolvedMethod returns o with the method's defaults spelled out, so
// that they give the same result key as leaving them unset.
func (o Options) resolvedMethod() Options {
	if o.NeedsCalibration() {
		o.Calibration = o.method()
		if o.Percentile == 0 && (o.Calibration == rangemethod.Percentile || o.Calibration == rangemethod.Auto) {
			o.Percentile = rangemethod.DefaultPercentile
		}
	}
	return o
}

// methodGrid is the integer type of a mode's activations.
func methodGrid(mode quant.FullMode) rangemethod.Grid {
	switch mode {
	case quant.ModeInt16x8:
		return rangemethod.Grid{QMin: -32767, QMax: 32767, Symmetric: true}
	case quant.ModeUint8:
		return rangemethod.Grid{QMin: 0, QMax: 255}
	}
	return rangemethod.Grid{QMin: -128, QMax: 127}
}

// quantizeCalibrated runs the full-integer pass on m with the statistics'
// ranges as the method chooses them, filling the report's calibration
// method. It returns the model to write (m itself, or for auto possibly
// another quantization of model) and, when auto compared whole models on
// the verification plan, the verification of the one kept.
func quantizeCalibrated(ctx context.Context, model []byte, m *tflite.Model, mode quant.FullMode, stats *calib.Stats,
	qopts quant.Options, o Options, plan *verifyPlan, rep *Report, progress func(string, int, int)) (*tflite.Model, *Verification, quant.Ranges, error) {
	if stats == nil || o.method() == rangemethod.MinMax {
		if rep.Calibration != nil && stats != nil {
			rep.Calibration.Method = rangemethod.MinMax
		}
		var ranges quant.Ranges
		if stats != nil {
			ranges = stats
		}
		var err error
		rep.Quantize, err = quant.Full(m, mode, ranges, qopts)
		return m, nil, ranges, err
	}
	names := func(sg, t int) string {
		if sg < 0 || sg >= len(m.Subgraphs) || t < 0 || t >= len(m.Subgraphs[sg].Tensors) {
			return fmt.Sprintf("tensor %d", t)
		}
		return m.Subgraphs[sg].Tensors[t].Name
	}
	ranges, err := rangemethod.New(stats, o.method(), o.Percentile, methodGrid(mode), names)
	if err != nil {
		return nil, nil, nil, err
	}
	ci := rep.Calibration
	ci.Method = o.method()
	if ci.Method == rangemethod.Percentile || ci.Method == rangemethod.Auto {
		ci.Percentile = o.Percentile
		if ci.Percentile == 0 {
			ci.Percentile = rangemethod.DefaultPercentile
		}
	}
	ci.Methods = ranges.Choices
	if rep.Quantize, err = quant.Full(m, mode, ranges, qopts); err != nil || ci.Method != rangemethod.Auto {
		return m, nil, ranges, err
	}
	if plan == nil {
		ci.Auto = &AutoCheck{Kept: "auto", Note: "no verification samples: the per-tensor picks are kept unchecked (give --verify, --verify-split or --verify-random to compare the whole model with min/max)"}
		return m, nil, ranges, nil
	}
	if rep.Quantize != nil && rep.Quantize.Noop {
		ci.Auto = &AutoCheck{Kept: "auto", Note: "nothing was quantized"}
		return m, nil, ranges, nil
	}
	// The whole models, on the verification samples.
	check := &AutoCheck{}
	ci.Auto = check
	type built struct {
		m      *tflite.Model
		rep    *quant.Report
		v      *Verification
		ranges quant.Ranges
	}
	var models []built
	for _, method := range []string{rangemethod.Auto, rangemethod.MinMax, rangemethod.Percentile, rangemethod.MSE, rangemethod.Entropy} {
		bm, brep := m, rep.Quantize
		var r quant.Ranges = ranges
		if method != rangemethod.Auto {
			if bm, err = tflite.Load(model); err != nil {
				return nil, nil, nil, err
			}
			r = stats
			if method != rangemethod.MinMax {
				if r, err = rangemethod.New(stats, method, o.Percentile, methodGrid(mode), names); err != nil {
					return nil, nil, nil, err
				}
			}
			if brep, err = quant.Full(bm, mode, r, qopts); err != nil {
				return nil, nil, nil, fmt.Errorf("auto: the %s model: %w", method, err)
			}
		}
		b, err := bm.Save()
		if err != nil {
			return nil, nil, nil, err
		}
		v, err := verify(ctx, model, b, plan, progress)
		if err != nil {
			return nil, nil, nil, err
		}
		c := AutoCandidate{Method: method, Error: v.Error, Worst: compare.DB(math.Inf(1))}
		for _, out := range v.Outputs {
			c.Outputs = append(c.Outputs, out.Metrics.SQNR)
			c.Worst = min(c.Worst, out.Metrics.SQNR)
		}
		check.Candidates = append(check.Candidates, c)
		models = append(models, built{bm, brep, v, r})
	}
	mm := check.Candidates[1]
	best := 1 // min/max unless another is better and nowhere much worse
	for i, c := range check.Candidates {
		if c.Error != "" || len(c.Outputs) != len(mm.Outputs) || mm.Error != "" {
			continue
		}
		ok := true
		for k := range c.Outputs {
			ok = ok && !(float64(c.Outputs[k]) < float64(mm.Outputs[k])-autoTolerance)
		}
		margin := max(autoTolerance, autoMargin*math.Abs(float64(mm.Worst)))
		if ok && float64(c.Worst) > float64(mm.Worst)+margin && c.Worst > check.Candidates[best].Worst {
			best = i
		}
	}
	check.Kept = check.Candidates[best].Method
	rep.Quantize = models[best].rep
	return models[best].m, models[best].v, models[best].ranges, nil
}
