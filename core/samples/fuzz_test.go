package samples

import (
	"math"
	"testing"

	"litequant/core/npy"
)

// checkSet reads up to 8 samples of a loaded set, checking their sizes and
// that FLOAT32 values are finite.
func checkSet(t *testing.T, s *Set) {
	t.Helper()
	if s.Len() == 0 {
		t.Fatal("a loaded set is empty")
	}
	for i := 0; i < min(s.Len(), 8); i++ {
		d, err := s.Sample(i)
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		shapes := s.Shapes(i)
		for k, in := range s.Inputs() {
			if len(d[k]) != numElements(shapes[k])*typeSize(in.Type) {
				t.Fatalf("sample %d input %d: %d bytes for shape %v of %v", i, k, len(d[k]), shapes[k], in.Type)
			}
			if in.Type == f32 {
				for _, v := range floats(t, d[k]) {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("sample %d input %d holds %v", i, k, v)
					}
				}
			}
		}
		_ = s.Source(i)
	}
	_ = s.Describe()
}

func FuzzWAV(f *testing.F) {
	f.Add(wavSpec{format: 1, channels: 1, bits: 16, data: pcm16(1, -2, 3, -4, 5)}.bytes())
	f.Add(wavSpec{format: 1, channels: 2, bits: 8, data: []byte{0, 255, 128, 7}}.bytes())
	f.Add(wavSpec{format: 1, channels: 1, bits: 24, data: []byte{1, 2, 3, 4, 5, 6}}.bytes())
	f.Add(wavSpec{format: 3, channels: 1, bits: 32, extensible: true, data: le32(f32bits(0.5, -2)...)}.bytes())
	f.Add(wavSpec{format: 3, channels: 3, bits: 64, data: f64le(0.1, 0.2, 0.3)}.bytes())
	f.Add(wavSpec{format: 1, channels: 1, bits: 32, data: le32(1, 2, 3), pre: [][2]string{{"LIST", "odd"}}}.bytes())
	b := wavSpec{format: 1, channels: 1, bits: 16, data: pcm16(9, 9)}.bytes()
	f.Add(b[:len(b)-3])
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if w, err := parseWAV(data); err == nil {
			if w.frames <= 0 || len(w.data) != w.frames*w.frame || w.frame != w.channels*w.bits/8 {
				t.Fatalf("inconsistent parse: %+v", w)
			}
			for f := 0; f < min(w.frames, 64); f++ {
				if v := w.mono(f); math.IsNaN(v) || v < -1 || v > 1 {
					t.Fatalf("frame %d = %v", f, v)
				}
			}
		}
		for _, in := range [][]Input{in1(f32, 1, 3), in1(i16, 4), in1(f32, -1, -1)} {
			s, err := Load(in, []File{{"f.wav", data}}, Options{})
			if err != nil {
				continue
			}
			checkSet(t, s)
		}
	})
}

func FuzzNPYSample(f *testing.F) {
	add := func(a *npy.Array) { f.Add(npyBytes(f, a)) }
	add(npy.FromFloat32([]int{2, 1, 2, 3}, seq(12)))
	add(npy.FromFloat64([]int{4, 6}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}))
	add(npy.FromUint8([]int{2, 3}, []uint8{0, 1, 2, 253, 254, 255}))
	add(npy.FromInt64([]int{1, 6}, []int64{-1, 0, 1, 1 << 40, -128, 127}))
	add(npy.FromBool([]int{6}, []bool{true, false, true, true, false, false}))
	add(&npy.Array{DType: npy.Float16, Shape: []int{2, 3}, Data: []byte{0, 0x3c, 0, 0x7c, 0, 0xfe, 1, 0, 0, 0x80, 0, 0}})
	b := npyBytes(f, npy.FromInt16([]int{3, 2}, []int16{1, 2, 3, 4, 5, 6}))
	f.Add(b[:len(b)-1])
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]Input{in1(f32, 1, 2, 3), in1(i8, 1, -1), in1(u8, 2, 3), in1(i32, 6), in1(bl, -1, 3)} {
			s, err := Load(in, []File{{"f.npy", data}}, Options{CalibCount: 5, Uint8AsPixels: true})
			if err != nil {
				continue
			}
			if s.Len() > 5 {
				t.Fatalf("%d samples despite CalibCount 5", s.Len())
			}
			checkSet(t, s)
		}
	})
}
