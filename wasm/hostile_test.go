//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"litequant/core/convert"
	"litequant/core/fixtures"
	"litequant/core/npy"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// bombPNG is a PNG header declaring w×h pixels, without image data.
func bombPNG(w, h uint32) []byte {
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = 8, 2
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

// expectSettled awaits p and fails on an internal error (a panic inside
// the module) or a multi-line message; it returns the rejection, if any.
func expectSettled(t *testing.T, what string, p js.Value) error {
	t.Helper()
	if p.Type() != js.TypeObject || p.Get("then").Type() != js.TypeFunction {
		return nil // cancel returns a plain value
	}
	_, err := await(p)
	if err != nil && (strings.Contains(err.Error(), "internal error") || strings.Contains(err.Error(), "\n")) {
		t.Errorf("%s: %v", what, err)
	}
	return err
}

// TestHostileCallsLeaveModuleUsable calls every exported function with
// hostile arguments; each call must settle with a result or a one-line
// rejection, never an internal error, and after each the module must still
// convert a model.
func TestHostileCallsLeaveModuleUsable(t *testing.T) {
	_, api := testAPI(t, nil)
	model := fcModel()
	garbage := jsBytes([]byte("\x89PNG\r\n\x1a\n not a model"))
	obj := func(kv ...any) js.Value {
		o := js.Global().Get("Object").New()
		for i := 0; i+1 < len(kv); i += 2 {
			o.Set(kv[i].(string), kv[i+1])
		}
		return o
	}
	arr := func(v ...any) js.Value { return js.ValueOf(v) }
	calls := []struct {
		name string
		fn   string
		args []any
	}{
		{"inspect nothing", "inspect", nil},
		{"inspect undefined", "inspect", []any{js.Undefined()}},
		{"inspect number", "inspect", []any{42}},
		{"inspect string", "inspect", []any{"model.tflite"}},
		{"inspect object", "inspect", []any{obj("length", 5)}},
		{"inspect png", "inspect", []any{garbage}},
		{"inspect empty", "inspect", []any{jsBytes(nil)}},
		{"inspect truncated", "inspect", []any{jsBytes(model[:len(model)/3])}},
		{"quantize nothing", "quantize", nil},
		{"quantize png", "quantize", []any{garbage, js.Null(), `{"mode":"dynamic"}`}},
		{"quantize files object", "quantize", []any{jsBytes(model), obj("0", 1), `{}`}},
		{"quantize files of nulls", "quantize", []any{jsBytes(model), arr(nil, nil), `{"mode":"int8"}`}},
		{"quantize file name number", "quantize", []any{jsBytes(model), arr(obj("name", 5, "bytes", jsBytes([]byte{1}))), `{"mode":"int8"}`}},
		{"quantize decompression bomb", "quantize", []any{jsBytes(model), jsFiles([]samples.File{{Name: "bomb.png", Data: bombPNG(1<<20, 1<<20)}}), `{"mode":"int8"}`}},
		{"quantize garbage samples", "quantize", []any{jsBytes(model), jsFiles([]samples.File{{Name: "a.npy", Data: []byte("\x93NUMPY\x01\x00\xff\xff")}, {Name: "b.wav", Data: []byte("RIFF\xff\xff\xff\xffWAVEfmt ")}}), `{"mode":"int8"}`}},
		{"quantize options number", "quantize", []any{jsBytes(model), js.Null(), 42}},
		{"quantize options object", "quantize", []any{jsBytes(model), js.Null(), obj("mode", "dynamic")}},
		{"quantize huge calib_count", "quantize", []any{jsBytes(model), js.Null(), `{"mode":"int8","calib_count":1e300}`}},
		{"quantize tiny memory", "quantize", []any{jsBytes(model), jsFiles([]samples.File{npySample(t, 64)}), `{"mode":"int8","max_memory":"16"}`}},
		{"quantize bad input shape", "quantize", []any{jsBytes(model), jsFiles([]samples.File{npySample(t, 64)}), `{"mode":"int8","input_shapes":["x=0,-4"]}`}},
		{"quantize bad max_memory", "quantize", []any{jsBytes(model), js.Null(), `{"max_memory":"lots"}`}},
		{"quantize progress not a function", "quantize", []any{jsBytes(model), js.Null(), `{"mode":"dynamic"}`, 42, 7}},
		{"cancel with arguments", "cancel", []any{"everything", 3}},
		{"recent with arguments", "recent", []any{jsBytes(model)}},
		{"load number", "load", []any{42}},
		{"load huge key", "load", []any{strings.Repeat("f", 1<<16)}},
		{"load empty key", "load", []any{""}},
		{"remove nothing", "remove", nil},
		{"remove unknown", "remove", []any{"00ff"}},
		{"remove object", "remove", []any{obj("key", "x")}},
	}
	for _, c := range calls {
		expectSettled(t, c.name, api.Call(c.fn, c.args...))
		if _, err := quantizeJS(t, api, model, nil, `{"mode":"dynamic","min_weight_elements":1}`, js.Undefined()); err != nil {
			t.Fatalf("after %s, the module no longer converts: %v", c.name, err)
		}
	}
	if _, err := await(api.Call("inspect", jsBytes(model))); err != nil {
		t.Fatalf("inspect at the end: %v", err)
	}
}

// npySample is one float32 sample of n values.
func npySample(t *testing.T, n int) samples.File {
	var b bytes.Buffer
	if err := npy.Write(&b, npy.FromFloat32([]int{1, n}, make([]float32, n))); err != nil {
		t.Fatal(err)
	}
	return samples.File{Name: "x.npy", Data: b.Bytes()}
}

// TestWasmSweep is the wasm side of the CLI's sweep: mutated variants of
// the built test model, the page's example model and (when ../shared is
// reachable) small real models through inspect, quantize dynamic and
// quantize int8 in the module: every call settles within 20 s, none with
// an internal error, and the module converts a good model at the end.
// LITEQUANT_SWEEP=N sets the number of variants (default 60).
func TestWasmSweep(t *testing.T) {
	total := 60
	if v := os.Getenv("LITEQUANT_SWEEP"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("LITEQUANT_SWEEP=%q", v)
		}
		total = n / 5 // the wasm side is slower: a fifth of the native count
	}
	example, _ := exampleFiles(t)
	bases := [][]byte{fcModel(), example}
	if dir, ok := fixtures.SharedDir(); ok {
		for _, name := range []string{"hello_world_float.tflite", "single_fc_bias.tflite", "conv_fc_mnist.tflite"} {
			if b, err := os.ReadFile(filepath.Join(dir, "models", name)); err == nil {
				bases = append(bases, b)
			}
		}
	}
	_, api := testAPI(t, nil)
	calibOf := make([][]samples.File, len(bases))
	for i, b := range bases {
		m, err := tflite.Load(b)
		if err != nil {
			t.Fatal(err)
		}
		set, err := fixtures.Samples(m, "", 2)
		if err != nil {
			t.Fatal(err)
		}
		for k, a := range fixtures.Stack(set) {
			var buf bytes.Buffer
			if err := npy.Write(&buf, a); err != nil {
				t.Fatal(err)
			}
			calibOf[i] = append(calibOf[i], samples.File{Name: fmt.Sprintf("in%d.npy", k), Data: buf.Bytes()})
		}
	}
	r := rand.New(rand.NewPCG(16, 2026))
	kinds := []string{"truncate", "flip", "overwrite", "int32", "zeros"}
	resolved, rejected, internal := map[string]int{}, map[string]int{}, map[string]int{}
	var peakRSS float64 // the Node process's, sampled after each call
	var slowest time.Duration
	start := time.Now()
	for i := 0; i < total; i++ {
		b := i % len(bases)
		v := mutateWasm(bases[b], r, kinds[(i/len(bases))%len(kinds)])
		for _, step := range []struct {
			name string
			call func() js.Value
		}{
			{"inspect", func() js.Value { return api.Call("inspect", jsBytes(v)) }},
			{"quantize-dynamic", func() js.Value {
				return api.Call("quantize", jsBytes(v), js.Null(), `{"mode":"dynamic","min_weight_elements":1}`)
			}},
			{"quantize-int8", func() js.Value {
				return api.Call("quantize", jsBytes(v), jsFiles(calibOf[b]), `{"mode":"int8","calib_count":2}`)
			}},
		} {
			t0 := time.Now()
			err := expectSettled(t, fmt.Sprintf("variant %d (base %d) %s", i, b, step.name), step.call())
			d := time.Since(t0)
			slowest = max(slowest, d)
			if d > 20*time.Second {
				t.Errorf("variant %d (base %d) %s took %v", i, b, step.name, d)
			}
			if p := js.Global().Get("process"); p.Type() == js.TypeObject {
				peakRSS = max(peakRSS, p.Call("memoryUsage").Get("rss").Float())
			}
			if err != nil && strings.Contains(err.Error(), "internal error") {
				internal[step.name]++
			}
			if err != nil {
				rejected[step.name]++
			} else {
				resolved[step.name]++
			}
		}
	}
	t.Logf("wasm sweep: %d variants of %d models in %v, slowest call %v, Node's peak RSS %.0f MiB", total, len(bases), time.Since(start).Round(time.Second), slowest.Round(time.Millisecond), peakRSS/(1<<20))
	for _, s := range []string{"inspect", "quantize-dynamic", "quantize-int8"} {
		t.Logf("  %-17s %d resolved, %d rejected with an error, %d internal errors", s, resolved[s], rejected[s], internal[s])
	}
	if peakRSS > 2<<30 {
		t.Errorf("Node's RSS reached %.0f MiB", peakRSS/(1<<20))
	}
	if _, err := quantizeJS(t, api, fcModel(), nil, `{"mode":"dynamic"}`, js.Undefined()); err != nil {
		t.Fatalf("after the sweep: %v", err)
	}
}

// mutateWasm is the CLI sweep's mutate (same kinds).
func mutateWasm(data []byte, r *rand.Rand, kind string) []byte {
	out := append([]byte(nil), data...)
	n := len(out)
	switch kind {
	case "truncate":
		return out[:r.IntN(n)]
	case "flip":
		for i := 1 + r.IntN(8); i > 0; i-- {
			out[r.IntN(n)] ^= 1 << r.IntN(8)
		}
	case "overwrite":
		at := r.IntN(n)
		for i := at; i < min(n, at+4+r.IntN(13)); i++ {
			out[i] = byte(r.IntN(256))
		}
	case "int32":
		vals := []uint32{0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 1 << 16, 1 << 24, 3, 0xfffffffe}
		at := r.IntN(n/4) * 4
		v := vals[r.IntN(len(vals))]
		out[at], out[at+1], out[at+2], out[at+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	case "zeros":
		at := r.IntN(n)
		for i := at; i < min(n, at+8+r.IntN(57)); i++ {
			out[i] = 0
		}
	}
	return out
}

// TestDamagedEntriesIncludingStats: a stored result whose report or
// statistics were damaged, or that lost its model, is discarded and
// recomputed (and stored again); statistics that match their hash but do
// not decode (another build's format) are recomputed and replaced.
func TestDamagedEntriesIncludingStats(t *testing.T) {
	s, api := testAPI(t, nil)
	model, files := exampleFiles(t)
	opts := `{"mode":"int8"}`
	first, err := quantizeJS(t, api, model, files, opts, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	key := first.Get("key").String()
	ctx := context.Background()
	damage := []struct {
		name string
		edit func(v js.Value)
	}{
		{"report", func(v js.Value) { v.Set("report", `{"mode":"int8","size_after":1`) }},
		{"stats", func(v js.Value) { v.Set("stats", strings.Replace(v.Get("stats").String(), "1", "7", 1)) }},
		{"no model", func(v js.Value) { v.Delete("model") }},
		{"model not bytes", func(v js.Value) { v.Set("model", "abc") }},
	}
	for _, d := range damage {
		v, ok, err := s.cache.st.get(ctx, storeResult, key)
		if !ok || err != nil {
			t.Fatalf("%s: stored entry: %v %v", d.name, ok, err)
		}
		d.edit(v)
		if err := s.cache.st.put(ctx, map[string]js.Value{storeResult: v}); err != nil {
			t.Fatal(err)
		}
		again, err := quantizeJS(t, api, model, files, opts, js.Undefined())
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		if c := again.Get("cached").String(); c == "result" {
			t.Errorf("%s: the damaged entry was served", d.name)
		}
		if !bytes.Equal(modelOf(t, again), modelOf(t, first)) || again.Get("reportJSON").String() == "" {
			t.Errorf("%s: the recomputed result differs", d.name)
		}
		if third, _ := quantizeJS(t, api, model, files, opts, js.Undefined()); third.Get("cached").String() != "result" {
			t.Errorf("%s: the recomputed result was not stored", d.name)
		}
	}
	// Statistics in another format, with a matching hash: a miss; the
	// conversion calibrates again and replaces them.
	ckey := convert.CalibrationKey("test-build", model, files, mustOptions(t, opts))
	s.cache.putStats(ctx, ckey, `{"format":"from another build"}`)
	second, err := quantizeJS(t, api, model, files, `{"mode":"int8","output_type":"int8"}`, js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	if c := second.Get("cached").String(); c != "" {
		t.Errorf("undecodable statistics used: cached=%q", c)
	}
	if j, ok := s.cache.getStats(ctx, ckey); !ok || !strings.Contains(j, "samples") {
		t.Errorf("statistics not replaced: %q", j)
	}
	third, err := quantizeJS(t, api, model, files, `{"mode":"int8","input_type":"int8"}`, js.Undefined())
	if err != nil || third.Get("cached").String() != "calibration" {
		t.Errorf("replaced statistics not used: %v", err)
	}
}

func mustOptions(t *testing.T, s string) convert.Options {
	o, err := decodeOptions(s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestLimitOptions: the limit options decode from the page's JSON, and a
// wrong type names the option as the page spells it.
func TestLimitOptions(t *testing.T) {
	o, err := decodeOptions(`{"mode":"int8","max_memory":"1GiB","max_image_pixels":1000000,"input_shapes":["x=1,8,8,3"]}`)
	if err != nil || o.MaxMemory != "1GiB" || o.MaxImagePixels != 1000000 || len(o.InputShapes) != 1 || o.InputShapes[0] != "x=1,8,8,3" {
		t.Fatalf("%+v %v", o, err)
	}
	for in, want := range map[string]string{
		`{"max_memory":5}`:        `option "max_memory": want a string, got number`,
		`{"input_shapes":"x=1"}`:  `option "input_shapes": want a []string, got string`,
		`{"max_memory":"plenty"}`: `--max-memory: "plenty" is not a size`,
	} {
		if _, err := decodeOptions(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}
