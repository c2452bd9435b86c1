package quant

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	fb "litequant/core/schema/tflitefb"
)

// DefaultMinWeightElements is the smallest weight quantized by default, as
// in TensorFlow's converter: smaller tensors save little and cost accuracy.
const DefaultMinWeightElements = 1024

// Options tunes a pass. The zero value gives the converter's defaults.
type Options struct {
	// MinWeightElements: weights with fewer elements stay FLOAT32. 0 means
	// DefaultMinWeightElements; 1 quantizes every weight.
	MinWeightElements int
	// SkipOps: operators of these kinds keep FLOAT32 weights.
	SkipOps []fb.BuiltinOperator
	// SkipTensors: weights whose tensor name matches stay FLOAT32 (for a
	// weight behind a DEQUANTIZE, either tensor's name may match).
	SkipTensors *regexp.Regexp
	// AllowNoop: when the model has nothing to quantize, return a Report
	// with Noop set (and the model untouched) instead of ErrNothingToDo.
	AllowNoop bool
}

func (o Options) minElements() int {
	if o.MinWeightElements <= 0 {
		return DefaultMinWeightElements
	}
	return o.MinWeightElements
}

func (o Options) skipsOp(op fb.BuiltinOperator) bool {
	for _, s := range o.SkipOps {
		if s == op {
			return true
		}
	}
	return false
}

// ErrNothingToDo is wrapped by the error a pass returns when the model has
// no weights it would change (and Options.AllowNoop is false). The model
// is unchanged.
var ErrNothingToDo = errors.New("nothing to quantize")

// ErrFullyQuantized is wrapped by the error a pass returns for a model that
// is already fully quantized (integer activations throughout). The model is
// unchanged.
var ErrFullyQuantized = errors.New("model is already fully quantized")

// ParseOps parses a comma-separated list of BuiltinOperator names such as
// "CONV_2D,FULLY_CONNECTED" (case does not matter; empty items are
// ignored). An unknown name is an error naming it, with a suggestion when a
// real name is close.
func ParseOps(list string) ([]fb.BuiltinOperator, error) {
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
