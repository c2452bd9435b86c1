package convert

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/metadata"
	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// exampleModelBytes is the site's example classifier, without metadata.
func exampleModelBytes(t *testing.T) []byte {
	t.Helper()
	root, err := fixtures.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	model, err := os.ReadFile(filepath.Join(root, "site", "example", "model.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	return model
}

// exampleWithMetadata is the site's example classifier with Model Maker
// style metadata (per-channel normalization, a label file), and its images.
func exampleWithMetadata(t *testing.T, mean, std []float32) ([]byte, []samples.File) {
	t.Helper()
	root, err := fixtures.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	model, err := os.ReadFile(filepath.Join(root, "site", "example", "model.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := metadata.Attach(model, metadata.ImageClassifier("stripes", mean, std, 16, 16, "labels.txt"),
		map[string][]byte{"labels.txt": []byte("horizontal\nvertical\ndiagonal\n")})
	if err != nil {
		t.Fatal(err)
	}
	pngs, _ := filepath.Glob(filepath.Join(root, "site", "example", "*.png"))
	files, err := samples.ReadPaths(pngs)
	if err != nil {
		t.Fatal(err)
	}
	return file, files
}

// TestMetadataNormalization: image samples are normalized with the
// model's NormalizationOptions (per channel) when no image mean/std is
// given, the report says so; options given take their place. The
// quantized model keeps its metadata and label file, its uint8 input's
// stats updated, and runs in the real runtime.
func TestMetadataNormalization(t *testing.T) {
	mean, std := []float32{100, 110, 120}, []float32{50, 60, 70}
	file, files := exampleWithMetadata(t, mean, std)
	res, err := Convert(context.Background(), Request{Model: file, Calib: files, Options: Options{Mode: Int8, InputType: "uint8"}})
	if err != nil {
		t.Fatal(err)
	}
	md := res.Report.Metadata
	if md == nil || !strings.Contains(md.Normalization, "from the model's metadata") || !strings.Contains(md.Normalization, "[100 110 120]") {
		t.Fatalf("report metadata %+v", md)
	}
	t.Logf("normalization: %s; updated %q; files %q", md.Normalization, md.Updated, md.Files)
	if len(md.Updated) != 1 || !strings.HasPrefix(md.Updated[0], "input 0") || !reflect.DeepEqual(md.Files, []string{"labels.txt"}) {
		t.Errorf("updated %q, files %q", md.Updated, md.Files)
	}
	// The calibrated input range is the normalized pixel range: channel
	// 0 reaches (0-100)/50 = -2, channel 2 (255-120)/70 ≈ 1.93; the 127.5
	// default would give [-1, 1].
	m, err := tflite.Load(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	info, err := metadata.Read(m, res.Model)
	if err != nil || info == nil {
		t.Fatalf("the quantized model's metadata: %+v, %v", info, err)
	}
	if !reflect.DeepEqual(info.Labels, []string{"horizontal", "vertical", "diagonal"}) {
		t.Errorf("labels after quantization %q", info.Labels)
	}
	if in := info.Inputs[0]; !reflect.DeepEqual(in.Min, []float32{0}) || !reflect.DeepEqual(in.Max, []float32{255}) || !reflect.DeepEqual(in.Mean, mean) {
		t.Errorf("input metadata after quantization %+v", in)
	}
	// The same options given explicitly replace the metadata's.
	res2, err := Convert(context.Background(), Request{Model: file, Calib: files, Options: Options{Mode: Int8, InputType: "uint8", ImageMean: 127.5, ImageStd: 127.5}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res2.Report.Metadata.Normalization, "from the options") {
		t.Errorf("with options: %q", res2.Report.Metadata.Normalization)
	}
	q := m.Subgraphs[0].Tensors[m.Subgraphs[0].Inputs[0]].Quantization
	m2, _ := tflite.Load(res2.Model)
	q2 := m2.Subgraphs[0].Tensors[m2.Subgraphs[0].Inputs[0]].Quantization
	t.Logf("input scale with the metadata's normalization %v, with 127.5 %v", q.Scale, q2.Scale)
	if math.Abs(float64(q.Scale[0]-q2.Scale[0])) < 1e-6 {
		t.Error("the metadata's normalization did not change the calibrated input range")
	}

	// The real runtime runs the model with its zip of labels.
	runtimetest.Require(t)
	px := make([]uint8, 16*16*3)
	for i := range px {
		px[i] = uint8(i * 7)
	}
	out := runtimetest.RunBytes(t, res.Model, npy.FromUint8([]int{1, 16, 16, 3}, px))
	if len(out) != 1 {
		t.Fatalf("%d outputs", len(out))
	}
}

// TestFallbackKeepsMetadata: the models the float fallback writes (every
// step re-quantizes) keep the TFLite metadata and the label file, as the
// first quantization does. A first run with an unreachable target shows
// the outputs' SQNR after each step; the second asks for a target the
// first improving step's model meets, so the model returned is a
// fallback step's.
func TestFallbackKeepsMetadata(t *testing.T) {
	file, files := exampleWithMetadata(t, []float32{100, 110, 120}, []float32{50, 60, 70})
	o := Options{Mode: Int8, VerifySplit: 0.25, TargetSQNR: 200}
	probe, err := Convert(context.Background(), Request{Model: file, Calib: files, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	fr := probe.Report.Fallback
	if fr == nil || len(fr.Steps) == 0 {
		t.Fatalf("no fallback steps: %+v", fr)
	}
	worst := func(outs []OutputSQNR) float64 {
		w := math.Inf(1)
		for _, x := range outs {
			w = min(w, float64(x.SQNR))
		}
		return w
	}
	start, first := worst(fr.Start), math.Inf(-1)
	for _, st := range fr.Steps {
		if w := worst(st.Outputs); w > start && !math.IsInf(w, 1) {
			first = w
			break
		}
	}
	if math.IsInf(first, -1) {
		t.Fatalf("no step raises the worst output above %.2f dB: no target to test with", start)
	}
	o.TargetSQNR = (start + first) / 2
	res, err := Convert(context.Background(), Request{Model: file, Calib: files, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if fr := res.Report.Fallback; fr == nil || !fr.Reached || fr.Best == 0 {
		t.Fatalf("target %.2f dB: %+v", o.TargetSQNR, fr)
	}
	m, err := tflite.Load(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	info, err := metadata.Read(m, res.Model)
	if err != nil || info == nil {
		t.Fatalf("the fallback model's metadata: %+v, %v", info, err)
	}
	if !reflect.DeepEqual(info.Labels, []string{"horizontal", "vertical", "diagonal"}) {
		t.Errorf("labels after the fallback %q", info.Labels)
	}
}
