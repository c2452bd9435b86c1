//go:build !js

package e2e

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"litequant/core/convert"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	fb "litequant/core/schema/tflitefb"
)

// cancelModel writes x [1, 16] -> FULLY_CONNECTED -> ya, and x -> h ->
// yb, where h is x + 100 and yb takes the 100 away again: int8 ruins yb
// (its signal is small beside h's int8 steps) and leaves ya fine.
func cancelModel(t *testing.T, dir string) (model, calib string) {
	t.Helper()
	f := fb.TensorTypeFLOAT32
	b := modelbuild.New()
	x := b.Tensor("x", f, 1, 16)
	wa, wb := make([]float32, 64), make([]float32, 64)
	for i := range wa {
		wa[i], wb[i] = float32(i%7)/7-0.4, float32(i%5)/5-0.3
	}
	eye, off, neg := make([]float32, 256), make([]float32, 16), make([]float32, 4)
	for i := 0; i < 16; i++ {
		eye[i*16+i], off[i] = 1, 100
	}
	for o := 0; o < 4; o++ {
		for i := 0; i < 16; i++ {
			neg[o] -= 100 * wb[o*16+i]
		}
	}
	fc := &fb.FullyConnectedOptionsT{}
	ya, h, yb := b.Tensor("ya", f, 1, 4), b.Tensor("h", f, 1, 16), b.Tensor("yb", f, 1, 4)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, fc, []int32{x, b.ConstFloat32("wa", []int32{4, 16}, wa), -1}, []int32{ya})
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, fc, []int32{x, b.ConstFloat32("eye", []int32{16, 16}, eye), b.ConstFloat32("off", []int32{16}, off)}, []int32{h})
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, fc, []int32{h, b.ConstFloat32("wb", []int32{4, 16}, wb), b.ConstFloat32("neg", []int32{4}, neg)}, []int32{yb})
	b.Inputs(x)
	b.Outputs(ya, yb)
	model = filepath.Join(dir, "cancel.tflite")
	if err := os.WriteFile(model, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 7))
	v := make([]float32, 40*16)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	calib = filepath.Join(dir, "calib.npy")
	if err := npy.WriteFile(calib, npy.FromFloat32([]int{40, 16}, v)); err != nil {
		t.Fatal(err)
	}
	return model, calib
}

// TestFallbackPage: "Target accuracy" sends target_sqnr; the page shows
// the fallback steps and the native converter's model; switching
// operators between integer and float quantizes again from the cached
// calibration statistics, giving the native converter's model for those
// float_ops, which the real runtime runs.
func TestFallbackPage(t *testing.T) {
	model, calib := cancelModel(t, t.TempDir())
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	b.pickModel(model)
	b.set("#mode", "int8")
	b.upload("#samples", calib)
	b.set("#verify", true)
	b.set("#target-sqnr", "30")
	eval[bool](b, `(() => { window.statuses = []; new MutationObserver(() => window.statuses.push(document.querySelector("#status").textContent))
		.observe(document.querySelector("#status"), {childList: true, characterData: true, subtree: true}); return true })()`)
	st, _ := b.quantize(2 * time.Minute)
	if st.Kind != "done" {
		t.Fatalf("status %q (%s)", st.Text, st.Kind)
	}
	steps := eval[[]string](b, `[...document.querySelectorAll("#fallback-steps tbody tr")].map((r) => [...r.cells].slice(1, 4).map((c) => c.textContent).join(" "))`)
	want := []string{"left float FULLY_CONNECTED yb", "left float FULLY_CONNECTED ya", "made int16 FULLY_CONNECTED h", "back to integer FULLY_CONNECTED ya"}
	if strings.Join(steps, "; ") != strings.Join(want, "; ") {
		t.Errorf("steps on the page %q, want %q", steps, want)
	}
	// Forward 3, then 2 tries back (1 given back): 5 re-quantizations, of at most 2·3.
	if shown := eval[[]string](b, `window.statuses.filter((s) => s.startsWith("Float fallback"))`); len(shown) == 0 || shown[len(shown)-1] != "Float fallback: re-quantization 5 of at most 6…" {
		t.Errorf("fallback progress on the page: %q", shown)
	}
	got, _ := b.download()
	native, _ := nativeConvert(t, model, []string{calib}, convert.Options{Mode: convert.Int8, VerifySplit: 0.125, TargetSQNR: 30})
	if !bytes.Equal(got, native) {
		t.Errorf("the page's model (%d bytes) is not the native converter's (%d bytes)", len(got), len(native))
	}
	floatBoxes := func() []string {
		return eval[[]string](b, `[...document.querySelectorAll("#float-toggles .float-op")].filter((c) => c.checked).map((c) => c.dataset.op)`)
	}
	// h runs on int16 (integer: unticked), yb is float.
	if got := strings.Join(floatBoxes(), ","); got != "yb" {
		t.Errorf("float switches %q, want yb", got)
	}

	// h is shown on its int16 kernel.
	if op := eval[string](b, `[...document.querySelectorAll("#float-toggles tr")].find((r) => r.querySelector('.float-op[data-op="h"]')).cells[1].textContent`); op != "FULLY_CONNECTED (int16)" {
		t.Errorf("h's row says %q, want FULLY_CONNECTED (int16)", op)
	}
	// Keep h integer (it stays int16), leave ya float; quantize again.
	b.set(`#float-toggles .float-op[data-op="h"]`, false)
	b.set(`#float-toggles .float-op[data-op="ya"]`, true)
	b.click("#requantize")
	// The click starts the conversion at once ("Starting…", no kind).
	b.waitFor(`["done", "cached", "error", "cancelled"].includes(document.querySelector("#status").dataset.kind)`, 2*time.Minute, "the second conversion")
	st = b.status()
	if st.Kind != "done" || !strings.Contains(st.Text, "calibration statistics reused from the cache") {
		t.Fatalf("second conversion: %q (%s), want the cached calibration reused", st.Text, st.Kind)
	}
	if eval[bool](b, `document.querySelector("#fallback-steps") !== null`) {
		t.Error("the second conversion sent the target again")
	}
	if got := strings.Join(floatBoxes(), ","); got != "ya,yb" {
		t.Errorf("float switches after the second conversion %q, want ya,yb", got)
	}
	again, _ := b.download()
	native2, _ := nativeConvert(t, model, []string{calib}, convert.Options{Mode: convert.Int8, VerifySplit: 0.125, FloatOps: []string{"yb", "ya"}, Int16Ops: []string{"h"}})
	if !bytes.Equal(again, native2) {
		t.Errorf("the page's second model (%d bytes) is not the native one with float_ops ya,yb and int16_ops h (%d bytes)", len(again), len(native2))
	}
	// The real runtime: ya, float on float inputs, is the float model's.
	floatModel, _ := os.ReadFile(model)
	in, _ := npy.ReadFile(calib)
	fo := runtimetest.RunBytes(t, floatModel, in)
	qo := runtimetest.RunBytes(t, again, in)
	a, _ := fo[0].Float32s()
	c, _ := qo[0].Float32s()
	for i := range a {
		if a[i] != c[i] || math.IsNaN(float64(c[i])) {
			t.Fatalf("ya[%d]: %v in the float model, %v with ya float", i, a[i], c[i])
		}
	}
	b.requireNoForeignRequests(srv)
}
