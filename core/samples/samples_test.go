package samples

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
)

func TestSelectSamples(t *testing.T) {
	tests := []struct {
		counts []int
		limit  int
		want   [][]int
	}{
		{[]int{10}, 4, [][]int{{0, 2, 5, 7}}},
		{[]int{10}, 10, [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}},
		{[]int{3}, 500, [][]int{{0, 1, 2}}},
		{[]int{3, 3, 3}, 5, [][]int{{0, 1}, {0, 1}, {0}}},
		{[]int{1, 1, 1, 1}, 2, [][]int{{0}, {0}, {}, {}}},
		{[]int{1, 100}, 10, [][]int{{0}, {0, 11, 22, 33, 44, 55, 66, 77, 88}}},
		// Shares of 4; the first source gives its 2 and the 2 left are
		// shared by the others.
		{[]int{2, 7, 100}, 12, [][]int{{0, 1}, {0, 1, 2, 4, 5}, {0, 20, 40, 60, 80}}},
		{[]int{5, 5}, 20, [][]int{{0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}}},
	}
	for _, tc := range tests {
		got := selectSamples(tc.counts, tc.limit)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("selectSamples(%v, %d) = %v, want %v", tc.counts, tc.limit, got, tc.want)
		}
	}
}

func TestCalibCount(t *testing.T) {
	big := npyBytes(t, npy.FromFloat32([]int{600, 2}, seq(1200)))
	small := npyBytes(t, npy.FromFloat32([]int{3, 2}, seq(6)))
	files := []File{{"big.npy", big}, {"small.npy", small}}
	tests := []struct {
		count   int
		len     int
		sources []string // the first few
	}{
		{0, 500, []string{"big.npy[0]", "big.npy[1]"}}, // default cap: 497 + 3
		{4, 4, []string{"big.npy[0]", "big.npy[300]", "small.npy[0]", "small.npy[1]"}},
		{5, 5, []string{"big.npy[0]", "big.npy[200]", "big.npy[400]", "small.npy[0]", "small.npy[1]"}},
		{700, 603, []string{"big.npy[0]"}},
		{1, 1, []string{"big.npy[0]"}},
	}
	for _, tc := range tests {
		s := mustLoad(t, in1(f32, 1, 2), files, Options{CalibCount: tc.count})
		if s.Len() != tc.len {
			t.Errorf("CalibCount %d: Len %d, want %d", tc.count, s.Len(), tc.len)
			continue
		}
		for i, want := range tc.sources {
			if got := s.Source(i); got != want {
				t.Errorf("CalibCount %d: Source(%d) = %q, want %q", tc.count, i, got, want)
			}
		}
		if i := s.Len() - 1; tc.count == 0 && s.Source(i) != "small.npy[2]" {
			t.Errorf("default: last sample from %q", s.Source(i))
		}
	}
}

// TestErrors checks the one-line errors that do not come from one format.
func TestErrors(t *testing.T) {
	x := in1(f32, 1, 224, 224, 3)
	two := []Input{
		{Name: "serving_default_a:0", Type: f32, Shape: []int{1, 2}},
		{Name: "serving_default_b:0", Type: f32, Shape: []int{1, 2}},
	}
	a4 := npyBytes(t, npy.FromFloat32([]int{4, 2}, seq(8)))
	a3 := npyBytes(t, npy.FromFloat32([]int{3, 2}, seq(6)))
	tests := []struct {
		name  string
		input []Input
		files []File
		opts  Options
		want  string
	}{
		{"shape", inputs(in1(f32, 1, 224, 224, 3)).withName("serving_default_x:0"),
			[]File{{"calib.npy", npyBytes(t, npy.FromFloat32([]int{3, 32, 32}, make([]float32, 3*32*32)))}}, Options{},
			`calib.npy: shape [3, 32, 32] does not fit input "serving_default_x:0" (FLOAT32 [1, 224, 224, 3])`},
		{"no files", x, nil, Options{},
			`no calibration files given for input "x" (FLOAT32 [1, 224, 224, 3])`},
		{"empty file", x, []File{{"a.npy", nil}}, Options{},
			`a.npy: the file is empty (for input "x" (FLOAT32 [1, 224, 224, 3]))`},
		{"unknown type", x, []File{{"notes.txt", []byte("hello")}}, Options{},
			`notes.txt: unrecognised file type: want .npy, .npz, .png, .jpg, .jpeg, .gif, .bmp, .wav (for input "x" (FLOAT32 [1, 224, 224, 3]))`},
		{"bad npy", x, []File{{"a.npy", []byte("hello")}}, Options{},
			`a.npy: not a .npy file: bad magic "hello" (for input "x" (FLOAT32 [1, 224, 224, 3]))`},
		{"truncated npy", in1(f32, 1, 2), []File{{"a.npy", a4[:len(a4)-3]}}, Options{},
			`a.npy: data is truncated: float32[4 2] needs 32 bytes, 29 available (for input "x" (FLOAT32 [1, 2]))`},
		{"empty array", in1(f32, 1, 2), []File{{"a.npy", npyBytes(t, npy.FromFloat32([]int{0, 2}, nil))}}, Options{},
			`a.npy: shape [0, 2] holds no values for input "x" (FLOAT32 [1, 2])`},
		{"bad npz", in1(f32, 1, 2), []File{{"a.npz", []byte("PK\x03\x04junk")}}, Options{},
			`a.npz: not an .npz archive: zip: not a valid zip file (for input "x" (FLOAT32 [1, 2]))`},
		{"empty npz", in1(f32, 1, 2), []File{{"a.npz", npzBytes(t)}}, Options{},
			`a.npz: the archive holds no arrays (for input "x" (FLOAT32 [1, 2]))`},
		{"npz names", two, []File{{"d.npz", npzBytes(t, npy.NamedArray{Name: "a", Array: npy.FromFloat32([]int{2}, seq(2))}, npy.NamedArray{Name: "c", Array: npy.FromFloat32([]int{2}, seq(2))})}}, Options{},
			`d.npz: arrays "a", "c" do not match inputs "serving_default_a:0" (FLOAT32 [1, 2]), "serving_default_b:0" (FLOAT32 [1, 2]): name them after the inputs ("serving_default_a:0", "serving_default_b:0") or arr_0, arr_1, ... in input order`},
		{"npz shape", two, []File{{"d.npz", npzBytes(t, npy.NamedArray{Name: "a", Array: npy.FromFloat32([]int{2}, seq(2))}, npy.NamedArray{Name: "b", Array: npy.FromFloat32([]int{3}, seq(3))})}}, Options{},
			`d.npz: array "b": shape [3] does not fit input "serving_default_b:0" (FLOAT32 [1, 2])`},
		{"npz counts", two, []File{{"d.npz", npzBytes(t, npy.NamedArray{Name: "a", Array: npy.FromFloat32([]int{4, 2}, seq(8))}, npy.NamedArray{Name: "b", Array: npy.FromFloat32([]int{3, 2}, seq(6))})}}, Options{},
			`d.npz: array "b": holds 3 samples for input "serving_default_b:0" (FLOAT32 [1, 2]), but array "a" holds 4 for input "serving_default_a:0" (FLOAT32 [1, 2]); every input needs the same number`},
		{"npy count for two inputs", two, []File{{"a.npy", a4}, {"b.npy", a4}, {"c.npy", a4}}, Options{},
			`a.npy, b.npy, c.npy: 3 .npy files for a model with 2 inputs "serving_default_a:0" (FLOAT32 [1, 2]), "serving_default_b:0" (FLOAT32 [1, 2]): give one .npy file per input, in input order, or .npz files`},
		{"npy samples for two inputs", two, []File{{"a.npy", a4}, {"b.npy", a3}}, Options{},
			`b.npy: holds 3 samples for input "serving_default_b:0" (FLOAT32 [1, 2]), but a.npy holds 4 for input "serving_default_a:0" (FLOAT32 [1, 2]); every input needs the same number`},
		{"npy for the second input", two, []File{{"a.npy", a4}, {"b.npy", []byte("\x93NUMPYjunk")}}, Options{},
			`b.npy: unsupported format version 106.117 (want 1.0, 2.0 or 3.0) (for input "serving_default_b:0" (FLOAT32 [1, 2]))`},
		{"negative count", x, []File{{"a.npy", a4}}, Options{CalibCount: -1},
			`calibration sample count -1 is negative`},
		{"bad std", x, []File{{"a.npy", a4}}, Options{ImageStd: -2},
			`image std -2 is not a positive finite number`},
		{"no inputs", nil, []File{{"a.npy", a4}}, Options{},
			`the model has no inputs to calibrate`},
		{"string input", in1(fb.TensorTypeSTRING, 1), []File{{"a.npy", a4}}, Options{},
			`input "x" (STRING [1]): type STRING is not supported for calibration samples (want FLOAT32, INT8, UINT8, INT16, INT32, INT64 or BOOL)`},
		{"zero dimension", in1(f32, 1, 0), []File{{"a.npy", a4}}, Options{},
			`input "x" (FLOAT32 [1, 0]): dimension 0 is invalid`},
		{"newline in a name", in1(f32, 1, 2), []File{{"a\nb.txt", []byte("x")}}, Options{},
			`a b.txt: unrecognised file type: want .npy, .npz, .png, .jpg, .jpeg, .gif, .bmp, .wav (for input "x" (FLOAT32 [1, 2]))`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.input, tc.files, tc.opts)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error has several lines: %q", err)
			}
		})
	}
}

type inputs []Input

func (ins inputs) withName(name string) []Input {
	ins[0].Name = name
	return ins
}

// TestMixedSources loads every kind of file for one input, and describes
// the set.
func TestMixedSources(t *testing.T) {
	img := encodeImage(t, "png", solid(10, 10, orange))
	wav := wavSpec{format: 1, channels: 1, bits: 16, data: pcm16(make([]int16, 300)...)}.bytes()
	arr := npy.FromFloat32([]int{5, 10, 10, 1}, make([]float32, 500))
	files := []File{
		{"a.png", img},
		{"b.npy", npyBytes(t, arr)},
		{"c.npz", npzBytes(t, npy.NamedArray{Name: "arr_0", Array: arr})},
		{"d.jpg", encodeImage(t, "jpeg", solid(10, 10, orange))},
	}
	s := mustLoad(t, in1(f32, 1, 10, 10, 1), files, Options{CalibCount: 8})
	want := "8 of 12 samples from 4 files (npy: 1 file, 5 samples, 3 used; npz: 1 file, 5 samples, 3 used; image: 2 files, 2 samples, 2 used)"
	if got := s.Describe(); got != want {
		t.Errorf("Describe() = %q\nwant         %q", got, want)
	}
	var got []string
	for i := 0; i < s.Len(); i++ {
		got = append(got, s.Source(i))
	}
	if want := []string{"a.png", "b.npy[0]", "b.npy[1]", "b.npy[3]", "c.npz[0]", "c.npz[1]", "c.npz[3]", "d.jpg"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sources %v, want %v", got, want)
	}
	sw := mustLoad(t, in1(f32, 1, 100), []File{{"w.wav", wav}}, Options{})
	if got, want := sw.Describe(), "5 of 5 samples from 1 file (wav: 1 file, 5 windows, 5 used)"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	if sum := s.Summary(); sum.Files != 4 || sum.Samples != 12 || sum.Used != 8 || len(sum.Kinds) != 3 {
		t.Errorf("Summary() = %+v", sum)
	}
	ins := s.Inputs()
	ins[0].Shape[0] = 99
	if s.Inputs()[0].Shape[0] != 1 {
		t.Error("Inputs() shares its shapes")
	}
}

func TestReadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	png := encodeImage(t, "png", solid(4, 4, orange))
	write("imgs/b.png", png)
	write("imgs/A.JPG", encodeImage(t, "jpeg", solid(4, 4, orange)))
	write("imgs/c.npy", npyBytes(t, npy.FromFloat32([]int{1, 4, 4, 3}, make([]float32, 48))))
	write("imgs/.hidden.png", []byte("not read"))
	write("imgs/labels.txt", []byte("not read"))
	write("imgs/sub/d.png", png)
	write("imgs/sub.png/e.png", png) // a folder with an image's name
	write("empty/.keep", nil)
	write("empty/readme.md", nil)
	write("one.bin", npyBytes(t, npy.FromFloat32([]int{4, 4, 3}, make([]float32, 48))))

	files, err := ReadPaths([]string{filepath.Join(dir, "imgs"), filepath.Join(dir, "one.bin")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimPrefix(f.Name, dir+string(filepath.Separator)))
	}
	want := []string{"imgs/A.JPG", "imgs/b.png", "imgs/c.npy", "one.bin"}
	for i := range want {
		want[i] = filepath.FromSlash(want[i])
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	s := mustLoad(t, in1(f32, 1, 4, 4, 3), files, Options{})
	if s.Len() != 4 {
		t.Errorf("Len = %d", s.Len())
	}

	empty := filepath.Join(dir, "empty")
	if _, err := ReadPaths([]string{empty}); err == nil || err.Error() != empty+": the folder holds no calibration files (.npy, .npz, .png, .jpg, .jpeg, .gif, .bmp, .wav)" {
		t.Errorf("empty folder: %v", err)
	}
	missing := filepath.Join(dir, "missing.png")
	if _, err := ReadPaths([]string{missing}); err == nil || err.Error() != missing+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	if files, err := ReadPaths(nil); err != nil || len(files) != 0 {
		t.Errorf("no paths: %v, %v", files, err)
	}
}

// TestConcurrentSamples reads samples from several goroutines, as a
// parallel calibration would (run with -race to check).
func TestConcurrentSamples(t *testing.T) {
	files := []File{
		{"a.png", encodeImage(t, "png", solid(9, 7, orange))},
		{"b.npy", npyBytes(t, npy.FromUint8([]int{3, 4, 4, 3}, make([]uint8, 144)))},
	}
	s := mustLoad(t, in1(f32, 1, 4, 4, 3), files, Options{})
	want := make([][]byte, s.Len())
	for i := range want {
		want[i] = mustSample(t, s, i)[0]
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			var buf [][]byte
			var err error
			for i := 0; i < s.Len() && err == nil; i++ {
				buf, err = s.SampleTo(i, buf)
				if err == nil && string(buf[0]) != string(want[i]) {
					err = fmt.Errorf("sample %d differs", i)
				}
			}
			done <- err
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
