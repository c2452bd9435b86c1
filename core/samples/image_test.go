package samples

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"reflect"
	"testing"
)

var orange = color.NRGBA{200, 100, 50, 255}

// TestImageFormats decodes each format, resizing a 40×30 image to 16×16.
func TestImageFormats(t *testing.T) {
	pal := image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{orange})
	for _, format := range []string{"png", "jpeg", "gif", "bmp"} {
		t.Run(format, func(t *testing.T) {
			var img image.Image = solid(40, 30, orange)
			if format == "gif" {
				img = pal
			}
			s := mustLoad(t, in1(f32, 1, 16, 16, 3), []File{{"img." + format, encodeImage(t, format, img)}}, Options{})
			if s.Len() != 1 || !reflect.DeepEqual(s.Shapes(0), [][]int{{1, 16, 16, 3}}) {
				t.Fatalf("Len %d, Shapes %v", s.Len(), s.Shapes(0))
			}
			got := floats(t, mustSample(t, s, 0)[0])
			if len(got) != 16*16*3 {
				t.Fatalf("%d values", len(got))
			}
			tol := float32(1e-6)
			if format == "jpeg" {
				tol = 3 / 127.5
			}
			for i, v := range got {
				want := (float32([]uint8{200, 100, 50}[i%3]) - 127.5) / 127.5
				if !near(v, want, tol) {
					t.Fatalf("value %d = %v, want %v", i, v, want)
				}
			}
		})
	}
}

// TestImageValues checks channel conversion, normalisation and types.
func TestImageValues(t *testing.T) {
	png := encodeImage(t, "png", solid(6, 6, orange))
	luma := float32(124) // 0.299·200 + 0.587·100 + 0.114·50 = 124.2
	tests := []struct {
		name  string
		input []Input
		opts  Options
		want  []float32 // first pixel's channels
	}{
		{"float RGB default", in1(f32, 1, 2, 2, 3), Options{}, []float32{72.5 / 127.5, -27.5 / 127.5, -77.5 / 127.5}},
		{"float gray", in1(f32, 1, 2, 2, 1), Options{}, []float32{(luma - 127.5) / 127.5}},
		{"float [0, 1]", in1(f32, 1, 2, 2, 3), Options{ImageMean: 0, ImageStd: 255}, []float32{200.0 / 255, 100.0 / 255, 50.0 / 255}},
		{"float mean only", in1(f32, 1, 2, 2, 3), Options{ImageMean: 100}, []float32{100 / 127.5, 0, -50 / 127.5}},
		{"float mean and std", in1(f32, 2, 2, 3), Options{ImageMean: 100, ImageStd: 50}, []float32{2, 0, -1}},
		{"dynamic channels", in1(f32, -1, 2, 2, -1), Options{}, []float32{72.5 / 127.5, -27.5 / 127.5, -77.5 / 127.5}},
		{"uint8 raw", in1(u8, 1, 2, 2, 3), Options{ImageMean: 5, ImageStd: 9}, []float32{200, 100, 50}},
		{"uint8 gray", in1(u8, 1, 2, 2, 1), Options{}, []float32{luma}},
		{"int8", in1(i8, 1, 2, 2, 3), Options{}, []float32{72, -28, -78}},
		{"int16", in1(i16, 1, 2, 2, 3), Options{}, []float32{200, 100, 50}},
		{"int32 gray", in1(i32, 2, 2, 1), Options{}, []float32{luma}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustLoad(t, tc.input, []File{{"a.png", png}}, tc.opts)
			d := mustSample(t, s, 0)[0]
			ty := tc.input[0].Type
			c := len(tc.want)
			if len(d) != 4*c*typeSize(ty) {
				t.Fatalf("%d bytes", len(d))
			}
			for k := 0; k < 4*c; k++ {
				var v float32
				switch ty {
				case f32:
					v = floats(t, d)[k]
				case u8:
					v = float32(d[k])
				case i8:
					v = float32(int8(d[k]))
				case i16:
					v = float32(int16(binary.LittleEndian.Uint16(d[2*k:])))
				case i32:
					v = float32(int32(binary.LittleEndian.Uint32(d[4*k:])))
				}
				if !near(v, tc.want[k%c], 1e-6) {
					t.Errorf("value %d = %v, want %v", k, v, tc.want[k%c])
				}
			}
		})
	}
}

func TestCentreCrop(t *testing.T) {
	tests := []struct {
		w, h, W, H int
		want       image.Rectangle
	}{
		{4, 2, 2, 2, image.Rect(1, 0, 3, 2)},
		{2, 4, 2, 2, image.Rect(0, 1, 2, 3)},
		{4, 2, 4, 2, image.Rect(0, 0, 4, 2)},
		{4, 2, 8, 4, image.Rect(0, 0, 4, 2)},
		{4, 2, 4, 1, image.Rect(0, 0, 4, 1)},
		{600, 400, 224, 224, image.Rect(100, 0, 500, 400)},
		{517, 606, 224, 224, image.Rect(0, 44, 517, 561)},
		{5, 4, 2, 2, image.Rect(0, 0, 4, 4)},           // odd margin: the extra column on the right
		{1000, 1, 1, 1000, image.Rect(499, 0, 500, 1)}, // at least one pixel
		{1, 1, 7, 3, image.Rect(0, 0, 1, 1)},
	}
	for _, tc := range tests {
		if got := centreCrop(tc.w, tc.h, tc.W, tc.H); got != tc.want {
			t.Errorf("centreCrop(%d×%d to %d×%d) = %v, want %v", tc.w, tc.h, tc.W, tc.H, got, tc.want)
		}
	}
}

// TestCropGeometry crops real images whose columns or rows differ.
func TestCropGeometry(t *testing.T) {
	// A 4×2 image with columns 10, 20, 30, 40 (in red) keeps its middle
	// columns, unchanged, for a 2×2 input.
	cols := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	for y := 0; y < 2; y++ {
		for x := 0; x < 4; x++ {
			cols.Set(x, y, color.NRGBA{uint8(10 * (x + 1)), 0, 0, 255})
		}
	}
	s := mustLoad(t, in1(u8, 1, 2, 2, 1), []File{{"cols.png", encodeImage(t, "png", cols)}}, Options{})
	// Gray of red r is round(0.299 r).
	if got, want := mustSample(t, s, 0)[0], []byte{6, 9, 6, 9}; !bytes.Equal(got, want) {
		t.Errorf("4×2 columns cropped to 2×2: %v, want %v", got, want)
	}
	// A 2×4 image with rows 10, 20, 30, 40 (in green) keeps its middle rows.
	rows := image.NewNRGBA(image.Rect(0, 0, 2, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 2; x++ {
			rows.Set(x, y, color.NRGBA{0, uint8(10 * (y + 1)), 0, 255})
		}
	}
	s = mustLoad(t, in1(u8, 2, 2, 3), []File{{"rows.bmp", encodeImage(t, "bmp", rows)}}, Options{})
	if got, want := mustSample(t, s, 0)[0], []byte{0, 20, 0, 0, 20, 0, 0, 30, 0, 0, 30, 0}; !bytes.Equal(got, want) {
		t.Errorf("2×4 rows cropped to 2×2: %v, want %v", got, want)
	}
	// A 4×2 image, red on the left half and blue on the right: a 1×1 input
	// takes the centred 2×2 square, half red and half blue.
	halves := solid(4, 2, color.NRGBA{255, 0, 0, 255})
	for y := 0; y < 2; y++ {
		for x := 2; x < 4; x++ {
			halves.Set(x, y, color.NRGBA{0, 0, 255, 255})
		}
	}
	s = mustLoad(t, in1(u8, 1, 1, 1, 3), []File{{"halves.png", encodeImage(t, "png", halves)}}, Options{})
	got := mustSample(t, s, 0)[0]
	if got[0] < 126 || got[0] > 129 || got[1] != 0 || got[2] < 126 || got[2] > 129 {
		t.Errorf("halves to 1×1: %v, want an even mix of red and blue", got)
	}
	// A 2×1 input (wide) from the same image takes all of it, each output
	// pixel mostly of its own half: shrinking by 2 widens the tent filter to
	// weights 3/4, 3/4 and 1/4 on the source columns around it.
	s = mustLoad(t, in1(u8, 1, 1, 2, 3), []File{{"halves.png", encodeImage(t, "png", halves)}}, Options{})
	if got := mustSample(t, s, 0)[0]; !bytes.Equal(got, []byte{219, 0, 36, 36, 0, 219}) {
		t.Errorf("halves to 2×1: %v", got)
	}
}

// TestImageExactSize checks that an image of the input's size is used
// pixel for pixel.
func TestImageExactSize(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	for _, format := range []string{"png", "bmp"} {
		s := mustLoad(t, in1(u8, 1, 3, 5, 3), []File{{"a." + format, encodeImage(t, format, img)}}, Options{})
		got := mustSample(t, s, 0)[0]
		for i := 0; i < 15; i++ {
			if !bytes.Equal(got[3*i:3*i+3], img.Pix[4*i:4*i+3]) {
				t.Fatalf("%s pixel %d = %v, want %v", format, i, got[3*i:3*i+3], img.Pix[4*i:4*i+3])
			}
		}
	}
}

// TestImageAlpha checks that alpha is dropped, keeping each pixel's colour.
func TestImageAlpha(t *testing.T) {
	img := solid(4, 4, color.NRGBA{200, 100, 50, 0})
	img.Set(0, 0, color.NRGBA{10, 20, 30, 128})
	s := mustLoad(t, in1(u8, 1, 4, 4, 3), []File{{"a.png", encodeImage(t, "png", img)}}, Options{})
	got := mustSample(t, s, 0)[0]
	if !bytes.Equal(got[:6], []byte{10, 20, 30, 200, 100, 50}) {
		t.Errorf("transparent pixels: %v", got[:6])
	}
	// A paletted image with a transparent entry.
	pal := image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.NRGBA{0, 0, 0, 0}, color.NRGBA{9, 8, 7, 255}})
	pal.SetColorIndex(1, 1, 1)
	s = mustLoad(t, in1(u8, 1, 2, 2, 3), []File{{"a.gif", encodeImage(t, "gif", pal)}}, Options{})
	if got := mustSample(t, s, 0)[0]; !bytes.Equal(got[9:], []byte{9, 8, 7}) {
		t.Errorf("paletted: %v", got)
	}
}

// TestGIFFrame places a GIF's first frame, smaller than its logical
// screen, where it belongs.
func TestGIFFrame(t *testing.T) {
	frame := image.NewPaletted(image.Rect(1, 1, 3, 3), color.Palette{color.NRGBA{9, 8, 7, 255}})
	var b bytes.Buffer
	err := gif.EncodeAll(&b, &gif.GIF{
		Image:  []*image.Paletted{frame},
		Delay:  []int{0},
		Config: image.Config{ColorModel: frame.Palette, Width: 4, Height: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := mustLoad(t, in1(u8, 1, 4, 4, 1), []File{{"a.gif", b.Bytes()}}, Options{})
	got := mustSample(t, s, 0)[0]
	want := []byte{0, 0, 0, 0, 0, 8, 8, 0, 0, 8, 8, 0, 0, 0, 0, 0} // gray of (9, 8, 7) is 8
	if !bytes.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestImageDynamicSize(t *testing.T) {
	data := encodeImage(t, "png", solid(40, 30, orange))
	tests := []struct {
		shape, want []int
	}{
		{[]int{1, -1, -1, 3}, []int{1, 30, 40, 3}},
		{[]int{1, -1, 8, 3}, []int{1, 6, 8, 3}}, // 8·30/40
		{[]int{1, -1, 9, 3}, []int{1, 7, 9, 3}}, // 9·30/40 = 6.75
		{[]int{-1, 3, -1, 1}, []int{1, 3, 4, 1}},
		{[]int{-1, 9, -1}, []int{7, 9, 3}},
		{[]int{-1, 15, -1, 1}, []int{1, 15, 20, 1}},
	}
	for _, tc := range tests {
		s := mustLoad(t, in1(f32, tc.shape...), []File{{"a.png", data}}, Options{})
		if got := s.Shapes(0)[0]; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("input %v: shape %v, want %v", tc.shape, got, tc.want)
		}
		if d := mustSample(t, s, 0)[0]; len(d) != 4*numElements(tc.want) {
			t.Errorf("input %v: %d bytes", tc.shape, len(d))
		}
	}
}

// hugePNG returns a PNG header declaring a w×h image, with no pixel data.
func hugePNG(w, h uint32) []byte {
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = 8, 2 // 8-bit RGB
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

func TestImageErrors(t *testing.T) {
	png := encodeImage(t, "png", solid(8, 8, orange))
	noise := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(i * 7919 % 251)
	}
	jpg := encodeImage(t, "jpeg", noise)
	two := []Input{{Name: "a", Type: f32, Shape: []int{1, 4, 4, 3}}, {Name: "b", Type: f32, Shape: []int{1, 4, 4, 3}}}
	tests := []struct {
		name  string
		input []Input
		file  File
		want  string
	}{
		{"NCHW", in1(f32, 1, 3, 224, 224), File{"a.png", png},
			`a.png: an image does not fit input "x" (FLOAT32 [1, 3, 224, 224]): it looks channels-first (NCHW); image inputs are NHWC with 1 or 3 channels`},
		{"4 channels", in1(f32, 1, 8, 8, 4), File{"a.png", png},
			`a.png: an image does not fit input "x" (FLOAT32 [1, 8, 8, 4]): image inputs have 1 (gray) or 3 (RGB) channels`},
		{"flat input", in1(f32, 1, 10), File{"a.png", png},
			`a.png: an image does not fit input "x" (FLOAT32 [1, 10]): image inputs are NHWC, [1, H, W, C] or [H, W, C]`},
		{"batch 2", in1(f32, 2, 8, 8, 3), File{"a.png", png},
			`a.png: an image does not fit input "x" (FLOAT32 [2, 8, 8, 3]): image inputs are NHWC, [1, H, W, C] or [H, W, C]`},
		{"int64", in1(i64, 1, 8, 8, 3), File{"a.png", png},
			`a.png: an image does not fit input "x" (INT64 [1, 8, 8, 3]): image inputs are FLOAT32, UINT8, INT8, INT16 or INT32`},
		{"two inputs", two, File{"a.png", png},
			`a.png: an image can only feed a model with one input, not 2 (for inputs "a" (FLOAT32 [1, 4, 4, 3]), "b" (FLOAT32 [1, 4, 4, 3]))`},
		{"bad header", in1(f32, 1, 8, 8, 3), File{"a.png", png[:20]},
			`a.png: cannot decode the image: unexpected EOF (for input "x" (FLOAT32 [1, 8, 8, 3]))`},
		{"truncated body", in1(f32, 1, 8, 8, 3), File{"a.jpg", jpg[:len(jpg)/2]},
			`a.jpg: cannot decode the jpeg image: invalid JPEG format: short Huffman data (for input "x" (FLOAT32 [1, 8, 8, 3]))`},
		{"not an image", in1(f32, 1, 8, 8, 3), File{"a.jpg", []byte("hello")},
			`a.jpg: cannot decode the image: image: unknown format (for input "x" (FLOAT32 [1, 8, 8, 3]))`},
		{"huge", in1(f32, 1, 8, 8, 3), File{"a.png", hugePNG(100000, 100000)},
			`a.png: png image of 100000×100000 pixels (9536.7 megapixels) is larger than the 64-megapixel limit (--max-image-pixels): refused before decoding (for input "x" (FLOAT32 [1, 8, 8, 3]))`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.input, []File{tc.file}, Options{})
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}
