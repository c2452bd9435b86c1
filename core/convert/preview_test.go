package convert

import (
	"context"
	"errors"
	"math"
	"testing"

	"litequant/core/npy"
	"litequant/core/runtimetest"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// TestClassifierPreview: the preview's float and quantized top classes on
// a held-back sample carry the metadata's labels, and the quantized
// scores are the real runtime's.
func TestClassifierPreview(t *testing.T) {
	file, files := exampleWithMetadata(t, []float32{127.5}, []float32{127.5})
	o := Options{Mode: Int8, VerifySplit: 0.125}
	res, err := Convert(context.Background(), Request{Model: file, Calib: files, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ClassifierPreview(context.Background(), file, res.Model, files, o, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("preview on %s (held back %v): float %+v, quantized %+v", p.Source, p.HeldBack, p.Float, p.Quantized)
	if !p.HeldBack || len(p.Float) != 3 || len(p.Quantized) != 3 || p.Labels != "labels.txt" {
		t.Fatalf("preview %+v", p)
	}
	if p.Float[0].Label != p.Quantized[0].Label {
		t.Errorf("top-1 differs: float %q, quantized %q", p.Float[0].Label, p.Quantized[0].Label)
	}
	for _, s := range p.Float {
		if s.Label == "" || s.Label[:5] == "class" {
			t.Errorf("no label for class %d", s.Index)
		}
	}

	// The same sample through the real runtime.
	m, _ := tflite.Load(file)
	inputs, pixels := ModelInputs(m)
	so, _ := sampleOptions(m, o, pixels)
	set, err := samples.Load(inputs, files, so)
	if err != nil {
		t.Fatal(err)
	}
	_, held := set.Split(o.VerifySplit)
	in, _ := held.Sample(0)
	runtimetest.Require(t)
	out := runtimetest.RunBytes(t, res.Model, npy.FromFloat32(held.Shapes(0)[0], float32sOf(in[0])))
	want, _ := out[0].Float32s()
	qm, _ := tflite.Load(res.Model)
	sg := qm.Subgraphs[0]
	step := 1.0
	if q := sg.Tensors[sg.Outputs[0]].Quantization; q != nil && len(q.Scale) == 1 {
		step = float64(q.Scale[0])
	}
	for _, s := range p.Quantized {
		if d := math.Abs(float64(s.Score - want[s.Index])); d > step*1.01 {
			t.Errorf("class %d: preview score %g, the runtime's %g", s.Index, s.Score, want[s.Index])
		}
	}

	// Not a classifier with labels: the plain error.
	if _, err := ClassifierPreview(context.Background(), res.Model[:0:0], res.Model, files, o, 5); err == nil {
		t.Error("an empty float model gave a preview")
	}
	if _, err := ClassifierPreview(context.Background(), exampleModelBytes(t), res.Model, files, o, 5); !errors.Is(err, ErrNoPreview) {
		t.Errorf("a model without labels: %v, want ErrNoPreview", err)
	}
}

func float32sOf(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
	}
	return out
}
