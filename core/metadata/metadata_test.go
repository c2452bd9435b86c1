package metadata

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"litequant/core/fixtures"
	mfb "litequant/core/schema/metadatafb"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

func exampleModel(t *testing.T) []byte {
	t.Helper()
	root, err := fixtures.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "site", "example", "model.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAttachRead: metadata built in code reads back: normalization, image
// properties, the label file from the appended zip.
func TestAttachRead(t *testing.T) {
	mean, std := []float32{100, 110, 120}, []float32{50, 60, 70}
	file, err := Attach(exampleModel(t), ImageClassifier("stripes", mean, std, 16, 16, "labels.txt"),
		map[string][]byte{"labels.txt": []byte("horizontal\nvertical\ndiagonal\n")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := tflite.Load(file)
	if err != nil {
		t.Fatalf("the model with metadata does not load: %v", err)
	}
	info, err := Read(m, file)
	if err != nil {
		t.Fatal(err)
	}
	gm, gs, in, ok := info.Normalization()
	if !ok || in != 0 || !reflect.DeepEqual(gm, mean) || !reflect.DeepEqual(gs, std) {
		t.Errorf("normalization %v %v of input %d (%v)", gm, gs, in, ok)
	}
	if i := info.Inputs[0]; i.ColorSpace != "RGB" || i.Width != 16 || i.Height != 16 {
		t.Errorf("image properties %+v", i)
	}
	if info.LabelsFile != "labels.txt" || !reflect.DeepEqual(info.Labels, []string{"horizontal", "vertical", "diagonal"}) {
		t.Errorf("labels %q from %q", info.Labels, info.LabelsFile)
	}
	if !reflect.DeepEqual(info.Packed, []string{"labels.txt"}) {
		t.Errorf("packed %q", info.Packed)
	}
	// Without metadata: nil, no error.
	plain, _ := tflite.Load(exampleModel(t))
	if info, err := Read(plain, nil); info != nil || err != nil {
		t.Errorf("a model without metadata: %+v, %v", info, err)
	}
}

// TestMalformed: broken metadata bytes are an error, never a panic.
func TestMalformed(t *testing.T) {
	good := pack(ImageClassifier("x", []float32{1}, []float32{2}, 1, 1, "l.txt"))
	m, _ := tflite.Load(exampleModel(t))
	m.Buffers = append(m.Buffers, &fb.BufferT{})
	m.Metadata = append(m.Metadata, &fb.MetadataT{Name: Name, Buffer: uint32(len(m.Buffers) - 1)})
	cases := map[string][]byte{"empty": {}, "short": good[:len(good)/2], "identifier": append([]byte{}, good...), "huge vector": append([]byte{}, good...)}
	copy(cases["identifier"][4:], "XXXX")
	// Overwrite every 4-byte word in turn with a huge length: each is an
	// error or a read that stays in bounds.
	for i := 8; i+4 <= len(good); i += 4 {
		b := append([]byte{}, good...)
		copy(b[i:], []byte{0xff, 0xff, 0xff, 0x7f})
		m.Buffers[len(m.Buffers)-1].Data = b
		_, _ = Read(m, nil) // must not panic nor allocate without bound
	}
	for name, b := range cases {
		if name == "huge vector" {
			continue
		}
		m.Buffers[len(m.Buffers)-1].Data = b
		if _, err := Read(m, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestUpdate: an input made uint8 gets the uint8 stats, an output made
// int8 loses its float ones; normalization and labels stay.
func TestUpdate(t *testing.T) {
	md := ImageClassifier("x", []float32{127.5}, []float32{127.5}, 16, 16, "labels.txt")
	file, err := Attach(exampleModel(t), md, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := tflite.Load(file)
	in, out := []fb.TensorType{fb.TensorTypeFLOAT32}, []fb.TensorType{fb.TensorTypeFLOAT32}
	sg := m.Subgraphs[0]
	sg.Tensors[sg.Inputs[0]].Type = fb.TensorTypeUINT8
	sg.Tensors[sg.Outputs[0]].Type = fb.TensorTypeINT8
	updated, err := Update(m, in, out)
	if err != nil || len(updated) != 2 {
		t.Fatalf("updated %q, %v", updated, err)
	}
	got, err := parse(Raw(m))
	if err != nil {
		t.Fatal(err)
	}
	smd := got.SubgraphMetadata[0]
	if s := smd.InputTensorMetadata[0].Stats; s == nil || !reflect.DeepEqual(s.Min, []float32{0}) || !reflect.DeepEqual(s.Max, []float32{255}) {
		t.Errorf("uint8 input stats %+v", s)
	}
	if s := smd.OutputTensorMetadata[0].Stats; s != nil {
		t.Errorf("int8 output keeps stats %+v", s)
	}
	n := smd.InputTensorMetadata[0].ProcessUnits[0].Options.Value.(*mfb.NormalizationOptionsT)
	if n.Mean[0] != 127.5 || smd.OutputTensorMetadata[0].AssociatedFiles[0].Name != "labels.txt" {
		t.Error("normalization or label file lost")
	}
}
