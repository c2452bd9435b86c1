package quant

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/internal/calib"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/runtimetest/litert"
)

// liteRTCannotLoad lists the shared float models LiteRT.js (2.5.3) cannot
// load, with its reason; their quantized models are checked in the pinned
// runtime only.
var liteRTCannotLoad = map[string]string{
	"embedding_lookup": "Failed to load model from buffer",
	"trained_lstm":     "Failed to load model from buffer",
	"single_equal":     "Element type BOOL is not supported",
	"single_not_equal": "Element type BOOL is not supported",
	"single_select":    "Element type BOOL is not supported",
	"single_select_v2": "Element type BOOL is not supported",
}

// TestCurrentLiteRT runs litequant's models of every shared float model in
// LiteRT.js (@litertjs/core, the current LiteRT web runtime, with XNNPack)
// beside the pinned TensorFlow Lite 2.9 runtime that the other tests use,
// on held-out samples (calibrated on the others):
//   - every model loads and runs, and every output is finite;
//   - int8 and uint8 models give the pinned runtime's outputs bit for bit
//     (bmm's BATCH_MATMUL rounds differently: at least 60 dB apart),
//     int16x8 ones at least 60 dB apart (the int16 kernels round a few
//     values differently);
//   - dynamic-range and float16 models, whose float and hybrid kernels
//     differ between the runtimes, are as close to the float model (run
//     in the same runtime) in LiteRT as in the pinned runtime, within 3 dB.
//
// LiteRT.js cannot run models with a dynamic input dimension, so it runs a
// copy without shape signatures (litert.Static).
func TestCurrentLiteRT(t *testing.T) {
	shared := fixtures.RequireShared(t)
	runtimetest.Require(t)
	if testing.Short() {
		t.Skip("runs every shared model in chromium")
	}
	r := litert.Start(t)
	var table []string
	for _, name := range floatModels(t, shared) {
		exp := fullSharedModels[name]
		if exp.noRuntime != "" || exp.noCalib != "" {
			continue // neither runtime runs the float model as stored
		}
		t.Run(name, func(t *testing.T) {
			n := 16
			modes := []string{"dynamic", "float16", "int8", "int16x8"}
			if name == "mobilenet_v1_0.25_224_float" {
				n = 48 // as the issues judge it
				modes = append(modes, "uint8")
			}
			data, s := sharedSamples(t, name+".tflite", n)
			even, odd := splitEvenOdd(s)
			held := stack(odd)
			lm, err := r.Load(static(t, data))
			if why := liteRTCannotLoad[name]; why != "" {
				if err == nil || !strings.Contains(err.Error(), why) {
					t.Errorf("LiteRT.js loads the float model now (%v): check its quantized models there", err)
				}
				table = append(table, fmt.Sprintf("%-36s LiteRT.js cannot load the float model: %s", name, why))
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			refLiteRT, err := lm.Run(held...)
			lm.Close()
			if err != nil {
				t.Fatal(err)
			}
			refPinned := runtimetest.RunBytes(t, data, held...)
			st := calibrate(t, mustLoad(t, data), even)
			for _, mode := range modes {
				out, inputs, ok := quantizeForLiteRT(t, data, mode, st, held)
				if !ok {
					continue // nothing to do in this mode (tested elsewhere)
				}
				pinned := runtimetest.RunBytes(t, out, inputs...)
				got := r.RunBytes(t, static(t, out), inputs...)
				for k, a := range got {
					if n := nonFinite(t, a); n > 0 {
						t.Errorf("%s: output %d has %d NaN or infinite values in LiteRT", mode, k, n)
					}
				}
				row := fmt.Sprintf("%-36s %-8s", name, mode)
				switch mode {
				case "int8", "uint8", "int16x8":
					same := true
					for k := range got {
						same = same && bytes.Equal(got[k].Data, pinned[k].Data)
					}
					if same {
						row += "  identical outputs in both runtimes"
						break
					}
					apart := sqnr(t, pinned, got)
					if mode != "int16x8" && name != "bmm" || apart < 60 {
						t.Errorf("%s: LiteRT and the pinned runtime are %.1f dB apart", mode, apart)
					}
					row += fmt.Sprintf("  runtimes %.0f dB apart", apart)
				default:
					inLiteRT, inPinned := sqnr(t, refLiteRT, got), sqnr(t, refPinned, pinned)
					if inLiteRT < inPinned-3 {
						t.Errorf("%s: SQNR %.1f dB in LiteRT, %.1f in the pinned runtime", mode, inLiteRT, inPinned)
					}
					row += fmt.Sprintf("  SQNR %.1f dB in LiteRT, %.1f pinned", inLiteRT, inPinned)
				}
				table = append(table, row)
			}
		})
	}
	t.Log("litequant's models in LiteRT.js 2.5.3 and the pinned runtime:\n" + strings.Join(table, "\n"))
}

// quantizeForLiteRT makes the model of one mode and the inputs it takes;
// ok is false when the mode has nothing to do for the model.
func quantizeForLiteRT(t *testing.T, data []byte, mode string, st *calib.Stats, held []*npy.Array) (out []byte, inputs []*npy.Array, ok bool) {
	t.Helper()
	m := mustLoad(t, data)
	var err error
	switch mode {
	case "dynamic":
		_, err = Dynamic(m, Options{})
	case "float16":
		_, err = Float16(m, Options{})
	case "uint8":
		_, err = Full(m, ModeUint8, st, Options{InputType: u8, OutputType: u8, IntegerOnly: true,
			InputStats: []InputStat{{Mean: 127.5, Std: 127.5}}})
	default:
		_, err = Full(m, FullMode(mode), st, Options{})
	}
	if errors.Is(err, ErrNothingToDo) {
		return nil, nil, false
	}
	if err != nil {
		t.Fatalf("%s: %v", mode, err)
	}
	if out, err = m.Save(); err != nil {
		t.Fatal(err)
	}
	inputs = held
	if mode == "uint8" {
		sg := m.Subgraphs[0]
		inputs = []*npy.Array{quantizeArray(t, held[0], sg.Tensors[sg.Inputs[0]])}
	}
	return out, inputs, true
}

func static(t *testing.T, model []byte) []byte {
	t.Helper()
	out, err := litert.Static(model)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func nonFinite(t *testing.T, a *npy.Array) int {
	t.Helper()
	if !a.DType.IsFloat() {
		return 0
	}
	v, err := a.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			n++
		}
	}
	return n
}
