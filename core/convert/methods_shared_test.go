package convert

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"litequant/core/fixtures"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/samples"
	"litequant/core/tflite"
)

var (
	methodsTable = flag.Bool("methods-table", false, "print the README's table of SQNR per calibration method")
	methodsMode  = flag.String("methods-mode", "int8", "the mode TestMethodsSharedModels quantizes to")
)

// methodRun is one model quantized with every method from one
// calibration, judged in the real runtime on held-out samples.
type methodRun struct {
	sqnr    map[string][]float64 // method -> per output SQNR (dB)
	pooled  map[string]float64   // method -> SQNR of all outputs together
	warn    map[string]string    // method -> the warning about outlying samples
	kept    string               // auto's whole-model pick
	elapsed time.Duration
}

// runMethods calibrates model once on calib (with verify as auto's
// verification samples), quantizes it with every method from the same
// statistics, checks that no conversion after the first calibrates, and
// runs each result in the real runtime on judge against the float model.
func runMethods(t *testing.T, model []byte, mode Mode, calibFiles, verifyFiles []samples.File, judge []*npy.Array, extra ...methodCase) methodRun {
	t.Helper()
	run, ok := tryMethods(t, model, mode, calibFiles, verifyFiles, judge, extra...)
	if !ok {
		t.Fatal("the float model does not run in the runtime")
	}
	return run
}

// tryMethods is runMethods, reporting false when the runtime cannot run
// the float model. A quantized model equal to an earlier method's is not
// run again.
func tryMethods(t *testing.T, model []byte, mode Mode, calibFiles, verifyFiles []samples.File, judge []*npy.Array, extra ...methodCase) (methodRun, bool) {
	t.Helper()
	start := time.Now()
	ref, err := runtimetest.RunModelBytes(t.Context(), model, judge, runtimetest.Options{})
	if err != nil {
		return methodRun{}, false
	}
	seen := map[string]string{} // model bytes -> the method that gave them first
	run := methodRun{sqnr: map[string][]float64{}, pooled: map[string]float64{}, warn: map[string]string{}}
	var stats *Stats
	cases := []methodCase{{"minmax", 0}, {"percentile", 0}, {"mse", 0}, {"entropy", 0}, {"auto", 0}}
	for _, mc := range append(cases, extra...) {
		method := mc.method
		name := mc.name()
		req := Request{Model: model, Calib: calibFiles, Stats: stats, Options: Options{Mode: mode, Calibration: method, Percentile: mc.percentile}}
		if method == "auto" {
			req.Verify = verifyFiles
		}
		calibrated := false
		req.Progress = func(p Progress) { calibrated = calibrated || p.Phase == "calibrating" }
		res, err := Convert(context.Background(), req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if stats != nil && calibrated {
			t.Errorf("%s: calibrated again, though given the statistics", method)
		}
		if stats == nil {
			stats = res.Stats
		}
		if c := res.Report.Calibration; c == nil || c.Method != method {
			t.Errorf("%s: report calibration %+v", method, c)
		}
		if method == "auto" {
			if c := res.Report.Calibration; c.Auto == nil || (len(verifyFiles) > 0) != (c.Auto.Note == "") {
				t.Errorf("auto: whole-model check %+v", c.Auto)
			} else {
				run.kept = c.Auto.Kept
			}
		}
		for _, w := range res.Report.Quantize.Warnings {
			if strings.Contains(w, "set by a few samples") {
				run.warn[name] = w
			}
		}
		if first, ok := seen[string(res.Model)]; ok {
			run.sqnr[name], run.pooled[name] = run.sqnr[first], run.pooled[first]
			continue
		}
		seen[string(res.Model)] = name
		out, err := runtimetest.RunModelBytes(t.Context(), res.Model, judge, runtimetest.Options{})
		if err != nil {
			t.Fatalf("%s: the quantized model in the runtime: %v", method, err)
		}
		run.sqnr[name] = heldOutSQNR(t, ref.Outputs, out.Outputs)
		run.pooled[name] = pooledSQNR(t, ref.Outputs, out.Outputs)
	}
	run.elapsed = time.Since(start)
	return run, true
}

// methodCase is a method and its percentile.
type methodCase struct {
	method     string
	percentile float64
}

func (m methodCase) name() string {
	if m.percentile != 0 {
		return fmt.Sprintf("%s %g", m.method, m.percentile)
	}
	return m.method
}

// pooledSQNR is the SQNR of all outputs of out together against ref, as
// TestFullSharedModels measures it.
func pooledSQNR(t *testing.T, ref, out []*npy.Array) float64 {
	var sig, noise float64
	for i := range ref {
		a, _ := ref[i].Float64s()
		b, _ := out[i].Float64s()
		for k := range a {
			sig += a[k] * a[k]
			noise += (a[k] - b[k]) * (a[k] - b[k])
		}
	}
	return 10 * math.Log10(sig/noise)
}

// heldOutSQNR is each output's SQNR of out against ref, in dB.
func heldOutSQNR(t *testing.T, ref, out []*npy.Array) []float64 {
	t.Helper()
	var db []float64
	for i := range ref {
		a, err := ref[i].Float64s()
		if err != nil {
			t.Fatal(err)
		}
		b, err := out[i].Float64s()
		if err != nil || len(a) != len(b) {
			t.Fatalf("output %d: %v (%d vs %d values)", i, err, len(a), len(b))
		}
		var sig, noise float64
		for k := range a {
			sig += a[k] * a[k]
			noise += (a[k] - b[k]) * (a[k] - b[k])
		}
		db = append(db, 10*math.Log10(sig/noise))
	}
	return db
}

// sharedImages are the shared photos as calibration files.
func sharedImages(t *testing.T) []samples.File {
	dir := fixtures.Path(t, "data", "images")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []samples.File
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, samples.File{Name: e.Name(), Data: b})
	}
	return files
}

// heldOut returns n fixture samples of model (crops of the shared data,
// never the whole photos) split in two: every other one as a verification
// file for auto, the rest stacked for the runtime to judge. Samples skip
// says are left out.
func heldOut(t *testing.T, model []byte, base string, n int, skip func(i int) bool) (verify []samples.File, judge []*npy.Array) {
	m, err := tflite.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fixtures.Samples(m, base, n)
	if err != nil {
		t.Fatal(err)
	}
	var v, j []fixtures.Sample
	for i, x := range s {
		if skip != nil && skip(i) {
			continue
		}
		if i%2 == 0 {
			v = append(v, x)
		} else {
			j = append(j, x)
		}
	}
	return []samples.File{npzFile(t, m, "verify.npz", v)}, fixtures.Stack(j)
}

// npzFile is samples s of m as one .npz file, an array per input by name.
func npzFile(t *testing.T, m *tflite.Model, name string, s []fixtures.Sample) samples.File {
	sg := m.Subgraphs[0]
	var ar npy.Archive
	for k, a := range fixtures.Stack(s) {
		ar = append(ar, npy.NamedArray{Name: sg.Tensors[sg.Inputs[k]].Name, Array: a})
	}
	var buf bytes.Buffer
	if err := npy.WriteNPZ(&buf, ar); err != nil {
		t.Fatal(err)
	}
	return samples.File{Name: name, Data: buf.Bytes()}
}

// TestMethodsFaceDetection: face_detection_short_range in int8, calibrated
// on every shared photo, sparrow.png (the outlier) included, and judged in
// the real runtime on crops of the other photos (the last six of the 48
// crops are sparrow.png's, which reach 20 to 40 times the others' values):
// min/max leaves them few int8 steps, percentile, mse and auto clip the
// outlier's values. Auto's verification samples are other crops of the
// same photos.
func TestMethodsFaceDetection(t *testing.T) {
	fixtures.RequireShared(t)
	runtimetest.Require(t)
	model, err := os.ReadFile(fixtures.Model(t, "face_detection_short_range.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	verify, judge := heldOut(t, model, "face_detection_short_range.tflite", 48, func(i int) bool { return i >= 42 })
	run := runMethods(t, model, Int8, sharedImages(t), verify, judge, methodCase{"percentile", 99.9})
	for _, m := range []string{"minmax", "percentile", "percentile 99.9", "mse", "entropy", "auto"} {
		t.Logf("%-16s SQNR %.1f dB (outputs %.1f)", m, run.pooled[m], run.sqnr[m])
	}
	t.Logf("auto kept %s; %v", run.kept, run.elapsed)
	// The outlier warning: min/max's names sparrow.png; a method's, if its
	// ranges still reach that far, says what the method kept.
	for m, w := range run.warn {
		t.Logf("%s warns: %s", m, w)
		if m == "minmax" && !strings.Contains(w, "sparrow.png") || m != "minmax" && !strings.Contains(w, "kept a range reaching") {
			t.Errorf("%s: warning %q", m, w)
		}
	}
	if run.warn["minmax"] == "" {
		t.Error("min/max: no warning about sparrow.png")
	}
	if run.pooled["minmax"] > 5 {
		t.Errorf("min/max: %.1f dB: the outlier no longer ruins it, so this test shows nothing", run.pooled["minmax"])
	}
	if run.pooled["auto"] < 12 {
		t.Errorf("auto: %.1f dB, want at least 12", run.pooled["auto"])
	}
	if p, m := run.pooled["percentile 99.9"], run.pooled["mse"]; max(p, m) < 12 {
		t.Errorf("percentile 99.9 %.1f dB, mse %.1f dB: want one at least 12", p, m)
	}
}

func minOf(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

// TestMethodsSharedModels quantizes every shared float model to int8 (or
// -methods-mode) with
// every method from one calibration (half its fixture samples; a quarter
// verifies auto's whole model, a quarter judges in the real runtime) and
// checks that auto is nowhere worse than min/max by more than 0.5 dB on
// any float output. -methods-table prints the README's table.
func TestMethodsSharedModels(t *testing.T) {
	fixtures.RequireShared(t)
	runtimetest.Require(t)
	if testing.Short() {
		t.Skip("runs every shared model in the real runtime")
	}
	start := time.Now()
	type row struct {
		model string
		run   methodRun
		note  string
	}
	var rows []row
	for _, base := range manifestFloatModels(t) {
		name := strings.TrimSuffix(base, ".tflite")
		model, err := os.ReadFile(fixtures.Model(t, base))
		if err != nil {
			t.Fatal(err)
		}
		m, err := tflite.Load(model)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			n := 32
			if strings.HasPrefix(name, "mobilenet") || strings.HasPrefix(name, "face_detection") {
				n = 24 // the slow ones: 12 calibrate, 6 verify, 6 judge
			}
			s, err := fixtures.Samples(m, base, n)
			if err != nil {
				t.Fatal(err)
			}
			var cal, held []fixtures.Sample
			for i, x := range s {
				if i%2 == 0 {
					cal = append(cal, x)
				} else {
					held = append(held, x)
				}
			}
			var ver, judge []fixtures.Sample
			for i, x := range held {
				if i%2 == 0 {
					ver = append(ver, x)
				} else {
					judge = append(judge, x)
				}
			}
			calFiles := []samples.File{npzFile(t, m, "calib.npz", cal)}
			// Models the runtime cannot run, that cannot be calibrated, or
			// with nothing to quantize in int8: no comparison (see
			// TestFullSharedModels in core/internal/quant).
			if _, err := Convert(context.Background(), Request{Model: model, Calib: calFiles, Options: Options{Mode: Mode(*methodsMode)}}); err != nil {
				note := "cannot be calibrated"
				if errors.Is(err, ErrNothingToDo) {
					note = "no integer kernel: left float"
				}
				rows = append(rows, row{model: name, note: note})
				return
			}
			run, ok := tryMethods(t, model, Mode(*methodsMode), calFiles, []samples.File{npzFile(t, m, "verify.npz", ver)}, fixtures.Stack(judge))
			if !ok {
				rows = append(rows, row{model: name, note: "the runtime cannot run the float model"})
				return
			}
			for k, mm := range run.sqnr["minmax"] {
				if a := run.sqnr["auto"][k]; a < mm-0.5 && !math.IsNaN(mm) {
					t.Errorf("output %d: auto %.2f dB, min/max %.2f dB", k, a, mm)
				}
			}
			rows = append(rows, row{model: name, run: run})
		})
	}
	t.Logf("%d models in %v", len(rows), time.Since(start))
	if !*methodsTable {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| model | min/max | percentile | mse | entropy | auto (kept) |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		if r.note != "" {
			fmt.Fprintf(&b, "| %s | %s | | | | |\n", r.model, r.note)
			continue
		}
		cell := func(m string) string {
			v := r.run.sqnr[m]
			if len(v) == 1 {
				return fmt.Sprintf("%.1f", v[0])
			}
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = fmt.Sprintf("%.1f", x)
			}
			return strings.Join(parts, " / ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s (%s) |\n", r.model, cell("minmax"), cell("percentile"), cell("mse"), cell("entropy"), cell("auto"), r.run.kept)
	}
	t.Log(b.String())
}

// manifestFloatModels lists the model files ../shared/MANIFEST.md calls
// float, as TestFullSharedModels does.
func manifestFloatModels(t *testing.T) []string {
	b, err := os.ReadFile(fixtures.Path(t, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		file, kind := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])
		if strings.HasSuffix(file, ".tflite") && strings.HasPrefix(kind, "float") {
			names = append(names, file)
		}
	}
	sort.Strings(names)
	return names
}
