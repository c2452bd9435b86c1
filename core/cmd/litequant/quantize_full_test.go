package main

import (
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// calibFile writes n samples of x [1, 64] in [-1, 1) as a batch .npy.
func calibFile(t *testing.T, dir string, n int) string {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	v := make([]float32, n*64)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	p := filepath.Join(dir, "calib.npy")
	if err := npy.WriteFile(p, npy.FromFloat32([]int{n, 64}, v)); err != nil {
		t.Fatal(err)
	}
	return p
}

// divModelFile writes x -> FULLY_CONNECTED -> DIV(2) -> y: DIV has no
// integer kernel.
func divModelFile(t *testing.T, dir string) string {
	t.Helper()
	f := fb.TensorTypeFLOAT32
	b := modelbuild.New()
	x := b.Tensor("x", f, 1, 64)
	w := make([]float32, 8*64)
	for i := range w {
		w[i] = float32(i%13)/13 - 0.5
	}
	wt := b.ConstFloat32("dense/weights", []int32{8, 64}, w)
	h := b.Tensor("h", f, 1, 8)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{x, wt, -1}, []int32{h})
	two := b.ConstFloat32("two", []int32{1}, []float32{2})
	y := b.Tensor("y", f, 1, 8)
	b.Op(fb.BuiltinOperatorDIV, &fb.DivOptionsT{}, []int32{h, two}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	p := filepath.Join(dir, "div.tflite")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestQuantizeUint8 runs --mode uint8 with --input-stats and with
// --default-range (no samples: the warning names the tensors).
func TestQuantizeUint8(t *testing.T) {
	dir := t.TempDir()
	in := fcModelFile(t, dir, 32)
	cal := calibFile(t, dir, 20)
	out := filepath.Join(dir, "out.tflite")
	status, stdout, stderr := runCmd("quantize", "--mode", "uint8", "--input-stats", "127.5,127.5", "--calib", cal, "-o", out, in)
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tflite.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	sg := m.Subgraphs[0]
	x, y := sg.Tensors[sg.Inputs[0]], sg.Tensors[sg.Outputs[0]]
	if x.Type != fb.TensorTypeUINT8 || y.Type != fb.TensorTypeUINT8 || x.Quantization.ZeroPoint[0] != 128 || x.Quantization.Scale[0] != 1/float32(127.5) {
		t.Errorf("I/O %s %+v, %s: want UINT8 with the input stats' parameters", tflite.TypeName(x.Type), x.Quantization, tflite.TypeName(y.Type))
	}
	if !strings.Contains(stdout, "uint8:") {
		t.Errorf("stdout %q", stdout)
	}
	// Wrong input name and count are known once the model is read.
	for _, c := range [][]string{{"--input-stats", "image=1,1"}, {"--input-stats", "1,1", "--input-stats", "2,2"}} {
		status, _, stderr := runCmd(append(append([]string{"quantize", "--mode", "uint8", "--calib", cal}, c...), "-o", out, in)...)
		if status != 1 || !strings.Contains(stderr, "--input-stats") {
			t.Errorf("%v: status %d, %s", c, status, stderr)
		}
	}
	status, stdout, stderr = runCmd("quantize", "--mode", "uint8", "--default-range", "-8,8", "-o", out, in)
	if status != 0 || !strings.Contains(stdout, `warning: --default-range -8,8 used for 2 tensor(s) with no other range: "x", "y"`) {
		t.Errorf("--default-range without samples: status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
}

func TestQuantizeFullInteger(t *testing.T) {
	dir := t.TempDir()
	in := fcModelFile(t, dir, 32)
	cal := calibFile(t, dir, 20)
	for _, c := range []struct {
		mode, io string
		want     fb.TensorType
	}{{"int8", "float32", fb.TensorTypeINT8}, {"int8", "uint8", fb.TensorTypeINT8}, {"int16x8", "int16", fb.TensorTypeINT16}} {
		t.Run(c.mode+" "+c.io, func(t *testing.T) {
			out := filepath.Join(dir, c.mode+c.io+".tflite")
			rep := filepath.Join(dir, c.mode+c.io+".json")
			status, stdout, stderr := runCmd("quantize", "--mode", c.mode, "--calib", cal, "--calib-count", "16", "--input-type", c.io,
				"--output-type", c.io, "--integer-only", "--report", rep, "-o", out, in)
			if status != 0 {
				t.Fatalf("status %d: %s", status, stderr)
			}
			for _, want := range []string{"calibration: 16 of 20 samples", c.mode + ": 1 operator(s) on integer kernels, 0 left float", "wrote " + out} {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			m, err := tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			sg := m.Subgraphs[0]
			wantIO := map[string]fb.TensorType{"float32": fb.TensorTypeFLOAT32, "uint8": fb.TensorTypeUINT8, "int16": fb.TensorTypeINT16}[c.io]
			if sg.Tensors[sg.Inputs[0]].Type != wantIO || sg.Tensors[sg.Outputs[0]].Type != wantIO {
				t.Errorf("model I/O %s, want %s", tflite.TypeName(sg.Tensors[sg.Inputs[0]].Type), c.io)
			}
			for _, op := range sg.Operators {
				if m.Builtin(op) == fb.BuiltinOperatorFULLY_CONNECTED && sg.Tensors[op.Inputs[0]].Type != c.want {
					t.Errorf("FULLY_CONNECTED input is %s", tflite.TypeName(sg.Tensors[op.Inputs[0]].Type))
				}
			}
			js, err := os.ReadFile(rep)
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Mode        string `json:"mode"`
				InputType   string `json:"input_type"`
				IntegerOps  int    `json:"integer_ops"`
				Activations []struct {
					Tensor string   `json:"tensor"`
					Scale  float32  `json:"scale"`
					Min    *float32 `json:"min"`
				} `json:"activations"`
				Weights     []json.RawMessage `json:"weights"`
				FloatOps    []json.RawMessage `json:"float_ops"`
				Calibration struct {
					Samples   int      `json:"samples"`
					Sources   string   `json:"sources"`
					ElapsedMS *float64 `json:"elapsed_ms"`
				} `json:"calibration"`
			}
			if err := json.Unmarshal(js, &r); err != nil {
				t.Fatal(err)
			}
			if r.Mode != c.mode || r.IntegerOps != 1 || len(r.Activations) < 2 || len(r.Weights) != 1 || r.FloatOps == nil ||
				r.Calibration.Samples != 16 || !strings.Contains(r.Calibration.Sources, "16 of 20 samples") || r.Calibration.ElapsedMS == nil {
				t.Errorf("report: %+v", r)
			}
		})
	}
}

// --plain-weights rounds weights to nearest (TensorFlow's way); by default
// they are tuned on the calibration data, so the files differ.
func TestQuantizePlainWeights(t *testing.T) {
	dir := t.TempDir()
	in := fcModelFile(t, dir, 32)
	cal := calibFile(t, dir, 64)
	plain, tuned := filepath.Join(dir, "plain.tflite"), filepath.Join(dir, "tuned.tflite")
	for _, c := range []struct {
		out   string
		extra []string
	}{{plain, []string{"--plain-weights"}}, {tuned, nil}} {
		args := append([]string{"quantize", "--mode", "int8", "--calib", cal, "-o", c.out}, c.extra...)
		if status, _, stderr := runCmd(append(args, in)...); status != 0 {
			t.Fatal(stderr)
		}
	}
	a, _ := os.ReadFile(plain)
	b, _ := os.ReadFile(tuned)
	if len(a) != len(b) || string(a) == string(b) {
		t.Errorf("plain and tuned models: %d and %d bytes, equal %v", len(a), len(b), string(a) == string(b))
	}
}

func TestQuantizeIntegerOnly(t *testing.T) {
	dir := t.TempDir()
	in := divModelFile(t, dir)
	cal := calibFile(t, dir, 8)
	out := filepath.Join(dir, "out.tflite")
	status, stdout, stderr := runCmd("quantize", "--mode", "int8", "--calib", cal, "--integer-only", "-o", out, in)
	if status != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 ||
		!strings.Contains(stderr, "--integer-only: 1 operator(s) have no int8 kernel in the runtime and would stay float: DIV (subgraph 0, operator 1: no int8 kernel)") {
		t.Errorf("status %d, stderr %q", status, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an output file was written")
	}
	// Without --integer-only DIV stays float, between QUANTIZE/DEQUANTIZE.
	status, stdout, stderr = runCmd("quantize", "--mode", "int8", "--calib", cal, "-o", out, in)
	if status != 0 || !strings.Contains(stdout, "1 left float") || !strings.Contains(stdout, "DIV#3") {
		t.Errorf("status %d: %s%s", status, stdout, stderr)
	}
}

// Bad calibration samples: each is a one-line error naming the file and
// the input it was meant for, checked before any work.
func TestQuantizeCalibErrors(t *testing.T) {
	dir := t.TempDir()
	in := fcModelFile(t, dir, 32)
	write := func(name string, a *npy.Array) string {
		p := filepath.Join(dir, name)
		if err := npy.WriteFile(p, a); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nan := make([]float32, 2*64)
	nan[70] = float32(math.NaN())
	inf := make([]float32, 64)
	inf[3] = float32(math.Inf(-1))
	big := make([]int64, 64)
	big[5] = 1<<40 + 1
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.npy")
	os.WriteFile(garbage, []byte("\x93NUMPY\x01\x00this is not a header"), 0o644)
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("hello"), 0o644)
	const input = `input "x" (FLOAT32 [1, 64])`
	cases := []struct {
		name, path, want string
	}{
		{"shape", write("shape.npy", npy.FromFloat32([]int{3, 32}, make([]float32, 96))), "shape.npy: shape [3, 32] does not fit " + input},
		{"dtype", write("int64.npy", npy.FromInt64([]int{1, 64}, big)), "int64.npy: int64 value 1099511627777 is not exactly representable as FLOAT32"},
		{"nan", write("nan.npy", npy.FromFloat32([]int{2, 64}, nan)), "nan.npy: float32 value NaN is not a finite number at sample 1, element 6"},
		{"inf", write("inf.npy", npy.FromFloat32([]int{64}, inf)), "inf.npy: float32 value -Inf is not a finite number"},
		{"empty array", write("zero.npy", npy.FromFloat32([]int{0, 64}, nil)), "zero.npy: shape [0, 64] holds no values for " + input},
		{"empty folder", empty, "empty: the folder holds no calibration files"},
		{"missing file", filepath.Join(dir, "absent.npy"), "absent.npy: no such file or directory (for " + input + ")"},
		{"unreadable npy", garbage, "garbage.npy: "},
		{"unknown kind", notes, "notes.txt: unrecognised file type"},
		{"image for a vector", fixturesImage(t), "an image does not fit " + input},
	}
	out := filepath.Join(dir, "out.tflite")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.path == "" {
				t.Skip("needs ../shared")
			}
			status, stdout, stderr := runCmd("quantize", "--mode", "int8", "--calib", c.path, "-o", out, in)
			if status != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, `"x"`) {
				t.Errorf("status %d, stderr %q, want %q (one line, naming the input)", status, stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output file was written")
			}
		})
	}
	// Command-line mistakes are usage errors.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "int8", "-o", out, in}, "--mode int8 needs calibration samples"},
		{[]string{"--mode", "dynamic", "--calib", empty, "-o", out, in}, "--mode dynamic takes no calibration samples"},
		{[]string{"--mode", "int8", "--input-type", "int16", "--calib", empty, "-o", out, in}, "--input-type int16 is not available with --mode int8"},
		{[]string{"--mode", "int16x8", "--output-type", "uint8", "--calib", empty, "-o", out, in}, "--output-type uint8 is not available with --mode int16x8"},
		{[]string{"--mode", "dynamic", "--integer-only", "-o", out, in}, "--integer-only applies to the full-integer modes"},
		{[]string{"--mode", "float16", "--plain-weights", "--output-type", "int8", "-o", out, in}, "--output-type and --plain-weights apply to the full-integer modes"},
		{[]string{"--mode", "int8", "--input-type", "int4", "--calib", empty, "-o", out, in}, `--input-type "int4": want float32, int8, uint8 or int16`},
		{[]string{"--mode", "int8", "--calib-count", "-2", "--calib", empty, "-o", out, in}, "--calib-count must be positive"},
		{[]string{"--mode", "int8", "--image-std", "wide", "--calib", empty, "-o", out, in}, "want a number"},
		{[]string{"--mode", "uint8", "--input-stats", "127.5,0", "--calib", empty, "-o", out, in}, "--input-stats: STD must be positive, got 0"},
		{[]string{"--mode", "uint8", "--input-stats", "300,1", "--calib", empty, "-o", out, in}, "--input-stats: MEAN 300 is outside [0, 255]"},
		{[]string{"--mode", "int8", "--input-stats", "127.5,127.5", "--calib", empty, "-o", out, in}, "--input-stats applies to --mode uint8"},
		{[]string{"--mode", "uint8", "--default-range", "6", "--calib", empty, "-o", out, in}, `--default-range "6": want MIN,MAX`},
		{[]string{"--mode", "int8", "--calibration", "kl", "--calib", empty, "-o", out, in}, `--calibration "kl" is not a method`},
		{[]string{"--mode", "int8", "--calibration", "percentile", "--percentile", "100.5", "--calib", empty, "-o", out, in}, "--percentile must be in (0, 100], got 100.5"},
		{[]string{"--mode", "int8", "--calibration", "percentile", "--percentile", "-3", "--calib", empty, "-o", out, in}, "--percentile must be in (0, 100], got -3"},
		{[]string{"--mode", "int8", "--calibration", "mse", "--percentile", "99", "--calib", empty, "-o", out, in}, "--percentile applies to --calibration percentile or auto, not --calibration mse"},
		{[]string{"--mode", "int8", "--percentile", "99", "--calib", empty, "-o", out, in}, "not --calibration minmax"},
		{[]string{"--mode", "dynamic", "--calibration", "mse", "-o", out, in}, "--calibration applies to the full-integer modes"},
	} {
		status, _, stderr := runCmd(append([]string{"quantize"}, c.args...)...)
		wantStatus := 2
		if strings.Contains(c.want, "needs calibration samples") {
			wantStatus = 1 // known only once the mode needs them
		}
		if status != wantStatus || !strings.Contains(strings.SplitN(stderr, "\n", 2)[0], c.want) {
			t.Errorf("%v: status %d, stderr %q, want %q", c.args, status, stderr, c.want)
		}
	}
}

// fixturesImage returns a shared photo, or "" without ../shared.
func fixturesImage(t *testing.T) string {
	if _, ok := fixtures.SharedDir(); !ok {
		return ""
	}
	return fixtures.Path(t, "data", "images", "cat.jpg")
}

// BenchmarkQuantizeInt8 times `litequant quantize --mode int8` on
// mobilenet_v1_0.25_224_float with its 48 image crops: reading, decoding
// the samples, calibration, quantization and writing. Calibration's share
// is reported as ms/sample.
func BenchmarkQuantizeInt8(b *testing.B) {
	in := fixtures.Model(b, "mobilenet_v1_0.25_224_float.tflite")
	cal := fixtures.Path(b, "data", "npy", "images_224x224x3_uint8.npy")
	dir := b.TempDir()
	out, rep := filepath.Join(dir, "out.tflite"), filepath.Join(dir, "r.json")
	var calibMS float64
	for b.Loop() {
		if status := run([]string{"quantize", "--mode", "int8", "--calib", cal, "--report", rep, "-o", out, in}, io.Discard, io.Discard); status != 0 {
			b.Fatalf("status %d", status)
		}
		js, _ := os.ReadFile(rep)
		var r struct {
			Calibration struct {
				Samples   int     `json:"samples"`
				ElapsedMS float64 `json:"elapsed_ms"`
			} `json:"calibration"`
		}
		json.Unmarshal(js, &r)
		calibMS += r.Calibration.ElapsedMS / float64(r.Calibration.Samples)
	}
	b.ReportMetric(calibMS/float64(b.N), "calib-ms/sample")
}

// A calibration sample far beyond the others sets the 8-bit ranges: the
// report warns and names it; int16x8 has the steps to spare.
func TestQuantizeOutlierSampleWarning(t *testing.T) {
	dir := t.TempDir()
	in := fcModelFile(t, dir, 32)
	r := rand.New(rand.NewPCG(3, 4))
	v := make([]float32, 8*64)
	for i := range v {
		v[i] = 2*r.Float32() - 1
		if i/64 == 5 {
			v[i] *= 40 // sample 5
		}
	}
	cal := filepath.Join(dir, "calib.npy")
	if err := npy.WriteFile(cal, npy.FromFloat32([]int{8, 64}, v)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.tflite")
	status, stdout, stderr := runCmd("quantize", "--mode", "int8", "--calib", cal, "-o", out, in)
	if status != 0 {
		t.Fatal(stderr)
	}
	// The input is the first value the sample sets apart; the output
	// follows.
	for _, want := range []string{"warning: 2 calibrated activation range(s) are set by a few samples far beyond the others",
		`"x" reaches 39.5 on ` + cal + "[5], while half the samples stay within 0.99 (40×)", "--mode int16x8"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the warning lacks %q:\n%s", want, stdout)
		}
	}
	status, stdout, stderr = runCmd("quantize", "--mode", "int16x8", "--calib", cal, "-o", out, in)
	if status != 0 || strings.Contains(stdout, "warning:") {
		t.Errorf("int16x8: status %d, %s%s", status, stdout, stderr)
	}
}
