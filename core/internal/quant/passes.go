// The pass driver that Dynamic, Float16 and Full share: analyse, then
// apply, then commit the edits and finish the report.

package quant

import (
	"fmt"
	"math"
	"time"

	"litequant/core/internal/opversion"
	"litequant/core/tflite"
)

// pass is the mode-specific part of a pass: it analyses the model (without
// changing it) and returns a function that applies the edits, or a reason
// why there is nothing to do.
type pass func(g *graph, opts Options, r *Report) (apply func(), noop string)

// run runs pass p (which cannot fail) on m: see runE.
func run(m *tflite.Model, opts Options, mode string, p pass) (*Report, error) {
	return runE(m, opts, mode, func(g *graph, opts Options, r *Report) (func(), string, error) {
		apply, noop := p(g, opts, r)
		return apply, noop, nil
	})
}

// passE is a pass whose analysis can fail.
type passE func(g *graph, opts Options, r *Report) (apply func(), noop string, err error)

// runE runs pass p on m as mode: it refuses a fully quantized model, lets
// p analyse the graph, and applies its edits only when the analysis
// succeeds and found something to do (with opts.AllowNoop, an empty pass
// gives a Noop report). It then commits the edits, drops unused buffers
// and completes the report.
func runE(m *tflite.Model, opts Options, mode string, p passE) (*Report, error) {
	start := time.Now()
	if fullyQuantized(m) {
		what := map[string]string{"dynamic": "dynamic-range"}[mode]
		if what == "" {
			what = mode
		}
		return nil, fmt.Errorf("%w: its activations are integers already, and %s quantization applies to float models", ErrFullyQuantized, what)
	}
	before, err := m.Save()
	if err != nil {
		return nil, fmt.Errorf("input model: %w", err)
	}
	r := &Report{Mode: mode, MinWeightElements: opts.minElements(), SizeBefore: len(before),
		Weights: []Weight{}, FloatOps: []FloatOp{}, OpVersions: []opversion.Raise{}}
	g := newGraph(m)
	apply, noop, err := p(g, opts, r)
	if err != nil {
		return nil, err
	}
	if apply == nil {
		if !opts.AllowNoop {
			return nil, fmt.Errorf("%w: %s", ErrNothingToDo, noop)
		}
		r.Noop, r.NoopReason = true, noop
		r.resolve(g)
		r.SizeAfter = r.SizeBefore
		r.MinRuntimeVersion, _ = opversion.MinRuntimeOf(m)
		r.MinRuntimeBefore = r.MinRuntimeVersion
		r.ElapsedMS = ms(time.Since(start))
		return r, nil
	}
	apply()
	g.commit()
	compactBuffers(m)
	r.finish(g)
	if r.finishFull != nil {
		r.finishFull()
	}
	after, err := m.Save()
	if err != nil {
		return nil, fmt.Errorf("internal error: the quantized model does not save: %w", err)
	}
	r.SizeAfter = len(after)
	r.ElapsedMS = ms(time.Since(start))
	return r, nil
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }
