// Package convert is litequant's single entry point: model bytes,
// calibration files and options in; the quantized model and a report out.
// The CLI and the browser both call Convert, and Options mirrors the CLI's
// `quantize` flags one to one (same names, same defaults, same checks), so
// the two front ends cannot drift apart.
package convert

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"litequant/core/internal/calib"
	"litequant/core/internal/quant"
	"litequant/core/internal/rangemethod"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Options are the quantization settings. The JSON names are the CLI flag
// names with dashes as underscores.
type Options struct {
	// Mode is one of Modes; empty means Dynamic.
	Mode Mode `json:"mode"`
	// MinWeightElements: weights with fewer elements stay float (default
	// 1024, as the converter).
	MinWeightElements int `json:"min_weight_elements"`
	// SkipOps is a comma-separated list of BuiltinOperator names whose
	// weights stay float.
	SkipOps string `json:"skip_ops"`
	// SkipTensors is a regular expression over tensor names: matching
	// weights stay float.
	SkipTensors string `json:"skip_tensors"`
	// AllowNoop: a model with nothing to quantize is copied unchanged
	// instead of being an error.
	AllowNoop bool `json:"allow_noop"`

	// Calibration (int8, int16x8, uint8).
	CalibCount int     `json:"calib_count"` // 0: all samples, up to 500
	ImageMean  float32 `json:"image_mean"`  // 0 with ImageStd 0: 127.5
	ImageStd   float32 `json:"image_std"`   // 0: 127.5
	// Calibration is the method choosing activation ranges from the
	// statistics: minmax (default), percentile, mse, entropy or auto
	// (methods.go); Percentile is the percentile method's P (0: 99.99).
	Calibration string  `json:"calibration"`
	Percentile  float64 `json:"percentile"`

	// Full-integer output (int8, int16x8, uint8).
	//
	// InputType and OutputType are the model's input and output types:
	// float32 (default: QUANTIZE/DEQUANTIZE operators at the boundary),
	// int8 or uint8 (int8 mode), int16 (int16x8 mode); uint8 (default)
	// or float32 in uint8 mode.
	InputType  string `json:"input_type"`
	OutputType string `json:"output_type"`
	// IntegerOnly makes an operator without an integer kernel an error
	// instead of leaving it float.
	IntegerOnly bool `json:"integer_only"`
	// PlainWeights rounds weights to nearest and keeps biases as trained,
	// as TensorFlow's converter does, instead of tuning them from the
	// calibration statistics.
	PlainWeights bool `json:"plain_weights"`

	// InputStats (uint8) are the model inputs' quantized_input_stats:
	// "MEAN,STD" per float input in order, or "NAME=MEAN,STD" each; the
	// input's scale is 1/STD and its zero point round(MEAN).
	InputStats []string `json:"input_stats"`
	// DefaultRange, "MIN,MAX", is the range of every activation without
	// one from FAKE_QUANT operators, min/max recorded in the model or
	// calibration (int8, int16x8, uint8); the report warns which.
	DefaultRange string `json:"default_range"`

	// Verification: the quantized model is run beside the float one on
	// samples calibration never saw, and the report gets a verification
	// section. VerifySplit holds back that fraction of the calibration
	// samples (calibrated modes); VerifyRandom verifies on that many
	// random inputs (for a model without samples). Request.Verify gives
	// verification files instead.
	VerifySplit  float64 `json:"verify_split,omitempty"`
	VerifyRandom int     `json:"verify_random,omitempty"`

	// Float fallback (int8, int16x8, uint8; fallback.go). FloatOps name
	// operators, by their first output tensor, that stay float; Int16Ops
	// those to run on int16 activations (int8 mode; fallback_int16.go); TargetSQNR
	// (dB, 0: off) leaves float, one by one, the operators doing the most
	// damage until every output reaches it on the verification samples.
	FloatOps   []string `json:"float_ops,omitempty"`
	Int16Ops   []string `json:"int16_ops,omitempty"`
	TargetSQNR float64  `json:"target_sqnr,omitempty"`
	// Limits: memory and image-size limits, fixed input shapes (limits.go).
	Limits
}

// EffectiveMode returns the mode the options select (Dynamic when unset).
func (o Options) EffectiveMode() Mode {
	if o.Mode == "" {
		return Dynamic
	}
	return o.Mode
}

// NeedsCalibration reports whether the mode calibrates activation ranges.
func (o Options) NeedsCalibration() bool { return o.EffectiveMode().Calibrates() }

// quantOptions checks the options and converts those the passes take.
// Errors name the option as the CLI spells it.
func (o Options) quantOptions() (quant.Options, error) {
	var q quant.Options
	if err := o.EffectiveMode().check(); err != nil {
		return q, err
	}
	if err := o.Limits.validate(); err != nil {
		return q, err
	}
	if err := o.checkVerify(0); err != nil {
		return q, err
	}
	if err := o.checkMethod(); err != nil {
		return q, err
	}
	if err := o.checkTarget(); err != nil {
		return q, err
	}
	q.FloatOps = o.FloatOps
	q.Int16Ops = o.Int16Ops
	if o.MinWeightElements < 0 {
		return q, fmt.Errorf("--min-weight-elements must be at least 1, got %d", o.MinWeightElements)
	}
	q.MinWeightElements = o.MinWeightElements
	ops, err := parseOps(o.SkipOps)
	if err != nil {
		return q, fmt.Errorf("--skip-ops: %w", err)
	}
	q.SkipOps = ops
	if o.SkipTensors != "" {
		re, err := regexp.Compile(o.SkipTensors)
		if err != nil {
			return q, fmt.Errorf("--skip-tensors: invalid regular expression %q: %v", o.SkipTensors, err)
		}
		q.SkipTensors = re
	}
	q.AllowNoop = o.AllowNoop
	if o.CalibCount < 0 {
		return q, fmt.Errorf("--calib-count must be positive, got %d", o.CalibCount)
	}
	if o.ImageStd < 0 {
		return q, fmt.Errorf("--image-std must be positive, got %g", o.ImageStd)
	}
	inType, outType := o.InputType, o.OutputType
	if o.EffectiveMode() == Uint8 {
		// The legacy scheme's model I/O is uint8 unless asked otherwise.
		if inType == "" {
			inType = "uint8"
		}
		if outType == "" {
			outType = "uint8"
		}
	}
	if q.InputType, err = ioType("--input-type", inType); err != nil {
		return q, err
	}
	if q.OutputType, err = ioType("--output-type", outType); err != nil {
		return q, err
	}
	if len(o.InputStats) > 0 {
		if o.EffectiveMode() != Uint8 {
			return q, fmt.Errorf("--input-stats applies to --mode uint8, not --mode %s", o.EffectiveMode())
		}
		if q.InputStats, err = parseInputStats(o.InputStats); err != nil {
			return q, err
		}
	}
	if o.DefaultRange != "" {
		if !o.EffectiveMode().Calibrates() {
			return q, fmt.Errorf("--default-range applies to the full-integer modes (%s), not --mode %s", calibratedModes(","), o.EffectiveMode())
		}
		if q.DefaultRange, err = parseRange(o.DefaultRange); err != nil {
			return q, err
		}
	}
	q.IntegerOnly, q.PlainWeights = o.IntegerOnly, o.PlainWeights
	if mi, _ := o.EffectiveMode().info(); mi.Calibrates {
		if err := quant.CheckIOTypes(mi.full, q); err != nil {
			return q, err
		}
	} else {
		full := []string{}
		if o.InputType != "" && o.InputType != "float32" {
			full = append(full, "--input-type")
		}
		if o.OutputType != "" && o.OutputType != "float32" {
			full = append(full, "--output-type")
		}
		if o.IntegerOnly {
			full = append(full, "--integer-only")
		}
		if o.PlainWeights {
			full = append(full, "--plain-weights")
		}
		if len(full) > 0 {
			verb := "applies"
			if len(full) > 1 {
				verb = "apply"
			}
			return q, fmt.Errorf("%s %s to the full-integer modes (%s), not --mode %s", strings.Join(full, " and "), verb, calibratedModes(","), o.EffectiveMode())
		}
	}
	return q, nil
}

// CheckSamples reports an error when calibration samples are given to a
// mode that takes none.
func (o Options) CheckSamples(files int) error {
	if files > 0 && !o.NeedsCalibration() {
		return fmt.Errorf("--mode %s takes no calibration samples (they are for %s)", o.EffectiveMode(), calibratedModes("and"))
	}
	return nil
}

// Validate checks the options without converting anything.
func (o Options) Validate() error {
	_, err := o.quantOptions()
	return err
}

// Progress is a step of a conversion, for progress bars.
type Progress struct {
	Phase string `json:"phase"` // reading, calibrating, quantizing, writing, verifying, fallback (Done: re-quantizations)
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// Request is one conversion.
type Request struct {
	Model   []byte
	Calib   []samples.File
	Options Options
	// Verify are verification samples (see Options.VerifySplit).
	Verify []samples.File
	// Stats, if set, are calibration statistics from an earlier run on the
	// same model and samples; calibration is skipped.
	Stats *calib.Stats
	// Merged says Stats were just computed, by shards (CalibrateShard,
	// MergeStats), not taken from a cache: the report says so.
	Merged bool
	// Progress, if set, is told each phase (and each calibration sample).
	Progress func(Progress)
}

// Result is a finished conversion.
type Result struct {
	Model  []byte
	Report *Report
	// Stats are the calibration statistics used (computed or given), for
	// caching; nil for modes without calibration.
	Stats *calib.Stats
}

// Report is what a conversion did: the pass's report plus calibration.
type Report struct {
	Mode        Mode             `json:"mode"`
	Quantize    *PassReport      `json:"quantize"`
	Calibration *CalibrationInfo `json:"calibration,omitempty"`
	SizeBefore  int              `json:"size_before"`
	SizeAfter   int              `json:"size_after"`
	ElapsedMS   float64          `json:"elapsed_ms"`
	// Verification is present when the options or request ask for it.
	Verification *Verification `json:"verification,omitempty"`
	// Fallback is present with Options.TargetSQNR (fallback.go).
	Fallback *Fallback `json:"fallback,omitempty"`
	// Metadata is present when the model has TFLite metadata or image
	// samples were normalized (metadata.go).
	Metadata *MetadataReport `json:"metadata,omitempty"`
}

// CalibrationInfo describes the samples and the calibration run.
type CalibrationInfo struct {
	Samples   int     `json:"samples"`
	Sources   string  `json:"sources"`
	Cached    bool    `json:"cached"`
	ElapsedMS float64 `json:"elapsed_ms"`
	// Method is the calibration method (Options.Calibration); Percentile
	// its percentile; Methods auto's per-tensor picks and Auto its
	// whole-model check (methods.go).
	Method     string               `json:"method,omitempty"`
	Percentile float64              `json:"percentile,omitempty"`
	Methods    []rangemethod.Choice `json:"methods,omitempty"`
	Auto       *AutoCheck           `json:"auto,omitempty"`
}

// PassReport is what the quantization pass did to the model: per-operator
// and per-tensor decisions, sizes, warnings. Its JSON fields are the
// report's (README, "The report").
type PassReport = quant.Report

// DefaultMinWeightElements is the default of Options.MinWeightElements: as
// TensorFlow's converter, weights with fewer elements stay float.
const DefaultMinWeightElements = quant.DefaultMinWeightElements

// ErrNothingToDo is wrapped when the model has nothing to quantize and
// AllowNoop is not set.
var ErrNothingToDo = quant.ErrNothingToDo

// Convert runs one conversion. It checks ctx between steps (and between
// calibration samples) and returns ctx's error when cancelled.
func Convert(ctx context.Context, req Request) (_ *Result, err error) {
	defer catchPanic(&err)
	start := time.Now()
	progress := func(phase string, done, total int) {
		if req.Progress != nil {
			req.Progress(Progress{phase, done, total})
		}
	}
	qopts, err := req.Options.quantOptions()
	if err != nil {
		return nil, err
	}
	progress("reading", 0, 1)
	m, err := tflite.Load(req.Model)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := req.Options.checkVerify(len(req.Verify)); err != nil {
		return nil, err
	}
	if err := req.Options.checkTargetVerify(len(req.Verify)); err != nil {
		return nil, err
	}
	rep := &Report{Mode: req.Options.EffectiveMode(), SizeBefore: len(req.Model)}
	meta := &MetadataReport{}
	typesIn, typesOut := metaIOTypes(m)
	res := &Result{Report: rep}
	var plan *verifyPlan
	var requant requantizer
	switch {
	case len(req.Verify) > 0:
		if plan, err = verifyFiles(m, req.Verify, req.Options); err != nil {
			return nil, err
		}
	case req.Options.VerifyRandom > 0:
		if plan, err = verifyRandom(m, req.Options); err != nil {
			return nil, err
		}
	}
	switch mi, _ := rep.Mode.info(); {
	case !mi.Calibrates:
		if err := req.Options.CheckSamples(len(req.Calib)); err != nil {
			return nil, err
		}
		progress("quantizing", 0, 1)
		pass := quant.Dynamic
		if rep.Mode == Float16 {
			pass = quant.Float16
		}
		rep.Quantize, err = pass(m, qopts)
	default:
		stats := req.Stats
		// A model with its own ranges (quantization-aware training, or
		// calibrated elsewhere), or a default range, needs no samples.
		noSamples := len(req.Calib) == 0 && (quant.HasTrainedRanges(m) || qopts.DefaultRange != nil)
		var set *samples.Set
		// The samples are read when calibration needs them, and when
		// some are held back for verification (cached statistics were
		// computed on the same split, which the calibration key names).
		if len(req.Calib) > 0 && (stats == nil || req.Options.VerifySplit > 0) {
			progress("reading", 0, 1)
			if set, err = loadSamples(m, req, meta, false); err != nil {
				return nil, err
			}
			if req.Options.VerifySplit > 0 {
				if set, plan, err = splitHeld(set, req.Options); err != nil {
					return nil, err
				}
			}
		}
		switch {
		case stats == nil && noSamples:
		case stats == nil:
			if stats, rep.Calibration, err = calibrate(ctx, m, set, req.Options, progress); err != nil {
				return nil, err
			}
		default:
			rep.Calibration = &CalibrationInfo{Samples: stats.Samples, Sources: stats.Sources, Cached: !req.Merged, ElapsedMS: ms(stats.Elapsed)}
			cachedNormalization(m, req, meta)
		}
		res.Stats = stats
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progress("quantizing", 0, 1)
		if plan != nil {
			plan.maxMemory = req.Options.memoryLimit()
		}
		var ranges quant.Ranges
		m, rep.Verification, ranges, err = quantizeCalibrated(ctx, req.Model, m, mi.full, stats, qopts, req.Options, plan, rep, progress)
		requant = func(q quant.Options) ([]byte, *PassReport, error) {
			return requantize(req.Model, mi.full, ranges, q, func(m *tflite.Model) ([]byte, error) { return saveWithMetadata(req.Model, m, typesIn, typesOut, meta) })
		}
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	progress("writing", 0, 1)
	if rep.Quantize != nil && rep.Quantize.Noop {
		res.Model = append([]byte{}, req.Model...)
	} else {
		if res.Model, err = saveWithMetadata(req.Model, m, typesIn, typesOut, meta); err != nil {
			return nil, err
		}
	}
	if meta.Normalization != "" || meta.Warning != "" || len(meta.Updated) > 0 || len(meta.Files) > 0 {
		rep.Metadata = meta
	}
	rep.SizeAfter = len(res.Model)
	progress("writing", 1, 1)
	if plan != nil && !(rep.Quantize != nil && rep.Quantize.Noop) {
		plan.maxMemory = req.Options.memoryLimit()
		// calibration --auto has verified the model it kept already.
		if rep.Verification == nil {
			if rep.Verification, err = verify(ctx, req.Model, res.Model, plan, progress); err != nil {
				return nil, err
			}
		}
		if req.Options.TargetSQNR > 0 && requant != nil {
			if err := fallback(ctx, req, qopts, res, plan, requant, progress); err != nil {
				return nil, err
			}
			rep.SizeAfter = len(res.Model)
		}
	}
	rep.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// loadSamples reads the calibration samples for m's first subgraph.
func loadSamples(m *tflite.Model, req Request, meta *MetadataReport, lazy bool) (*samples.Set, error) {
	if len(m.Subgraphs) == 0 {
		return nil, errors.New("the model has no subgraph")
	}
	inputs, pixels, err := req.Options.modelInputs(m)
	if err != nil {
		return nil, err
	}
	so, note := sampleOptions(m, req.Options, pixels)
	so.MaxImagePixels = req.Options.MaxImagePixels
	so.Lazy = lazy // a shard decodes only its own images (CalibrateShard)
	set, err := samples.Load(inputs, req.Calib, so)
	if err != nil {
		return nil, err
	}
	if hasImages(set) {
		meta.Normalization = note
	}
	return set, checkAgree(inputs, set)
}

// calibrate runs the float model on the calibration samples.
func calibrate(ctx context.Context, m *tflite.Model, set *samples.Set, o Options, progress func(string, int, int)) (*calib.Stats, *CalibrationInfo, error) {
	if set == nil {
		return nil, nil, fmt.Errorf("--mode %s needs calibration samples: pass --calib FILE or FOLDER (.npy, .npz, images, .wav)", o.EffectiveMode())
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	progress("calibrating", 0, set.Len())
	stats, err := calib.Run(ctx, m, set, calibOptions(o, set, func(done, total int) { progress("calibrating", done, total) }))
	if err != nil {
		return nil, nil, fmt.Errorf("calibration: %w", err)
	}
	return stats, &CalibrationInfo{Samples: stats.Samples, Sources: set.Describe(), ElapsedMS: ms(stats.Elapsed)}, nil
}

// ModelInputs describes the inputs of m's first subgraph for
// samples.Load, and reports whether uint8 arrays are to be taken as image
// pixels: when some input is a FLOAT32 image (rank 4), a uint8 .npy or
// .npz array is almost always a batch of pixels, so it is normalised with
// --image-mean/--image-std like an image file rather than fed as the
// values 0..255.
func ModelInputs(m *tflite.Model) (inputs []samples.Input, uint8AsPixels bool) {
	sg := m.Subgraphs[0]
	for _, ti := range sg.Inputs {
		t := sg.Tensors[ti]
		shape := make([]int, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int(d)
			if i < len(t.ShapeSignature) && t.ShapeSignature[i] < 0 {
				shape[i] = -1
			}
		}
		inputs = append(inputs, samples.Input{Name: t.Name, Type: t.Type, Shape: shape})
		if t.Type == fb.TensorTypeFLOAT32 && len(t.Shape) == 4 {
			uint8AsPixels = true
		}
	}
	return inputs, uint8AsPixels
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
