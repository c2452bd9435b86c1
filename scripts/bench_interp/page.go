package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"litequant/core/runtimetest/chromium"
	"litequant/scripts/bench_interp/benchcore"
)

// wasmPage is the Go interpreter as js/wasm (./scripts/bench_interp/wasmpage)
// in a headless chromium page, as the converter page runs it.
type wasmPage struct {
	ctx     context.Context
	closers []func()
	mu      sync.Mutex
	blobs   map[string][]byte
	base    string
}

const benchPageHTML = `<!doctype html><meta charset="utf-8"><title>bench_interp</title>
<script src="wasm_exec.js"></script>
<script>
const go = new Go();
WebAssembly.instantiateStreaming(fetch("bench.wasm"), go.importObject).then((r) => {
  go.run(r.instance);
  document.body.dataset.ready = "true";
}, (err) => { document.body.dataset.ready = "error: " + err; });
</script>
<body></body>`

// openWasmPage builds the page's module into dir and opens it in chromium.
func openWasmPage(root, goroot, dir string) (p *wasmPage, err error) {
	browser := chromium.Find()
	if browser == "" {
		return nil, errors.New("chromium is not in PATH")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bench.wasm"), "./scripts/bench_interp/wasmpage")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the page's wasm: %v\n%s", err, out)
	}
	js, err := os.ReadFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), js, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(benchPageHTML), 0o644); err != nil {
		return nil, err
	}
	p = &wasmPage{blobs: map[string][]byte{}}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(dir)))
	mux.HandleFunc("/blob/", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		b, ok := p.blobs[r.URL.Path]
		p.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	p.closers = append(p.closers, func() { srv.Close() })
	p.base = "http://" + ln.Addr().String() + "/"
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromium.Options(browser, filepath.Join(dir, "profile"))...)
	p.closers = append(p.closers, cancelA)
	ctx, cancelC := chromedp.NewContext(actx)
	p.closers = append(p.closers, cancelC)
	p.ctx = ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(p.base)); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.ready || ""`))
		if err != nil {
			return nil, err
		}
		if ready == "true" {
			return p, nil
		}
		if ready != "" || time.Now().After(deadline) {
			return nil, fmt.Errorf("the benchmark page did not start: %q", ready)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close stops the page, chromium and the server.
func (p *wasmPage) Close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
	p.closers = nil
}

// time runs benchcore in the page on the model and .npy input files and
// returns the mean ms per inference.
func (p *wasmPage) time(model string, inputs []string, warmup, runs int) (float64, error) {
	var urls []string
	p.mu.Lock()
	for i, path := range append([]string{model}, inputs...) {
		b, err := os.ReadFile(path)
		if err != nil {
			p.mu.Unlock()
			return 0, err
		}
		u := fmt.Sprintf("/blob/%d", i)
		p.blobs[u] = b
		urls = append(urls, u)
	}
	p.mu.Unlock()
	list, _ := json.Marshal(urls[1:])
	expr := fmt.Sprintf(`(async () => {
		const get = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
		const inputs = [];
		for (const u of %s) inputs.push(await get(u));
		return await benchInterp(await get(%q), inputs, %d, %d);
	})()`, list, urls[0], warmup, runs)
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Minute)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return 0, fmt.Errorf("in chromium: %v", strings.TrimSpace(err.Error()))
	}
	var res benchcore.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return 0, err
	}
	return res.MeanMs, nil
}
