package quant

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"litequant/core/fixtures"
	"litequant/core/internal/calib"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// fullExpect is what a shared float model should give in the full-integer
// modes. Zero SQNR floors mean the defaults (20 dB int8, 30 dB int16x8);
// the floors below the defaults are the measured values, explained at the
// entry, so that regressions still fail.
type fullExpect struct {
	samples int // fixture samples: half calibrate, the other half judge (default 64)
	// noop8, noop16: no operator has an integer kernel (the reason).
	noop8, noop16 string
	// noRuntime: the float model itself does not run in the pinned
	// runtime, so neither can its quantization.
	noRuntime string
	// noCalib: calibration fails, with this in the error.
	noCalib     string
	min8, min16 float64
	// spread8: int8 warns that a few calibration samples set ranges far
	// beyond the others.
	spread8 bool
}

const (
	noKernel  = "no operator of the model has an"
	notLoaded = "the pinned runtime cannot run the float model"
)

var fullSharedModels = map[string]fullExpect{
	"bmm": {},
	// Its FULLY_CONNECTED weights are per-tensor int8 (the runtime's int8
	// kernel takes one scale), which bounds 16x8 too.
	"conv_fc_mnist":           {samples: 60, min16: 28},
	"duplicated_tensor_names": {},
	// EMBEDDING_LOOKUP has no integer kernel: TensorFlow leaves it float.
	"embedding_lookup": {noop8: noKernel, noop16: noKernel},
	// Min/max calibration meets an outlier here: one photo drives the
	// activations from conv2d_9 on to about 20 times the others' range
	// (e.g. depthwise_conv2d_11: ±60 on five photos, -1031..1286 with it),
	// and int8's 256 steps over that range leave the other photos too few:
	// 3.1 dB int8 on all 48 crops (17 dB when calibrated on the first
	// three photos only), while 16x8 keeps 31 dB. A histogram (percentile)
	// range would be the remedy; TensorFlow's min/max calibrator behaves
	// as litequant's does.
	"face_detection_short_range": {samples: 48, min8: 2.5, min16: 30, spread8: true},
	// TensorFlow's own hello_world_int8 reaches 26.1 dB (the floor).
	"hello_world_float": {samples: 200, min8: 26},
	"iris_landmark":     {},
	// Judged by top-1 agreement (at least 90%, the target, checked
	// below). Its depthwise weights make it the worst case for int8
	// weights: rounding them to nearest alone costs 8 dB; tuned rounding
	// and bias correction give 16 dB int8 and 24.5 dB 16x8 (measured),
	// short of the 30 dB for 16x8; see TestFullMobilenet.
	"mobilenet_v1_0.25_224_float":         {samples: 48, min8: 15, min16: 24},
	"padv2_inf_max_pool_2d":               {},
	"single_add":                          {},
	"single_add1_constant_input":          {},
	"single_broadcast_to":                 {noRuntime: "BROADCAST_TO is not registered in the runtime", noop8: noKernel, noop16: noKernel},
	"single_depthwise_conv2d_bias":        {},
	"single_div":                          {noop8: noKernel, noop16: noKernel},
	"single_equal":                        {noop16: noKernel},
	"single_fc":                           {},
	"single_fc_bias":                      {},
	"single_fc_bias_logistic":             {},
	"single_fc_bias_relu":                 {},
	"single_fc_bias_relu6":                {},
	"single_fc_no_bias":                   {},
	"single_gather":                       {},
	"single_gather_nd_with_const_indices": {},
	"single_max_pool_2d":                  {},
	"single_maximum":                      {},
	"single_mean":                         {},
	"single_mul":                          {},
	"single_mul2_constant_input":          {},
	"single_not_equal":                    {noop16: noKernel},
	"single_pack":                         {},
	"single_pad":                          {},
	"single_padv2":                        {},
	"single_reduce_min":                   {},
	"single_relu":                         {},
	"single_resize_nearest_neighbor":      {},
	"single_rsqrt":                        {noop16: noKernel},
	"single_select":                       {},
	"single_select_v2":                    {},
	// Its begin and size inputs are INT32[1] for rank-3 data: neither the
	// runtime nor the interpreter can run it as stored.
	"single_slice":               {noCalib: "must be vectors of length 3"},
	"single_split":               {},
	"single_sqrt":                {noop8: noKernel, noop16: noKernel},
	"single_sub":                 {},
	"single_sub1_constant_input": {},
	"single_tanh":                {},
	"single_transpose":           {},
	"single_unpack":              {},
	"trained_lstm":               {samples: 60},
	"two_inputs_concatenation":   {},
	"two_signatures":             {},
	"weight_sharing_fcs":         {},
}

type fullRow struct {
	model, mode string
	note        string
	sqnr, top1  float64
	floatOps    int
	size        float64
	ms          float64
}

// TestFullSharedModels quantizes every float model of ../shared/models in
// int8 and int16x8, calibrating on half of its fixture samples, and runs
// the result in the real runtime on the other half against the float
// model.
func TestFullSharedModels(t *testing.T) {
	shared := fixtures.RequireShared(t)
	runtimetest.Require(t)
	if testing.Short() {
		t.Skip("runs every shared model in the real runtime")
	}
	names := listedModels(t, shared, fullSharedModels, "fullSharedModels")
	var rows []fullRow
	for _, name := range names {
		exp, ok := fullSharedModels[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			n := exp.samples
			if n == 0 {
				n = 64
			}
			data, samples := sharedSamples(t, name+".tflite", n)
			// Interleaved halves: every source image (or digit, or clip) is
			// represented in calibration, as a representative dataset
			// should be, and the judged samples are others.
			var cal, held []fixtures.Sample
			for i, s := range samples {
				if i%2 == 0 {
					cal = append(cal, s)
				} else {
					held = append(held, s)
				}
			}
			if exp.noCalib != "" {
				_, err := calib.Run(t.Context(), mustLoad(t, data), arraySource(cal), calib.Options{})
				if err == nil || !strings.Contains(err.Error(), exp.noCalib) {
					t.Errorf("calibration: want an error with %q, got %v", exp.noCalib, err)
				}
				rows = append(rows, fullRow{model: name, mode: "both", note: "cannot be calibrated: " + exp.noCalib})
				return
			}
			st := calibrate(t, mustLoad(t, data), cal)
			var ref []*npy.Array
			if exp.noRuntime == "" {
				ref = runtimetest.RunBytes(t, data, stack(held)...)
			}
			for _, mode := range []FullMode{ModeInt8, ModeInt16x8} {
				noop := exp.noop8
				floor := or(exp.min8, 20)
				if mode == ModeInt16x8 {
					noop, floor = exp.noop16, or(exp.min16, 30)
				}
				m := mustLoad(t, data)
				start := time.Now()
				rep, err := Full(m, mode, st, Options{})
				elapsed := time.Since(start)
				if noop != "" {
					if !errors.Is(err, ErrNothingToDo) || !strings.Contains(err.Error(), noop) {
						t.Errorf("%s: want %q, got %v", mode, noop, err)
					}
					rows = append(rows, fullRow{model: name, mode: string(mode), note: "no integer kernel: left float"})
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", mode, err)
					continue
				}
				// Only face_detection's int8 ranges are set by a few
				// samples (the outlier photo, see its entry).
				spread := strings.Contains(strings.Join(rep.Warnings, "\n"), "set by a few samples")
				if want := exp.spread8 && mode == ModeInt8; spread != want {
					t.Errorf("%s: warning about ranges set by a few samples: %v, want %v (%q)", mode, spread, want, rep.Warnings)
				}
				out, err := m.Save()
				if err != nil {
					t.Fatal(err)
				}
				again, _ := quantizeFull(t, data, mode, st, Options{})
				if !bytes.Equal(out, again) {
					t.Errorf("%s: quantizing twice gave different bytes", mode)
				}
				row := fullRow{model: name, mode: string(mode), floatOps: len(rep.FloatOps), top1: math.NaN(),
					size: float64(len(out)) / float64(len(data)), ms: float64(elapsed.Microseconds()) / 1000}
				if exp.noRuntime != "" {
					row.note = exp.noRuntime
					rows = append(rows, row)
					continue
				}
				res, err := runtimetest.RunModelBytes(t.Context(), out, stack(held), runtimetest.Options{})
				if err != nil {
					t.Errorf("%s: the quantized model does not run: %v", mode, err)
					continue
				}
				if dt := ref[0].DType; dt == npy.Bool || dt == npy.Int32 || dt == npy.Int64 {
					// Comparisons: quantizing both operands can make close
					// values equal (as TensorFlow's int8 EQUAL does).
					d := differing(t, ref, res.Outputs)
					row.note = fmt.Sprintf("%.2f%% of the outputs differ", 100*d)
					if d > 0.02 {
						t.Errorf("%s: %s", mode, row.note)
					}
					t.Logf("%s: %s", mode, row.note)
					rows = append(rows, row)
					continue
				}
				row.sqnr = sqnr(t, ref, res.Outputs)
				if name == "mobilenet_v1_0.25_224_float" {
					row.top1 = top1(t, ref[0], res.Outputs[0])
				}
				if row.sqnr < floor {
					t.Errorf("%s: SQNR %.1f dB, want at least %.0f", mode, row.sqnr, floor)
				}
				var left []string
				for _, f := range rep.FloatOps {
					left = append(left, f.Name)
				}
				t.Logf("%s: SQNR %.1f dB, %d integer ops, float: %v", mode, row.sqnr, rep.IntegerOps, left)
				rows = append(rows, row)
			}
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-36s %-8s %9s %6s %6s %7s  %s\n", "model", "mode", "SQNR dB", "top1", "size", "float", "note")
	for _, r := range rows {
		q, top := "", ""
		if r.note == "" {
			q = fmt.Sprintf("%.1f", r.sqnr)
		}
		if !math.IsNaN(r.top1) && r.note == "" && r.top1 != 0 {
			top = fmt.Sprintf("%.3f", r.top1)
		}
		size := ""
		if r.size > 0 {
			size = fmt.Sprintf("%.3f", r.size)
		}
		fmt.Fprintf(&b, "%-36s %-8s %9s %6s %6s %7d  %s\n", r.model, r.mode, q, top, size, r.floatOps, r.note)
	}
	t.Log(b.String())
}

// top1 returns the fraction of rows whose argmax agrees.
func top1(t *testing.T, ref, got *npy.Array) float64 {
	t.Helper()
	a, b := argmaxRows(t, ref), argmaxRows(t, got)
	agree := 0
	for i := range a {
		if a[i] == b[i] {
			agree++
		}
	}
	return float64(agree) / float64(len(a))
}

var _ = filepath.Join
var _ = os.ReadFile
var _ = tflite.Load

// TestFullMobilenet is the accuracy target: mobilenet int8,
// calibrated on half of the 48 image crops and judged on the other half,
// agrees with the float model's top-1 class on at least 90% of them. The
// halves interleave (crops 0, 2, 4, ... calibrate), so each of the eight
// photos is represented in calibration; the other splits are logged.
// It also checks --integer-only on it: every operator but the QUANTIZE and
// DEQUANTIZE at the float model I/O computes on integers.
func TestFullMobilenet(t *testing.T) {
	runtimetest.Require(t)
	if testing.Short() {
		t.Skip("calibrates and runs mobilenet several times")
	}
	data, s := sharedSamples(t, "mobilenet_v1_0.25_224_float.tflite", 48)
	even, odd := splitEvenOdd(s)
	splits := []struct {
		name      string
		cal, held []fixtures.Sample
		check     bool
	}{
		{"even crops calibrate, odd crops judge", even, odd, true},
		{"photos 1-4 calibrate, photos 5-8 judge", s[:24], s[24:], false},
		{"photos 5-8 calibrate, photos 1-4 judge", s[24:], s[:24], false},
	}
	for _, sp := range splits {
		st := calibrate(t, mustLoad(t, data), sp.cal)
		ref := runtimetest.RunBytes(t, data, stack(sp.held)...)
		for _, mode := range []FullMode{ModeInt8, ModeInt16x8} {
			for _, plain := range []bool{false, true} {
				out, rep := quantizeFull(t, data, mode, st, Options{IntegerOnly: sp.check && mode == ModeInt8 && !plain, PlainWeights: plain})
				got := runtimetest.RunBytes(t, out, stack(sp.held)...)
				agree := top1(t, ref[0], got[0])
				how := "tuned weights"
				if plain {
					how = "nearest rounding (as TensorFlow)"
				}
				t.Logf("%s, %s, %s: top-1 %.0f%% (%d/%d), SQNR %.1f dB", sp.name, mode, how, 100*agree,
					int(math.Round(agree*float64(len(sp.held)))), len(sp.held), sqnr(t, ref, got))
				if !sp.check || plain {
					continue
				}
				if mode == ModeInt8 && agree < 0.9 {
					t.Errorf("int8 top-1 agreement %.0f%%, want at least 90%%", 100*agree)
				}
				if mode == ModeInt8 {
					m := mustLoad(t, out)
					sg := m.Subgraphs[0]
					for i, op := range sg.Operators {
						code := m.Builtin(op)
						boundary := (i == 0 && code == fb.BuiltinOperatorQUANTIZE) || (i == len(sg.Operators)-1 && code == fb.BuiltinOperatorDEQUANTIZE)
						for _, list := range [][]int32{op.Inputs, op.Outputs} {
							for _, ti := range list {
								if ti >= 0 && sg.Tensors[ti].Type == f32 && !boundary {
									t.Errorf("--integer-only: %s#%d touches FLOAT32 %q", m.OpName(op), i, sg.Tensors[ti].Name)
								}
							}
						}
					}
					if rep.IntegerOps != len(sg.Operators)-2 {
						t.Errorf("%d integer operators of %d", rep.IntegerOps, len(sg.Operators))
					}
				}
			}
		}
	}
}

// Weights shared by two subgraphs (two signatures) are quantized once,
// and both subgraphs are calibrated and quantized.
func TestFullSharedWeights(t *testing.T) {
	data, s := sharedSamples(t, "weight_sharing_fcs.tflite", 8)
	st := calibrate(t, mustLoad(t, data), s)
	out, rep := quantizeFull(t, data, ModeInt8, st, Options{})
	if len(rep.FloatOps) != 0 {
		t.Errorf("left float: %+v", rep.FloatOps)
	}
	m := mustLoad(t, out)
	var bufs []uint32
	for si, sg := range m.Subgraphs {
		for _, op := range sg.Operators {
			if m.Builtin(op) != fb.BuiltinOperatorFULLY_CONNECTED {
				continue
			}
			w := sg.Tensors[op.Inputs[1]]
			if w.Type != i8 || sg.Tensors[op.Inputs[0]].Type != i8 {
				t.Errorf("subgraph %d: FULLY_CONNECTED not int8", si)
			}
			bufs = append(bufs, w.Buffer)
		}
	}
	if len(bufs) != 2 || bufs[0] != bufs[1] {
		t.Errorf("weight buffers %v, want one shared by both subgraphs", bufs)
	}
	if runtimetest.Available() == nil {
		ref := runtimetest.RunBytes(t, data, stack(s)...)
		got := runtimetest.RunBytes(t, out, stack(s)...)
		if q := sqnr(t, ref, got); q < 30 {
			t.Errorf("SQNR %.1f", q)
		}
	}
}

// FLOAT16 weights behind DEQUANTIZE (MediaPipe's storage) become int8
// weights read directly; the DEQUANTIZE operators go.
func TestFullFloat16Weights(t *testing.T) {
	data, s := sharedSamples(t, "face_detection_short_range.tflite", 4)
	st := calibrate(t, mustLoad(t, data), s)
	out, rep := quantizeFull(t, data, ModeInt8, st, Options{})
	m := mustLoad(t, out)
	if n := countOps(m, fb.BuiltinOperatorDEQUANTIZE); n != len(m.Subgraphs[0].Outputs) {
		t.Errorf("%d DEQUANTIZE operators left, want one per model output", n)
	}
	for _, tt := range m.Subgraphs[0].Tensors {
		if tt.Type == f16 {
			t.Errorf("FLOAT16 tensor %q left", tt.Name)
		}
	}
	from16 := 0
	for _, w := range rep.Weights {
		if w.From == "FLOAT16" {
			from16++
		}
	}
	if from16 == 0 {
		t.Error("the report shows no weight quantized from FLOAT16")
	}
}
