package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"

	"litequant/core/internal/compare"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Verification is a conversion's check of the quantized model against the
// float model on samples calibration never saw: the float and the
// quantized model run in litequant's interpreter, and every paired tensor
// gets its error (package compare; the isolated view is what ranks the
// layers).
type Verification struct {
	Samples int `json:"samples"`
	// Source says what the samples are: held-back calibration samples,
	// --verify files, or random inputs.
	Source string `json:"source"`
	// Outputs: per model output, SQNR and top-1 agreement.
	Outputs []*compare.OutputRow `json:"outputs,omitempty"`
	// Worst are the ten layers with the lowest isolated SQNR, worst first.
	Worst []*compare.TensorRow `json:"worst_layers,omitempty"`
	// Layers are every paired tensor in execution order (the page's
	// chart).
	Layers []*compare.TensorRow `json:"layers,omitempty"`
	// Error says why the check could not run (the model was written all
	// the same).
	Error     string  `json:"error,omitempty"`
	ElapsedMS float64 `json:"elapsed_ms"`
}

// verifyPlan is where a conversion's verification samples come from.
type verifyPlan struct {
	set       compare.Source
	source    string
	maxMemory int64 // the interpreters' limit (Options.MaxMemory)
}

// checkVerify checks the verification options against the request.
func (o Options) checkVerify(verifyFiles int) error {
	given := 0
	for _, on := range []bool{verifyFiles > 0, o.VerifySplit != 0, o.VerifyRandom != 0} {
		if on {
			given++
		}
	}
	if given > 1 {
		return errors.New("give one of --verify, --verify-split and --verify-random")
	}
	if o.VerifySplit != 0 {
		if !(o.VerifySplit > 0 && o.VerifySplit < 1) {
			return fmt.Errorf("--verify-split must be a fraction between 0 and 1, got %g", o.VerifySplit)
		}
		if !o.NeedsCalibration() {
			return fmt.Errorf("--verify-split holds back calibration samples, which --mode %s does not take: use --verify PATH or --verify-random N", o.EffectiveMode())
		}
	}
	if o.VerifyRandom < 0 || o.VerifyRandom > samples.MaxSamples {
		return fmt.Errorf("--verify-random must be between 1 and %d, got %d", samples.MaxSamples, o.VerifyRandom)
	}
	return nil
}

// verifyFiles plans verification on the given files.
func verifyFiles(m *tflite.Model, files []samples.File, o Options) (*verifyPlan, error) {
	inputs, pixels, err := o.modelInputs(m)
	if err != nil {
		return nil, err
	}
	so, _ := sampleOptions(m, o, pixels)
	so.CalibCount = 0
	so.MaxImagePixels = o.MaxImagePixels
	set, err := samples.Load(inputs, files, so)
	if err == nil {
		err = checkAgree(inputs, set)
	}
	if err != nil {
		return nil, fmt.Errorf("--verify: %w", err)
	}
	return &verifyPlan{set: set, source: set.Describe()}, nil
}

// splitHeld holds back o.VerifySplit of set for verification.
func splitHeld(set *samples.Set, o Options) (calib *samples.Set, plan *verifyPlan, err error) {
	kept, held := set.Split(o.VerifySplit)
	if held.Len() == 0 || kept.Len() == 0 {
		return nil, nil, fmt.Errorf("--verify-split %g of %d samples leaves no sample to hold back or none to calibrate on: give more samples or another fraction", o.VerifySplit, set.Len())
	}
	return kept, &verifyPlan{set: held, source: fmt.Sprintf("%s (never used for calibration)", plural(held.Len(), "held-back calibration sample"))}, nil
}

// verifyRandom plans verification on n random inputs, uniform over each
// input's recorded range (min/max in the model), else [-1, 1].
func verifyRandom(m *tflite.Model, o Options) (*verifyPlan, error) {
	n := o.VerifyRandom
	sg := m.Subgraphs[0]
	src := &randomSource{n: n}
	var ranges []string
	fixed, _, err := o.modelInputs(m)
	if err != nil {
		return nil, err
	}
	for k, ti := range sg.Inputs {
		t := sg.Tensors[ti]
		if t.Type != fb.TensorTypeFLOAT32 {
			return nil, fmt.Errorf("--verify-random: input %q is %s; random inputs are drawn for FLOAT32 inputs only: give samples with --verify", t.Name, tflite.TypeName(t.Type))
		}
		lo, hi, what := float32(-1), float32(1), "default"
		if q := t.Quantization; q != nil && len(q.Min) == 1 && len(q.Max) == 1 && q.Min[0] < q.Max[0] {
			lo, hi, what = q.Min[0], q.Max[0], "recorded"
		}
		// A dynamic dimension takes its --input-shape value, else the
		// model's placeholder size when there is one (1 for a batch).
		shape := append([]int(nil), fixed[k].Shape...)
		for i, d := range shape {
			if d < 0 && i < len(t.Shape) && t.Shape[i] > 0 {
				shape[i] = int(t.Shape[i])
			} else if d < 0 {
				return nil, fmt.Errorf("--verify-random: input %q has a dynamic shape %v: give --input-shape %s=... or samples with --verify", t.Name, fixed[k].Shape, t.Name)
			}
		}
		src.inputs = append(src.inputs, randomInput{shape: shape, lo: lo, hi: hi})
		ranges = append(ranges, fmt.Sprintf("%q in [%g, %g] (%s)", t.Name, lo, hi, what))
	}
	return &verifyPlan{set: src, source: fmt.Sprintf("%d random inputs, uniform: %s — no samples were given, so the figures say little about real data", n, strings.Join(ranges, ", "))}, nil
}

type randomInput struct {
	shape  []int
	lo, hi float32
}

// randomSource draws deterministic random float32 inputs.
type randomSource struct {
	inputs []randomInput
	n      int
}

func (r *randomSource) Len() int            { return r.n }
func (r *randomSource) Source(i int) string { return fmt.Sprintf("random input %d", i) }
func (r *randomSource) Shapes(int) [][]int {
	out := make([][]int, len(r.inputs))
	for k, in := range r.inputs {
		out[k] = in.shape
	}
	return out
}

func (r *randomSource) SampleTo(i int, dst [][]byte) ([][]byte, error) {
	rng := rand.New(rand.NewPCG(uint64(i), 0x11e9a))
	dst = make([][]byte, len(r.inputs))
	for k, in := range r.inputs {
		n := 1
		for _, d := range in.shape {
			n *= d
		}
		b := make([]byte, 4*n)
		for j := 0; j < n; j++ {
			v := in.lo + (in.hi-in.lo)*rng.Float32()
			bits := math.Float32bits(v)
			b[4*j], b[4*j+1], b[4*j+2], b[4*j+3] = byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24)
		}
		dst[k] = b
	}
	return dst, nil
}

// verify runs the plan on the float model's and the quantized model's
// bytes.
func verify(ctx context.Context, floatModel, quantModel []byte, plan *verifyPlan, progress func(string, int, int)) (*Verification, error) {
	return verifyView(ctx, floatModel, quantModel, plan, true, progress)
}

// verifyView is verify with or without the isolated view (outputs and
// accumulated figures only: one run of the quantized model less per
// sample).
func verifyView(ctx context.Context, floatModel, quantModel []byte, plan *verifyPlan, isolated bool, progress func(string, int, int)) (*Verification, error) {
	v := &Verification{Samples: plan.set.Len(), Source: plan.source}
	fm, err := tflite.Load(floatModel)
	if err != nil {
		return nil, err
	}
	qm, err := tflite.Load(quantModel)
	if err != nil {
		return nil, err
	}
	progress("verifying", 0, plan.set.Len())
	rep, err := compare.Run(ctx, fm, qm, plan.set, compare.Options{Isolated: isolated, MaxMemory: plan.maxMemory, Progress: func(done, total int) { progress("verifying", done, total) }})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		v.Error = err.Error()
		return v, nil
	}
	v.Outputs, v.Layers, v.ElapsedMS = rep.Outputs, rep.Tensors, rep.ElapsedMS
	byName := map[string]*compare.TensorRow{}
	for _, t := range rep.Tensors {
		byName[t.Name] = t
	}
	for _, name := range rep.WorstIsolated {
		v.Worst = append(v.Worst, byName[name])
	}
	return v, nil
}

// WriteText prints the verification for the text report.
func (v *Verification) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "verification on %s:\n", v.Source)
	if v.Error != "" {
		_, err := fmt.Fprintf(w, "  could not run: %s\n", v.Error)
		return err
	}
	for _, o := range v.Outputs {
		line := fmt.Sprintf("  output %q: SQNR %s dB", o.Name, o.Metrics.SQNR)
		if o.Top1 != nil {
			line += fmt.Sprintf(", top-1 agreement %.1f%%", 100**o.Top1)
		}
		fmt.Fprintln(w, line)
	}
	if len(v.Worst) > 0 {
		fmt.Fprintln(w, "  worst layers by isolated error (SQNR dB isolated / accumulated):")
	}
	for _, t := range v.Worst {
		fmt.Fprintf(w, "    %-4d %-18s %s: %s / %s\n", t.OpIndex, t.Operator, t.Name, t.Isolated.SQNR, t.Accumulated.SQNR)
	}
	return nil
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
