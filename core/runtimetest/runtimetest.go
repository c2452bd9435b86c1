// Package runtimetest runs models in the real TensorFlow Lite runtime for
// tests.
//
// The runtime is the WebAssembly build of TensorFlow Lite that ships with the
// npm package @tensorflow/tfjs-tflite (pinned in scripts/package.json), driven
// by scripts/tflite_run.js under Node. Install it with `npm ci --prefix
// scripts`. Each run starts one Node process: inputs and outputs travel as
// .npy files through a temporary directory.
//
// Batches follow scripts/tflite_run.js: an input of shape [N] + S[1:] for a
// model input of shape S = [1, ...] (or [N] + S) is N samples, run one by
// one; each output is then stacked on axis 0, giving [N] + O[1:] when the
// model's output shape O starts with 1 and [N] + O otherwise. A single sample
// (of shape S, or S[1:] when S[0] is 1) gives outputs of exactly shape O.
// Inputs whose dtype differs from the model's are converted numerically: any
// bool, integer or float array to a float input (float64 rounds to float32),
// bool and integer arrays to integer or bool inputs when every value is in
// range; floats are never rounded into integer inputs.
//
// Tests also use the shared fixtures in ../shared next to the repository
// (models and sample data, see ../shared/MANIFEST.md): see [SharedDir].
package runtimetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"litequant/core/fixtures"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"litequant/core/npy"
)

// Tensor describes a model input or output as the runtime reports it.
type Tensor struct {
	Name  string `json:"name"`
	DType string `json:"dtype"` // the runtime's dataType: "float32", "int8", "bool", ...
	Shape []int  `json:"shape"`
}

// Meta is what the runtime reported about a run (scripts/tflite_run.js
// writes it as meta.json).
type Meta struct {
	Inputs  []Tensor `json:"inputs"`
	Outputs []Tensor `json:"outputs"`
	Batched bool     `json:"batched"` // whether the inputs were a batch
	Samples int      `json:"samples"` // samples run, 1 when not batched
	Threads int      `json:"threads"`
	Warmup  int      `json:"warmup"`
	Repeat  int      `json:"repeat"`
	// MsPerInference is the mean wall time of one Infer() call in
	// milliseconds, timed over Repeat calls on the first sample after Warmup
	// calls.
	MsPerInference float64 `json:"ms_per_inference"`
	Runtime        struct {
		Package string `json:"package"`
		Version string `json:"version"`
		Wasm    string `json:"wasm"`
	} `json:"runtime"`
}

// Result is the outcome of a run: one array per model output, in the
// model's output order, and the run's Meta.
type Result struct {
	Outputs []*npy.Array
	Meta    Meta
}

// Options tunes a run. Zero fields take their defaults.
type Options struct {
	Threads int // numThreads passed to the runtime; default 1
	Warmup  int // Infer() calls before timing; default 1
	Repeat  int // timed Infer() calls; default 1
}

// Paths relative to the repository root.
const (
	runnerScript = "scripts/tflite_run.js"
	runtimeWasm  = "scripts/node_modules/@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc_simd.wasm"
)

// installHint tells how to install the runtime.
const installHint = "run `make test` or `npm ci --prefix scripts`"

// locate finds node and the runner script.
func locate() (node, script string, err error) {
	root, err := fixtures.RepoRoot()
	if err != nil {
		return "", "", err
	}
	script = filepath.Join(root, filepath.FromSlash(runnerScript))
	if _, err := os.Stat(script); err != nil {
		return "", "", fmt.Errorf("%s is missing", runnerScript)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(runtimeWasm))); err != nil {
		return "", "", fmt.Errorf("@tensorflow/tfjs-tflite is not installed in scripts/node_modules")
	}
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("node is not in PATH")
	}
	return node, script, nil
}

// Available returns nil if the real TensorFlow Lite runtime can be run:
// node is in PATH and @tensorflow/tfjs-tflite is installed in
// scripts/node_modules. Otherwise it says what is missing.
func Available() error {
	_, _, err := locate()
	return err
}

// Require skips the test when the runtime is not available, or fails it
// when the CI environment variable is set: CI must always run these tests.
func Require(t testing.TB) {
	t.Helper()
	require(t, Available())
}

func require(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("real TFLite runtime not installed: %s (%v)", installHint, err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so these tests must run")
		return
	}
	t.Skip(msg)
}

// Run runs the model at modelPath on the inputs in the real runtime and
// returns its outputs. It skips the test when the runtime is unavailable
// (see [Require]) and fails it when the run fails.
func Run(t testing.TB, modelPath string, inputs ...*npy.Array) []*npy.Array {
	t.Helper()
	Require(t)
	res, err := RunModel(t.Context(), modelPath, inputs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Outputs
}

// RunBytes is like [Run] for a model held in memory.
func RunBytes(t testing.TB, model []byte, inputs ...*npy.Array) []*npy.Array {
	t.Helper()
	Require(t)
	res, err := RunModelBytes(t.Context(), model, inputs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Outputs
}

// RunModel runs the model at modelPath on the inputs, one array per model
// input in order, and returns the outputs and what the runtime reported.
func RunModel(ctx context.Context, modelPath string, inputs []*npy.Array, opts Options) (*Result, error) {
	model, err := filepath.Abs(modelPath)
	if err != nil {
		return nil, err
	}
	return run(ctx, model, nil, inputs, opts)
}

// RunModelBytes is like [RunModel] for a model held in memory.
func RunModelBytes(ctx context.Context, model []byte, inputs []*npy.Array, opts Options) (*Result, error) {
	return run(ctx, "", model, inputs, opts)
}

func run(ctx context.Context, modelPath string, model []byte, inputs []*npy.Array, opts Options) (*Result, error) {
	name := filepath.Base(modelPath)
	if modelPath == "" {
		name = "model"
	}
	fail := func(err error) (*Result, error) {
		return nil, fmt.Errorf("runtimetest: running %s: %w", name, err)
	}
	node, script, err := locate()
	if err != nil {
		return fail(fmt.Errorf("real TFLite runtime not installed: %s (%w)", installHint, err))
	}
	dir, err := os.MkdirTemp("", "litequant-tflite-*")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)

	if modelPath == "" {
		modelPath = filepath.Join(dir, "model.tflite")
		if err := os.WriteFile(modelPath, model, 0o666); err != nil {
			return fail(err)
		}
	}
	out := filepath.Join(dir, "out")
	args := []string{script, "--model", modelPath, "--out", out,
		"--threads", strconv.Itoa(orDefault(opts.Threads)),
		"--warmup", strconv.Itoa(orDefault(opts.Warmup)),
		"--repeat", strconv.Itoa(orDefault(opts.Repeat))}
	for i, a := range inputs {
		path := filepath.Join(dir, fmt.Sprintf("in%d.npy", i))
		if err := npy.WriteFile(path, a); err != nil {
			return fail(fmt.Errorf("input %d: %w", i, err))
		}
		args = append(args, path)
	}

	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		if msg := runnerError(stderr.String()); msg != "" {
			return fail(errors.New(msg))
		}
		return fail(err)
	}

	var res Result
	metaJSON, err := os.ReadFile(filepath.Join(out, "meta.json"))
	if err != nil {
		return fail(err)
	}
	if err := json.Unmarshal(metaJSON, &res.Meta); err != nil {
		return fail(fmt.Errorf("meta.json: %w", err))
	}
	for i := range res.Meta.Outputs {
		a, err := npy.ReadFile(filepath.Join(out, fmt.Sprintf("out%d.npy", i)))
		if err != nil {
			return fail(err)
		}
		res.Outputs = append(res.Outputs, a)
	}
	return &res, nil
}

func orDefault(n int) int {
	if n <= 0 {
		return 1
	}
	return n
}

// runnerError extracts the error from the runner's stderr: its one
// "tflite_run: " line, or else (say, if Node itself failed) the whole text,
// shortened.
func runnerError(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if msg, ok := strings.CutPrefix(lines[i], "tflite_run: "); ok {
			return msg
		}
	}
	const max = 2000
	msg := strings.Join(lines, " | ")
	if len(msg) > max {
		msg = msg[:max] + "..."
	}
	return msg
}
