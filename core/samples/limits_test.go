package samples

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"

	"litequant/core/npy"
)

// bombJPEG is a JPEG header (SOI, SOF0) declaring w×h pixels, no data.
func bombJPEG(w, h uint16) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}) // SOI, APP0 JFIF
	b.Write([]byte{0xff, 0xc0, 0, 17, 8})
	binary.Write(&b, binary.BigEndian, h)
	binary.Write(&b, binary.BigEndian, w)
	b.Write([]byte{3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1})
	return b.Bytes()
}

// bombGIF is a GIF declaring a w×h screen and one w×h frame, no data.
func bombGIF(w, h uint16) []byte {
	var b bytes.Buffer
	b.WriteString("GIF89a")
	binary.Write(&b, binary.LittleEndian, w)
	binary.Write(&b, binary.LittleEndian, h)
	b.Write([]byte{0x80, 0, 0, 0, 0, 0, 255, 255, 255}) // 2-colour global table
	b.WriteByte(0x2c)
	binary.Write(&b, binary.LittleEndian, [4]uint16{0, 0, w, h})
	b.Write([]byte{0, 2, 0})
	return b.Bytes()
}

// bombBMP is a 24-bit BMP header declaring w×h pixels, no data.
func bombBMP(w, h int32) []byte {
	var b bytes.Buffer
	b.WriteString("BM")
	binary.Write(&b, binary.LittleEndian, [3]uint32{54, 0, 54})
	binary.Write(&b, binary.LittleEndian, uint32(40))
	binary.Write(&b, binary.LittleEndian, [2]int32{w, h})
	binary.Write(&b, binary.LittleEndian, [2]uint16{1, 24})
	binary.Write(&b, binary.LittleEndian, [6]uint32{})
	return b.Bytes()
}

// TestDecompressionBombs: images whose header declares more pixels than
// the limit are refused from the header, allocating nothing like their
// size; the limit can be set.
func TestDecompressionBombs(t *testing.T) {
	in := in1(f32, 1, 8, 8, 3)
	cases := []struct {
		name  string
		data  []byte
		limit int64
		want  string
	}{
		{"png", hugePNG(100000, 100000), 0, "a.img: png image of 100000×100000 pixels (9536.7 megapixels) is larger than the 64-megapixel limit (--max-image-pixels): refused before decoding"},
		{"jpeg", bombJPEG(65000, 65000), 0, "a.img: jpeg image of 65000×65000 pixels (4029.3 megapixels) is larger than the 64-megapixel limit"},
		{"gif", bombGIF(65535, 65535), 0, "a.img: gif image of 65535×65535 pixels (4095.9 megapixels) is larger than the 64-megapixel limit"},
		{"bmp", bombBMP(1<<20, 1<<20), 0, "a.img: bmp image of 1048576×1048576 pixels (1048576.0 megapixels) is larger than the 64-megapixel limit"},
		{"limit set", encodeImage(t, "png", solid(16, 16, orange)), 128, "a.img: png image of 16×16 pixels (0.0 megapixels) is larger than the 0.0001220703125-megapixel limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Load(in, []File{{"a.img", c.data}}, Options{MaxImagePixels: c.limit})
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant %q", err, c.want)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
				t.Fatalf("refusing the header allocated %d bytes", grew)
			}
		})
	}
	// Under a raised limit a 16×16 image is fine.
	if _, err := Load(in, []File{{"a.png", encodeImage(t, "png", solid(16, 16, orange))}}, Options{MaxImagePixels: 256}); err != nil {
		t.Fatal(err)
	}
}

// TestAbsurdHeaders: WAV headers with impossible values and .npy headers
// declaring more data than the file holds are one-line errors saying what
// and how big.
func TestAbsurdHeaders(t *testing.T) {
	good := wavSpec{format: 1, channels: 1, bits: 16, data: pcm16(1, 2, 3, 4)}.bytes()
	patch := func(at int, v uint32, n int) []byte {
		b := append([]byte{}, good...)
		if n == 2 {
			binary.LittleEndian.PutUint16(b[at:], uint16(v))
		} else {
			binary.LittleEndian.PutUint32(b[at:], v)
		}
		return b
	}
	// The fmt chunk's body starts at byte 20: tag, channels, rate, byte
	// rate, block align, bits.
	withChannels := func(ch uint16) []byte {
		b := patch(22, uint32(ch), 2)
		binary.LittleEndian.PutUint16(b[32:], ch*2) // block align to match
		return b
	}
	npyHuge := npyBytes(t, npy.FromFloat32([]int{2, 3}, make([]float32, 6)))
	npyHuge = bytes.Replace(npyHuge, []byte("(2, 3)"), []byte("(9999999, 3)"), 1)
	cases := []struct {
		name string
		in   []Input
		file File
		want string
	}{
		{"rate 0", in1(f32, 1, 4), File{"a.wav", patch(24, 0, 4)}, "a.wav: cannot read the WAV file: the fmt chunk declares a sample rate of 0 Hz (want 1 Hz to 10 MHz): the header is damaged"},
		{"rate 4 GHz", in1(f32, 1, 4), File{"a.wav", patch(24, 4_000_000_000, 4)}, "a.wav: cannot read the WAV file: the fmt chunk declares a sample rate of 4000000000 Hz"},
		{"60000 channels", in1(f32, 1, 4), File{"a.wav", withChannels(60000)}, "a.wav: cannot read the WAV file: the fmt chunk declares 60000 channels, more than the 1024 a sound file can sensibly have"},
		{"npy declares more data", in1(f32, -1, 3), File{"a.npy", npyHuge}, "a.npy: data is truncated: float32[9999999 3] needs 119999988 bytes, 30 available"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.in, []File{c.file}, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v\nwant %q", err, c.want)
			}
		})
	}
}
