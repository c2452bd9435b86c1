//go:build !js

package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
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
)

// dynamicModel writes modelbuild.DynamicConv: x [1, 4, 4, 3]
// (shape_signature [1, -1, -1, 3]) -> CONV_2D 1×1 -> y, a model whose input
// height and width are dynamic.
func dynamicModel(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "dynamic.tflite")
	if err := os.WriteFile(p, modelbuild.DynamicConv(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// noisePNG writes a w×h PNG of noise.
func noisePNG(t *testing.T, path string, w, h int, seed uint64) string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInputShapesField: a model with dynamic input dimensions shows them
// ("?") in the summary; in int8 mode the "Input shapes" field is there and
// enabled; samples of two sizes are refused until it fixes the input's
// shape; filled in, the page converts to the native converter's model for
// --input-shape x=1,8,8,3, which the real runtime runs close to the float
// model; bad values give the core's one-line messages.
func TestInputShapesField(t *testing.T) {
	dir := t.TempDir()
	model := dynamicModel(t, dir)
	calib := []string{
		noisePNG(t, filepath.Join(dir, "small.png"), 4, 4, 1),
		noisePNG(t, filepath.Join(dir, "wide.png"), 12, 6, 2),
		noisePNG(t, filepath.Join(dir, "third.png"), 5, 5, 3),
	}
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	if !eval[bool](b, `document.querySelector("#dynamic-shapes").hidden`) {
		t.Error("the dynamic-input fields show before a model is loaded")
	}
	b.pickModel(model)
	if s := eval[string](b, `document.querySelector("#summary").textContent`); !strings.Contains(s, "x FLOAT32 [1, ?, ?, 3]") {
		t.Fatalf("the summary does not show the dynamic input as [1, ?, ?, 3]: %q", s)
	}
	b.set("#mode", "int8")
	b.set("#verify", false)
	b.upload("#samples", calib...)
	field := `document.querySelector("#input-shapes")`
	if !eval[bool](b, field+` !== null && !`+field+`.disabled && `+field+`.offsetParent !== null`) {
		t.Fatal("the Input shapes field is missing, hidden or disabled in int8 mode")
	}
	if got := eval[string](b, `document.querySelector('label[for="input-shapes"]').textContent`); got != "Input shapes" {
		t.Errorf("the field's label is %q", got)
	}

	// Samples of two sizes without the field: refused, naming the fix.
	st, _ := b.quantize(2 * time.Minute)
	if st.Kind != "error" || !strings.Contains(st.Text, "different shapes") || !strings.Contains(st.Text, "x=1,4,4,3") {
		t.Fatalf("samples of two sizes without input shapes: %q (%s), want the error naming x=1,4,4,3", st.Text, st.Kind)
	}

	// The model's dynamic input has its own field in the common options,
	// which writes the Advanced option.
	one := `document.querySelector('#dynamic-shapes input[data-input="x"]')`
	if !eval[bool](b, one+` !== null && `+one+`.offsetParent !== null`) {
		t.Fatal("no visible field for the dynamic input x")
	}
	if got := eval[string](b, `document.querySelector('label[for="' + `+one+`.id + '"]').textContent`); got != "Shape of x [1, ?, ?, 3]" {
		t.Errorf("the dynamic input's field is labelled %q", got)
	}
	b.set(`#dynamic-shapes input[data-input="x"]`, "1,8,8,3")
	b.shot("dynamic-field")
	if got := eval[string](b, field+`.value`); got != "x=1,8,8,3" {
		t.Errorf("the field for x wrote Input shapes %q, want x=1,8,8,3", got)
	}

	// Filled in: converts to the native converter's model.
	st, _ = b.quantize(2 * time.Minute)
	if st.Kind != "done" {
		t.Fatalf("with input shapes x=1,8,8,3: %q (%s)", st.Text, st.Kind)
	}
	got, _ := b.download()
	native, _ := nativeConvert(t, model, calib, convert.Options{Mode: convert.Int8, Limits: convert.Limits{InputShapes: []string{"x=1,8,8,3"}}})
	if !bytes.Equal(got, native) {
		t.Errorf("the page's model (%d bytes) is not the native converter's for --input-shape x=1,8,8,3 (%d bytes)", len(got), len(native))
	}
	// The real runtime runs it close to the float model.
	floatModel, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, 48)
	for i := range in {
		in[i] = float32(i%13)/6 - 1
	}
	x := npy.FromFloat32([]int{1, 4, 4, 3}, in)
	fv, err1 := runtimetest.RunBytes(t, floatModel, x)[0].Float32s()
	qv, err2 := runtimetest.RunBytes(t, got, x)[0].Float32s()
	if err1 != nil || err2 != nil || len(fv) != 32 || len(qv) != 32 {
		t.Fatalf("outputs of %d and %d values (%v, %v)", len(fv), len(qv), err1, err2)
	}
	for i := range fv {
		if math.Abs(float64(fv[i]-qv[i])) > 0.05 || math.IsNaN(float64(qv[i])) {
			t.Fatalf("output %d: float %g, the page's int8 %g", i, fv[i], qv[i])
		}
	}

	// Bad values: a clear one-line message each.
	for _, c := range []struct{ value, want string }{
		{"x=1,8,8,4", "dimension 3 is 3 in the model, not 4"},
		{"x=1,a,8,3", `"a" is not a dimension`},
		{"img=1,8,8,3", `the model has no input "img"`},
		{"1,8,8,3", "want NAME=1,224,224,3"},
	} {
		b.set("#input-shapes", c.value)
		st, _ := b.quantize(2 * time.Minute)
		if st.Kind != "error" || !strings.Contains(st.Text, c.want) || strings.Contains(st.Text, "internal error") {
			t.Errorf("input shapes %q: %q (%s), want an error saying %s", c.value, st.Text, st.Kind, c.want)
		}
	}
}
