//go:build js && wasm

// These tests run as js/wasm under Node (make test-wasm: go_js_wasm_exec,
// with npm's fake-indexeddb as the browser's IndexedDB) and call the module
// through its JavaScript API, as the page's worker does.

package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"litequant/core/convert"
	"litequant/core/modelbuild"
	"litequant/core/samples"
	fb "litequant/core/schema/tflitefb"
)

// fcModel is a one-operator model whose 32x64 weight dynamic mode
// quantizes.
func fcModel() []byte {
	b := modelbuild.New()
	in := b.Tensor("x", fb.TensorTypeFLOAT32, 1, 64)
	w := make([]float32, 32*64)
	for i := range w {
		w[i] = float32(math.Sin(float64(i)))
	}
	wt := b.ConstFloat32("w", []int32{32, 64}, w)
	out := b.Tensor("y", fb.TensorTypeFLOAT32, 1, 32)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{in, wt, -1}, []int32{out})
	b.Inputs(in)
	b.Outputs(out)
	return b.Bytes()
}

// exampleFiles returns the page's example model and samples (site/example),
// which scripts/example produces.
func exampleFiles(t *testing.T) ([]byte, []samples.File) {
	t.Helper()
	dir := filepath.Join("..", "site", "example")
	model, err := os.ReadFile(filepath.Join(dir, "model.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(paths) == 0 {
		t.Fatal("no example samples in site/example")
	}
	files, err := samples.ReadPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	return model, files
}

// testAPI returns a fresh service's JavaScript API over its own IndexedDB
// database (so tests do not share a cache).
func testAPI(t *testing.T, open opener) (*service, js.Value) {
	t.Helper()
	if open == nil {
		name := "litequant-test-" + strings.ReplaceAll(t.Name(), "/", "-")
		js.Global().Get("indexedDB").Call("deleteDatabase", name)
		open = func(ctx context.Context) (store, error) { return openNamedIDB(ctx, name) }
	}
	s := newService("test-build", open)
	return s, s.jsAPI()
}

// await waits for a promise.
func await(p js.Value) (js.Value, error) {
	type outcome struct {
		v   js.Value
		err error
	}
	ch := make(chan outcome, 1)
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- outcome{v: args[0]}
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := args[0].String()
		if args[0].InstanceOf(js.Global().Get("Error")) {
			msg = args[0].Get("message").String()
		}
		ch <- outcome{err: errors.New(msg)}
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	o := <-ch
	return o.v, o.err
}

func jsFiles(files []samples.File) js.Value {
	arr := js.Global().Get("Array").New()
	for _, f := range files {
		arr.Call("push", map[string]any{"name": f.Name, "bytes": jsBytes(f.Data)})
	}
	return arr
}

func quantizeJS(t *testing.T, api js.Value, model []byte, files []samples.File, opts string, onProgress js.Value) (js.Value, error) {
	t.Helper()
	var fl any = js.Null()
	if files != nil {
		fl = jsFiles(files)
	}
	return await(api.Call("quantize", jsBytes(model), fl, opts, onProgress, "model.tflite"))
}

func modelOf(t *testing.T, v js.Value) []byte {
	t.Helper()
	b, err := bytesOf(v.Get("model"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func native(t *testing.T, model []byte, files []samples.File, o convert.Options) []byte {
	t.Helper()
	res, err := convert.Convert(context.Background(), convert.Request{Model: model, Calib: files, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	return res.Model
}

func TestInspect(t *testing.T) {
	_, api := testAPI(t, nil)
	v, err := await(api.Call("inspect", jsBytes(fcModel())))
	if err != nil {
		t.Fatal(err)
	}
	if n := v.Get("op_counts").Get("FULLY_CONNECTED").Int(); n != 1 {
		t.Errorf("FULLY_CONNECTED count %d, want 1", n)
	}
	if typ := v.Get("subgraphs").Index(0).Get("inputs").Index(0).Get("type").String(); typ != "FLOAT32" {
		t.Errorf("input type %s", typ)
	}
	// An ArrayBuffer is accepted too.
	if _, err := await(api.Call("inspect", jsBytes(fcModel()).Get("buffer"))); err != nil {
		t.Errorf("ArrayBuffer: %v", err)
	}
}

func TestQuantizeCacheRecentLoadRemove(t *testing.T) {
	_, api := testAPI(t, nil)
	model := fcModel()
	want := native(t, model, nil, convert.Options{Mode: "dynamic"})

	var phases []string
	onProgress := js.FuncOf(func(_ js.Value, args []js.Value) any {
		phases = append(phases, args[0].Get("phase").String())
		return nil
	})
	defer onProgress.Release()
	first, err := quantizeJS(t, api, model, nil, `{"mode":"dynamic"}`, onProgress.Value)
	if err != nil {
		t.Fatal(err)
	}
	if got := modelOf(t, first); !bytes.Equal(got, want) {
		t.Fatalf("browser result (%d bytes) differs from convert.Convert's (%d bytes)", len(got), len(want))
	}
	if c := first.Get("cached").String(); c != "" {
		t.Errorf("first run cached=%q", c)
	}
	if n := first.Get("report").Get("quantize").Get("weights").Length(); n != 1 {
		t.Errorf("report lists %d weights, want 1", n)
	}
	if !strings.Contains(strings.Join(phases, ","), "quantizing") || phases[len(phases)-1] != "writing" {
		t.Errorf("phases %v", phases)
	}

	// The same request again comes from the cache, with the same bytes;
	// the options' spelling does not matter.
	second, err := quantizeJS(t, api, model, nil, `{"mode": "dynamic", "skip_ops": ""}`, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	if c := second.Get("cached").String(); c != "result" {
		t.Errorf("second run cached=%q, want result", c)
	}
	if !bytes.Equal(modelOf(t, second), want) {
		t.Error("cached model differs")
	}
	if second.Get("key").String() != first.Get("key").String() {
		t.Error("keys differ")
	}
	// Other options: another entry.
	third, err := quantizeJS(t, api, model, nil, `{"mode":"float16"}`, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	if third.Get("cached").String() != "" {
		t.Error("float16 served from the dynamic entry")
	}

	rec, err := await(api.Call("recent"))
	if err != nil {
		t.Fatal(err)
	}
	entries := rec.Get("entries")
	if entries.Length() != 2 {
		t.Fatalf("recent has %d entries, want 2", entries.Length())
	}
	if e := entries.Index(0); e.Get("mode").String() != "float16" || e.Get("name").String() != "model.tflite" ||
		e.Get("size_before").Int() != len(model) || e.Get("size_after").Int() != third.Get("model").Length() || e.Get("date").Float() <= 0 {
		t.Errorf("newest entry %v", js.Global().Get("JSON").Call("stringify", e))
	}

	key := first.Get("key").String()
	loaded, err := await(api.Call("load", key))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(modelOf(t, loaded), want) || loaded.Get("report").Get("mode").String() != "dynamic" {
		t.Error("load returned another result")
	}
	if _, err := await(api.Call("remove", key)); err != nil {
		t.Fatal(err)
	}
	if _, err := await(api.Call("load", key)); err == nil || !strings.Contains(err.Error(), "no stored result") {
		t.Errorf("load after remove: %v", err)
	}
	rec, _ = await(api.Call("recent"))
	if rec.Get("entries").Length() != 1 {
		t.Errorf("recent after remove: %d entries", rec.Get("entries").Length())
	}
}

func TestErrorsRejectAndModuleStaysUsable(t *testing.T) {
	_, api := testAPI(t, nil)
	model := fcModel()
	tests := []struct {
		name string
		call func() js.Value
		want string
	}{
		{"not a model", func() js.Value {
			return api.Call("quantize", jsBytes([]byte("this is not a tflite file")), js.Null(), `{"mode":"dynamic"}`)
		}, ""},
		{"model not bytes", func() js.Value { return api.Call("quantize", 42) }, "model: want a Uint8Array"},
		{"no model", func() js.Value { return api.Call("inspect") }, "model: missing"},
		{"files not an array", func() js.Value { return api.Call("quantize", jsBytes(model), "x.png") }, "files: want an array"},
		{"file without bytes", func() js.Value {
			return api.Call("quantize", jsBytes(model), []any{map[string]any{"name": "a.png"}})
		}, "files[0].bytes (a.png): want a Uint8Array"},
		{"unknown option", func() js.Value {
			return api.Call("quantize", jsBytes(model), js.Null(), `{"mode":"dynamic","frobnicate":true}`)
		}, `option "frobnicate" is not supported`},
		{"option type", func() js.Value {
			return api.Call("quantize", jsBytes(model), js.Null(), `{"calib_count":"many"}`)
		}, `option "calib_count": want a int`},
		{"bad JSON", func() js.Value { return api.Call("quantize", jsBytes(model), js.Null(), `{mode:`) }, "not valid JSON"},
		{"bad mode", func() js.Value { return api.Call("quantize", jsBytes(model), js.Null(), `{"mode":"int3"}`) }, `unknown mode "int3"`},
		{"broken verification samples in dynamic mode", func() js.Value {
			return api.Call("quantize", jsBytes(model), jsFiles([]samples.File{{Name: "a.npy", Data: []byte{1}}}), `{"mode":"dynamic"}`)
		}, "--verify: a.npy"},
		{"nothing to quantize", func() js.Value {
			return api.Call("quantize", jsBytes(model), js.Null(), `{"mode":"dynamic","min_weight_elements":100000}`)
		}, "nothing"},
		{"load unknown key", func() js.Value { return api.Call("load", "00") }, "no stored result"},
		{"load without key", func() js.Value { return api.Call("load") }, "key: want a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := await(tc.call())
			if err == nil {
				t.Fatal("resolved, want a rejection")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tc.want)
			}
		})
	}
	// Still usable.
	if _, err := quantizeJS(t, api, model, nil, `{"mode":"dynamic"}`, js.Undefined()); err != nil {
		t.Fatalf("after errors: %v", err)
	}
}

func TestPanicRejects(t *testing.T) {
	boomInWork := asyncFunc(func([]js.Value) (func() (any, error), error) {
		return func() (any, error) {
			var m map[string]int
			m["x"] = 1 // a nil map write: a runtime panic
			return nil, nil
		}, nil
	})
	boomInArgs := asyncFunc(func(args []js.Value) (func() (any, error), error) {
		_ = args[3].Int() // index out of range
		return nil, nil
	})
	defer boomInWork.Release()
	defer boomInArgs.Release()
	for _, f := range []js.Func{boomInWork, boomInArgs} {
		_, err := await(f.Invoke())
		if err == nil || !strings.Contains(err.Error(), "internal error in litequant") {
			t.Errorf("got %v, want an internal error rejection", err)
		}
	}
	// A progress callback that throws does not stop the conversion.
	_, api := testAPI(t, nil)
	throwing := js.Global().Get("Function").New("p", "throw new Error('callback broke')")
	if _, err := quantizeJS(t, api, fcModel(), nil, `{"mode":"dynamic"}`, throwing); err != nil {
		t.Errorf("throwing progress callback: %v", err)
	}
}

// TestDamagedEntryIsRecomputed damages stored entries behind the cache's
// back.
func TestDamagedEntryIsRecomputed(t *testing.T) {
	s, api := testAPI(t, nil)
	model := fcModel()
	first, err := quantizeJS(t, api, model, nil, `{"mode":"dynamic"}`, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	key := first.Get("key").String()
	ctx := context.Background()
	v, ok, err := s.cache.st.get(ctx, storeResult, key)
	if !ok || err != nil {
		t.Fatalf("stored entry: %v %v", ok, err)
	}
	m := v.Get("model")
	m.SetIndex(m.Length()/2, (m.Index(m.Length()/2).Int()+1)%256)
	if err := s.cache.st.put(ctx, map[string]js.Value{storeResult: v}); err != nil {
		t.Fatal(err)
	}
	again, err := quantizeJS(t, api, model, nil, `{"mode":"dynamic"}`, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	if again.Get("cached").String() != "" {
		t.Error("a damaged entry was served")
	}
	if !bytes.Equal(modelOf(t, again), modelOf(t, first)) {
		t.Error("recomputed model differs")
	}
	// The recomputed result replaced it.
	third, _ := quantizeJS(t, api, model, nil, `{"mode":"dynamic"}`, js.Undefined())
	if third.Get("cached").String() != "result" {
		t.Error("recomputed entry was not stored")
	}

	// Damaged statistics: a miss, and the entry is gone.
	s.cache.putStats(ctx, "k", `{"samples":1}`)
	if _, ok := s.cache.getStats(ctx, "k"); !ok {
		t.Fatal("stats not stored")
	}
	v, _, _ = s.cache.st.get(ctx, storeStats, "k")
	v.Set("json", `{"samples":2}`)
	_ = s.cache.st.put(ctx, map[string]js.Value{storeStats: v})
	if _, ok := s.cache.getStats(ctx, "k"); ok {
		t.Error("damaged stats served")
	}
	if _, ok, _ := s.cache.st.get(ctx, storeStats, "k"); ok {
		t.Error("damaged stats not deleted")
	}
}

// quotaStore fails every write with QuotaExceededError.
type quotaStore struct{ store }

func (quotaStore) put(context.Context, map[string]js.Value) error {
	return js.Error{Value: js.Global().Get("DOMException").New("The quota has been exceeded.", "QuotaExceededError")}
}

func TestStorageProblemsReportedOnce(t *testing.T) {
	model := fcModel()
	full := func(ctx context.Context) (store, error) {
		st, err := openNamedIDB(ctx, "litequant-test-quota")
		return quotaStore{st}, err
	}
	unavailable := func(ctx context.Context) (store, error) { return openIDB(ctx, js.Undefined(), "x") }
	for name, open := range map[string]opener{"quota": full, "unavailable": unavailable} {
		t.Run(name, func(t *testing.T) {
			_, api := testAPI(t, open)
			var warnings []string
			for i := 0; i < 3; i++ {
				res, err := quantizeJS(t, api, model, nil, `{"mode":"dynamic"}`, js.Undefined())
				if err != nil {
					t.Fatalf("conversion %d: %v", i, err)
				}
				if res.Get("cached").String() != "" {
					t.Errorf("conversion %d served from a cache that cannot store", i)
				}
				if w := res.Get("warning").String(); w != "" {
					warnings = append(warnings, w)
				}
			}
			if len(warnings) != 1 {
				t.Fatalf("warnings %q, want exactly one", warnings)
			}
			want := map[string]string{"quota": "storage is full", "unavailable": "unavailable"}[name]
			if !strings.Contains(warnings[0], want) || !strings.Contains(warnings[0], "conversions still work") {
				t.Errorf("warning %q", warnings[0])
			}
			rec, err := await(api.Call("recent"))
			if err != nil {
				t.Fatal(err)
			}
			if name == "unavailable" && rec.Get("entries").Length() != 0 {
				t.Error("entries without storage")
			}
		})
	}
}

func TestDecodeOptions(t *testing.T) {
	o, err := decodeOptions(`{"mode":"int8","calib_count":48,"image_mean":0,"image_std":255,"skip_ops":"CONV_2D","allow_noop":true,"min_weight_elements":10}`)
	if err != nil {
		t.Fatal(err)
	}
	want := convert.Options{Mode: "int8", CalibCount: 48, ImageStd: 255, SkipOps: "CONV_2D", AllowNoop: true, MinWeightElements: 10}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got %+v, want %+v", o, want)
	}
	if o, err := decodeOptions("  "); err != nil || !reflect.DeepEqual(o, convert.Options{}) {
		t.Errorf("empty: %+v %v", o, err)
	}
	for in, msg := range map[string]string{
		`{"calib_count":-1}`:    "--calib-count must be positive",
		`{"skip_tensors":"("}`:  "--skip-tensors",
		`{} {}`:                 "more than one value",
		`{"image_std":"wide"}`:  `option "image_std"`,
		`{"no_such_option":1}`:  `option "no_such_option" is not supported`,
		`["mode"]`:              "want a",
		`{"skip_ops":"NOT_OP"}`: "--skip-ops",
	} {
		if _, err := decodeOptions(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want %q", in, err, msg)
		}
	}
}

// TestYieldLetsEventsThrough checks the mechanism cancel relies on: while
// a conversion computes, the progress callback's yield lets a JavaScript
// event (here a timer; in the worker, the cancel message) run.
func TestYieldLetsEventsThrough(t *testing.T) {
	fired := false
	cb := js.FuncOf(func(js.Value, []js.Value) any { fired = true; return nil })
	defer cb.Release()
	js.Global().Call("setTimeout", cb, 0)
	progress := yielding(nil)
	deadline := time.Now().Add(5 * time.Second)
	steps := 0
	for !fired && time.Now().Before(deadline) {
		busy := time.Now()
		for time.Since(busy) < 10*time.Millisecond { // a calibration sample's worth of work
		}
		progress(convert.Progress{Phase: "calibrating", Done: steps, Total: 1000})
		steps++
	}
	if !fired {
		t.Fatal("the event loop never ran during the computation")
	}
	if steps > 5 {
		t.Errorf("the event ran after %d steps, want within %v", steps, 2*yieldEvery)
	}
}

func TestCancelQueued(t *testing.T) {
	s, api := testAPI(t, nil)
	s.run.Lock() // a conversion is running
	p := api.Call("quantize", jsBytes(fcModel()), js.Null(), `{"mode":"dynamic"}`)
	time.Sleep(10 * time.Millisecond) // let it queue
	if n := api.Call("cancel").Int(); n != 1 {
		t.Errorf("cancel() = %d, want 1", n)
	}
	s.run.Unlock()
	if _, err := await(p); err == nil || err.Error() != "cancelled" {
		t.Errorf("queued conversion: %v, want cancelled", err)
	}
	if n := api.Call("cancel").Int(); n != 0 {
		t.Errorf("cancel() with nothing running = %d", n)
	}
}

// TestCancelMidCalibration cancels from a JavaScript timer while the example
// model calibrates: the cancel has to get through the computation.
func TestCancelMidCalibration(t *testing.T) {
	_, api := testAPI(t, nil)
	model, files := exampleFiles(t)
	var started time.Time
	var cancelled bool
	onProgress := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if args[0].Get("phase").String() == "calibrating" && args[0].Get("done").Int() >= 1 && !cancelled {
			cancelled = true
			started = time.Now()
			js.Global().Call("setTimeout", api.Get("cancel"), 0)
		}
		return nil
	})
	defer onProgress.Release()
	// Repeat the samples so that calibration outlasts the cancel.
	var many []samples.File
	for i := 0; i < 40; i++ {
		for _, f := range files {
			many = append(many, samples.File{Name: strings.Replace(f.Name, ".png", "-"+string(rune('a'+i%26))+string(rune('a'+i/26))+".png", 1), Data: f.Data})
		}
	}
	_, err := quantizeJS(t, api, model, many, `{"mode":"int8"}`, onProgress.Value)
	if err == nil || err.Error() != "cancelled" {
		t.Fatalf("got %v, want cancelled", err)
	}
	if d := time.Since(started); d > 2*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if _, err := quantizeJS(t, api, model, files, `{"mode":"int8"}`, js.Undefined()); err != nil {
		t.Errorf("after cancel: %v", err)
	}
}

// TestCalibrationCache: a request differing only in output options reuses
// the calibration statistics.
func TestCalibrationCache(t *testing.T) {
	_, api := testAPI(t, nil)
	model, files := exampleFiles(t)
	first, err := quantizeJS(t, api, model, files, `{"mode":"int8"}`, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(modelOf(t, first), native(t, model, files, convert.Options{Mode: "int8"})) {
		t.Error("browser int8 result differs from convert.Convert's")
	}
	if first.Get("statsJSON").Type() != js.TypeString {
		t.Error("no statistics returned")
	}
	// Output options only (passed through to the core as they are).
	second, err := quantizeJS(t, api, model, files, `{"mode":"int8","input_type":"int8","output_type":"int8"}`, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	if c := second.Get("cached").String(); c != "calibration" {
		t.Errorf("cached=%q, want calibration", c)
	}
	if !bytes.Equal(modelOf(t, second), native(t, model, files, convert.Options{Mode: "int8", InputType: "int8", OutputType: "int8"})) {
		t.Error("result from cached statistics differs from convert.Convert's")
	}
	third, err := quantizeJS(t, api, model, files, `{"mode":"int8","calib_count":2}`, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	if c := third.Get("cached").String(); c != "" {
		t.Errorf("other calibration settings: cached=%q", c)
	}
}

// TestMethodReusesCalibration: changing the calibration method or the
// percentile takes the cached statistics (their histograms serve every
// method): no forward pass, and the same model as convert.Convert's.
func TestMethodReusesCalibration(t *testing.T) {
	_, api := testAPI(t, nil)
	model, files := exampleFiles(t)
	_, err := quantizeJS(t, api, model, files, `{"mode":"int8"}`, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		json string
		opts convert.Options
	}{
		{`{"mode":"int8","calibration":"percentile","percentile":99.9}`, convert.Options{Mode: "int8", Calibration: "percentile", Percentile: 99.9}},
		{`{"mode":"int8","calibration":"mse"}`, convert.Options{Mode: "int8", Calibration: "mse"}},
		{`{"mode":"int8","calibration":"entropy"}`, convert.Options{Mode: "int8", Calibration: "entropy"}},
		{`{"mode":"int8","calibration":"auto"}`, convert.Options{Mode: "int8", Calibration: "auto"}},
	} {
		res, err := quantizeJS(t, api, model, files, c.json, js.Undefined())
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		if got := res.Get("cached").String(); got != "calibration" {
			t.Errorf("%s: cached=%q, want calibration", c.json, got)
		}
		if !bytes.Equal(modelOf(t, res), native(t, model, files, c.opts)) {
			t.Errorf("%s: differs from convert.Convert's", c.json)
		}
	}
}
