package quant

import (
	"context"
	"os"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/internal/calib"
	"litequant/core/npy"
	"litequant/core/tflite"
)

// arraySource is a calibration source over in-memory samples (one array
// per model input, each in the input's exact shape and type).
type arraySource []fixtures.Sample

func (s arraySource) Len() int { return len(s) }
func (s arraySource) Shapes(i int) [][]int {
	var out [][]int
	for _, a := range s[i] {
		out = append(out, a.Shape)
	}
	return out
}
func (s arraySource) Source(i int) string { return "sample" }
func (s arraySource) SampleTo(i int, dst [][]byte) ([][]byte, error) {
	out := make([][]byte, len(s[i]))
	for k, a := range s[i] {
		out[k] = a.Data
	}
	return out, nil
}

// calibrate runs the float interpreter over samples.
func calibrate(t testing.TB, m *tflite.Model, samples []fixtures.Sample) *calib.Stats {
	t.Helper()
	st, err := calib.Run(context.Background(), m, arraySource(samples), calib.Options{Patches: true, Channels: true})
	if err != nil {
		t.Fatalf("calibration: %v", err)
	}
	return st
}

// quantizeFull loads data, runs Full and returns the saved model.
func quantizeFull(t testing.TB, data []byte, mode FullMode, st Ranges, opts Options) ([]byte, *Report) {
	t.Helper()
	m, err := tflite.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Full(m, mode, st, opts)
	if err != nil {
		t.Fatalf("Full(%s): %v", mode, err)
	}
	out, err := m.Save()
	if err != nil {
		t.Fatal(err)
	}
	return out, rep
}

// sharedSamples returns n fixture samples of a shared model and its bytes.
func sharedSamples(t testing.TB, name string, n int) ([]byte, []fixtures.Sample) {
	t.Helper()
	data, err := os.ReadFile(fixtures.Model(t, name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := tflite.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fixtures.Samples(m, name, n)
	if err != nil {
		t.Fatal(err)
	}
	return data, s
}

// stack is fixtures.Stack for a slice of samples.
func stack(s []fixtures.Sample) []*npy.Array { return fixtures.Stack(s) }

func mustLoad(t testing.TB, data []byte) *tflite.Model {
	t.Helper()
	m, err := tflite.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
