package samples

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

// TestPerChannelNormalization: ImageMeans/ImageStds normalize each channel
// with its own values, for image files and for uint8 arrays taken as
// pixels; one value serves every channel; counts that fit neither are
// errors.
func TestPerChannelNormalization(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.RGBA{10, 20, 30, 255})
	img.Set(1, 0, color.RGBA{200, 100, 0, 255})
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	var npyBuf bytes.Buffer
	if err := npy.Write(&npyBuf, npy.FromUint8([]int{1, 1, 2, 3}, []uint8{10, 20, 30, 200, 100, 0})); err != nil {
		t.Fatal(err)
	}
	in := []Input{{Name: "x", Type: fb.TensorTypeFLOAT32, Shape: []int{1, 1, 2, 3}}}
	pixels := []float32{10, 20, 30, 200, 100, 0}
	for _, c := range []struct {
		name        string
		means, stds []float32
		want        func(k int, p float32) float32
		err         string
	}{
		{"per channel", []float32{1, 2, 3}, []float32{2, 4, 8}, func(k int, p float32) float32 {
			return (p - []float32{1, 2, 3}[k%3]) / []float32{2, 4, 8}[k%3]
		}, ""},
		{"one for all", []float32{127.5}, []float32{127.5}, func(_ int, p float32) float32 { return (p - 127.5) / 127.5 }, ""},
		{"one std", []float32{0, 10, 20}, []float32{5}, func(k int, p float32) float32 { return (p - float32(10*(k%3))) / 5 }, ""},
		{"two of three", []float32{1, 2}, []float32{1, 1}, nil, "2 channels"},
		{"zero std", []float32{0}, []float32{0}, nil, "not a positive"},
	} {
		for _, f := range []File{{Name: "a.png", Data: pngBuf.Bytes()}, {Name: "a.npy", Data: npyBuf.Bytes()}} {
			set, err := Load(in, []File{f}, Options{ImageMeans: c.means, ImageStds: c.stds, Uint8AsPixels: true})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("%s, %s: error %v, want %q", c.name, f.Name, err, c.err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s, %s: %v", c.name, f.Name, err)
			}
			s, err := set.Sample(0)
			if err != nil {
				t.Fatal(err)
			}
			for k, p := range pixels {
				got := math.Float32frombits(binary.LittleEndian.Uint32(s[0][4*k:]))
				if want := c.want(k, p); math.Abs(float64(got-want)) > 1e-6 {
					t.Errorf("%s, %s: element %d = %g, want %g", c.name, f.Name, k, got, want)
				}
			}
		}
	}
}
