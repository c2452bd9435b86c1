package samples

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"
)

func le32(v ...uint32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], x)
	}
	return b
}

func f32bits(v ...float32) []uint32 {
	u := make([]uint32, len(v))
	for i, x := range v {
		u[i] = math.Float32bits(x)
	}
	return u
}

func f64le(v ...float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// TestWAVFormats decodes each sample format to [-1, 1].
func TestWAVFormats(t *testing.T) {
	tests := []struct {
		name string
		spec wavSpec
		want []float32
	}{
		{"pcm8", wavSpec{format: 1, channels: 1, bits: 8, data: []byte{0, 128, 255, 64}},
			[]float32{-1, 0, 127.0 / 128, -0.5}},
		{"pcm16", wavSpec{format: 1, channels: 1, bits: 16, data: pcm16(-32768, 0, 16384, 32767)},
			[]float32{-1, 0, 0.5, 32767.0 / 32768}},
		{"pcm24", wavSpec{format: 1, channels: 1, bits: 24, data: []byte{0, 0, 0x80, 0, 0, 0, 0, 0, 0x40, 0xff, 0xff, 0xff}},
			[]float32{-1, 0, 0.5, -1.0 / (1 << 23)}},
		{"pcm32", wavSpec{format: 1, channels: 1, bits: 32, data: le32(1<<31, 0, 1<<30, 0xffffffff)},
			[]float32{-1, 0, 0.5, -1.0 / (1 << 31)}},
		{"float32 clamped", wavSpec{format: 3, channels: 1, bits: 32, data: le32(f32bits(0.25, -1.5, 2, -0.125)...)},
			[]float32{0.25, -1, 1, -0.125}},
		{"float64", wavSpec{format: 3, channels: 1, bits: 64, data: f64le(0.1, -0.5, 1, 0)},
			[]float32{0.1, -0.5, 1, 0}},
		{"extensible pcm16", wavSpec{format: 1, channels: 1, bits: 16, extensible: true, data: pcm16(16384, -16384, 0, 8192)},
			[]float32{0.5, -0.5, 0, 0.25}},
		{"extensible float32", wavSpec{format: 3, channels: 1, bits: 32, extensible: true, data: le32(f32bits(0.5, 0.25, 0, -1)...)},
			[]float32{0.5, 0.25, 0, -1}},
		{"stereo averaged", wavSpec{format: 1, channels: 2, bits: 16, data: pcm16(16384, -16384, 16384, 16384, -32768, 0, 8192, 0)},
			[]float32{0, 0.5, -0.5, 0.125}},
		{"3 channels", wavSpec{format: 3, channels: 3, bits: 32, data: le32(f32bits(0.3, 0.3, 0.3, 0.9, 0, 0, 0, 0, 0, 1, 1, -1)...)},
			[]float32{0.3, 0.3, 0, 1.0 / 3}},
		{"odd chunks and padding", wavSpec{format: 1, channels: 1, bits: 16, data: pcm16(1, 2, 3, 4),
			pre: [][2]string{{"JUNK", "abc"}}, mid: [][2]string{{"LIST", "INFOx"}, {"fact", "\x04\x00\x00\x00"}}},
			[]float32{1.0 / 32768, 2.0 / 32768, 3.0 / 32768, 4.0 / 32768}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustLoad(t, in1(f32, 1, 4), []File{{"a.wav", tc.spec.bytes()}}, Options{})
			if s.Len() != 1 {
				t.Fatalf("Len = %d", s.Len())
			}
			got := floats(t, mustSample(t, s, 0)[0])
			for i := range tc.want {
				if !near(got[i], tc.want[i], 1e-7) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestWAVWindows cuts files into windows of the input's length with half
// overlap.
func TestWAVWindows(t *testing.T) {
	ramp := func(n int) []byte {
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(i + 1)
		}
		return pcm16(v...)
	}
	tests := []struct {
		name   string
		shape  []int
		frames int
		starts []int // window starts
		want   []int // the last window's values, in 16-bit units
	}{
		{"exact", []int{1, 4}, 4, []int{0}, []int{1, 2, 3, 4}},
		{"short, zero-padded", []int{1, 4}, 3, []int{0}, []int{1, 2, 3, 0}},
		{"half overlap", []int{1, 4}, 10, []int{0, 2, 4, 6}, []int{7, 8, 9, 10}},
		{"tail dropped", []int{4}, 11, []int{0, 2, 4, 6}, []int{7, 8, 9, 10}},
		{"odd length", []int{-1, 5}, 9, []int{0, 2, 4}, []int{5, 6, 7, 8, 9}},
		{"length 1", []int{1, 1}, 3, []int{0, 1, 2}, []int{3}},
		{"dynamic length", []int{1, -1}, 6, []int{0}, []int{1, 2, 3, 4, 5, 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := []File{{"a.wav", wavSpec{format: 1, channels: 1, bits: 16, data: ramp(tc.frames)}.bytes()}}
			s := mustLoad(t, in1(f32, tc.shape...), f, Options{})
			if s.Len() != len(tc.starts) {
				t.Fatalf("%d windows, want %d", s.Len(), len(tc.starts))
			}
			n := len(tc.want)
			wantShape := []int{1, n}
			if len(tc.shape) == 1 {
				wantShape = []int{n}
			}
			for i, start := range tc.starts {
				if got := s.Shapes(i)[0]; !reflect.DeepEqual(got, wantShape) {
					t.Errorf("window %d shape %v, want %v", i, got, wantShape)
				}
				d := floats(t, mustSample(t, s, i)[0])
				if len(d) != n || d[0] != float32(start+1)/32768 {
					t.Errorf("window %d starts with %v (of %d values), want %v", i, d[0]*32768, len(d), start+1)
				}
			}
			last := floats(t, mustSample(t, s, s.Len()-1)[0])
			for k, w := range tc.want {
				if last[k] != float32(w)/32768 {
					t.Fatalf("last window %v, want %v/32768", last, tc.want)
				}
			}
		})
	}
	s := mustLoad(t, in1(f32, 1, 4), []File{{"a.wav", wavSpec{format: 1, channels: 1, bits: 16, data: ramp(10)}.bytes()}}, Options{})
	if got := s.Source(1); got != "a.wav[2:6]" {
		t.Errorf("Source(1) = %q", got)
	}
}

func TestWAVInt16(t *testing.T) {
	f := []File{
		{"a.wav", wavSpec{format: 1, channels: 1, bits: 16, data: pcm16(-32768, -1, 0, 32767)}.bytes()},
		{"b.wav", wavSpec{format: 3, channels: 1, bits: 32, data: le32(f32bits(1, -1, 0.5, 1e-5)...)}.bytes()},
	}
	s := mustLoad(t, in1(i16, 1, 4), f, Options{})
	want := [][]int16{{-32768, -1, 0, 32767}, {32767, -32768, 16384, 0}}
	for i := range want {
		d := mustSample(t, s, i)[0]
		for k, w := range want[i] {
			if got := int16(binary.LittleEndian.Uint16(d[2*k:])); got != w {
				t.Errorf("file %d sample %d = %d, want %d", i, k, got, w)
			}
		}
	}
}

// TestWAVLenient reads files with sizes streaming writers leave wrong.
func TestWAVLenient(t *testing.T) {
	spec := wavSpec{format: 1, channels: 2, bits: 16, data: pcm16(100, 100, 200, 200, 300, 300)}
	b := spec.bytes()
	binary.LittleEndian.PutUint32(b[4:], 0xffffffff)         // RIFF size
	binary.LittleEndian.PutUint32(b[len(b)-16:], 0xffffffff) // data size
	b = b[:len(b)-1]                                         // a partial frame
	info, err := parseWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	if info.frames != 2 || info.mono(1) != 200.0/32768 || info.rate != 16000 {
		t.Errorf("frames %d, mono(1) %v, rate %d", info.frames, info.mono(1), info.rate)
	}
	// data before fmt
	var d []byte
	d = append(d, "RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x05\x00"...)
	fmtChunk := spec.bytes()[12:36]
	binary.LittleEndian.PutUint16(fmtChunk[8+2:], 1) // mono
	binary.LittleEndian.PutUint16(fmtChunk[8+12:], 2)
	d = append(d, fmtChunk...)
	info, err = parseWAV(d)
	if err != nil || info.frames != 1 || info.mono(0) != 5.0/32768 {
		t.Errorf("data before fmt: %v %+v", err, info)
	}
}

func TestWAVErrors(t *testing.T) {
	good := wavSpec{format: 1, channels: 1, bits: 16, data: pcm16(1, 2)}
	mod := func(f func(b []byte) []byte) []byte { return f(good.bytes()) }
	tests := []struct {
		name  string
		input []Input
		data  []byte
		want  string // after "a.wav: "
	}{
		{"not RIFF", in1(f32, 1, 4), []byte("RIFX\x00\x00\x00\x00WAVE"), "cannot read the WAV file: not a RIFF WAVE file"},
		{"short", in1(f32, 1, 4), []byte("RIFF"), "cannot read the WAV file: not a RIFF WAVE file"},
		{"RF64", in1(f32, 1, 4), []byte("RF64\xff\xff\xff\xffWAVE"), "cannot read the WAV file: RF64 WAV files are not supported"},
		{"no fmt", in1(f32, 1, 4), []byte("RIFF\x0e\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x00"), "cannot read the WAV file: no fmt chunk"},
		{"no data", in1(f32, 1, 4), mod(func(b []byte) []byte { return b[:36] }), "cannot read the WAV file: no data chunk"},
		{"fmt truncated", in1(f32, 1, 4), mod(func(b []byte) []byte { return b[:30] }), "cannot read the WAV file: fmt chunk is truncated: 16 bytes declared, 10 present"},
		{"fmt short", in1(f32, 1, 4), []byte("RIFF\x00\x00\x00\x00WAVEfmt \x02\x00\x00\x00\x01\x00data\x00\x00\x00\x00"), "cannot read the WAV file: fmt chunk of 2 bytes is too short"},
		{"A-law", in1(f32, 1, 4), mod(func(b []byte) []byte { b[20] = 6; return b }), "cannot read the WAV file: WAV encoding 0x0006 (A-law) is not supported (want PCM or IEEE float)"},
		{"12-bit", in1(f32, 1, 4), mod(func(b []byte) []byte { b[34] = 12; return b }), "cannot read the WAV file: 12-bit PCM is not supported (want 8, 16, 24 or 32 bits)"},
		{"16-bit float", in1(f32, 1, 4), mod(func(b []byte) []byte { b[20] = 3; return b }), "cannot read the WAV file: 16-bit float is not supported (want 32 or 64 bits)"},
		{"0 channels", in1(f32, 1, 4), mod(func(b []byte) []byte { b[22] = 0; return b }), "cannot read the WAV file: the fmt chunk declares 0 channels"},
		{"block align", in1(f32, 1, 4), mod(func(b []byte) []byte { b[32] = 4; return b }), "cannot read the WAV file: block align 4 does not match 1 channels of 16 bits"},
		{"empty data", in1(f32, 1, 4), wavSpec{format: 1, channels: 1, bits: 16, data: []byte{7}}.bytes(), "cannot read the WAV file: the data chunk holds no audio samples"},
		{"extensible short", in1(f32, 1, 4), mod(func(b []byte) []byte { b[20], b[21] = 0xfe, 0xff; return b }), "cannot read the WAV file: extensible fmt chunk of 16 bytes is too short"},
		{"extensible GUID", in1(f32, 1, 4), func() []byte {
			b := wavSpec{format: 1, channels: 1, bits: 16, extensible: true, data: pcm16(1)}.bytes()
			b[20+24+15] = 0 // last GUID byte
			return b
		}(), "cannot read the WAV file: unsupported extensible WAV sub-format 01 00 00 00 00 00 10 00 80 00 00 aa 00 38 9b 00"},
		{"NaN", in1(f32, 1, 4), wavSpec{format: 3, channels: 2, bits: 32, data: le32(f32bits(0, 0, 0, float32(math.NaN()))...)}.bytes(), "sample NaN at frame 1, channel 1 is not a finite number"},
		{"Inf", in1(f32, 1, 4), wavSpec{format: 3, channels: 1, bits: 64, data: f64le(math.Inf(1))}.bytes(), "sample +Inf at frame 0, channel 0 is not a finite number"},
		{"2-D input", in1(f32, 1, 4, 4), good.bytes(), `audio does not fit input "x" (FLOAT32 [1, 4, 4]): audio inputs have one dimension besides the batch, [N] or [1, N]`},
		{"batch 2", in1(f32, 2, 4), good.bytes(), `audio does not fit input "x" (FLOAT32 [2, 4]): audio inputs have one dimension besides the batch, [N] or [1, N]`},
		{"int8 input", in1(i8, 1, 4), good.bytes(), `audio does not fit input "x" (INT8 [1, 4]): audio inputs are FLOAT32 or INT16`},
		{"two inputs", []Input{{Name: "a", Type: f32, Shape: []int{4}}, {Name: "b", Type: f32, Shape: []int{4}}}, good.bytes(),
			`audio can only feed a model with one input, not 2 (for inputs "a" (FLOAT32 [4]), "b" (FLOAT32 [4]))`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := "a.wav: " + tc.want
			if len(tc.input) == 1 && !containsInput(tc.want) {
				want += " (for input " + tc.input[0].String() + ")"
			}
			_, err := Load(tc.input, []File{{"a.wav", tc.data}}, Options{})
			if err == nil || err.Error() != want {
				t.Errorf("error = %v\nwant    %s", err, want)
			}
		})
	}
}

func containsInput(s string) bool {
	for i := 0; i+7 <= len(s); i++ {
		if s[i:i+7] == `input "` || (i+8 <= len(s) && s[i:i+8] == `inputs "`) {
			return true
		}
	}
	return false
}
