package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sharedDir returns the project's shared fixtures, ../shared next to the
// repository root (the directory holding go.mod), or skips the test.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("../shared fixtures absent: no go.mod above the working directory")
		}
		dir = parent
	}
	shared := filepath.Join(filepath.Dir(dir), "shared")
	if st, err := os.Stat(filepath.Join(shared, "data", "npy")); err != nil || !st.IsDir() {
		t.Skipf("../shared fixtures absent: %s/data/npy not found", shared)
	}
	return shared
}

// onlyReader hides the concrete type of a reader, so that Read cannot know
// how many bytes it holds.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func encode(t testing.TB, a *Array) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, a); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawNPY builds a .npy file from a version, a header dictionary and data,
// without any validation.
func rawNPY(major byte, dict string, data []byte) []byte {
	b := []byte(magic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(dict)))
	}
	b = append(b, dict...)
	return append(b, data...)
}

func TestDType(t *testing.T) {
	tests := []struct {
		d     DType
		name  string
		size  int
		descr string
	}{
		{Bool, "bool", 1, "|b1"},
		{Int8, "int8", 1, "|i1"},
		{Uint8, "uint8", 1, "|u1"},
		{Int16, "int16", 2, "<i2"},
		{Uint16, "uint16", 2, "<u2"},
		{Int32, "int32", 4, "<i4"},
		{Uint32, "uint32", 4, "<u4"},
		{Int64, "int64", 8, "<i8"},
		{Uint64, "uint64", 8, "<u8"},
		{Float16, "float16", 2, "<f2"},
		{Float32, "float32", 4, "<f4"},
		{Float64, "float64", 8, "<f8"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.name {
			t.Errorf("%d.String() = %q, want %q", tt.d, got, tt.name)
		}
		if got := tt.d.Size(); got != tt.size {
			t.Errorf("%v.Size() = %d, want %d", tt.d, got, tt.size)
		}
		if got := tt.d.Descr(); got != tt.descr {
			t.Errorf("%v.Descr() = %q, want %q", tt.d, got, tt.descr)
		}
		if d, err := ParseDType(tt.name); err != nil || d != tt.d {
			t.Errorf("ParseDType(%q) = %v, %v; want %v", tt.name, d, err, tt.d)
		}
		if d, big, err := parseDescr(tt.descr); err != nil || d != tt.d || big {
			t.Errorf("parseDescr(%q) = %v, %v, %v; want %v", tt.descr, d, big, err, tt.d)
		}
	}
	if _, err := ParseDType("complex64"); err == nil {
		t.Error("ParseDType(complex64) succeeded")
	}
	if InvalidDType.Size() != 0 || DType(200).String() != "DType(200)" {
		t.Error("invalid DType has a size or a name")
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		a    *Array
	}{
		{"float32 2-D", FromFloat32([]int{2, 3}, []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0.25})},
		{"float64 1-D", FromFloat64([]int{3}, []float64{math.Pi, -1e300, 5e-324})},
		{"int8", FromInt8([]int{4}, []int8{-128, -1, 0, 127})},
		{"uint8 3-D", FromUint8([]int{2, 1, 2}, []uint8{0, 1, 254, 255})},
		{"int16", FromInt16([]int{2}, []int16{-32768, 32767})},
		{"int32", FromInt32([]int{2, 2}, []int32{math.MinInt32, -1, 1, math.MaxInt32})},
		{"int64", FromInt64([]int{2}, []int64{math.MinInt64, math.MaxInt64})},
		{"bool", FromBool([]int{3}, []bool{true, false, true})},
		{"scalar", FromFloat32(nil, []float32{42})},
		{"empty", FromFloat32([]int{0, 3}, nil)},
		{"float16 raw", &Array{DType: Float16, Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0xc0}}},
		{"uint64 raw", &Array{DType: Uint64, Shape: []int{1}, Data: []byte{1, 2, 3, 4, 5, 6, 7, 0xff}}},
		{"many dims", &Array{DType: Uint8, Shape: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2}, Data: []byte{7, 9}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := encode(t, tt.a)
			if file[6] != 1 || file[7] != 0 {
				t.Errorf("version %d.%d, want 1.0", file[6], file[7])
			}
			dataStart := 10 + int(binary.LittleEndian.Uint16(file[8:10]))
			if dataStart%64 != 0 || file[dataStart-1] != '\n' {
				t.Errorf("data starts at %d, want a multiple of 64 right after a newline", dataStart)
			}
			for _, r := range []io.Reader{bytes.NewReader(file), onlyReader{bytes.NewReader(file)}} {
				got, err := Read(r)
				if err != nil {
					t.Fatalf("Read(%T): %v", r, err)
				}
				if got.DType != tt.a.DType || !reflect.DeepEqual(got.Shape, append([]int{}, tt.a.Shape...)) || !bytes.Equal(got.Data, tt.a.Data) {
					t.Errorf("Read(%T) = %v %v, want %v %v", r, got, got.Data, tt.a, tt.a.Data)
				}
			}
		})
	}
}

func TestWriteFileReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npy")
	a := FromInt32([]int{2, 2}, []int32{1, 2, 3, 4})
	if err := WriteFile(path, a); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Int32s(); !reflect.DeepEqual(v, []int32{1, 2, 3, 4}) || !reflect.DeepEqual(got.Shape, []int{2, 2}) {
		t.Errorf("ReadFile = %v %v", got, v)
	}
	if err := WriteFile(path, &Array{DType: Int32, Shape: []int{2}, Data: []byte{1}}); err == nil {
		t.Error("WriteFile of an inconsistent array succeeded")
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.npy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want ErrNotExist", err)
	}
	// A truncated file is rejected from its size, with its path in the error.
	file := encode(t, a)
	if err := os.WriteFile(path, file[:len(file)-1], 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("ReadFile(truncated) = %v", err)
	}
}

func TestWriteLongHeaderUsesVersion2(t *testing.T) {
	shape := make([]int, 25000) // a header of more than 64 KiB
	for i := range shape {
		shape[i] = 1
	}
	a := &Array{DType: Uint8, Shape: shape, Data: []byte{5}}
	file := encode(t, a)
	if file[6] != 2 {
		t.Fatalf("version %d.%d, want 2.0", file[6], file[7])
	}
	if start := 12 + int(binary.LittleEndian.Uint32(file[8:12])); start%64 != 0 {
		t.Errorf("data starts at %d, not 64-byte aligned", start)
	}
	got, err := Read(bytes.NewReader(file))
	if err != nil || len(got.Shape) != len(shape) || got.Data[0] != 5 {
		t.Fatalf("Read = %v, %v", got, err)
	}
}

func TestReadVersionsAndDialects(t *testing.T) {
	f32 := []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40} // 1, 2 little-endian
	tests := []struct {
		name  string
		file  []byte
		dtype DType
		shape []int
		data  []byte
	}{
		{"v1", rawNPY(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f32), Float32, []int{2}, f32},
		{"v2", rawNPY(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f32), Float32, []int{2}, f32},
		{"v3", rawNPY(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f32), Float32, []int{2}, f32},
		{"double quotes, other key order", rawNPY(1, `{"shape": (1, 2), "fortran_order": False, "descr": "<f4"}`, f32), Float32, []int{1, 2}, f32},
		{"python 2 longs", rawNPY(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }\n", f32), Float32, []int{2, 1}, f32},
		{"no trailing comma in shape", rawNPY(1, "{'descr':'<f4','fortran_order':False,'shape':(2)}", f32), Float32, []int{2}, f32},
		{"scalar", rawNPY(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (), }", []byte{7, 0, 0, 0}), Int32, []int{}, []byte{7, 0, 0, 0}},
		{"big-endian float32", rawNPY(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", []byte{0x3f, 0x80, 0, 0, 0x40, 0, 0, 0}), Float32, []int{2}, f32},
		{"big-endian int16", rawNPY(1, "{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }", []byte{0xff, 0xfe, 0x01, 0x02}), Int16, []int{2}, []byte{0xfe, 0xff, 0x02, 0x01}},
		{"native order", rawNPY(1, "{'descr': '=u2', 'fortran_order': False, 'shape': (1,), }", []byte{1, 2}), Uint16, []int{1}, []byte{1, 2}},
		{"bool as ?", rawNPY(1, "{'descr': '?', 'fortran_order': False, 'shape': (1,), }", []byte{1}), Bool, []int{1}, []byte{1}},
		{"big-endian byte", rawNPY(1, "{'descr': '>u1', 'fortran_order': False, 'shape': (1,), }", []byte{9}), Uint8, []int{1}, []byte{9}},
		{"trailing data ignored", rawNPY(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", []byte{9, 10}), Uint8, []int{1}, []byte{9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Read(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if a.DType != tt.dtype || !reflect.DeepEqual(a.Shape, tt.shape) || !bytes.Equal(a.Data, tt.data) {
				t.Errorf("Read = %v %v, want %v%v %v", a, a.Data, tt.dtype, tt.shape, tt.data)
			}
		})
	}
}

func TestReadMalformed(t *testing.T) {
	good := encode(t, FromFloat32([]int{2, 2}, []float32{1, 2, 3, 4}))
	hdr := func(dict string) []byte { return rawNPY(1, dict, make([]byte, 64)) }
	tests := []struct {
		name string
		file []byte
		want string // a substring of the error
	}{
		{"empty", nil, "empty input"},
		{"short magic", []byte("\x93NUM"), "truncated file"},
		{"bad magic", []byte("PK\x03\x04 not numpy at all"), "bad magic"},
		{"text", []byte("hello"), "bad magic"},
		{"version 4.0", rawNPY(1, "{}", nil)[:6:6], "truncated"},
		{"unsupported version", append([]byte(magic), 4, 0, 0, 0), "unsupported format version 4.0"},
		{"minor version", append([]byte(magic), 1, 1, 0, 0), "unsupported format version 1.1"},
		{"no header length", append([]byte(magic), 1, 0, 5), "no header length"},
		{"no v2 header length", append([]byte(magic), 2, 0, 5, 0), "no header length"},
		{"header longer than file", good[:40], "truncated header"},
		{"huge header length", append([]byte(magic), 2, 0, 0xff, 0xff, 0xff, 0x7f), "exceeds"},
		{"not a dict", hdr("['descr', '<f4']"), "want '{'"},
		{"unterminated dict", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)"), "want ',' or '}'"},
		{"text after dict", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x"), "after '}'"},
		{"missing shape", hdr("{'descr': '<f4', 'fortran_order': False}"), `missing key "shape"`},
		{"extra key", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"), `unexpected key "x"`},
		{"duplicate key", hdr("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}"), "duplicate key"},
		{"unquoted key", hdr("{descr: '<f4'}"), "want a quoted string"},
		{"unterminated string", hdr("{'descr: '<f4}"), "want ':'"},
		{"escape in string", hdr(`{'descr': '<f\4', 'fortran_order': False, 'shape': (2,)}`), "escape"},
		{"bad bool", hdr("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}"), "want True or False"},
		{"fortran order", hdr("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"), "Fortran-order"},
		{"structured dtype", hdr("{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (2,)}"), "structured dtypes are not supported"},
		{"object dtype", hdr("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}"), "object arrays"},
		{"unicode dtype", hdr("{'descr': '<U3', 'fortran_order': False, 'shape': (2,)}"), "string arrays"},
		{"void dtype", hdr("{'descr': '|V8', 'fortran_order': False, 'shape': (2,)}"), "void"},
		{"complex dtype", hdr("{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}"), "complex"},
		{"datetime dtype", hdr("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (2,)}"), "datetime"},
		{"long double", hdr("{'descr': '<f16', 'fortran_order': False, 'shape': (2,)}"), `unsupported dtype "<f16"`},
		{"empty dtype", hdr("{'descr': '', 'fortran_order': False, 'shape': (2,)}"), "empty dtype"},
		{"orderless wide dtype", hdr("{'descr': '|f4', 'fortran_order': False, 'shape': (2,)}"), "no byte order"},
		{"negative dimension", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"), "non-negative integer"},
		{"float dimension", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}"), "want ',' or ')'"},
		{"shape not a tuple", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}"), "want '('"},
		{"dimension overflows int", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}"), "too large"},
		{"product overflows", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296)}"), "too many elements"},
		{"byte size overflows", hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}"), "too large"},
		{"data shorter than declared", good[:len(good)-1], "data is truncated"},
		{"huge declared data", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,)}"), "data is truncated"},
		{"v3 invalid utf-8", rawNPY(3, "{'descr': '<f4', \xff}", nil), "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Once with a known length and once from a plain stream.
			for _, r := range []io.Reader{bytes.NewReader(tt.file), onlyReader{bytes.NewReader(tt.file)}} {
				a, err := Read(r)
				if err == nil {
					t.Fatalf("Read(%T) = %v, want an error containing %q", r, a, tt.want)
				}
				if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "npy: ") {
					t.Errorf("Read(%T) error = %q, want it to contain %q", r, err, tt.want)
				}
			}
		})
	}
}

func TestReadStreamOfArrays(t *testing.T) {
	var stream bytes.Buffer
	want := []*Array{FromInt8([]int{3}, []int8{1, 2, 3}), FromFloat32([]int{1}, []float32{9})}
	for _, a := range want {
		if err := Write(&stream, a); err != nil {
			t.Fatal(err)
		}
	}
	r := onlyReader{&stream}
	for _, w := range want {
		got, err := Read(r)
		if err != nil || !bytes.Equal(got.Data, w.Data) {
			t.Fatalf("Read = %v, %v; want %v", got, err, w)
		}
	}
	if _, err := Read(r); err == nil || !strings.Contains(err.Error(), "empty input") {
		t.Errorf("Read at end = %v", err)
	}
}

func TestReadLargeStreamGrows(t *testing.T) {
	// Larger than one read chunk, from a reader of unknown length.
	n := 3*readChunk + 5
	a := &Array{DType: Uint8, Shape: []int{n}, Data: make([]byte, n)}
	for i := range a.Data {
		a.Data[i] = byte(i * 7)
	}
	got, err := Read(onlyReader{bytes.NewReader(encode(t, a))})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data, a.Data) || cap(got.Data) != n {
		t.Errorf("got %d bytes (cap %d), want %d equal bytes", len(got.Data), cap(got.Data), n)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		a    *Array
		want string
	}{
		{"nil", nil, "nil array"},
		{"invalid dtype", &Array{Shape: []int{1}, Data: []byte{0}}, "invalid dtype"},
		{"short data", &Array{DType: Float32, Shape: []int{2}, Data: make([]byte, 7)}, "needs 8 data bytes, has 7"},
		{"negative dim", &Array{DType: Uint8, Shape: []int{-1}}, "negative dimension"},
		{"overflow", &Array{DType: Uint8, Shape: []int{math.MaxInt, 2}}, "too many elements"},
	}
	for _, tt := range tests {
		err := tt.a.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
		}
		if err := Write(io.Discard, tt.a); err == nil {
			t.Errorf("%s: Write succeeded", tt.name)
		}
	}
	if n := (&Array{Shape: []int{math.MaxInt, 2}}).NumElements(); n != -1 {
		t.Errorf("NumElements of an overflowing shape = %d, want -1", n)
	}
}

func TestFloat32s(t *testing.T) {
	le16 := func(v ...uint16) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint16(b, x)
		}
		return b
	}
	tests := []struct {
		name string
		a    *Array
		want []float32
		err  string
	}{
		{"float32", FromFloat32([]int{2}, []float32{1.5, -2}), []float32{1.5, -2}, ""},
		{"float64 rounds", FromFloat64([]int{2}, []float64{0.1, 1e300}), []float32{0.1, float32(math.Inf(1))}, ""},
		{"float16", &Array{DType: Float16, Shape: []int{7}, Data: le16(0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00, 0xfc00, 0x8000)},
			[]float32{1, -2, 0.33325195, 5.9604645e-08, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1))}, ""},
		{"bool", &Array{DType: Bool, Shape: []int{3}, Data: []byte{1, 0, 2}}, []float32{1, 0, 1}, ""},
		{"int8", FromInt8([]int{2}, []int8{-128, 127}), []float32{-128, 127}, ""},
		{"uint8", FromUint8([]int{2}, []uint8{0, 255}), []float32{0, 255}, ""},
		{"int16", FromInt16([]int{1}, []int16{-32768}), []float32{-32768}, ""},
		{"int32 exact", FromInt32([]int{3}, []int32{1 << 24, -(1 << 24), 1 << 30}), []float32{1 << 24, -(1 << 24), 1 << 30}, ""},
		{"int32 inexact", FromInt32([]int{2}, []int32{1, 1<<24 + 1}), nil, "int32 value 16777217 at index 1 is not exactly representable"},
		{"int64 min", FromInt64([]int{1}, []int64{math.MinInt64}), []float32{-(1 << 63)}, ""},
		{"int64 inexact", FromInt64([]int{1}, []int64{-(1<<40 + 1)}), nil, "-1099511627777"},
		{"uint64 big", &Array{DType: Uint64, Shape: []int{1}, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0x80}}, []float32{1 << 63}, ""},
		{"uint64 inexact", &Array{DType: Uint64, Shape: []int{1}, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0x80}}, nil, "9223372036854775809"},
		{"invalid", &Array{DType: Float32, Shape: []int{2}}, nil, "needs 8 data bytes"},
	}
	for _, tt := range tests {
		got, err := tt.a.Float32s()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: Float32s() error = %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Float32s(): %v", tt.name, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: Float32s() = %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(tt.want[i]) {
				t.Errorf("%s: Float32s()[%d] = %v, want %v", tt.name, i, got[i], tt.want[i])
			}
		}
	}

	// Every finite float16 converts exactly: compare against float64 math.
	for h := 0; h < 1<<16; h++ {
		exp, frac := (h>>10)&0x1f, float64(h&0x3ff)
		if exp == 0x1f {
			continue
		}
		want := frac * math.Pow(2, -24)
		if exp != 0 {
			want = (1 + frac/1024) * math.Pow(2, float64(exp-15))
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if got := halfToFloat32(uint16(h)); float64(got) != want {
			t.Fatalf("halfToFloat32(%#04x) = %v, want %v", h, got, want)
		}
	}
	if f := halfToFloat32(0x7e00); !math.IsNaN(float64(f)) {
		t.Errorf("halfToFloat32(NaN) = %v", f)
	}
}

func TestFloat64s(t *testing.T) {
	a := FromInt64([]int{2}, []int64{1 << 53, -(1 << 60)})
	if got, err := a.Float64s(); err != nil || got[0] != 1<<53 || got[1] != -(1<<60) {
		t.Errorf("Float64s() = %v, %v", got, err)
	}
	if _, err := FromInt64([]int{1}, []int64{1<<53 + 1}).Float64s(); err == nil {
		t.Error("Float64s() of 2^53+1 succeeded")
	}
	if got, err := FromFloat32([]int{1}, []float32{0.1}).Float64s(); err != nil || got[0] != float64(float32(0.1)) {
		t.Errorf("Float64s() = %v, %v", got, err)
	}
	if got, err := FromUint8([]int{1}, []uint8{200}).Float64s(); err != nil || got[0] != 200 {
		t.Errorf("Float64s() = %v, %v", got, err)
	}
}

func TestIntegerAccessors(t *testing.T) {
	i32 := FromInt32([]int{3}, []int32{-5, 0, 100})
	if v, err := i32.Int8s(); err != nil || !reflect.DeepEqual(v, []int8{-5, 0, 100}) {
		t.Errorf("Int8s() = %v, %v", v, err)
	}
	if _, err := i32.Uint8s(); err == nil || !strings.Contains(err.Error(), "int32 value -5 at index 0 is out of range for uint8") {
		t.Errorf("Uint8s() error = %v", err)
	}
	if v, err := FromUint8([]int{2}, []uint8{0, 255}).Int16s(); err != nil || !reflect.DeepEqual(v, []int16{0, 255}) {
		t.Errorf("Int16s() = %v, %v", v, err)
	}
	if v, err := FromBool([]int{2}, []bool{true, false}).Int64s(); err != nil || !reflect.DeepEqual(v, []int64{1, 0}) {
		t.Errorf("Int64s() of bool = %v, %v", v, err)
	}
	big := &Array{DType: Uint64, Shape: []int{1}, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0x80}}
	if _, err := big.Int64s(); err == nil || !strings.Contains(err.Error(), "9223372036854775808") {
		t.Errorf("Int64s() of 2^63 error = %v", err)
	}
	if _, err := FromFloat32([]int{1}, []float32{1}).Int32s(); err == nil || !strings.Contains(err.Error(), "without rounding") {
		t.Errorf("Int32s() of float32 error = %v", err)
	}
	if v, err := FromBool([]int{2}, []bool{false, true}).Bools(); err != nil || !reflect.DeepEqual(v, []bool{false, true}) {
		t.Errorf("Bools() = %v, %v", v, err)
	}
	if _, err := i32.Bools(); err == nil {
		t.Error("Bools() of int32 succeeded")
	}
}

func TestConstructorPanicsOnMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("FromFloat32 with too few values did not panic")
		}
	}()
	FromFloat32([]int{2, 2}, []float32{1, 2, 3})
}

func TestConstructorCopiesShape(t *testing.T) {
	shape := []int{2}
	a := FromUint8(shape, []uint8{1, 2})
	shape[0] = 5
	if a.Shape[0] != 2 {
		t.Error("the array shares its shape with the caller")
	}
}

func TestNPZ(t *testing.T) {
	arrays := Archive{
		{"zeta", FromFloat32([]int{2}, []float32{1, 2})},
		{"alpha", FromInt8([]int{1, 1}, []int8{-3})},
		{"dir/mid", FromBool(nil, []bool{true})},
	}
	var buf bytes.Buffer
	if err := WriteNPZ(&buf, arrays); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNPZ(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Names(), []string{"zeta", "alpha", "dir/mid"}) {
		t.Errorf("Names() = %v", got.Names())
	}
	for _, na := range arrays {
		g := got.Get(na.Name)
		if g == nil || g.DType != na.Array.DType || !bytes.Equal(g.Data, na.Array.Data) {
			t.Errorf("Get(%q) = %v", na.Name, g)
		}
	}
	if got.Get("missing") != nil {
		t.Error("Get(missing) is not nil")
	}

	path := filepath.Join(t.TempDir(), "a.npz")
	if err := os.WriteFile(path, buf.Bytes(), 0o666); err != nil {
		t.Fatal(err)
	}
	if fromFile, err := ReadNPZFile(path); err != nil || len(fromFile) != 3 {
		t.Errorf("ReadNPZFile = %v, %v", fromFile, err)
	}

	if err := WriteNPZ(io.Discard, Archive{{"a", arrays[0].Array}, {"a", arrays[1].Array}}); err == nil {
		t.Error("WriteNPZ with a duplicate name succeeded")
	}
	if err := WriteNPZ(io.Discard, Archive{{"a", &Array{DType: Float32, Shape: []int{1}}}}); err == nil {
		t.Error("WriteNPZ of an invalid array succeeded")
	}
}

// zipOf builds a zip archive with the given entries, compressed or not.
func zipOf(t *testing.T, method uint16, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadNPZCompressedAndMalformed(t *testing.T) {
	a := string(encode(t, FromUint8([]int{3}, []uint8{1, 2, 3})))
	b := string(encode(t, FromFloat64([]int{1}, []float64{0.5})))

	got, err := ReadNPZ(zipOf(t, zip.Deflate, [2]string{"b.npy", b}, [2]string{"sub/", ""}, [2]string{"a.npy", a}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Names(), []string{"b", "a"}) {
		t.Errorf("Names() = %v, want [b a]", got.Names())
	}

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("\x93NUMPY not a zip"), "not an .npz archive"},
		{"empty", nil, "not an .npz archive"},
		{"not npy entry", zipOf(t, zip.Store, [2]string{"a.npy", a}, [2]string{"notes.txt", "hi"}), `"notes.txt" is not a .npy file`},
		{"duplicate", zipOf(t, zip.Store, [2]string{"a.npy", a}, [2]string{"a.npy", a}), "twice"},
		{"bad entry", zipOf(t, zip.Deflate, [2]string{"a.npy", a[:len(a)-1]}), `entry "a.npy": data is truncated`},
		{"entry not npy", zipOf(t, zip.Store, [2]string{"a.npy", "PK garbage"}), "bad magic"},
	}
	for _, tt := range tests {
		_, err := ReadNPZ(tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ReadNPZ error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestReadNPZLyingSizes(t *testing.T) {
	// An entry whose npy header declares far more data than the entry holds.
	lie := string(rawNPY(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,)}", []byte{1, 2, 3}))
	if _, err := ReadNPZ(zipOf(t, zip.Deflate, [2]string{"x.npy", lie})); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("ReadNPZ = %v, want a truncation error", err)
	}
}

// TestSharedFiles reads the real fixtures in ../shared/data/npy (written by
// numpy), checks what MANIFEST.md says of them, and checks that Write
// reproduces each file byte for byte.
func TestSharedFiles(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "data", "npy")
	want := map[string]struct {
		dtype DType
		shape []int
	}{
		"sine_x_0to2pi.npy":          {Float32, []int{200, 1}},
		"images_224x224x3_uint8.npy": {Uint8, []int{48, 224, 224, 3}},
		"mnist_28x28x1_0to1.npy":     {Float32, []int{60, 28, 28, 1}},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.npy"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .npy files in %s (%v)", dir, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			a, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if w, ok := want[filepath.Base(path)]; ok && (a.DType != w.dtype || !reflect.DeepEqual(a.Shape, w.shape)) {
				t.Errorf("got %v, want %v%v", a, w.dtype, w.shape)
			}
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if again := encode(t, a); !bytes.Equal(again, orig) {
				t.Errorf("Write does not reproduce the file: %q... vs %q...", again[:min(len(again), 128)], orig[:min(len(orig), 128)])
			}
			stream, err := Read(onlyReader{bytes.NewReader(orig)})
			if err != nil || !bytes.Equal(stream.Data, a.Data) {
				t.Errorf("Read from a stream = %v, %v", stream, err)
			}
		})
	}

	sine, err := ReadFile(filepath.Join(dir, "sine_x_0to2pi.npy"))
	if err != nil {
		t.Fatal(err)
	}
	xs, err := sine.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		if x < 0 || x > 2*math.Pi+1e-5 {
			t.Fatalf("sine x[%d] = %v, outside [0, 2π]", i, x)
		}
	}
}

// FuzzRead checks that Read never panics and that whatever it accepts is a
// consistent array that survives a round trip.
func FuzzRead(f *testing.F) {
	seeds := []*Array{
		FromFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		FromInt8(nil, []int8{-7}),
		FromBool([]int{0}, nil),
		FromInt64([]int{1, 2}, []int64{-1, 1 << 40}),
		{DType: Float16, Shape: []int{1}, Data: []byte{0, 0x3c}},
	}
	for _, a := range seeds {
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add(rawNPY(2, "{'descr': '>i2', 'fortran_order': False, 'shape': (2L,), }", []byte{1, 2, 3, 4}))
	f.Add(rawNPY(3, "{'descr': '<u4', 'fortran_order': False, 'shape': (1, 1), }", []byte{1, 2, 3, 4}))
	f.Add(rawNPY(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", []byte{1, 2, 3, 4}))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range []io.Reader{bytes.NewReader(data), onlyReader{bytes.NewReader(data)}} {
			a, err := Read(r)
			if err != nil {
				continue
			}
			if err := a.Validate(); err != nil {
				t.Fatalf("Read accepted an inconsistent array: %v", err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, a); err != nil {
				t.Fatalf("Write of a decoded array: %v", err)
			}
			b, err := Read(&buf)
			if err != nil || b.DType != a.DType || !reflect.DeepEqual(b.Shape, a.Shape) || !bytes.Equal(b.Data, a.Data) {
				t.Fatalf("round trip changed %v into %v (%v)", a, b, err)
			}
		}
	})
}
