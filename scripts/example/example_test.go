package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"litequant/core/interp"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// TestCommittedFilesAreReproducible regenerates the example and compares it
// with site/example, so the committed files are what the documented command
// makes.
func TestCommittedFilesAreReproducible(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("..", "..", "site", "example")
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, p := range names {
		got, _ := os.ReadFile(p)
		want, err := os.ReadFile(filepath.Join(committed, filepath.Base(p)))
		if err != nil {
			t.Fatalf("%v (run `go run ./scripts/example`)", err)
		}
		// Float rounding is only bit-exact where the compiler fuses no
		// multiply-adds (amd64); elsewhere the files may differ slightly.
		if !bytes.Equal(got, want) && runtime.GOARCH == "amd64" {
			t.Errorf("site/example/%s differs from a fresh run: run `go run ./scripts/example`", filepath.Base(p))
		}
	}
	if c, _ := filepath.Glob(filepath.Join(committed, "*")); len(c) != len(names) {
		t.Errorf("site/example has %d files, a fresh run %d", len(c), len(names))
	}
}

// TestExampleModelClassifiesItsSamples runs the committed model in the
// project's interpreter on its samples, fed through the converter's own
// image loading: each is classified as its label says.
func TestExampleModelClassifiesItsSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "site", "example")
	var man Manifest
	js, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &man); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, man.Model))
	if err != nil {
		t.Fatal(err)
	}
	m, err := tflite.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	sg := m.Subgraphs[0]
	in := sg.Tensors[sg.Inputs[0]]
	shape := make([]int, len(in.Shape))
	for i, d := range in.Shape {
		shape[i] = int(d)
	}
	var paths []string
	for _, s := range man.Samples {
		paths = append(paths, filepath.Join(dir, s))
	}
	files, err := samples.ReadPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	set, err := samples.Load([]samples.Input{{Name: in.Name, Type: in.Type, Shape: shape}}, files, samples.Options{})
	if err != nil {
		t.Fatal(err)
	}
	it, err := interp.New(m, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < set.Len(); i++ {
		buf, err := set.Sample(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := it.SetInput(0, set.Shapes(i)[0], buf[0]); err != nil {
			t.Fatal(err)
		}
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		if got := Classes[Argmax(it.Output(0).F32())]; got != man.Labels[i] {
			t.Errorf("%s: classified %s, want %s", man.Samples[i], got, man.Labels[i])
		}
	}
}
