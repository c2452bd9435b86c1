package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"regexp/syntax"
	"strings"

	"litequant/core/convert"
	"litequant/core/samples"
	"litequant/core/tflite"
)

var quantizeUsage = "quantize [--mode " + modeNames("|") + "] [--calib PATH ...] [--calib-count N] [--image-mean M --image-std S] " +
	"[--calibration minmax|percentile|mse|entropy|auto [--percentile P]] " +
	"[--input-type T] [--output-type T] [--input-stats [NAME=]MEAN,STD ...] [--default-range MIN,MAX] [--integer-only] [--plain-weights] " +
	"[--min-weight-elements N] [--skip-ops OP,...] [--skip-tensors REGEX] " +
	"[--verify PATH ... | --verify-split F | --verify-random N] [--target-sqnr DB] [--float-ops NAME,...] [--input-shape NAME=D,D,... ...] [--max-memory SIZE] [--max-image-pixels N] [--report R.json] [--allow-noop] [--config RECIPE.json] -o OUT.tflite IN.tflite"

// quantizeFlags holds the command line of `litequant quantize`. Every flag
// but -o, --report and --calib maps one to one onto a convert.Options field
// (the same names, dashes for underscores), so the CLI and the browser
// share every check.
type quantizeFlags struct {
	opts   convert.Options
	out    string
	report string
	calib  pathList
	verify pathList
}

func (f *quantizeFlags) register(fs *flag.FlagSet) {
	o := &f.opts
	fs.Func("mode", "quantization mode: "+modeNames(", ")+" (default dynamic)", func(v string) error { o.Mode = convert.Mode(v); return nil })
	fs.StringVar(&f.out, "o", "", "output model file")
	fs.StringVar(&f.report, "report", "", "write the report as JSON to this file")
	fs.IntVar(&o.MinWeightElements, "min-weight-elements", convert.DefaultMinWeightElements, "weights with fewer elements stay float (dynamic, float16)")
	fs.StringVar(&o.SkipOps, "skip-ops", "", "comma-separated BuiltinOperator names that stay float")
	fs.StringVar(&o.SkipTensors, "skip-tensors", "", "regular expression: weights (and, in int8/int16x8, operators reading or writing tensors) whose name matches stay float")
	fs.BoolVar(&o.AllowNoop, "allow-noop", false, "when there is nothing to quantize, write an unchanged copy and succeed")
	fs.Var(&f.calib, "calib", "calibration samples: a .npy, .npz, image or .wav file, or a folder of them (repeatable; int8, int16x8, uint8)")
	fs.IntVar(&o.CalibCount, "calib-count", 0, "use at most N calibration samples, taken evenly across the files (default: all, up to 500)")
	fs.StringVar(&o.Calibration, "calibration", "", "how activation ranges are chosen from the calibration data: minmax (default), percentile, mse, entropy, auto (int8, int16x8, uint8)")
	fs.Float64Var(&o.Percentile, "percentile", 0, "--calibration percentile (or auto): the percentile P in (0, 100] of the range (default 99.99)")
	fs.Func("image-mean", "image pixels p become (p - MEAN) / STD for float inputs (default 127.5)", floatFlag(&o.ImageMean))
	fs.Func("image-std", "see --image-mean (default 127.5)", floatFlag(&o.ImageStd))
	fs.StringVar(&o.InputType, "input-type", "", "model input type: float32 (default), int8, uint8 (int8 mode), int16 (int16x8 mode); uint8 (default) or float32 in uint8 mode")
	fs.StringVar(&o.OutputType, "output-type", "", "model output type: as --input-type")
	fs.Func("input-stats", "uint8 mode: MEAN,STD of a uint8 model input as in training (real = (q - MEAN) / STD): one per input in order, or NAME=MEAN,STD (repeatable)",
		func(v string) error { o.InputStats = append(o.InputStats, v); return nil })
	fs.StringVar(&o.DefaultRange, "default-range", "", "MIN,MAX: the range of activations with none from FAKE_QUANT operators, recorded min/max or calibration (int8, int16x8, uint8)")
	fs.BoolVar(&o.IntegerOnly, "integer-only", false, "fail when an operator has no integer kernel instead of leaving it float")
	fs.Var(&f.verify, "verify", "verification samples (as --calib takes): run the float and the quantized model on them and add a verification section to the report (repeatable)")
	fs.Float64Var(&o.VerifySplit, "verify-split", 0, "hold back this fraction of the calibration samples (never calibrated on) for verification (int8, int16x8, uint8)")
	fs.IntVar(&o.VerifyRandom, "verify-random", 0, "verify on N random inputs when there are no samples (dynamic, float16)")
	fs.String("config", "", "a recipe: the options as JSON, as the page saves them (flags given as well override it)")
	registerFallback(fs, o)
	fs.BoolVar(&o.PlainWeights, "plain-weights", false, "round weights to nearest and keep biases, as TensorFlow does, instead of tuning them from the calibration data")
	registerLimits(fs, &o.Limits)
}

// modeNames joins convert's mode names with sep.
func modeNames(sep string) string {
	names := make([]string, len(convert.Modes))
	for i, m := range convert.Modes {
		names[i] = string(m)
	}
	return strings.Join(names, sep)
}

func floatFlag(dst *float32) func(string) error {
	return func(s string) error {
		var v float32
		if _, err := fmt.Sscan(s, &v); err != nil {
			return fmt.Errorf("want a number, got %q", s)
		}
		*dst = v
		return nil
	}
}

// check validates the command line; mistakes are usage errors.
func (f *quantizeFlags) check() error {
	if f.out == "" {
		return usageError{"missing -o OUT.tflite"}
	}
	if f.opts.MinWeightElements < 1 {
		return usageError{fmt.Sprintf("--min-weight-elements must be at least 1, got %d", f.opts.MinWeightElements)}
	}
	if f.opts.SkipTensors != "" {
		if _, err := regexp.Compile(f.opts.SkipTensors); err != nil {
			return usageError{fmt.Sprintf("--skip-tensors: invalid regular expression %q: %s", f.opts.SkipTensors, regexpProblem(err))}
		}
	}
	if err := f.opts.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if err := f.opts.CheckSamples(len(f.calib)); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// regexpProblem returns the syntax error's own words, without Go's
// "error parsing regexp:" prefix.
func regexpProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return se.Code.String() + ": `" + se.Expr + "`"
	}
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// forInputs describes the model's inputs for an error about calibration
// files that could not be read: " (for input "x" (FLOAT32 [1, 4]))".
func forInputs(model []byte) string {
	m, err := tflite.Load(model)
	if err != nil || len(m.Subgraphs) == 0 {
		return ""
	}
	inputs, _ := convert.ModelInputs(m)
	var parts []string
	for _, in := range inputs {
		parts = append(parts, in.String())
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return " (for input " + parts[0] + ")"
	}
	return " (for inputs " + strings.Join(parts, ", ") + ")"
}

// cliReport is the --report JSON: the pass's report with the calibration
// run beside it.
type cliReport struct {
	*convert.PassReport
	Calibration  *convert.CalibrationInfo `json:"calibration,omitempty"`
	Verification *convert.Verification    `json:"verification,omitempty"`
	Fallback     *convert.Fallback        `json:"fallback,omitempty"`
	Metadata     *convert.MetadataReport  `json:"metadata,omitempty"`
}

func runQuantize(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("quantize", flag.ContinueOnError)
	var f quantizeFlags
	f.register(fs)
	if err := applyConfig(args, &f.opts); err != nil {
		return err
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{fmt.Sprintf("want one input model, got %d arguments", len(pos))}
	}
	if err := f.check(); err != nil {
		return err
	}
	in := pos[0]
	data, err := readModelFile(in)
	if err != nil {
		return err
	}
	var files, verify []samples.File
	if len(f.calib) > 0 {
		if files, err = samples.ReadPaths(f.calib); err != nil {
			return fmt.Errorf("%s: %w%s", in, err, forInputs(data))
		}
	}
	if len(f.verify) > 0 {
		if verify, err = samples.ReadPaths(f.verify); err != nil {
			return fmt.Errorf("%s: --verify: %w%s", in, err, forInputs(data))
		}
	}
	// Ctrl-C stops calibration at the next sample.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	update, clear := progressLine(progressOut())
	res, err := convert.Convert(ctx, convert.Request{Model: data, Calib: files, Verify: verify, Options: f.opts, Progress: update})
	clear()
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: interrupted; nothing written", in)
	case errors.Is(err, convert.ErrNothingToDo):
		return fmt.Errorf("%s: %w (pass --allow-noop to write an unchanged copy)", in, err)
	case err != nil:
		return fmt.Errorf("%s: %w", in, err)
	}
	rep := res.Report.Quantize
	rep.SizeBefore, rep.SizeAfter = res.Report.SizeBefore, res.Report.SizeAfter
	if err := os.WriteFile(f.out, res.Model, 0o644); err != nil {
		return err
	}
	if f.report != "" {
		js, err := json.MarshalIndent(cliReport{rep, res.Report.Calibration, res.Report.Verification, res.Report.Fallback, res.Report.Metadata}, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.report, append(js, '\n'), 0o644); err != nil {
			return err
		}
	}
	if c := res.Report.Calibration; c != nil {
		perSample := 0.0
		if c.Samples > 0 {
			perSample = c.ElapsedMS / float64(c.Samples)
		}
		if _, err := fmt.Fprintf(stdout, "calibration: %s; %.1f ms (%.2f ms/sample)\n", c.Sources, c.ElapsedMS, perSample); err != nil {
			return err
		}
		if err := writeMethod(stdout, c); err != nil {
			return err
		}
	}
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if v := res.Report.Verification; v != nil {
		if err := v.WriteText(stdout); err != nil {
			return err
		}
	}
	if fr := res.Report.Fallback; fr != nil {
		if err := fr.WriteText(stdout); err != nil {
			return err
		}
	}
	writeMetadata(stdout, res.Report.Metadata)
	if rep.Noop {
		_, err = fmt.Fprintf(stdout, "wrote an unchanged copy to %s\n", f.out)
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s\n", f.out)
	return err
}
