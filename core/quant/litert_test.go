package quant

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/runtimetest/litert"
)

// TestCurrentLiteRT runs litequant's models of the larger shared float
// models in LiteRT.js (@litertjs/core, the current LiteRT web runtime,
// with XNNPack) beside the pinned TensorFlow Lite 2.9 runtime that the
// other tests use, on held-out samples:
//   - every output is finite;
//   - int8 and uint8 models give the pinned runtime's outputs bit for bit,
//     int16x8 ones within 60 dB of them (the int16 kernels round a few
//     values differently);
//   - dynamic-range and float16 models, whose float and hybrid kernels
//     differ between the runtimes, are as close to the float model (run
//     in the same runtime) in LiteRT as in the pinned runtime, within 3 dB.
//
// LiteRT.js cannot run models with a dynamic input dimension, so it runs a
// copy without shape signatures (litert.Static). It cannot load
// trained_lstm's float model at all, which is therefore not here.
func TestCurrentLiteRT(t *testing.T) {
	runtimetest.Require(t)
	if testing.Short() {
		t.Skip("runs the shared models in chromium")
	}
	cases := []struct {
		model   string
		samples int
		modes   []string
	}{
		{"mobilenet_v1_0.25_224_float", 48, []string{"dynamic", "float16", "int8", "int16x8", "uint8"}},
		{"iris_landmark", 16, []string{"dynamic", "float16", "int8", "int16x8"}},
		// FLOAT16 weights and biases behind DEQUANTIZE: the float16 mode
		// has nothing to do.
		{"face_detection_short_range", 16, []string{"dynamic", "int8", "int16x8"}},
		{"conv_fc_mnist", 16, []string{"dynamic", "float16", "int8", "int16x8"}},
		{"hello_world_float", 16, []string{"int8", "int16x8"}},
	}
	r := litert.Start(t)
	var table []string
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			data, s := sharedSamples(t, c.model+".tflite", c.samples)
			even, odd := splitEvenOdd(s)
			held := stack(odd)
			st := calibrate(t, mustLoad(t, data), even)
			refPinned := runtimetest.RunBytes(t, data, held...)
			refLiteRT := r.RunBytes(t, static(t, data), held...)
			for _, mode := range c.modes {
				var out []byte
				inputs := held
				switch mode {
				case "dynamic", "float16":
					m := mustLoad(t, data)
					var err error
					if mode == "dynamic" {
						_, err = Dynamic(m, Options{})
					} else {
						_, err = Float16(m, Options{})
					}
					if err != nil {
						t.Fatalf("%s: %v", mode, err)
					}
					if out, err = m.Save(); err != nil {
						t.Fatal(err)
					}
				case "uint8":
					out, _ = quantizeFull(t, data, ModeUint8, st, Options{InputType: u8, OutputType: u8, IntegerOnly: true,
						InputStats: []InputStat{{Mean: 127.5, Std: 127.5}}})
					m := mustLoad(t, out)
					inputs = []*npy.Array{quantizeArray(t, held[0], m.Subgraphs[0].Tensors[m.Subgraphs[0].Inputs[0]])}
				default:
					out, _ = quantizeFull(t, data, FullMode(mode), st, Options{})
				}
				pinned := runtimetest.RunBytes(t, out, inputs...)
				got := r.RunBytes(t, static(t, out), inputs...)
				for k, a := range got {
					if n := nonFinite(t, a); n > 0 {
						t.Errorf("%s: output %d has %d NaN or infinite values in LiteRT", mode, k, n)
					}
				}
				row := fmt.Sprintf("%-28s %-8s", c.model, mode)
				switch mode {
				case "int8", "uint8":
					for k := range got {
						if !bytes.Equal(got[k].Data, pinned[k].Data) {
							t.Errorf("%s: output %d differs between LiteRT and the pinned runtime (%.1f dB apart)", mode, k, sqnr(t, pinned[k:k+1], got[k:k+1]))
						}
					}
					row += "  identical outputs in both runtimes"
				case "int16x8":
					apart := sqnr(t, pinned, got)
					if apart < 60 {
						t.Errorf("%s: LiteRT and the pinned runtime are %.1f dB apart, want at least 60", mode, apart)
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
