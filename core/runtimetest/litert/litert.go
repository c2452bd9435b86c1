// Package litert runs .tflite models in LiteRT.js (npm @litertjs/core,
// pinned in scripts/package.json), the current LiteRT web runtime, for
// tests: the second real runtime beside core/runtimetest's build of
// TensorFlow Lite 2.9, and the one users' browsers run today.
//
// LiteRT.js needs a browser page, so a Runtime is a headless Debian
// chromium (started with package chromium's options and a
// fresh profile) on a page from scripts/litert, served with
// scripts/node_modules from a loopback server that also hands the page the
// model and input bytes. The page runs models on LiteRT.js's CPU
// (WebAssembly, XNNPack) accelerator. LiteRT.js exchanges float32, int32
// and uint8 tensors only: it refuses to load models with int8 or int16
// I/O, and it runs no model with a dynamic input dimension (see Static).
package litert

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"litequant/core/fixtures"
	"litequant/core/npy"
	"litequant/core/runtimetest/chromium"
	"litequant/core/tflite"
)

// Paths relative to the repository root.
const (
	pageDir  = "scripts/litert"
	npmDir   = "scripts/node_modules"
	coreWasm = "scripts/node_modules/@litertjs/core/wasm/litert_wasm_internal.wasm"
)

// Tensor is a model input or output as LiteRT.js describes it.
type Tensor struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
}

// Runtime is a chromium page with LiteRT.js loaded.
type Runtime struct {
	ctx   context.Context
	base  string
	mu    sync.Mutex
	blobs map[string][]byte
	next  int
	// closers stop what Open started, run last first by Close.
	closers []func()
}

// Model is a model compiled in a Runtime.
type Model struct {
	r       *Runtime
	id      int
	Inputs  []Tensor
	Outputs []Tensor
}

// locate finds the repository root and chromium.
func locate() (root, browser string, err error) {
	root, err = fixtures.RepoRoot()
	if err != nil {
		return "", "", err
	}
	for _, p := range []string{pageDir, coreWasm} {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
			return "", "", fmt.Errorf("%s is missing (run `make test` or `npm ci --prefix scripts`)", p)
		}
	}
	if p := chromium.Find(); p != "" {
		return root, p, nil
	}
	return "", "", errors.New("chromium is not in PATH (`make deps` installs Debian's chromium)")
}

// Available returns nil when LiteRT.js can be run: chromium is installed
// and so is @litertjs/core in scripts/node_modules.
func Available() error {
	_, _, err := locate()
	return err
}

// Start opens LiteRT.js in a new headless chromium, closed when the test
// ends. It skips the test when chromium or LiteRT.js is missing, or fails
// it when the CI environment variable is set: CI must run these checks.
func Start(t testing.TB) *Runtime {
	t.Helper()
	if err := Available(); err != nil {
		msg := "LiteRT.js cannot run here: " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI is set, so these tests must run")
		}
		t.Skip(msg)
	}
	r, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// Open starts a headless chromium with LiteRT.js loaded (for programs;
// tests call Start). Close stops it.
func Open() (r *Runtime, err error) {
	root, browser, err := locate()
	if err != nil {
		return nil, err
	}
	r = &Runtime{blobs: map[string][]byte{}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/npm/", http.StripPrefix("/npm/", http.FileServer(http.Dir(filepath.Join(root, filepath.FromSlash(npmDir))))))
	mux.HandleFunc("/blob/", func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		b, ok := r.blobs[req.URL.Path]
		delete(r.blobs, req.URL.Path)
		r.mu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b)
	})
	mux.Handle("/", http.FileServer(http.Dir(filepath.Join(root, filepath.FromSlash(pageDir)))))
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	r.closers = append(r.closers, func() { srv.Close() })
	r.base = "http://" + ln.Addr().String()

	profile, err := os.MkdirTemp("", "litert-chromium-")
	if err != nil {
		return nil, err
	}
	r.closers = append(r.closers, func() { os.RemoveAll(profile) })
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromium.Options(browser, profile)...)
	ctx, cancelC := chromedp.NewContext(actx)
	// Closers run last first: the browser stops before its profile goes.
	r.closers = append(r.closers, func() { cancelC(); cancelA() })
	r.ctx = ctx
	// The first action starts the browser, which lives as long as ctx
	// (not a timeout's child context).
	if err := chromedp.Do(ctx); err != nil {
		return nil, fmt.Errorf("starting chromium: %w", err)
	}
	if err := r.do(60*time.Second, chromedp.Navigate(r.base+"/index.html")); err != nil {
		return nil, fmt.Errorf("LiteRT.js page: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, err := eval[bool](r, 60*time.Second, `window.litert !== undefined && window.litert.ready.then(() => true)`)
		if err != nil {
			return nil, fmt.Errorf("loading LiteRT.js: %w", err)
		}
		if ok {
			return r, nil
		}
		if time.Now().After(deadline) {
			return nil, errors.New("LiteRT.js did not load within 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close stops the browser and the page's server.
func (r *Runtime) Close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

func (r *Runtime) do(timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

func eval[T any](r *Runtime, timeout time.Duration, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// blob makes b fetchable once by the page and returns its path.
func (r *Runtime) blob(b []byte) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	p := "/blob/" + strconv.Itoa(r.next)
	r.blobs[p] = b
	return p
}

// Load compiles a model.
func (r *Runtime) Load(model []byte) (*Model, error) {
	type loaded struct {
		ID      int      `json:"id"`
		Inputs  []Tensor `json:"inputs"`
		Outputs []Tensor `json:"outputs"`
	}
	v, err := eval[loaded](r, 120*time.Second, fmt.Sprintf("window.litert.load(%q)", r.blob(model)))
	if err != nil {
		return nil, fmt.Errorf("LiteRT.js cannot load the model: %w", err)
	}
	return &Model{r: r, id: v.ID, Inputs: v.Inputs, Outputs: v.Outputs}, nil
}

// Close frees the compiled model in the page.
func (m *Model) Close() {
	eval[any](m.r, 30*time.Second, fmt.Sprintf("window.litert.free(%d)", m.id))
}

// Run runs the model on the inputs, one array per model input, each of the
// input's dtype. As with core/runtimetest, an array of shape [N] + S[1:]
// for a model input of shape S = [1, ...], or of shape [N] + S, is a batch
// of N samples, run one by one; each output is then stacked on axis 0,
// giving [N] + O[1:] when the output shape O starts with 1 and [N] + O
// otherwise. An array of shape S is one sample, whose outputs keep their
// shapes. LiteRT.js cannot run models with a dynamic (-1) input
// dimension; see [Static].
func (m *Model) Run(inputs ...*npy.Array) ([]*npy.Array, error) {
	if len(inputs) != len(m.Inputs) {
		return nil, fmt.Errorf("%d inputs for a model with %d", len(inputs), len(m.Inputs))
	}
	batch := -1 // samples, or -1 for one unbatched sample
	for k, a := range inputs {
		want := m.Inputs[k]
		for _, d := range want.Shape {
			if d < 0 {
				return nil, fmt.Errorf("input %d (%s) has shape %v: LiteRT.js (2.5) runs no model with a dynamic dimension", k, want.Name, want.Shape)
			}
		}
		if a.DType.String() != want.DType {
			return nil, fmt.Errorf("input %d (%s): %s data for a %s input", k, want.Name, a.DType, want.DType)
		}
		n := 0
		switch {
		case slices.Equal(a.Shape, want.Shape):
			n = -1
		case len(want.Shape) > 0 && want.Shape[0] == 1 && len(a.Shape) == len(want.Shape) && slices.Equal(a.Shape[1:], want.Shape[1:]):
			n = a.Shape[0]
		case len(a.Shape) == len(want.Shape)+1 && slices.Equal(a.Shape[1:], want.Shape):
			n = a.Shape[0]
		default:
			return nil, fmt.Errorf("input %d (%s): shape %v for an input of shape %v", k, want.Name, a.Shape, want.Shape)
		}
		if k > 0 && n != batch {
			return nil, fmt.Errorf("input %d (%s): %d samples, input 0 has %d", k, want.Name, n, batch)
		}
		batch = n
	}
	samples := max(batch, 1)
	type output struct {
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
		Data  string `json:"data"`
	}
	outs := make([]*npy.Array, len(m.Outputs))
	for i := 0; i < samples; i++ {
		var args []string
		for k, a := range inputs {
			data, shape := a.Data, a.Shape
			if batch > 0 {
				per := len(a.Data) / batch
				data, shape = a.Data[i*per:(i+1)*per], m.Inputs[k].Shape
			}
			args = append(args, fmt.Sprintf("{url: %q, dtype: %q, shape: %s}", m.r.blob(data), m.Inputs[k].DType, jsInts(shape)))
		}
		res, err := eval[[]output](m.r, 120*time.Second, fmt.Sprintf("window.litert.run(%d, [%s])", m.id, strings.Join(args, ", ")))
		if err != nil {
			return nil, fmt.Errorf("LiteRT.js run (sample %d): %w", i, err)
		}
		if len(res) != len(outs) {
			return nil, fmt.Errorf("LiteRT.js gave %d outputs, the model has %d", len(res), len(outs))
		}
		for k, o := range res {
			dt, err := npy.ParseDType(o.DType)
			if err != nil {
				return nil, fmt.Errorf("output %d: %w", k, err)
			}
			b, err := base64.StdEncoding.DecodeString(o.Data)
			if err != nil {
				return nil, fmt.Errorf("output %d: %w", k, err)
			}
			if outs[k] == nil {
				shape := append([]int(nil), o.Shape...)
				if batch > 0 {
					if len(shape) > 0 && shape[0] == 1 {
						shape = shape[1:]
					}
					shape = append([]int{batch}, shape...)
				}
				outs[k] = &npy.Array{DType: dt, Shape: shape}
			}
			outs[k].Data = append(outs[k].Data, b...)
		}
	}
	for k, a := range outs {
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("output %d: %w", k, err)
		}
	}
	return outs, nil
}

// Time returns the mean wall time of one inference in milliseconds, over
// runs inferences after warmup untimed ones, on one sample (arrays of the
// inputs' exact shapes), timed in the page around LiteRT.js's run.
func (m *Model) Time(inputs []*npy.Array, warmup, runs int) (float64, error) {
	if len(inputs) != len(m.Inputs) {
		return 0, fmt.Errorf("%d inputs for a model with %d", len(inputs), len(m.Inputs))
	}
	var args []string
	for k, a := range inputs {
		if a.DType.String() != m.Inputs[k].DType || !slices.Equal(a.Shape, m.Inputs[k].Shape) {
			return 0, fmt.Errorf("input %d (%s): %s %v for a %s %v input", k, m.Inputs[k].Name, a.DType, a.Shape, m.Inputs[k].DType, m.Inputs[k].Shape)
		}
		args = append(args, fmt.Sprintf("{url: %q, dtype: %q, shape: %s}", m.r.blob(a.Data), a.DType, jsInts(a.Shape)))
	}
	ms, err := eval[float64](m.r, 10*time.Minute, fmt.Sprintf("window.litert.time(%d, [%s], %d, %d)", m.id, strings.Join(args, ", "), warmup, runs))
	if err != nil {
		return 0, fmt.Errorf("LiteRT.js timing: %w", err)
	}
	return ms, nil
}

// RunBytes compiles model, runs it on the inputs (see Model.Run) and frees
// it, failing the test on any error.
func (r *Runtime) RunBytes(t testing.TB, model []byte, inputs ...*npy.Array) []*npy.Array {
	t.Helper()
	m, err := r.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out, err := m.Run(inputs...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func jsInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// Static returns a copy of model without shape signatures, so that its
// dynamic dimensions take the sizes stored in its shapes (usually 1):
// LiteRT.js runs no model with a dynamic input dimension. Nothing else
// changes.
func Static(model []byte) ([]byte, error) {
	m, err := tflite.Load(model)
	if err != nil {
		return nil, err
	}
	for _, sg := range m.Subgraphs {
		for _, t := range sg.Tensors {
			t.ShapeSignature = nil
		}
	}
	return m.Save()
}
