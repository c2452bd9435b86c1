package tflite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/runtimetest"
	"litequant/core/tflite"
)

// TestRoundTripRuntimeOutputs runs every shared model and its saved copy in
// the real TensorFlow Lite runtime on the same inputs and requires
// bit-identical outputs.
func TestRoundTripRuntimeOutputs(t *testing.T) {
	runtimetest.Require(t)
	ran := 0
	for _, path := range fixtures.Models(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := tflite.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			saved := mustSave(t, m)
			samples, err := fixtures.Samples(m, name, 3)
			if err != nil {
				t.Fatal(err)
			}
			inputs := fixtures.Stack(samples)
			ctx := context.Background()
			want, err := runtimetest.RunModelBytes(ctx, data, inputs, runtimetest.Options{})
			if err != nil {
				// The runtime build cannot run a few fixtures at all
				// (int64 I/O, inputs it cannot resize); say which.
				t.Skipf("the real runtime cannot run the original: %v", err)
			}
			got, err := runtimetest.RunModelBytes(ctx, saved, inputs, runtimetest.Options{})
			if err != nil {
				t.Fatalf("the original runs but the saved copy does not: %v", err)
			}
			if len(got.Outputs) != len(want.Outputs) {
				t.Fatalf("%d outputs, want %d", len(got.Outputs), len(want.Outputs))
			}
			for i := range want.Outputs {
				if !bytes.Equal(got.Outputs[i].Data, want.Outputs[i].Data) {
					t.Errorf("output %d differs from the original's", i)
				}
			}
			ran++
		})
	}
	t.Logf("%d models compared in the real runtime", ran)
}
