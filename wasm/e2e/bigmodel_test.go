//go:build !js

package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"litequant/core/convert"
	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
)

// bigModel writes a float model of about 100 MB: x [1, 5120] →
// FULLY_CONNECTED (5120 × 5120 weights, 100 MiB) → RELU → y.
func bigModel(t *testing.T) string {
	t.Helper()
	const n = 5120
	b := modelbuild.New()
	x := b.Tensor("x", fb.TensorTypeFLOAT32, 1, n)
	w := make([]float32, n*n)
	for i := range w {
		w[i] = float32(i%251)/251 - 0.5
	}
	wt := b.ConstFloat32("dense/weights", []int32{n, n}, w)
	h := b.Tensor("h", fb.TensorTypeFLOAT32, 1, n)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{x, wt, -1}, []int32{h})
	y := b.Tensor("y", fb.TensorTypeFLOAT32, 1, n)
	b.Op(fb.BuiltinOperatorRELU, nil, []int32{h}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	p := filepath.Join(t.TempDir(), "big.tflite")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBigModelInPage: a 100 MB float model converts in the page (dynamic
// range) without the tab dying, to the native converter's bytes; the peak
// memory of chromium's processes is logged (README, robustness).
func TestBigModelInPage(t *testing.T) {
	if testing.Short() {
		t.Skip("a 100 MB model: not in -short")
	}
	modelPath := bigModel(t)
	info, _ := os.Stat(modelPath)
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	stop := watchMemory(b)
	start := time.Now()
	b.pickModel(modelPath)
	b.set("#mode", "dynamic")
	st, took := b.quantize(5 * time.Minute)
	peak := stop()
	if st.Kind != "done" {
		t.Fatalf("status %q (%s)", st.Text, st.Kind)
	}
	got, _ := b.download()
	want, native := nativeConvert(t, modelPath, nil, convert.Options{Mode: "dynamic"})
	if !bytes.Equal(got, want) {
		t.Errorf("the page's model (%d bytes) differs from the native converter's (%d bytes)", len(got), len(want))
	}
	t.Logf("%.1f MB float model: page %v (quantize %v, native %v), %d → %d bytes, peak chromium PSS %d MiB",
		float64(info.Size())/1e6, time.Since(start), took, native, info.Size(), len(got), peak>>20)
}
