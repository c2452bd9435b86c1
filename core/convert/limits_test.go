package convert

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"litequant/core/interp"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/samples"
)

// dynamicImageNet is imageNet with an input of dynamic height and width:
// shape [1, 4, 4, 3], shape_signature [1, -1, -1, 3].
func dynamicImageNet() []byte { return modelbuild.DynamicConv() }

// pngFile is a w×h image of noise.
func pngFile(t *testing.T, name string, w, h int, seed uint64) samples.File {
	r := rand.New(rand.NewPCG(seed, 9))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return samples.File{Name: name, Data: b.Bytes()}
}

func TestLimitOptionErrors(t *testing.T) {
	model := dynamicImageNet()
	cases := []struct {
		opts Options
		want string
	}{
		{Options{Limits: Limits{MaxMemory: "lots"}}, `--max-memory: "lots" is not a size (want e.g. 4GiB, 1500MB or a number of bytes)`},
		{Options{Limits: Limits{MaxMemory: "-1G"}}, `--max-memory: "-1G" is not a size`},
		{Options{Limits: Limits{MaxImagePixels: -5}}, "--max-image-pixels must be positive, got -5"},
		{Options{Limits: Limits{InputShapes: []string{"1,2,3"}}}, `--input-shape "1,2,3": want NAME=1,224,224,3`},
		{Options{Limits: Limits{InputShapes: []string{"x=1,a,3"}}}, `--input-shape "x=1,a,3": "a" is not a dimension`},
		{Options{Limits: Limits{InputShapes: []string{"x=1,2", "x=1,3"}}}, `--input-shape: input "x" given twice`},
		{Options{Mode: Int8, Limits: Limits{InputShapes: []string{"img=1,8,8,3"}}}, `--input-shape: the model has no input "img" (its inputs: "x")`},
		{Options{Mode: Int8, Limits: Limits{InputShapes: []string{"x=1,8,8"}}}, `--input-shape x: 3 dimensions given, input "x" (FLOAT32 [1, -1, -1, 3]) has 4`},
		{Options{Mode: Int8, Limits: Limits{InputShapes: []string{"x=1,8,8,4"}}}, `--input-shape x: dimension 3 is 3 in the model, not 4`},
	}
	for _, c := range cases {
		if err := c.opts.Validate(); c.opts.Mode == "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Validate %+v: %v\nwant %s", c.opts.Limits, err, c.want)
		}
		_, err := Convert(context.Background(), Request{Model: model, Calib: []samples.File{pngFile(t, "a.png", 4, 4, 1)}, Options: c.opts})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Convert %+v: %v\nwant %s", c.opts.Limits, err, c.want)
		}
	}
	for in, want := range map[string]int64{"4GiB": 4 << 30, "1.5G": 3 << 29, "800MB": 800 << 20, "64k": 64 << 10, "123": 123} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// TestInputShape: images of different sizes for an input of dynamic
// height and width are an error naming the input and the fix; with
// --input-shape they are resized to it, and the model converts (and
// agrees with the float model in the real runtime).
func TestInputShape(t *testing.T) {
	model := dynamicImageNet()
	files := []samples.File{pngFile(t, "small.png", 4, 4, 1), pngFile(t, "wide.png", 12, 6, 2), pngFile(t, "big.png", 10, 10, 3)}
	_, err := Convert(context.Background(), Request{Model: model, Calib: files, Options: Options{Mode: Int8}})
	want := `input "x" has dynamic dimensions [1 -1 -1 3] and the samples give it different shapes: [1 4 4 3] (small.png) and [1 6 12 3] (wide.png); fix them with --input-shape x=1,4,4,3`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("differing sizes: %v\nwant %s", err, want)
	}
	// Samples of one size decide by themselves.
	same := []samples.File{pngFile(t, "a.png", 6, 6, 4), pngFile(t, "b.png", 6, 6, 5)}
	if _, err := Convert(context.Background(), Request{Model: model, Calib: same, Options: Options{Mode: Int8}}); err != nil {
		t.Fatalf("samples of one size: %v", err)
	}
	opts := Options{Mode: Int8, Limits: Limits{InputShapes: []string{"x=1,8,8,3"}}}
	res, err := Convert(context.Background(), Request{Model: model, Calib: files, Options: opts, Verify: files[:2]})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Calibration.Samples != 3 || res.Report.Verification == nil || res.Report.Verification.Error != "" || res.Report.Verification.Samples != 2 {
		t.Fatalf("calibration %+v, verification %+v", res.Report.Calibration, res.Report.Verification)
	}
	if CalibrationKey("b", model, files, opts) == CalibrationKey("b", model, files, Options{Mode: Int8}) {
		t.Error("--input-shape does not change the calibration key")
	}
	// The quantized model in the real runtime stays close to the float one.
	runtimetest.Require(t)
	in := make([]float32, 48)
	for i := range in {
		in[i] = float32(i%13)/6 - 1
	}
	x := npy.FromFloat32([]int{1, 4, 4, 3}, in)
	fy := runtimetest.RunBytes(t, model, x)[0]
	qy := runtimetest.RunBytes(t, res.Model, x)[0]
	fv, err1 := fy.Float32s()
	qv, err2 := qy.Float32s()
	if err1 != nil || err2 != nil || len(fv) != 32 || len(qv) != 32 {
		t.Fatalf("outputs of %d and %d values", len(fv), len(qv))
	}
	for i := range fv {
		if math.Abs(float64(fv[i]-qv[i])) > 0.05 {
			t.Fatalf("output %d: float %g, int8 %g", i, fv[i], qv[i])
		}
	}
}

// TestMaxMemoryOption: the limit reaches calibration's interpreter.
func TestMaxMemoryOption(t *testing.T) {
	model := imageNet()
	_, err := Convert(context.Background(), Request{Model: model, Calib: []samples.File{pixels(t, 2)}, Options: Options{Mode: Int8, Limits: Limits{MaxMemory: "100"}}})
	want := `calibration: subgraph 0: the activations need 320 bytes at their peak (at operator 0, CONV_2D), more than the 100 bytes limit: memory limit (largest tensors: tensor 3 "y" FLOAT32[1 4 4 2] 128 bytes, tensor 0 "x" FLOAT32[1 4 4 3] 192 bytes`
	if err == nil || !errors.Is(err, interp.ErrMemoryLimit) {
		t.Fatalf("%v\nwant %s", err, want)
	}
	if !strings.Contains(err.Error(), "more than the 100 bytes limit") || !strings.Contains(err.Error(), `tensor 0 "x" FLOAT32[1 4 4 3] 192 bytes`) {
		t.Fatalf("%v\nwant %s", err, want)
	}
	if _, err := Convert(context.Background(), Request{Model: model, Calib: []samples.File{pixels(t, 2)}, Options: Options{Mode: Int8, Limits: Limits{MaxMemory: "1KiB"}}}); err != nil {
		t.Fatalf("under the limit: %v", err)
	}
	big := pngFile(t, "big.png", 20, 20, 1)
	_, err = Convert(context.Background(), Request{Model: model, Calib: []samples.File{big}, Options: Options{Mode: Int8, Limits: Limits{MaxImagePixels: 100}}})
	if err == nil || !strings.Contains(err.Error(), "big.png: png image of 20×20 pixels") || !strings.Contains(err.Error(), "-megapixel limit (--max-image-pixels): refused before decoding") {
		t.Fatalf("image limit: %v", err)
	}
}
