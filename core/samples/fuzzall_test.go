package samples

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
	"time"

	"litequant/core/fixtures"
	"litequant/core/npy"
)

// fuzzKinds are the file names FuzzSamples gives its data, by kind byte.
var fuzzKinds = []string{"f.npy", "f.npz", "f.png", "f.jpg", "f.gif", "f.bmp", "f.wav"}

// FuzzSamples feeds mutated files of every kind Load reads (npy, npz, PNG,
// JPEG, GIF, BMP, WAV) to Load for image, audio and array inputs, fixed
// and dynamic: every input must load or give an error, never panic or
// hang, and a loaded set must give samples of the input's size. Images
// are capped at 1/4 megapixel so that each exec stays well under the fuzzer's 10 s (the cap
// itself is what TestDecompressionBombs checks). Seeds: small files made
// here and the ../shared data files up to 64 KiB (read at test time);
// crashers found are kept under testdata/fuzz.
func FuzzSamples(f *testing.F) {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 29)
	}
	gray := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i * 17)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 3, 3), color.Palette{color.Black, color.White, color.NRGBA{200, 10, 10, 128}})
	pal.Pix[4] = 2
	for k, format := range []string{"png", "jpeg", "gif", "bmp"} {
		f.Add(encodeImage(f, format, img), uint8(2+k))
		f.Add(encodeImage(f, format, gray), uint8(2+k))
	}
	f.Add(encodeImage(f, "gif", pal), uint8(4))
	f.Add(encodeImage(f, "png", pal), uint8(2))
	f.Add(npyBytes(f, npy.FromFloat32([]int{2, 4}, []float32{0, 1, 2, 3, 4, 5, 6, 7})), uint8(0))
	f.Add(npyBytes(f, npy.FromUint8([]int{1, 2, 2, 3}, make([]uint8, 12))), uint8(0))
	var z bytes.Buffer
	if err := npy.WriteNPZ(&z, npy.Archive{{Name: "x", Array: npy.FromFloat32([]int{3, 4}, make([]float32, 12))}}); err != nil {
		f.Fatal(err)
	}
	f.Add(z.Bytes(), uint8(1))
	f.Add(wavSpec{format: 1, channels: 2, bits: 16, data: pcm16(1, -2, 3, -4, 5, 6, 7, 8)}.bytes(), uint8(6))
	f.Add(wavSpec{format: 3, channels: 1, bits: 32, extensible: true, data: le32(f32bits(0.5, -2, 0.25)...)}.bytes(), uint8(6))
	if dir, ok := fixtures.SharedDir(); ok {
		kindOf := map[string]uint8{".npy": 0, ".npz": 1, ".png": 2, ".jpg": 3, ".gif": 4, ".bmp": 5, ".wav": 6}
		paths, _ := filepath.Glob(filepath.Join(dir, "data", "*", "*"))
		for _, p := range paths {
			k, known := kindOf[filepath.Ext(p)]
			if st, err := os.Stat(p); known && err == nil && st.Size() <= 64<<10 {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b, k)
				}
			}
		}
	}
	inputs := [][]Input{
		in1(f32, 1, 8, 8, 3), in1(u8, 1, 4, 4, 1), in1(f32, -1, -1, -1, 3), in1(i8, 1, -1, 6, 1),
		in1(f32, 1, 16), in1(i16, -1), in1(f32, -1, 4), in1(i32, 2, 2),
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		dog := time.AfterFunc(30*time.Second, func() { panic("hang: one FuzzSamples case ran longer than 30s") })
		defer dog.Stop()
		name := fuzzKinds[int(kind)%len(fuzzKinds)]
		for _, in := range inputs {
			s, err := Load(in, []File{{name, data}}, Options{CalibCount: 4, MaxImagePixels: 1 << 18, Uint8AsPixels: kind%2 == 0})
			if err != nil {
				continue
			}
			checkSet(t, s)
		}
	})
}
