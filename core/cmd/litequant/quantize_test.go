package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// fcModelFile writes x -> FULLY_CONNECTED(weights [rows, 64]) and returns
// its path.
func fcModelFile(t *testing.T, dir string, rows int32) string {
	t.Helper()
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 64)
	w := make([]float32, rows*64)
	for i := range w {
		w[i] = float32(i%17) - 8
	}
	wt := b.ConstFloat32("dense/weights", []int32{rows, 64}, w)
	y := b.Tensor("y", fb.TensorTypeFLOAT32, 1, rows)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{x, wt, -1}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	p := filepath.Join(dir, "fc.tflite")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCmd(args ...string) (status int, stdout, stderr string) {
	var out, errb bytes.Buffer
	status = run(args, &out, &errb)
	return status, out.String(), errb.String()
}

func TestQuantizeCommand(t *testing.T) {
	dir := t.TempDir()
	in := fcModelFile(t, dir, 32) // 2048 weights
	for _, mode := range []string{"dynamic", "float16"} {
		t.Run(mode, func(t *testing.T) {
			out := filepath.Join(dir, mode+".tflite")
			rep := filepath.Join(dir, mode+".json")
			status, stdout, stderr := runCmd("quantize", "--mode", mode, "--report", rep, "-o", out, in)
			if status != 0 {
				t.Fatalf("status %d: %s", status, stderr)
			}
			if !strings.Contains(stdout, mode+": 1 weight(s)") || !strings.Contains(stdout, "dense/weights") || !strings.Contains(stdout, "wrote "+out) {
				t.Errorf("stdout:\n%s", stdout)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			m, err := tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]fb.TensorType{"dynamic": fb.TensorTypeINT8, "float16": fb.TensorTypeFLOAT16}[mode]
			found := false
			for _, tt := range m.Subgraphs[0].Tensors {
				found = found || tt.Name == "dense/weights" && tt.Type == want
			}
			if !found {
				t.Errorf("dense/weights is not %s", tflite.TypeName(want))
			}
			js, err := os.ReadFile(rep)
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Mode       string `json:"mode"`
				Noop       bool   `json:"noop"`
				SizeBefore int    `json:"size_before"`
				SizeAfter  int    `json:"size_after"`
				Weights    []struct {
					Tensor      string `json:"tensor"`
					Type        string `json:"type"`
					Granularity string `json:"granularity"`
					Elements    int    `json:"elements"`
					Consumers   []struct {
						Name   string `json:"name"`
						Kernel string `json:"kernel"`
					} `json:"consumers"`
				} `json:"weights"`
				FloatOps  []json.RawMessage `json:"float_ops"`
				ElapsedMS *float64          `json:"elapsed_ms"`
			}
			if err := json.Unmarshal(js, &r); err != nil {
				t.Fatal(err)
			}
			st, _ := os.Stat(in)
			if r.Mode != mode || r.Noop || r.SizeBefore != int(st.Size()) || r.SizeAfter != len(data) || r.ElapsedMS == nil || r.FloatOps == nil ||
				len(r.Weights) != 1 || r.Weights[0].Tensor != "dense/weights" || r.Weights[0].Elements != 2048 || r.Weights[0].Consumers[0].Name != "FULLY_CONNECTED" {
				t.Errorf("report: %s", js)
			}
		})
	}
	t.Run("deterministic", func(t *testing.T) {
		a, b := filepath.Join(dir, "a.tflite"), filepath.Join(dir, "b.tflite")
		for _, out := range []string{a, b} {
			if status, _, stderr := runCmd("quantize", "-o", out, in); status != 0 {
				t.Fatal(stderr)
			}
		}
		da, _ := os.ReadFile(a)
		db, _ := os.ReadFile(b)
		if !bytes.Equal(da, db) {
			t.Error("two runs wrote different bytes")
		}
	})
	t.Run("flags", func(t *testing.T) {
		out := filepath.Join(dir, "flags.tflite")
		// Every flag at once, flags after the input too.
		status, stdout, stderr := runCmd("quantize", in, "--min-weight-elements", "4096", "--skip-ops", "conv_2d", "--skip-tensors", "^nothing$", "--allow-noop", "-o", out)
		if status != 0 || !strings.Contains(stdout, "unchanged copy") {
			t.Fatalf("status %d\n%s%s", status, stdout, stderr)
		}
	})
}

func TestQuantizeErrors(t *testing.T) {
	dir := t.TempDir()
	in := fcModelFile(t, dir, 32)
	small := filepath.Join(dir, "small.tflite")
	if err := os.Rename(fcModelFile(t, dir, 8), small); err != nil { // 512 weights
		t.Fatal(err)
	}
	notModel := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notModel, []byte("hello, this is not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.tflite")
	tests := []struct {
		name   string
		args   []string
		status int
		want   string // in the first line of stderr
	}{
		{"not a model", []string{"-o", out, notModel}, 1, "this is a text file, not a .tflite model"},
		{"missing input", []string{"-o", out, filepath.Join(dir, "absent.tflite")}, 1, "no such file"},
		{"no float weights", []string{"-o", out, small}, 1, "nothing to quantize: no float weights to quantize: 1 with fewer than 1024 elements (pass --allow-noop to write an unchanged copy)"},
		{"no float weights float16", []string{"--mode", "float16", "-o", out, small}, 1, "nothing to quantize"},
		{"unknown op", []string{"--skip-ops", "CONV_2D,FROB", "-o", out, in}, 2, `--skip-ops: unknown operator "FROB"`},
		{"misspelt op", []string{"--skip-ops", "conv2d", "-o", out, in}, 2, "did you mean CONV_2D?"},
		{"invalid regex", []string{"--skip-tensors", "dense/(", "-o", out, in}, 2, "--skip-tensors: invalid regular expression \"dense/(\": missing closing )"},
		{"unknown mode", []string{"--mode", "int4", "-o", out, in}, 2, `unknown mode "int4": want dynamic, float16, int8, int16x8`},
		{"no output", []string{in}, 2, "missing -o OUT.tflite"},
		{"two inputs", []string{"-o", out, in, in}, 2, "want one input model, got 2"},
		{"bad min elements", []string{"--min-weight-elements", "0", "-o", out, in}, 2, "--min-weight-elements must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(out)
			status, stdout, stderr := runCmd(append([]string{"quantize"}, tt.args...)...)
			if status != tt.status {
				t.Errorf("status %d, want %d (stderr %q)", status, tt.status, stderr)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q, want %q in its first line", stderr, tt.want)
			}
			// One line of error; usage errors add the usage line.
			if wantLines := map[int]int{1: 1, 2: 2}[tt.status]; len(lines) != wantLines {
				t.Errorf("stderr has %d lines, want %d: %q", len(lines), wantLines, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output file was written")
			}
		})
	}
	t.Run("allow noop writes an unchanged copy", func(t *testing.T) {
		status, stdout, stderr := runCmd("quantize", "--allow-noop", "-o", out, small)
		if status != 0 || !strings.Contains(stdout, "nothing to quantize") || !strings.Contains(stdout, "wrote an unchanged copy") {
			t.Fatalf("status %d: %s%s", status, stdout, stderr)
		}
		a, _ := os.ReadFile(small)
		b, _ := os.ReadFile(out)
		if !bytes.Equal(a, b) {
			t.Error("the copy differs from the input")
		}
	})
	t.Run("fully quantized", func(t *testing.T) {
		p := fixtures.Model(t, "hello_world_int8.tflite")
		status, _, stderr := runCmd("quantize", "-o", out, p)
		if status != 1 || !strings.Contains(stderr, "model is already fully quantized") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("status %d, stderr %q", status, stderr)
		}
	})
}

// BenchmarkQuantizeDynamic times `litequant quantize --mode dynamic` on the
// largest shared float model (iris_landmark, 2.6 MB): read, quantize,
// write, report.
func BenchmarkQuantizeDynamic(b *testing.B) {
	for _, name := range []string{"iris_landmark.tflite", "mobilenet_v1_0.25_224_float.tflite"} {
		b.Run(strings.TrimSuffix(name, ".tflite"), func(b *testing.B) {
			in := fixtures.Model(b, name)
			out := filepath.Join(b.TempDir(), "out.tflite")
			for b.Loop() {
				if status := run([]string{"quantize", "--mode", "dynamic", "-o", out, in}, io.Discard, io.Discard); status != 0 {
					b.Fatalf("status %d", status)
				}
			}
		})
	}
}
