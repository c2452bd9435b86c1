package convert

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/metadata"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// segmenterWithMetadata is modelbuild.Segmenter with image segmenter
// metadata (normalization 127.5, 127.5 and a label file) and its images.
func segmenterWithMetadata(t *testing.T, labels []string) ([]byte, []samples.File) {
	t.Helper()
	file, err := metadata.Attach(modelbuild.Segmenter(), metadata.ImageSegmenter("colours", []float32{127.5}, []float32{127.5}, 32, 32, "labels.txt"),
		map[string][]byte{"labels.txt": []byte(strings.Join(labels, "\n") + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	var files []samples.File
	for i, png := range modelbuild.SegmenterImages(12) {
		files = append(files, samples.File{Name: fmt.Sprintf("colours/blobs-%02d.png", i), Data: png})
	}
	return file, files
}

// runtimeMask runs model in the real runtime on in and returns the
// argmax of each pixel's scores, and whether the top two of each pixel
// are within tol of each other (a tie an interpreter may break either way).
func runtimeMask(t *testing.T, model []byte, in *npy.Array, classes int, tol float32) (mask []byte, close []bool) {
	t.Helper()
	out := runtimetest.RunBytes(t, model, in)
	v, err := out[0].Float32s()
	if err != nil {
		t.Fatal(err)
	}
	mask = make([]byte, len(v)/classes)
	close = make([]bool, len(mask))
	for i := range mask {
		px := v[i*classes : (i+1)*classes]
		best, second := 0, -1
		for c := 1; c < classes; c++ {
			switch {
			case px[c] > px[best]:
				best, second = c, best
			case second < 0 || px[c] > px[second]:
				second = c
			}
		}
		mask[i] = byte(best)
		close[i] = px[best]-px[second] <= tol
	}
	return mask, close
}

// TestSegmenterPreview: for an image segmenter with labels, the preview
// gives the float and the quantized model's masks on a held-back sample,
// equal to the argmax of the real runtime's outputs for both models (the
// float one up to near-ties), with the share of pixels agreeing and a
// legend of the classes present counted from the masks.
//
// Two samples: a generated image held back (VerifySplit), and a photo
// (../shared/data/images), the last sample without a split, where the
// colour classes meet in many pixels that quantization can flip.
func TestSegmenterPreview(t *testing.T) {
	file, files := segmenterWithMetadata(t, modelbuild.SegmenterLabels)
	t.Run("held back", func(t *testing.T) {
		p := checkSegPreview(t, file, files, files, Options{Mode: Int8, VerifySplit: 0.125}, 0.9)
		if !p.HeldBack {
			t.Errorf("the sample %s is not held back", p.Source)
		}
	})
	t.Run("photo", func(t *testing.T) {
		photo, err := samples.ReadPaths([]string{fixtures.Path(t, "data", "images", "segmentation_input_rotation0.jpg")})
		if err != nil {
			t.Fatal(err)
		}
		// Calibrated on the generated images only: the photo's values
		// past their ranges are clipped.
		p := checkSegPreview(t, file, files[:8], append(files[:8:8], photo...), Options{Mode: Int8}, 0.5)
		if p.HeldBack || !strings.HasSuffix(p.Source, "segmentation_input_rotation0.jpg") {
			t.Errorf("the sample %s (held back %v), want the photo", p.Source, p.HeldBack)
		}
	})
}

// checkSegPreview quantizes file calibrated on calib and checks its
// preview on files (see TestSegmenterPreview).
func checkSegPreview(t *testing.T, file []byte, calib, files []samples.File, o Options, minAgreement float64) *Preview {
	t.Helper()
	res, err := Convert(context.Background(), Request{Model: file, Calib: calib, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ModelPreview(context.Background(), file, res.Model, files, o, 5)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Segmentation
	if p.Kind != "segmenter" || s == nil || p.Labels != "labels.txt" || p.Float != nil || p.Quantized != nil {
		t.Fatalf("preview %+v", p)
	}
	t.Logf("preview on %s: %d×%d, %d classes, agreement %.4f, legend %+v", p.Source, s.Width, s.Height, s.Classes, s.Agreement, s.Legend)
	if s.Width != 16 || s.Height != 16 || s.Classes != 4 || len(s.Float) != 256 || len(s.Quantized) != 256 {
		t.Fatalf("masks %d×%d of %d classes, %d and %d bytes", s.Width, s.Height, s.Classes, len(s.Float), len(s.Quantized))
	}
	for _, u := range []string{s.FloatPNG, s.QuantizedPNG} {
		if !strings.HasPrefix(u, "data:image/png;base64,") {
			t.Errorf("mask image %.40q", u)
		}
	}

	// The same sample through the real runtime, float and quantized.
	m, _ := tflite.Load(file)
	inputs, pixels := ModelInputs(m)
	so, _ := sampleOptions(m, o, pixels)
	set, err := samples.Load(inputs, files, so)
	if err != nil {
		t.Fatal(err)
	}
	held, idx := set, set.Len()-1
	if o.VerifySplit > 0 {
		_, held = set.Split(o.VerifySplit)
		idx = 0
	}
	if held.Source(idx) != p.Source {
		t.Fatalf("the preview's sample %s, want %s", p.Source, held.Source(idx))
	}
	raw, _ := held.Sample(idx)
	in := npy.FromFloat32(held.Shapes(idx)[0], float32sOf(raw[0]))
	runtimetest.Require(t)
	fm, fclose := runtimeMask(t, file, in, 4, 1e-5)
	qm, _ := runtimeMask(t, res.Model, in, 4, 0)
	ties := 0
	for i := range fm {
		if s.Float[i] != fm[i] {
			if !fclose[i] {
				t.Errorf("float pixel %d: class %d, the runtime's %d", i, s.Float[i], fm[i])
			}
			ties++
		}
		if s.Quantized[i] != qm[i] {
			t.Errorf("quantized pixel %d: class %d, the runtime's %d", i, s.Quantized[i], qm[i])
		}
	}
	same, counts := 0, map[int][2]int{}
	for i := range fm {
		if fm[i] == qm[i] {
			same++
		}
		c := counts[int(fm[i])]
		c[0]++
		counts[int(fm[i])] = c
		c = counts[int(qm[i])]
		c[1]++
		counts[int(qm[i])] = c
	}
	want := float64(same) / float64(len(fm))
	t.Logf("the runtime's masks agree on %.4f of the pixels (%d float near-ties differ)", want, ties)
	if ties == 0 && s.Agreement != want {
		t.Errorf("agreement %.4f, the runtime's masks %.4f", s.Agreement, want)
	}
	if want < minAgreement {
		t.Errorf("the quantized segmenter agrees on %.4f of the pixels only", want)
	}
	if len(counts) < 3 {
		t.Errorf("the sample shows %d classes, want background and at least two colours", len(counts))
	}
	if ties == 0 && len(s.Legend) != len(counts) {
		t.Errorf("legend %+v, the runtime's classes %v", s.Legend, counts)
	}
	for k, c := range s.Legend {
		if c.Label != modelbuild.SegmenterLabels[c.Index] || !strings.HasPrefix(c.Color, "#") || len(c.Color) != 7 {
			t.Errorf("legend entry %+v", c)
		}
		if ties == 0 && (counts[c.Index][0] != c.FloatPixels || counts[c.Index][1] != c.QuantizedPixels) {
			t.Errorf("class %s: %d and %d pixels, the runtime's masks %v", c.Label, c.FloatPixels, c.QuantizedPixels, counts[c.Index])
		}
		if k > 0 && c.FloatPixels > s.Legend[k-1].FloatPixels {
			t.Errorf("legend not by float pixels: %+v", s.Legend)
		}
	}
	if o.VerifySplit > 0 && (s.Legend[0].Color != "#000000" || s.Legend[0].Label != "background") {
		t.Errorf("the most common class %+v, want background in black", s.Legend[0])
	}
	return p
}

// TestSegmenterPreviewRefused: a segmenter whose labels do not number its
// classes, or a model without labels, has no preview.
func TestSegmenterPreviewRefused(t *testing.T) {
	file, files := segmenterWithMetadata(t, []string{"background", "red", "green"})
	o := Options{Mode: Int8}
	res, err := Convert(context.Background(), Request{Model: file, Calib: files, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ModelPreview(context.Background(), file, res.Model, files, o, 5); !errors.Is(err, ErrNoPreview) {
		t.Errorf("3 labels for 4 classes: %v, want ErrNoPreview", err)
	}
	plain := modelbuild.Segmenter()
	if _, err := ModelPreview(context.Background(), plain, res.Model, files, o, 5); !errors.Is(err, ErrNoPreview) {
		t.Errorf("no labels: %v, want ErrNoPreview", err)
	}
}

func TestSegPalette(t *testing.T) {
	p := segPalette(4)
	want := []string{"#000000", "#800000", "#008000", "#808000"}
	for i, c := range p {
		r, g, b, _ := c.RGBA()
		if got := fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8); got != want[i] {
			t.Errorf("class %d: %s, want %s", i, got, want[i])
		}
	}
}
