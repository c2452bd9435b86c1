package convert

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sort"

	"litequant/core/metadata"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// Segmentation is an image segmenter's per-pixel classes on one sample,
// the float model against the quantized one.
type Segmentation struct {
	// Width and Height are the masks' size (the output's, which may be
	// smaller than the input image), Classes the output's last axis.
	Width   int `json:"width"`
	Height  int `json:"height"`
	Classes int `json:"classes"`
	// Float and Quantized are the masks: each pixel's class (the argmax
	// over the output's class scores, the first on a tie), one byte per
	// pixel, row by row (base64 in JSON).
	Float     []byte `json:"float"`
	Quantized []byte `json:"quantized"`
	// FloatPNG and QuantizedPNG are the masks as PNG data URLs, each class
	// in its Legend colour.
	FloatPNG     string `json:"float_png"`
	QuantizedPNG string `json:"quantized_png"`
	// Agreement is the share of pixels (0..1) where both masks have the
	// same class.
	Agreement float64 `json:"agreement"`
	// Legend is the classes present in either mask, the most float pixels
	// first.
	Legend []SegClass `json:"legend"`
}

// SegClass is one class of a segmentation's legend.
type SegClass struct {
	Index int    `json:"index"`
	Label string `json:"label"`
	// Color is its mask colour, "#rrggbb".
	Color           string `json:"color"`
	FloatPixels     int    `json:"float_pixels"`
	QuantizedPixels int    `json:"quantized_pixels"`
}

// maxSegClasses: masks hold one byte per pixel.
const maxSegClasses = 256

// segmenterShape reports whether m looks like an image segmenter: one
// image input [1, H, W, 3] and one output [1, h, w, C] with h·w > 1 and
// 2 ≤ C ≤ 256 class scores per pixel. It returns C.
func segmenterShape(m *tflite.Model) (classes int, ok bool) {
	if len(m.Subgraphs) == 0 || len(m.Subgraphs[0].Inputs) != 1 || len(m.Subgraphs[0].Outputs) != 1 {
		return 0, false
	}
	sg := m.Subgraphs[0]
	in, out := sg.Tensors[sg.Inputs[0]], sg.Tensors[sg.Outputs[0]]
	if in == nil || out == nil || len(in.Shape) != 4 || in.Shape[3] != 3 || len(out.Shape) != 4 {
		return 0, false
	}
	c := int(out.Shape[3])
	if out.Shape[1]*out.Shape[2] == 1 || out.Shape[1] == 0 || out.Shape[2] == 0 || c < 2 || c > maxSegClasses {
		return 0, false
	}
	return c, true
}

// ModelPreview is the preview that fits the float model: SegmenterPreview
// for an image segmenter, ClassifierPreview (top k) otherwise. It returns
// ErrNoPreview for a model that is neither, or has no labels.
func ModelPreview(ctx context.Context, float, quantized []byte, files []samples.File, o Options, k int) (*Preview, error) {
	if fm, err := tflite.Load(float); err == nil {
		if _, ok := segmenterShape(fm); ok {
			return SegmenterPreview(ctx, float, quantized, files, o)
		}
	}
	return ClassifierPreview(ctx, float, quantized, files, o, k)
}

// SegmenterPreview runs the float model and the quantized one, an image
// segmenter whose metadata labels each of its C classes, on one sample
// (chosen as ClassifierPreview chooses it) and returns both masks, the
// share of pixels they agree on and the legend of the classes present.
func SegmenterPreview(ctx context.Context, float, quantized []byte, files []samples.File, o Options) (*Preview, error) {
	fm, err := tflite.Load(float)
	if err != nil {
		return nil, err
	}
	classes, ok := segmenterShape(fm)
	if !ok {
		return nil, ErrNoPreview
	}
	info, err := metadata.Read(fm, float)
	if err != nil || info == nil || len(info.Labels) != classes {
		return nil, ErrNoPreview
	}
	qm, err := tflite.Load(quantized)
	if err != nil {
		return nil, fmt.Errorf("the quantized model: %w", err)
	}
	p := &Preview{Kind: "segmenter", Labels: info.LabelsFile}
	fo, fshape, qo, qshape, err := previewRun(ctx, fm, qm, files, o, p)
	if err != nil {
		return nil, err
	}
	if fmt.Sprint(fshape) != fmt.Sprint(qshape) || len(fshape) != 4 || fshape[0] != 1 || fshape[3] != classes {
		return nil, fmt.Errorf("the float model's output is %v, the quantized one's %v: want both [1 h w %d]", fshape, qshape, classes)
	}
	seg := &Segmentation{Height: fshape[1], Width: fshape[2], Classes: classes,
		Float: argmaxMask(fo, classes), Quantized: argmaxMask(qo, classes)}
	palette := segPalette(classes)
	if seg.FloatPNG, err = maskPNG(seg.Float, seg.Width, seg.Height, palette); err != nil {
		return nil, err
	}
	if seg.QuantizedPNG, err = maskPNG(seg.Quantized, seg.Width, seg.Height, palette); err != nil {
		return nil, err
	}
	fc, qc := make([]int, classes), make([]int, classes)
	same := 0
	for i, c := range seg.Float {
		fc[c]++
		qc[seg.Quantized[i]]++
		if c == seg.Quantized[i] {
			same++
		}
	}
	if n := len(seg.Float); n > 0 {
		seg.Agreement = float64(same) / float64(n)
	}
	for c := range classes {
		if fc[c]+qc[c] > 0 {
			r, g, b, _ := palette[c].RGBA()
			seg.Legend = append(seg.Legend, SegClass{Index: c, Label: info.Labels[c],
				Color: fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8), FloatPixels: fc[c], QuantizedPixels: qc[c]})
		}
	}
	sort.SliceStable(seg.Legend, func(a, b int) bool {
		x, y := seg.Legend[a], seg.Legend[b]
		if x.FloatPixels != y.FloatPixels {
			return x.FloatPixels > y.FloatPixels
		}
		return x.QuantizedPixels > y.QuantizedPixels
	})
	p.Segmentation = seg
	return p, nil
}

// argmaxMask returns each pixel's class: the index of the largest of its
// classes scores (the first of equal ones).
func argmaxMask(v []float32, classes int) []byte {
	mask := make([]byte, len(v)/classes)
	for i := range mask {
		px := v[i*classes : (i+1)*classes]
		best := 0
		for c := 1; c < classes; c++ {
			if px[c] > px[best] {
				best = c
			}
		}
		mask[i] = byte(best)
	}
	return mask
}

// segPalette is the PASCAL VOC colour map: class 0 black, then each
// class's index bits spread over the high bits of red, green and blue.
func segPalette(classes int) color.Palette {
	p := make(color.Palette, classes)
	for i := range p {
		var r, g, b uint8
		for j, c := 0, i; j < 8; j, c = j+1, c>>3 {
			r |= uint8(c&1) << (7 - j)
			g |= uint8(c>>1&1) << (7 - j)
			b |= uint8(c>>2&1) << (7 - j)
		}
		p[i] = color.RGBA{r, g, b, 255}
	}
	return p
}

// maskPNG encodes a mask as a paletted PNG data URL.
func maskPNG(mask []byte, w, h int, palette color.Palette) (string, error) {
	img := image.NewPaletted(image.Rect(0, 0, w, h), palette)
	copy(img.Pix, mask)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("the mask image: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
