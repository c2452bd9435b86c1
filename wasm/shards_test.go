//go:build js && wasm

package main

import (
	"bytes"
	"strings"
	"syscall/js"
	"testing"

	"litequant/core/convert"
	"litequant/core/samples"
)

// The worker pool's calls: wantsShards says when to shard, every shard's
// statistics merged by quantize give the model a single worker (and
// convert.Convert) writes, and a repeat is then served from the cache.
func TestShardedCalibration(t *testing.T) {
	_, api := testAPI(t, nil)
	model, files := exampleFiles(t)
	// Enough samples for several blocks of calibration samples.
	var many []samples.File
	for i := 0; i < 5; i++ {
		for _, f := range files {
			many = append(many, samples.File{Name: strings.Replace(f.Name, ".png", "-"+string(rune('a'+i))+".png", 1), Data: f.Data})
		}
	}
	const opts = `{"mode":"int8"}`
	want, err := await(api.Call("wantsShards", jsBytes(model), jsFiles(many), opts))
	if err != nil || !want.Bool() {
		t.Fatalf("wantsShards before calibrating: %v, %v", want, err)
	}
	if w, err := await(api.Call("wantsShards", jsBytes(model), jsFiles(many), `{"mode":"dynamic"}`)); err != nil || w.Bool() {
		t.Errorf("wantsShards for dynamic mode: %v, %v", w, err)
	}
	const k = 3
	parts := js.Global().Get("Array").New()
	total := 0
	for s := 0; s < k; s++ {
		var last int
		onProgress := js.FuncOf(func(_ js.Value, args []js.Value) any {
			last = args[0].Get("total").Int()
			return nil
		})
		st, err := await(api.Call("calibrateShard", jsBytes(model), jsFiles(many), opts, s, k, onProgress))
		onProgress.Release()
		if err != nil {
			t.Fatalf("shard %d: %v", s, err)
		}
		if !st.InstanceOf(js.Global().Get("Uint8Array")) {
			t.Fatalf("shard %d: %v, want a Uint8Array", s, st.Type())
		}
		total += last
		parts.Call("push", st)
	}
	if total != len(many) {
		t.Errorf("the shards' progress counts %d samples in all, want %d", total, len(many))
	}
	res, err := await(api.Call("quantize", jsBytes(model), jsFiles(many), opts, js.Undefined(), "model.tflite", parts))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(modelOf(t, res), native(t, model, many, convert.Options{Mode: "int8"})) {
		t.Error("the model from merged shards differs from convert.Convert's")
	}
	if c := res.Get("cached").String(); c != "" {
		t.Errorf("cached=%q for merged shards", c)
	}
	if w, err := await(api.Call("wantsShards", jsBytes(model), jsFiles(many), opts)); err != nil || w.Bool() {
		t.Errorf("wantsShards once cached: %v, %v", w, err)
	}
	if _, err := await(api.Call("calibrateShard", jsBytes(model), jsFiles(many), opts, 3, 3)); err == nil || !strings.Contains(err.Error(), "shard 3 of 3") {
		t.Errorf("shard 3 of 3: %v", err)
	}
	bad := js.Global().Get("Array").New()
	bad.Call("push", parts.Index(0))
	if _, err := await(api.Call("quantize", jsBytes(model), jsFiles(many), `{"mode":"int8","calib_count":40}`, js.Undefined(), "m", bad)); err == nil || !strings.Contains(err.Error(), "no shard ran samples") {
		t.Errorf("one shard of three: %v", err)
	}
}
