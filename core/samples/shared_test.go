package samples

import (
	"litequant/core/fixtures"
	"path/filepath"
	"testing"
)

// sharedData returns <repo root>/../shared/data, skipping the test when the
// shared fixtures are absent.
func sharedData(t *testing.T) string {
	t.Helper()
	return fixtures.Path(t, "data")
}

func TestSharedImages(t *testing.T) {
	dir := sharedData(t)
	var paths []string
	for _, pattern := range []string{"*.jpg", "*.png"} {
		m, _ := filepath.Glob(filepath.Join(dir, "images", pattern))
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Skip("no images in the shared fixtures")
	}
	files, err := ReadPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	s := mustLoad(t, in1(f32, 1, 224, 224, 3), files, Options{})
	if s.Len() != len(paths) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(paths))
	}
	for i := 0; i < s.Len(); i++ {
		v := floats(t, mustSample(t, s, i)[0])
		if len(v) != 224*224*3 {
			t.Fatalf("%s: %d values", s.Source(i), len(v))
		}
		lo, hi := v[0], v[0]
		for _, x := range v {
			lo, hi = min(lo, x), max(hi, x)
		}
		if lo < -1 || hi > 1 || hi-lo < 0.5 {
			t.Errorf("%s: values in [%v, %v], want a spread within [-1, 1]", s.Source(i), lo, hi)
		}
	}
	// The folder form, gray, for an MNIST-like input.
	files, err = ReadPaths([]string{filepath.Join(dir, "mnist")})
	if err != nil {
		t.Fatal(err)
	}
	s = mustLoad(t, in1(f32, 1, 28, 28, 1), files, Options{ImageMean: 0, ImageStd: 255})
	if s.Len() != 10 {
		t.Errorf("mnist: %d samples", s.Len())
	}
	t.Log(s.Describe())
}

func TestSharedAudio(t *testing.T) {
	dir := sharedData(t)
	files, err := ReadPaths([]string{filepath.Join(dir, "audio")})
	if err != nil {
		t.Fatal(err)
	}
	s := mustLoad(t, in1(f32, 1, 16000), files, Options{})
	// Five one-second files (two_heads.wav is slightly shorter: one padded
	// window) and speech.wav's windows.
	if s.Len() < len(files) {
		t.Fatalf("%d windows from %d files", s.Len(), len(files))
	}
	for i := 0; i < s.Len(); i++ {
		v := floats(t, mustSample(t, s, i)[0])
		if len(v) != 16000 {
			t.Fatalf("%s: %d values", s.Source(i), len(v))
		}
		for _, x := range v {
			if x < -1 || x > 1 {
				t.Fatalf("%s: value %v outside [-1, 1]", s.Source(i), x)
			}
		}
	}
	t.Log(s.Describe())
}

func TestSharedNPY(t *testing.T) {
	dir := sharedData(t)
	files, err := ReadPaths([]string{filepath.Join(dir, "npy", "images_224x224x3_uint8.npy")})
	if err != nil {
		t.Fatal(err)
	}
	s := mustLoad(t, in1(f32, 1, 224, 224, 3), files, Options{})
	if s.Len() != 48 {
		t.Fatalf("Len = %d, want 48", s.Len())
	}
	v := floats(t, mustSample(t, s, 47)[0])
	if len(v) != 224*224*3 {
		t.Fatalf("%d values", len(v))
	}
	for _, x := range v {
		if x < 0 || x > 255 || x != float32(int(x)) {
			t.Fatalf("value %v is not a uint8 pixel", x)
		}
	}
	// As pixels, normalised to [-1, 1].
	s = mustLoad(t, in1(f32, 1, 224, 224, 3), files, Options{Uint8AsPixels: true, CalibCount: 24})
	if s.Len() != 24 || s.Source(1) != files[0].Name+"[2]" {
		t.Fatalf("Len = %d, Source(1) = %q", s.Len(), s.Source(1))
	}
	for _, x := range floats(t, mustSample(t, s, 5)[0]) {
		if x < -1 || x > 1 {
			t.Fatalf("value %v outside [-1, 1]", x)
		}
	}
	// The uint8 crops as they are, for the quantized mobilenet's input.
	s = mustLoad(t, in1(u8, 1, 224, 224, 3), files, Options{})
	if d := mustSample(t, s, 0)[0]; len(d) != 224*224*3 {
		t.Errorf("uint8: %d bytes", len(d))
	}

	for _, tc := range []struct {
		file  string
		input []Input
		n     int
	}{
		{"sine_x_0to2pi.npy", in1(f32, 1, 1), 200},
		{"mnist_28x28x1_0to1.npy", in1(f32, 1, 28, 28, 1), 60},
		{"mnist_seq_1x28x28.npy", in1(f32, 1, 28, 28), 60},
		{"speech_5360_windows.npy", in1(f32, 1, 5360), 28},
	} {
		files, err := ReadPaths([]string{filepath.Join(dir, "npy", tc.file)})
		if err != nil {
			t.Fatal(err)
		}
		if s := mustLoad(t, tc.input, files, Options{}); s.Len() != tc.n {
			t.Errorf("%s: %d samples, want %d", tc.file, s.Len(), tc.n)
		}
	}
}
