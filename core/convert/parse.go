package convert

// Parsing of the option values that are strings on the command line (and
// in the page's JSON): operator lists, input statistics, ranges, I/O types.
// Errors name the flag as the CLI spells it.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"litequant/core/internal/quant"
	fb "litequant/core/schema/tflitefb"
)

// parseOps parses a comma-separated list of BuiltinOperator names such as
// "CONV_2D,FULLY_CONNECTED" (case does not matter; empty items are
// ignored). An unknown name is an error naming it, with a suggestion when a
// real name is close.
func parseOps(list string) ([]fb.BuiltinOperator, error) {
	var ops []fb.BuiltinOperator
	for _, item := range strings.Split(list, ",") {
		name := strings.ToUpper(strings.TrimSpace(item))
		if name == "" {
			continue
		}
		code, ok := fb.EnumValuesBuiltinOperator[name]
		if !ok {
			msg := fmt.Sprintf("unknown operator %q: want BuiltinOperator names such as CONV_2D or FULLY_CONNECTED", strings.TrimSpace(item))
			if s := suggestOp(name); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			return nil, errors.New(msg)
		}
		ops = append(ops, code)
	}
	return ops, nil
}

// suggestOp returns the builtin name equal to name once underscores are
// ignored ("CONV2D" -> "CONV_2D"), or "".
func suggestOp(name string) string {
	squash := func(s string) string { return strings.ReplaceAll(s, "_", "") }
	want := squash(name)
	best := ""
	for n := range fb.EnumValuesBuiltinOperator {
		if squash(n) == want && (best == "" || n < best) {
			best = n
		}
	}
	return best
}

// parseInputStats parses --input-stats values, "MEAN,STD" or
// "NAME=MEAN,STD", checking what can be checked without the model: STD
// must be positive and MEAN within [0, 255].
func parseInputStats(list []string) ([]quant.InputStat, error) {
	var out []quant.InputStat
	named := 0
	for _, item := range list {
		var st quant.InputStat
		nums := item
		if i := strings.LastIndex(item, "="); i >= 0 {
			st.Name, nums = strings.TrimSpace(item[:i]), item[i+1:]
			if st.Name == "" {
				return nil, fmt.Errorf("--input-stats %q: empty input name (want MEAN,STD or NAME=MEAN,STD)", item)
			}
			named++
		}
		parts := strings.Split(nums, ",")
		if len(parts) != 2 {
			return nil, fmt.Errorf("--input-stats %q: want MEAN,STD or NAME=MEAN,STD", item)
		}
		var v [2]float32
		for k, s := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("--input-stats %q: %q is not a number (want MEAN,STD or NAME=MEAN,STD)", item, strings.TrimSpace(s))
			}
			v[k] = float32(f)
		}
		st.Mean, st.Std = v[0], v[1]
		if err := st.Check(); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if named > 0 && named < len(out) {
		return nil, fmt.Errorf("--input-stats: give every input by name (NAME=MEAN,STD) or none (one MEAN,STD per input, in order), not a mix")
	}
	return out, nil
}

// parseRange parses --default-range MIN,MAX.
func parseRange(s string) (*quant.MinMax, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return nil, fmt.Errorf("--default-range %q: want MIN,MAX", s)
	}
	var v [2]float32
	for k, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("--default-range %q: %q is not a number (want MIN,MAX)", s, strings.TrimSpace(p))
		}
		v[k] = float32(f)
	}
	if v[0] > v[1] {
		return nil, fmt.Errorf("--default-range %q: MIN must not exceed MAX", s)
	}
	return &quant.MinMax{Min: v[0], Max: v[1]}, nil
}

// ioTypes are the accepted --input-type/--output-type names.
var ioTypes = map[string]fb.TensorType{
	"": fb.TensorTypeFLOAT32, "float32": fb.TensorTypeFLOAT32, "int8": fb.TensorTypeINT8,
	"uint8": fb.TensorTypeUINT8, "int16": fb.TensorTypeINT16,
}

func ioType(flag, name string) (fb.TensorType, error) {
	t, ok := ioTypes[strings.ToLower(name)]
	if !ok {
		return 0, fmt.Errorf("%s %q: want float32, int8, uint8 or int16", flag, name)
	}
	return t, nil
}
