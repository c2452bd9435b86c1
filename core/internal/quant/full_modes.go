// Full-integer quantization, the modes: each mode's scheme (activation,
// weight and bias types and ranges), its model I/O types, and rep, how a
// real value is stored.

package quant

import (
	"fmt"
	"math"
	"strings"

	"litequant/core/internal/qparams"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// FullMode names a full-integer quantization mode.
type FullMode string

const (
	// ModeInt8 is TensorFlow Lite's int8 scheme: activations int8
	// asymmetric per-tensor, weights int8 symmetric (per-channel where the
	// kernel takes it), biases int32.
	ModeInt8 FullMode = "int8"
	// ModeInt16x8 keeps activations in int16, symmetric (zero point 0),
	// with int8 weights and int64 biases.
	ModeInt16x8 FullMode = "int16x8"
	// ModeUint8 is the legacy scheme of TensorFlow's v1 converter
	// (inference_type QUANTIZED_UINT8): activations and weights uint8
	// asymmetric per-tensor, biases int32, model input and output uint8.
	ModeUint8 FullMode = "uint8"
)

// scheme is the arithmetic of a full-integer mode: its activation type
// names its kernel column in opspec.
type scheme struct {
	mode       FullMode
	act        fb.TensorType // activation type
	qmin, qmax int64         // its integer range
	symmetric  bool          // activations have zero point 0
	bias       fb.TensorType // INT32 or INT64
	// weight is INT8 (symmetric, per-channel where the kernel takes it)
	// or UINT8 (the legacy scheme: asymmetric per-tensor over [0, 255]).
	weight fb.TensorType
}

var schemes = map[FullMode]*scheme{
	ModeInt8:    {mode: ModeInt8, act: fb.TensorTypeINT8, qmin: -128, qmax: 127, bias: fb.TensorTypeINT32, weight: fb.TensorTypeINT8},
	ModeInt16x8: {mode: ModeInt16x8, act: fb.TensorTypeINT16, qmin: -32767, qmax: 32767, symmetric: true, bias: fb.TensorTypeINT64, weight: fb.TensorTypeINT8},
	ModeUint8:   {mode: ModeUint8, act: fb.TensorTypeUINT8, qmin: 0, qmax: 255, bias: fb.TensorTypeINT32, weight: fb.TensorTypeUINT8},
}

// ioTypes lists the model input and output types each mode accepts.
var ioTypes = map[FullMode][]fb.TensorType{
	ModeInt8:    {fb.TensorTypeFLOAT32, fb.TensorTypeINT8, fb.TensorTypeUINT8},
	ModeInt16x8: {fb.TensorTypeFLOAT32, fb.TensorTypeINT16},
	ModeUint8:   {fb.TensorTypeUINT8, fb.TensorTypeFLOAT32},
}

// IOTypes returns the model input/output types mode accepts.
func IOTypes(mode FullMode) []fb.TensorType { return append([]fb.TensorType(nil), ioTypes[mode]...) }

// rep is how a real value is stored: FLOAT32, or an integer type with a
// scale and zero point.
type rep struct {
	typ   fb.TensorType
	scale float32
	zp    int64
}

var floatRep = rep{typ: fb.TensorTypeFLOAT32}

func (r rep) isFloat() bool { return r.typ == fb.TensorTypeFLOAT32 }

// bounds returns the integer range of r's type.
func (r rep) bounds() (lo, hi int64) {
	switch r.typ {
	case fb.TensorTypeINT8:
		return -128, 127
	case fb.TensorTypeUINT8:
		return 0, 255
	case fb.TensorTypeINT16:
		return -32768, 32767
	case fb.TensorTypeINT32:
		return -math.MaxInt32, math.MaxInt32
	}
	return math.MinInt64 + 1, math.MaxInt64
}

// span returns the real range r can represent.
func (r rep) span() (lo, hi float32) {
	a, b := r.bounds()
	return r.scale * float32(a-r.zp), r.scale * float32(b-r.zp)
}

func (r rep) quantization() *fb.QuantizationParametersT {
	if r.isFloat() {
		return nil
	}
	return &fb.QuantizationParametersT{Scale: []float32{r.scale}, ZeroPoint: []int64{r.zp}}
}

// uint8Of returns the uint8 form of an int8 representation (zero point +
// 128), as TensorFlow's converter gives uint8 model I/O.
func uint8Of(r rep) rep { return rep{typ: fb.TensorTypeUINT8, scale: r.scale, zp: r.zp + 128} }

// fromRange returns the scheme's activation parameters for [lo, hi].
func (s *scheme) fromRange(lo, hi float32) rep {
	if s.symmetric {
		return rep{typ: s.act, scale: qparams.Symmetric(lo, hi, int(s.qmax))}
	}
	scale, zp := qparams.Asymmetric(lo, hi, int(s.qmin), int(s.qmax))
	return rep{typ: s.act, scale: scale, zp: zp}
}

// CheckIOTypes checks opts.InputType and opts.OutputType against mode.
func CheckIOTypes(mode FullMode, opts Options) error {
	for _, x := range []struct {
		flag string
		t    fb.TensorType
	}{{"--input-type", opts.InputType}, {"--output-type", opts.OutputType}} {
		ok := false
		for _, a := range ioTypes[mode] {
			ok = ok || a == x.t
		}
		if !ok {
			var names []string
			for _, a := range ioTypes[mode] {
				names = append(names, strings.ToLower(tflite.TypeName(a)))
			}
			return fmt.Errorf("%s %s is not available with --mode %s (want %s)", x.flag, strings.ToLower(tflite.TypeName(x.t)), mode, strings.Join(names, ", "))
		}
	}
	return nil
}

// kernelName names the integer kernel a mode needs, for reasons.
func (s *scheme) kernelName() string {
	if s.mode == ModeInt16x8 {
		return "int16x8"
	}
	return strings.ToLower(tflite.TypeName(s.act))
}
