package samples

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"testing"

	"golang.org/x/image/bmp"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

const (
	f32 = fb.TensorTypeFLOAT32
	i8  = fb.TensorTypeINT8
	u8  = fb.TensorTypeUINT8
	i16 = fb.TensorTypeINT16
	i32 = fb.TensorTypeINT32
	i64 = fb.TensorTypeINT64
	bl  = fb.TensorTypeBOOL
)

func in1(t fb.TensorType, shape ...int) []Input {
	return []Input{{Name: "x", Type: t, Shape: shape}}
}

func npyBytes(t testing.TB, a *npy.Array) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := npy.Write(&b, a); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func npzBytes(t testing.TB, arrays ...npy.NamedArray) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := npy.WriteNPZ(&b, npy.Archive(arrays)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// seq returns 0, 1, ..., n-1 as float32 values.
func seq(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	return v
}

func encodeImage(t testing.TB, format string, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	default:
		t.Fatalf("unknown format %s", format)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// solid returns a w×h image of one colour.
func solid(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	return img
}

// wavSpec describes a WAV file to build.
type wavSpec struct {
	format     int // 1 PCM, 3 float
	channels   int
	bits       int
	extensible bool
	pre        [][2]string // chunks (id, body) before fmt
	mid        [][2]string // chunks between fmt and data
	data       []byte
}

func (w wavSpec) bytes() []byte {
	var b bytes.Buffer
	chunk := func(id string, body []byte) {
		b.WriteString(id)
		binary.Write(&b, binary.LittleEndian, uint32(len(body)))
		b.Write(body)
		if len(body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	b.WriteString("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range w.pre {
		chunk(c[0], []byte(c[1]))
	}
	var f bytes.Buffer
	le := func(v any) { binary.Write(&f, binary.LittleEndian, v) }
	tag := uint16(w.format)
	if w.extensible {
		tag = waveExtensible
	}
	align := w.channels * w.bits / 8
	le(tag)
	le(uint16(w.channels))
	le(uint32(16000))
	le(uint32(16000 * align))
	le(uint16(align))
	le(uint16(w.bits))
	if w.extensible {
		le(uint16(22))
		le(uint16(w.bits))
		le(uint32(0))
		le(uint16(w.format))
		f.Write(guidSuffix)
	}
	chunk("fmt ", f.Bytes())
	for _, c := range w.mid {
		chunk(c[0], []byte(c[1]))
	}
	chunk("data", w.data)
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// pcm16 encodes 16-bit samples.
func pcm16(v ...int16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
	}
	return b
}

func floats(t testing.TB, data []byte) []float32 {
	t.Helper()
	if len(data)%4 != 0 {
		t.Fatalf("%d bytes is not a float32 array", len(data))
	}
	v := make([]float32, len(data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return v
}

func mustLoad(t testing.TB, ins []Input, files []File, o Options) *Set {
	t.Helper()
	s, err := Load(ins, files, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSample(t testing.TB, s *Set, i int) [][]byte {
	t.Helper()
	d, err := s.Sample(i)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func near(a, b, tol float32) bool { return math.Abs(float64(a-b)) <= float64(tol) }
