package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"

	"litequant/core/quant"
	"litequant/core/tflite"
)

const quantizeUsage = "quantize [--mode dynamic|float16] [--min-weight-elements N] [--skip-ops OP,...] [--skip-tensors REGEX] [--report R.json] [--allow-noop] -o OUT.tflite IN.tflite"

// quantizeMode is one --mode: the pass it runs. Later modes (int8,
// int16x8, uint8) add entries here, and their own flags to quantizeFlags.
type quantizeMode struct {
	run func(m *tflite.Model, opts quant.Options) (*quant.Report, error)
}

var quantizeModes = map[string]quantizeMode{
	"dynamic": {run: quant.Dynamic},
	"float16": {run: quant.Float16},
}

// quantizeFlags holds the command line of `litequant quantize`.
type quantizeFlags struct {
	mode        string
	out         string
	report      string
	minElements int
	skipOps     string
	skipTensors string
	allowNoop   bool
}

func (f *quantizeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mode, "mode", "dynamic", "quantization mode: "+strings.Join(modeNames(), ", "))
	fs.StringVar(&f.out, "o", "", "output model file")
	fs.StringVar(&f.report, "report", "", "write the report as JSON to this file")
	fs.IntVar(&f.minElements, "min-weight-elements", quant.DefaultMinWeightElements, "weights with fewer elements stay float")
	fs.StringVar(&f.skipOps, "skip-ops", "", "comma-separated BuiltinOperator names whose weights stay float")
	fs.StringVar(&f.skipTensors, "skip-tensors", "", "regular expression: weights whose tensor name matches stay float")
	fs.BoolVar(&f.allowNoop, "allow-noop", false, "when there is nothing to quantize, write an unchanged copy and succeed")
}

// options checks the flags and turns them into quant.Options; mistakes are
// usage errors.
func (f *quantizeFlags) options() (quantizeMode, quant.Options, error) {
	var opts quant.Options
	mode, ok := quantizeModes[f.mode]
	if !ok {
		return mode, opts, usageError{fmt.Sprintf("unknown --mode %q: want %s", f.mode, strings.Join(modeNames(), " or "))}
	}
	if f.out == "" {
		return mode, opts, usageError{"missing -o OUT.tflite"}
	}
	if f.minElements < 1 {
		return mode, opts, usageError{fmt.Sprintf("--min-weight-elements must be at least 1, got %d", f.minElements)}
	}
	opts.MinWeightElements = f.minElements
	ops, err := quant.ParseOps(f.skipOps)
	if err != nil {
		return mode, opts, usageError{"--skip-ops: " + err.Error()}
	}
	opts.SkipOps = ops
	if f.skipTensors != "" {
		re, err := regexp.Compile(f.skipTensors)
		if err != nil {
			return mode, opts, usageError{fmt.Sprintf("--skip-tensors: invalid regular expression %q: %s", f.skipTensors, regexpProblem(err))}
		}
		opts.SkipTensors = re
	}
	opts.AllowNoop = f.allowNoop
	return mode, opts, nil
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

func modeNames() []string {
	names := make([]string, 0, len(quantizeModes))
	for n := range quantizeModes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func runQuantize(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("quantize", flag.ContinueOnError)
	var f quantizeFlags
	f.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{fmt.Sprintf("want one input model, got %d arguments", len(pos))}
	}
	mode, opts, err := f.options()
	if err != nil {
		return err
	}
	in := pos[0]
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	m, err := tflite.Load(data)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	rep, err := mode.run(m, opts)
	switch {
	case errors.Is(err, quant.ErrNothingToDo):
		return fmt.Errorf("%s: %w (pass --allow-noop to write an unchanged copy)", in, err)
	case err != nil:
		return fmt.Errorf("%s: %w", in, err)
	}
	out := data // a no-op writes the input unchanged, byte for byte
	if !rep.Noop {
		if out, err = m.Save(); err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		rep.SizeAfter = len(out)
	}
	rep.SizeBefore = len(data)
	if err := os.WriteFile(f.out, out, 0o644); err != nil {
		return err
	}
	if f.report != "" {
		js, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.report, append(js, '\n'), 0o644); err != nil {
			return err
		}
	}
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if rep.Noop {
		_, err = fmt.Fprintf(stdout, "wrote an unchanged copy to %s\n", f.out)
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s\n", f.out)
	return err
}
