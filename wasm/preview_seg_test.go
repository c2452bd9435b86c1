//go:build js && wasm

package main

import (
	"fmt"
	"reflect"
	"strings"
	"syscall/js"
	"testing"

	"litequant/core/convert"
	"litequant/core/metadata"
	"litequant/core/modelbuild"
	"litequant/core/samples"
)

// TestSegmenterPreviewJS: preview gives a labelled segmenter's masks
// through the JavaScript API as convert.ModelPreview gives them natively.
func TestSegmenterPreviewJS(t *testing.T) {
	_, api := testAPI(t, nil)
	model, err := metadata.Attach(modelbuild.Segmenter(), metadata.ImageSegmenter("colours", []float32{127.5}, []float32{127.5}, 32, 32, "labels.txt"),
		map[string][]byte{"labels.txt": []byte(strings.Join(modelbuild.SegmenterLabels, "\n"))})
	if err != nil {
		t.Fatal(err)
	}
	var files []samples.File
	for i, png := range modelbuild.SegmenterImages(12) {
		files = append(files, samples.File{Name: fmt.Sprintf("blobs-%02d.png", i), Data: png})
	}
	opts := `{"mode": "int8", "verify_split": 0.125}`
	res, err := quantizeJS(t, api, model, files, opts, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	quantized := modelOf(t, res)
	v, err := await(api.Call("preview", jsBytes(model), jsBytes(quantized), jsFiles(files), opts))
	if err != nil {
		t.Fatal(err)
	}
	p := jsJSON[convert.Preview](t, v)
	np, err := convert.ModelPreview(t.Context(), model, quantized, files, convert.Options{Mode: "int8", VerifySplit: 0.125}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != "segmenter" || p.Segmentation == nil || len(p.Segmentation.Legend) < 2 || !reflect.DeepEqual(&p, np) {
		t.Errorf("preview %+v, natively %+v", p, np)
	}
}
