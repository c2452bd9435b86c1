package quant

import (
	"errors"
	"regexp"

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

	// Full-integer passes only (Full).
	//
	// InputType and OutputType are the types of the model's float inputs
	// and outputs after the pass: FLOAT32 (the zero value; QUANTIZE and
	// DEQUANTIZE operators convert at the boundary), INT8 or UINT8 (int8
	// mode), INT16 (16x8 mode).
	InputType, OutputType fb.TensorType
	// IntegerOnly makes any operator left float an error that lists them
	// all (TensorFlow's supported_ops=[TFLITE_BUILTINS_INT8]).
	IntegerOnly bool
	// PlainWeights rounds every weight to the nearest step and keeps the
	// biases as trained, as TensorFlow's converter does, even when the
	// ranges carry input-patch statistics (which otherwise tune the
	// rounding and correct the biases: see Full).
	PlainWeights bool
	// InputStats (uint8 mode only) give the model inputs' parameters as
	// TensorFlow's quantized_input_stats: real = (q - Mean) / Std, so
	// scale 1/Std and zero point round(Mean). Either one per float input
	// of the model in order (Name empty) or by input name. Without them,
	// the inputs' parameters come from their ranges like any activation.
	InputStats []InputStat
	// DefaultRange, when set, is the range of every activation no other
	// source gives one (TensorFlow's default_ranges_stats); the report
	// warns which.
	DefaultRange *MinMax
	// FloatOps names operators, by their first output tensor's name, that
	// stay float although they have an integer kernel (--float-ops, and
	// the float fallback of --target-sqnr). A name no operator writes is
	// an error.
	FloatOps []string
	// TargetOps are more operators kept float the same way, those the
	// float fallback of --target-sqnr chose (the report says so).
	TargetOps []string
	// Int16Ops names operators (the same way) that run on int16
	// activations in ModeInt8: 16x8 per operator, with conversions where
	// they meet int8 ones (see full_mixed.go). An error in the other modes,
	// for a name no operator writes, or an operator without an int16x8
	// kernel.
	Int16Ops []string
}

// InputStat is one --input-stats: the mean and standard deviation the
// uint8 input values had in training, for the input Name ("" for the
// next input in order).
type InputStat struct {
	Name      string
	Mean, Std float32
}

// MinMax is a float range.
type MinMax struct{ Min, Max float32 }

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
