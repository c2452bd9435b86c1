//go:build js && wasm

package main

import (
	"encoding/json"
	"reflect"
	"syscall/js"
	"testing"

	"litequant/core/convert"
	"litequant/core/metadata"
)

// jsJSON is a JavaScript value as JSON, decoded into T.
func jsJSON[T any](t *testing.T, v js.Value) T {
	t.Helper()
	var out T
	if err := json.Unmarshal([]byte(js.Global().Get("JSON").Call("stringify", v).String()), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAdviseMetadataPreview: advise, metadata and preview give through the
// JavaScript API what core/convert and core/metadata give natively; a
// model without metadata gives null for both.
func TestAdviseMetadataPreview(t *testing.T) {
	_, api := testAPI(t, nil)
	model, files := exampleFiles(t)
	withMeta, err := metadata.Attach(model, metadata.ImageClassifier("stripes", []float32{127.5}, []float32{127.5}, 16, 16, "labels.txt"),
		map[string][]byte{"labels.txt": []byte("horizontal\nvertical\ndiagonal\n")})
	if err != nil {
		t.Fatal(err)
	}

	v, err := await(api.Call("advise", jsBytes(withMeta), `{}`))
	if err != nil {
		t.Fatal(err)
	}
	got := jsJSON[[]convert.Advice](t, v)
	want, err := convert.Advise(t.Context(), withMeta, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("advise: %+v, natively %+v", got, want)
	}

	v, err = await(api.Call("metadata", jsBytes(withMeta)))
	if err != nil {
		t.Fatal(err)
	}
	if info := jsJSON[metadata.Info](t, v); info.LabelsFile != "labels.txt" || len(info.Labels) != 3 {
		t.Errorf("metadata: %+v", info)
	}
	if v, err := await(api.Call("metadata", jsBytes(model))); err != nil || !v.IsNull() {
		t.Errorf("metadata of a model without: %v, %v", v, err)
	}

	opts := `{"mode": "int8", "verify_split": 0.125}`
	res, err := quantizeJS(t, api, withMeta, files, opts, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	quantized := modelOf(t, res)
	v, err = await(api.Call("preview", jsBytes(withMeta), jsBytes(quantized), jsFiles(files), opts))
	if err != nil {
		t.Fatal(err)
	}
	p := jsJSON[convert.Preview](t, v)
	np, err := convert.ClassifierPreview(t.Context(), withMeta, quantized, files, convert.Options{Mode: "int8", VerifySplit: 0.125}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&p, np) {
		t.Errorf("preview %+v, natively %+v", p, np)
	}
	if v, err := await(api.Call("preview", jsBytes(model), jsBytes(quantized), jsFiles(files), opts)); err != nil || !v.IsNull() {
		t.Errorf("preview of a model without labels: %v, %v", v, err)
	}
}
