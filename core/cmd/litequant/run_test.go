package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
)

func TestRunBatchMatchesRuntime(t *testing.T) {
	model := fixtures.Model(t, "hello_world_float.tflite")
	x := fixtures.Path(t, "data", "npy", "sine_x_0to2pi.npy") // (200, 1): a batch for input [1, 1]
	out := t.TempDir()
	status, stdout, stderr := runCLI(t, "run", model, "--input", x, "-o", out)
	if status != 0 {
		t.Fatalf("exit %d: %s", status, stderr)
	}
	if !strings.Contains(stdout, "out0.npy") {
		t.Errorf("stdout %q", stdout)
	}
	got, err := npy.ReadFile(filepath.Join(out, "out0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if got.DType != npy.Float32 || len(got.Shape) != 2 || got.Shape[0] != 200 || got.Shape[1] != 1 {
		t.Fatalf("output %s %v, want float32 [200 1]", got.DType, got.Shape)
	}
	runtimetest.Require(t)
	in, _ := npy.ReadFile(x)
	res, err := runtimetest.RunModel(context.Background(), model, []*npy.Array{in}, runtimetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := got.Float32s()
	w, _ := res.Outputs[0].Float32s()
	var num, den float64
	for i := range w {
		d := float64(g[i] - w[i])
		num += d * d
		den += float64(w[i]) * float64(w[i])
	}
	if rel := math.Sqrt(num / den); rel > 1e-5 {
		t.Errorf("relative L2 error %g against the real runtime", rel)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 3)
	y := b.Tensor("y", fb.TensorTypeFLOAT32, 1, 3)
	b.Op(fb.BuiltinOperatorRELU, nil, []int32{x}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	model := filepath.Join(dir, "relu.tflite")
	os.WriteFile(model, b.Bytes(), 0o644)

	b2 := modelbuild.New()
	i := b2.Tensor("ids", fb.TensorTypeINT32, 1, 2)
	o := b2.Tensor("o", fb.TensorTypeINT32, 1, 2)
	b2.Op(fb.BuiltinOperatorABS, nil, []int32{i}, []int32{o})
	b2.Inputs(i)
	b2.Outputs(o)
	intModel := filepath.Join(dir, "abs.tflite")
	os.WriteFile(intModel, b2.Bytes(), 0o644)

	write := func(name string, a *npy.Array) string {
		p := filepath.Join(dir, name)
		if err := npy.WriteFile(p, a); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.npy", npy.FromFloat32([]int{1, 3}, []float32{-1, 0, 1}))
	wrongShape := write("shape.npy", npy.FromFloat32([]int{2, 2}, []float32{1, 2, 3, 4}))
	nan := write("nan.npy", npy.FromFloat32([]int{1, 2}, []float32{float32(math.NaN()), 1}))
	strs := write("bool.npy", npy.FromFloat64([]int{1, 3}, []float64{0.5, 1, 2}))

	out := filepath.Join(dir, "out")
	cases := []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"run", model, "-o", out}, 1, `0 --input files for 1 model inputs ("x" (FLOAT32 [1, 3]))`},
		{[]string{"run", model, "--input", good, "--input", good, "-o", out}, 1, "2 --input files for 1 model inputs"},
		{[]string{"run", model, "--input", wrongShape, "-o", out}, 1, "shape.npy"},
		{[]string{"run", intModel, "--input", nan, "-o", out}, 1, "nan.npy"},
		{[]string{"run", intModel, "--input", strs, "-o", out}, 1, "bool.npy"},
		{[]string{"run", model, "--input", filepath.Join(dir, "missing.npy"), "-o", out}, 1, "missing.npy"},
		{[]string{"run", model, "--input", good}, 2, "-o OUTDIR is required"},
		{[]string{"run", model, "--input", good, "--signature", "nope", "-o", out}, 1, `no signature "nope"`},
		{[]string{"run", model, "--input", good, "--max-memory", "16", "-o", out}, 1, `relu.tflite: subgraph 0: the activations need 24 bytes at their peak, more than the 16 bytes limit: memory limit (largest tensors: tensor 0 "x" FLOAT32[1 3] 12 bytes, tensor 1 "y" FLOAT32[1 3] 12 bytes)`},
		{[]string{"run", model, "--input", good, "--max-memory", "x", "-o", out}, 2, `--max-memory: "x" is not a size`},
	}
	for _, c := range cases {
		status, _, stderr := runCLI(t, c.args...)
		if status != c.status || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, stderr %q; want %d and %q", c.args[1:], status, stderr, c.status, c.want)
		}
	}
	// The good case works and gives the ReLU.
	if status, _, stderr := runCLI(t, "run", model, "--input", good, "-o", out); status != 0 {
		t.Fatalf("good run: %s", stderr)
	}
	a, _ := npy.ReadFile(filepath.Join(out, "out0.npy"))
	v, _ := a.Float32s()
	if len(v) != 3 || v[0] != 0 || v[1] != 0 || v[2] != 1 || len(a.Shape) != 2 {
		t.Errorf("relu output %v %v", a.Shape, v)
	}
}
