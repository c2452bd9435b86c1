// Package benchcore times the Go interpreter on a model; bench_interp uses
// it natively and from its WebAssembly build.
package benchcore

import (
	"fmt"
	"os"
	"sort"
	"time"

	"litequant/core/interp"
	"litequant/core/npy"
	"litequant/core/tflite"
)

// Result is the timing of runs Invoke calls.
type Result struct {
	Runs     int     `json:"runs"`
	MeanMs   float64 `json:"mean_ms"`
	MedianMs float64 `json:"median_ms"`
	MinMs    float64 `json:"min_ms"`
}

// Time loads modelPath, sets its inputs from the .npy files (one per model
// input, in order, with the input's own shape and type), calls Invoke
// warmup times and then times runs calls.
func Time(modelPath string, inputs []string, warmup, runs int) (*Result, error) {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return nil, err
	}
	var arrays []*npy.Array
	for _, path := range inputs {
		a, err := npy.ReadFile(path)
		if err != nil {
			return nil, err
		}
		arrays = append(arrays, a)
	}
	return TimeModel(modelPath, data, arrays, warmup, runs)
}

// TimeModel is Time on a model's bytes and its inputs (name is for
// messages).
func TimeModel(name string, data []byte, inputs []*npy.Array, warmup, runs int) (*Result, error) {
	if runs < 1 {
		return nil, fmt.Errorf("runs must be at least 1")
	}
	m, err := tflite.Load(data)
	if err != nil {
		return nil, err
	}
	it, err := interp.New(m, interp.Options{})
	if err != nil {
		return nil, err
	}
	if len(inputs) != it.NumInputs() {
		return nil, fmt.Errorf("%s has %d inputs, %d .npy files given", name, it.NumInputs(), len(inputs))
	}
	for i, a := range inputs {
		if err := it.SetInput(i, a.Shape, a.Data); err != nil {
			return nil, err
		}
	}
	for i := 0; i < warmup; i++ {
		if err := it.Invoke(); err != nil {
			return nil, err
		}
	}
	ms := make([]float64, runs)
	var total float64
	for i := range ms {
		t0 := time.Now()
		if err := it.Invoke(); err != nil {
			return nil, err
		}
		ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
		total += ms[i]
	}
	sort.Float64s(ms)
	return &Result{Runs: runs, MeanMs: total / float64(runs), MedianMs: ms[runs/2], MinMs: ms[0]}, nil
}
