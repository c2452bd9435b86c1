package convert

import (
	"fmt"
	"strings"

	"litequant/core/internal/quant"
)

// Mode is a quantization mode. Its names are the CLI's --mode values and
// the page's choices (the page reads ModeInfos from the wasm module); this
// file is the one place that spells them.
type Mode string

// The modes.
const (
	// Dynamic: int8 weights, float activations, hybrid kernels
	// (optimizations=[DEFAULT] without a representative dataset).
	Dynamic Mode = "dynamic"
	// Float16: float16 weights behind DEQUANTIZE.
	Float16 Mode = "float16"
	// Int8: full integer, int8 activations and weights, int32 biases.
	Int8 Mode = "int8"
	// Int16x8: int16 activations, int8 weights, int64 biases.
	Int16x8 Mode = "int16x8"
	// Uint8: the legacy scheme (inference_type=QUANTIZED_UINT8).
	Uint8 Mode = "uint8"
)

// ModeInfo describes a mode for a front end.
type ModeInfo struct {
	Name Mode `json:"name"`
	// Summary is one line for a menu.
	Summary string `json:"summary"`
	// Calibrates: the mode takes calibration samples.
	Calibrates bool `json:"calibrates"`
	// full is the pass's full-integer mode, for the calibrated modes.
	full quant.FullMode
}

// ModeInfos lists the modes in the order a menu shows them.
var ModeInfos = []ModeInfo{
	{Name: Dynamic, Summary: "int8 weights, float activations"},
	{Name: Float16, Summary: "float16 weights"},
	{Name: Int8, Summary: "full integer (calibrated)", Calibrates: true, full: quant.ModeInt8},
	{Name: Int16x8, Summary: "int16 activations, int8 weights (calibrated)", Calibrates: true, full: quant.ModeInt16x8},
	{Name: Uint8, Summary: "legacy unsigned (calibrated)", Calibrates: true, full: quant.ModeUint8},
}

// Modes lists the mode names, in ModeInfos' order.
var Modes = func() []Mode {
	var ms []Mode
	for _, mi := range ModeInfos {
		ms = append(ms, mi.Name)
	}
	return ms
}()

// info returns m's entry, ok false for an unknown mode.
func (m Mode) info() (ModeInfo, bool) {
	for _, mi := range ModeInfos {
		if mi.Name == m {
			return mi, true
		}
	}
	return ModeInfo{}, false
}

// Calibrates reports whether m calibrates activation ranges (takes
// calibration samples).
func (m Mode) Calibrates() bool { mi, _ := m.info(); return mi.Calibrates }

// check returns an error for an unknown mode.
func (m Mode) check() error {
	if _, ok := m.info(); ok {
		return nil
	}
	names := make([]string, len(Modes))
	for i, n := range Modes {
		names[i] = string(n)
	}
	return fmt.Errorf("unknown mode %q: want %s", string(m), strings.Join(names, ", "))
}

// calibratedModes lists the calibrated modes' names for messages: "int8,
// int16x8, uint8" with conj "," or "int8, int16x8 and uint8" with "and".
func calibratedModes(conj string) string {
	var names []string
	for _, mi := range ModeInfos {
		if mi.Calibrates {
			names = append(names, string(mi.Name))
		}
	}
	last := len(names) - 1
	if conj == "," {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:last], ", ") + " " + conj + " " + names[last]
}
