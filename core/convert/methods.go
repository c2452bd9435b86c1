package convert

import (
	"context"
	"fmt"
	"math"

	"litequant/core/internal/calib"
	"litequant/core/internal/quant"
	"litequant/core/internal/rangemethod"
	"litequant/core/tflite"
)

// Calibration methods (Options.Calibration): how a calibrated activation's
// range is chosen from the statistics. One calibration pass records what
// every method needs (min/max and a histogram per activation), so the
// method and percentile are not calibration settings: changing them
// reuses cached statistics (CalibrationSettings leaves them out).

// AutoCheck is auto's end-to-end check: the model with auto's per-tensor
// ranges and the min/max model, each run on the verification samples;
// the one whose worst output SQNR is higher is kept.
type AutoCheck struct {
	// Kept is "auto" or "minmax".
	Kept string `json:"kept"`
	// AutoSQNR and MinMaxSQNR are the worst output SQNR of each (dB);
	// absent without verification samples.
	AutoSQNR   *float64 `json:"auto_sqnr_db,omitempty"`
	MinMaxSQNR *float64 `json:"minmax_sqnr_db,omitempty"`
	// Note says why the whole models were not compared.
	Note string `json:"note,omitempty"`
}

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
	qopts quant.Options, o Options, plan *verifyPlan, rep *Report, progress func(string, int, int)) (*tflite.Model, *Verification, error) {
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
		return m, nil, err
	}
	names := func(sg, t int) string {
		if sg < 0 || sg >= len(m.Subgraphs) || t < 0 || t >= len(m.Subgraphs[sg].Tensors) {
			return fmt.Sprintf("tensor %d", t)
		}
		return m.Subgraphs[sg].Tensors[t].Name
	}
	ranges, err := rangemethod.New(stats, o.method(), o.Percentile, methodGrid(mode), names)
	if err != nil {
		return nil, nil, err
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
		return m, nil, err
	}
	if plan == nil {
		ci.Auto = &AutoCheck{Kept: "auto", Note: "no verification samples: the per-tensor picks are kept unchecked (give --verify, --verify-split or --verify-random to compare the whole model with min/max)"}
		return m, nil, nil
	}
	if rep.Quantize != nil && rep.Quantize.Noop {
		ci.Auto = &AutoCheck{Kept: "auto", Note: "nothing was quantized"}
		return m, nil, nil
	}
	// The whole model, against min/max's, on the verification samples.
	autoBytes, err := m.Save()
	if err != nil {
		return nil, nil, err
	}
	mm, err := tflite.Load(model)
	if err != nil {
		return nil, nil, err
	}
	mmRep, err := quant.Full(mm, mode, stats, qopts)
	if err != nil {
		return nil, nil, fmt.Errorf("auto: the min/max model: %w", err)
	}
	mmBytes, err := mm.Save()
	if err != nil {
		return nil, nil, err
	}
	va, err := verify(ctx, model, autoBytes, plan, progress)
	if err != nil {
		return nil, nil, err
	}
	vm, err := verify(ctx, model, mmBytes, plan, progress)
	if err != nil {
		return nil, nil, err
	}
	sa, okA := worstSQNR(va)
	sm, okM := worstSQNR(vm)
	check := &AutoCheck{Kept: "auto"}
	if okA {
		check.AutoSQNR = finiteOrNil(sa)
	}
	if okM {
		check.MinMaxSQNR = finiteOrNil(sm)
	}
	ci.Auto = check
	if !okA || (okM && sm > sa) {
		check.Kept = rangemethod.MinMax
		if !okA {
			check.Note = "the auto model could not be verified: " + va.Error
		}
		rep.Quantize = mmRep
		return mm, vm, nil
	}
	return m, va, nil
}

// worstSQNR is the lowest output SQNR of a verification.
func worstSQNR(v *Verification) (float64, bool) {
	if v == nil || v.Error != "" || len(v.Outputs) == 0 {
		return 0, false
	}
	w := math.Inf(1)
	for _, o := range v.Outputs {
		w = min(w, float64(o.Metrics.SQNR))
	}
	return w, !math.IsNaN(w)
}

func finiteOrNil(x float64) *float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return nil
	}
	return &x
}
