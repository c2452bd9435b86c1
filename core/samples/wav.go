package samples

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
)

// WAV format tags.
const (
	wavePCM        = 0x0001
	waveFloat      = 0x0003
	waveExtensible = 0xFFFE
)

// guidSuffix is the tail shared by the KSDATAFORMAT_SUBTYPE GUIDs of the
// extensible format, whose first two bytes are the format tag.
var guidSuffix = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// Limits of a sane WAV header: beyond them the fmt chunk is damaged.
const (
	maxWAVChannels = 1024
	maxWAVRate     = 10_000_000
)

// wavInfo is a parsed WAV file.
type wavInfo struct {
	format   int // wavePCM or waveFloat
	channels int
	rate     uint32
	bits     int    // container bits per sample
	frame    int    // bytes per frame: channels × bits/8
	data     []byte // whole frames only
	frames   int
}

// parseWAV parses a RIFF WAVE file. It never trusts a size it reads: every
// chunk is checked against the bytes present. The RIFF size is not used
// (streaming writers leave it 0 or 0xFFFFFFFF); a data chunk that claims
// more than the file holds is read up to the last whole frame present.
func parseWAV(b []byte) (*wavInfo, error) {
	if len(b) >= 4 && string(b[:4]) == "RF64" {
		return nil, errors.New("RF64 WAV files are not supported")
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errors.New("not a RIFF WAVE file")
	}
	var fmtChunk, data []byte
	haveFmt, haveData := false, false
	pos := 12
	for len(b)-pos >= 8 {
		id := string(b[pos : pos+4])
		size := uint64(binary.LittleEndian.Uint32(b[pos+4 : pos+8]))
		body := pos + 8
		if avail := uint64(len(b) - body); size > avail {
			switch id {
			case "data":
				size = avail
			case "fmt ":
				return nil, fmt.Errorf("fmt chunk is truncated: %d bytes declared, %d present", size, avail)
			default:
				size = avail // a truncated chunk we do not need ends the file
			}
		}
		chunk := b[body : body+int(size)]
		switch id {
		case "fmt ":
			if !haveFmt {
				fmtChunk, haveFmt = chunk, true
			}
		case "data":
			if !haveData {
				data, haveData = chunk, true
			}
		}
		pos = body + int(size) + int(size&1) // chunks are padded to an even size
		if pos > len(b) {
			break
		}
	}
	if !haveFmt {
		return nil, errors.New("no fmt chunk")
	}
	if !haveData {
		return nil, errors.New("no data chunk")
	}
	w, err := parseFmt(fmtChunk)
	if err != nil {
		return nil, err
	}
	w.frames = len(data) / w.frame
	w.data = data[:w.frames*w.frame]
	if w.frames == 0 {
		return nil, errors.New("the data chunk holds no audio samples")
	}
	return w, nil
}

// parseFmt parses a fmt chunk.
func parseFmt(c []byte) (*wavInfo, error) {
	if len(c) < 16 {
		return nil, fmt.Errorf("fmt chunk of %d bytes is too short", len(c))
	}
	u16 := func(i int) int { return int(binary.LittleEndian.Uint16(c[i:])) }
	w := &wavInfo{
		format:   u16(0),
		channels: u16(2),
		rate:     binary.LittleEndian.Uint32(c[4:]),
		bits:     u16(14),
	}
	blockAlign := u16(12)
	if w.format == waveExtensible {
		if len(c) < 40 {
			return nil, fmt.Errorf("extensible fmt chunk of %d bytes is too short", len(c))
		}
		guid := c[24:40]
		if !bytes.Equal(guid[2:], guidSuffix) {
			return nil, fmt.Errorf("unsupported extensible WAV sub-format % x", guid)
		}
		w.format = int(binary.LittleEndian.Uint16(guid))
		if valid := u16(18); valid > w.bits {
			return nil, fmt.Errorf("%d valid bits in a %d-bit sample", valid, w.bits)
		}
	}
	switch w.format {
	case wavePCM:
		if w.bits != 8 && w.bits != 16 && w.bits != 24 && w.bits != 32 {
			return nil, fmt.Errorf("%d-bit PCM is not supported (want 8, 16, 24 or 32 bits)", w.bits)
		}
	case waveFloat:
		if w.bits != 32 && w.bits != 64 {
			return nil, fmt.Errorf("%d-bit float is not supported (want 32 or 64 bits)", w.bits)
		}
	default:
		name := map[int]string{0x0002: " (ADPCM)", 0x0006: " (A-law)", 0x0007: " (µ-law)", 0x0011: " (IMA ADPCM)", 0x0055: " (MP3)"}[w.format]
		return nil, fmt.Errorf("WAV encoding 0x%04x%s is not supported (want PCM or IEEE float)", w.format, name)
	}
	if w.channels == 0 {
		return nil, errors.New("the fmt chunk declares 0 channels")
	}
	if w.channels > maxWAVChannels {
		return nil, fmt.Errorf("the fmt chunk declares %d channels, more than the %d a sound file can sensibly have: the header is damaged", w.channels, maxWAVChannels)
	}
	if w.rate == 0 || w.rate > maxWAVRate {
		return nil, fmt.Errorf("the fmt chunk declares a sample rate of %d Hz (want 1 Hz to %d MHz): the header is damaged", w.rate, maxWAVRate/1_000_000)
	}
	w.frame = w.channels * w.bits / 8
	if blockAlign != w.frame {
		return nil, fmt.Errorf("block align %d does not match %d channels of %d bits", blockAlign, w.channels, w.bits)
	}
	return w, nil
}

// sample returns channel c of frame f, scaled to [-1, 1].
func (w *wavInfo) sample(f, c int) float64 {
	p := w.data[f*w.frame+c*w.bits/8:]
	switch {
	case w.format == waveFloat && w.bits == 32:
		return clamp1(float64(math.Float32frombits(binary.LittleEndian.Uint32(p))))
	case w.format == waveFloat:
		return clamp1(math.Float64frombits(binary.LittleEndian.Uint64(p)))
	case w.bits == 8:
		return (float64(p[0]) - 128) / 128
	case w.bits == 16:
		return float64(int16(binary.LittleEndian.Uint16(p))) / (1 << 15)
	case w.bits == 24:
		v := int32(uint32(p[0])<<8|uint32(p[1])<<16|uint32(p[2])<<24) >> 8
		return float64(v) / (1 << 23)
	default:
		return float64(int32(binary.LittleEndian.Uint32(p))) / (1 << 31)
	}
}

func clamp1(v float64) float64 { return min(max(v, -1), 1) }

// mono returns frame f mixed down to one channel: the mean of its channels.
func (w *wavInfo) mono(f int) float64 {
	if w.channels == 1 {
		return w.sample(f, 0)
	}
	sum := 0.0
	for c := 0; c < w.channels; c++ {
		sum += w.sample(f, c)
	}
	return sum / float64(w.channels)
}

// checkFinite finds the first NaN or infinite float sample.
func (w *wavInfo) checkFinite() error {
	if w.format != waveFloat {
		return nil
	}
	for f := 0; f < w.frames; f++ {
		for c := 0; c < w.channels; c++ {
			p := w.data[f*w.frame+c*w.bits/8:]
			var v float64
			if w.bits == 32 {
				v = float64(math.Float32frombits(binary.LittleEndian.Uint32(p)))
			} else {
				v = math.Float64frombits(binary.LittleEndian.Uint64(p))
			}
			if !finite(v) {
				return fmt.Errorf("sample %v at frame %d, channel %d is not a finite number", v, f, c)
			}
		}
	}
	return nil
}

// wavSource is a WAV file cut into windows for the input.
type wavSource struct {
	info   *wavInfo
	n, hop int // window length and step
	count  int
	t      fb.TensorType
	shape  []int
}

// loadWAV parses a WAV file and maps it to the model's input.
func loadWAV(ins []Input, f File) (*source, error) {
	if len(ins) != 1 {
		return nil, fileErr(f.Name, ins, "audio can only feed a model with one input, not %d", len(ins))
	}
	in := ins[0]
	s := in.Shape
	var n int
	switch {
	case len(s) == 1:
		n = s[0]
	case len(s) == 2 && (s[0] == 1 || s[0] == -1):
		n = s[1]
	default:
		return nil, fileErr(f.Name, ins, "audio does not fit input %v: audio inputs have one dimension besides the batch, [N] or [1, N]", in)
	}
	if in.Type != fb.TensorTypeFLOAT32 && in.Type != fb.TensorTypeINT16 {
		return nil, fileErr(f.Name, ins, "audio does not fit input %v: audio inputs are FLOAT32 or INT16", in)
	}
	info, err := parseWAV(f.Data)
	if err != nil {
		return nil, fileErr(f.Name, ins, "cannot read the WAV file: %v", err)
	}
	if err := info.checkFinite(); err != nil {
		return nil, fileErr(f.Name, ins, "%v", err)
	}
	if n == -1 {
		n = info.frames
	}
	ws := &wavSource{info: info, n: n, hop: max(1, n/2), count: 1, t: in.Type}
	if info.frames > n {
		ws.count = 1 + (info.frames-n)/ws.hop
	}
	ws.shape = []int{n}
	if len(s) == 2 {
		ws.shape = []int{1, n}
	}
	return &source{kind: kindWAV, name: f.Name, files: 1, n: ws.count, wav: ws}, nil
}

// window writes window j to dst, zero past the end of the file.
func (ws *wavSource) window(j int, dst []byte) {
	start := j * ws.hop
	for k := 0; k < ws.n; k++ {
		v := 0.0
		if f := start + k; f < ws.info.frames {
			v = ws.info.mono(f)
		}
		if ws.t == fb.TensorTypeINT16 {
			q := min(max(math.Round(v*(1<<15)), math.MinInt16), math.MaxInt16)
			putInt(dst, k, ws.t, int64(q))
		} else {
			putFloat32(dst[4*k:], float32(v))
		}
	}
}
