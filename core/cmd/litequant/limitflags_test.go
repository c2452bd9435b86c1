package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"litequant/core/npy"
)

// TestLimitFlags: --max-memory, --max-image-pixels and --input-shape reach
// the conversion; bad values are usage errors.
func TestLimitFlags(t *testing.T) {
	dir := t.TempDir()
	model := fcModelFile(t, dir, 32)
	out := filepath.Join(dir, "out.tflite")
	calib := filepath.Join(dir, "calib.npy")
	f, err := os.Create(calib)
	if err != nil {
		t.Fatal(err)
	}
	if err := npy.Write(f, npy.FromFloat32([]int{2, 64}, make([]float32, 128))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cases := []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"quantize", "--max-memory", "lots", "-o", out, model}, 2, `--max-memory: "lots" is not a size`},
		{[]string{"quantize", "--input-shape", "x", "-o", out, model}, 2, `--input-shape "x": want NAME=1,224,224,3`},
		{[]string{"quantize", "--max-image-pixels", "-3", "-o", out, model}, 2, "--max-image-pixels must be positive"},
		{[]string{"quantize", "--mode", "int8", "--calib", calib, "--max-memory", "64", "-o", out, model}, 1, "more than the 64 bytes limit: memory limit (largest tensors: "},
		{[]string{"quantize", "--mode", "int8", "--calib", calib, "--input-shape", "y=1,64", "-o", out, model}, 1, `--input-shape: the model has no input "y"`},
		{[]string{"quantize", "--mode", "int8", "--calib", calib, "--max-memory", "1MiB", "--input-shape", "x=1,64", "-o", out, model}, 0, ""},
	}
	for _, c := range cases {
		status, _, errOut := runCLI(t, c.args...)
		if status != c.status || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: status %d, stderr %q; want %d and %q", c.args, status, errOut, c.status, c.want)
		}
	}
}
