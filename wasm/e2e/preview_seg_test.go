//go:build !js

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"litequant/core/convert"
	"litequant/core/metadata"
	"litequant/core/modelbuild"
	"litequant/core/samples"
)

// segmenterFiles writes modelbuild.Segmenter with image segmenter
// metadata (a label file) into dir, and its 12 images into dir/colours;
// it returns the model's path, the folder and the images.
func segmenterFiles(t *testing.T, dir string) (model, folder string, images []string) {
	t.Helper()
	file, err := metadata.Attach(modelbuild.Segmenter(), metadata.ImageSegmenter("colours", []float32{127.5}, []float32{127.5}, 32, 32, "labels.txt"),
		map[string][]byte{"labels.txt": []byte(strings.Join(modelbuild.SegmenterLabels, "\n") + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	model = filepath.Join(dir, "colours_segmenter.tflite")
	folder = filepath.Join(dir, "colours")
	if err := os.WriteFile(model, file, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, png := range modelbuild.SegmenterImages(12) {
		p := filepath.Join(folder, fmt.Sprintf("blobs-%02d.png", i))
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		images = append(images, p)
	}
	return model, folder, images
}

// TestSegmenterPreview: for an image segmenter with a label file, the
// page shows the float and the quantized model's masks on a held-back
// sample, over the sample, with the legend and the share of pixels
// agreeing; the masks' pixels (read back from the images through a
// canvas) are the native preview's classes in their legend colours.
func TestSegmenterPreview(t *testing.T) {
	model, folder, images := segmenterFiles(t, t.TempDir())
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	b.dropAndQuantizeWithMetadata(model, folder)
	b.waitFor(`document.querySelector("#preview[data-kind=segmenter]") !== null &&
		[...document.querySelectorAll("#preview img")].every((i) => i.complete && i.naturalWidth > 0)`, 30*time.Second, "the segmenter preview")
	b.shot("preview")

	got, _ := b.download()
	files, err := samples.ReadPaths(images)
	if err != nil {
		t.Fatal(err)
	}
	modelBytes, _ := os.ReadFile(model)
	p, err := convert.ModelPreview(context.Background(), modelBytes, got, files, convert.Options{Mode: "int8", VerifySplit: 0.125}, 5)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Segmentation
	if p.Kind != "segmenter" || s == nil {
		t.Fatalf("native preview %+v", p)
	}

	type page struct {
		Text, Agreement string
		Legend          []string
		Inputs          []int    // the sample images' natural widths
		Masks           []string // per mask, each pixel's colour as #rrggbb, comma-separated
		MaskW, MaskH    []int
	}
	pg := eval[page](b, `(() => {
		const q = (s) => [...document.querySelectorAll(s)];
		const hex = (d, i) => "#" + [d[i], d[i + 1], d[i + 2]].map((v) => v.toString(16).padStart(2, "0")).join("");
		const masks = q("#preview img.seg-mask").map((img) => {
			const c = document.createElement("canvas");
			c.width = img.naturalWidth; c.height = img.naturalHeight;
			const g = c.getContext("2d");
			g.drawImage(img, 0, 0);
			const d = g.getImageData(0, 0, c.width, c.height).data;
			const px = [];
			for (let i = 0; i < d.length; i += 4) px.push(hex(d, i));
			return px.join(",");
		});
		return {
			Text: document.querySelector("#preview").textContent,
			Agreement: document.querySelector("#seg-agreement").textContent,
			Legend: q("#preview .seg-legend li").map((li) => li.querySelector(".label").textContent),
			Inputs: q("#preview img.seg-input").map((i) => i.naturalWidth),
			Masks: masks,
			MaskW: q("#preview img.seg-mask").map((i) => i.naturalWidth),
			MaskH: q("#preview img.seg-mask").map((i) => i.naturalHeight),
		};
	})()`)
	t.Logf("page: legend %q, %q; inputs %v; masks %v×%v", pg.Legend, pg.Agreement, pg.Inputs, pg.MaskW, pg.MaskH)
	t.Logf("native: %s, agreement %.4f, legend %+v", p.Source, s.Agreement, s.Legend)

	if len(pg.Masks) != 2 || len(pg.Inputs) != 2 || pg.Inputs[0] != 40 {
		t.Fatalf("%d masks, sample images %v (want two masks over the 40-pixel-wide sample)", len(pg.Masks), pg.Inputs)
	}
	colour := map[byte]string{}
	var labels []string
	for _, c := range s.Legend {
		colour[byte(c.Index)] = c.Color
		labels = append(labels, c.Label)
	}
	if strings.Join(pg.Legend, ",") != strings.Join(labels, ",") {
		t.Errorf("legend %q, the native preview's %q", pg.Legend, labels)
	}
	for i, mask := range [][]byte{s.Float, s.Quantized} {
		if pg.MaskW[i] != s.Width || pg.MaskH[i] != s.Height {
			t.Fatalf("mask %d is %d×%d, want %d×%d", i, pg.MaskW[i], pg.MaskH[i], s.Width, s.Height)
		}
		px := strings.Split(pg.Masks[i], ",")
		bad := 0
		for k, c := range mask {
			if px[k] != colour[c] {
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("mask %d: %d of %d pixels differ from the native mask's colours", i, bad, len(mask))
		}
	}
	want := fmt.Sprintf("Pixels agreeing: %.1f%%", 100*s.Agreement)
	if !strings.HasPrefix(pg.Agreement, want) {
		t.Errorf("agreement line %q, want %q", pg.Agreement, want)
	}
	if !strings.Contains(pg.Text, filepath.Base(p.Source)) || !strings.Contains(pg.Text, "held back from calibration") || !strings.Contains(pg.Text, "labels.txt") {
		t.Errorf("the preview does not name its sample %s as held back, or its labels: %q", p.Source, pg.Text)
	}
}
