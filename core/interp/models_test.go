package interp

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// floatActivations reports whether every non-constant tensor of the
// primary subgraph is free of quantized integer types: a float model,
// possibly with FLOAT16/INT8 weights behind DEQUANTIZE.
func floatActivations(m *tflite.Model) bool {
	sg := m.Subgraphs[0]
	for _, t := range sg.Tensors {
		if len(m.TensorData(t)) > 0 {
			continue
		}
		switch t.Type {
		case fb.TensorTypeINT8, fb.TensorTypeUINT8, fb.TensorTypeINT16:
			return false
		}
	}
	return true
}

// stateful reports whether the primary subgraph has variable tensors.
func stateful(m *tflite.Model) bool {
	for _, t := range m.Subgraphs[0].Tensors {
		if t.IsVariable {
			return true
		}
	}
	return false
}

// TestSharedFloatModels runs every float model in ../shared through the Go
// interpreter and the real runtime on the same inputs (real data where the
// manifest pairs some, deterministic random otherwise) and requires
// relative L2 error at most 1e-4 on every output.
func TestSharedFloatModels(t *testing.T) {
	runtimetest.Require(t)
	const samples = 3
	for _, path := range fixtures.Models(t) {
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := tflite.Load(data)
		if err != nil {
			t.Fatal(err)
		}
		if !floatActivations(m) {
			continue // integer activations: not a float model
		}
		t.Run(name, func(t *testing.T) {
			ss, err := fixtures.Samples(m, name, samples)
			if err != nil {
				t.Fatal(err)
			}
			if stateful(m) {
				// Recurrent state carries from one Invoke to the next:
				// replay the runtime's exact call sequence.
				lstmCompareStateful(t, data, fixtures.Stack(ss), 1e-4)
				return
			}
			var got [][]*npy.Array
			var goErr error
			for _, s := range ss {
				outs, err := runGo(data, s)
				if err != nil {
					goErr = err
					break
				}
				got = append(got, outs)
			}
			res, err := runtimetest.RunModelBytes(context.Background(), data, fixtures.Stack(ss), runtimetest.Options{})
			switch {
			case err != nil && goErr != nil:
				// single_slice: its begin/size cannot fit its declared input
				// rank, and neither interpreter can resize the input.
				t.Skipf("both interpreters reject the model as declared: runtime: %v; Go: %v", err, goErr)
			case goErr != nil:
				t.Fatalf("Go interpreter: %v", goErr)
			case err != nil:
				t.Fatalf("real runtime: %v", err)
			}
			for k, want := range res.Outputs {
				stacked := make([]fixtures.Sample, len(got))
				for i := range got {
					stacked[i] = fixtures.Sample{got[i][k]}
				}
				g := fixtures.Stack(stacked)[0]
				if msg := compareArrays(g, want, 1e-4); msg != "" {
					t.Errorf("output %d: %s", k, msg)
				}
			}
		})
	}
}
