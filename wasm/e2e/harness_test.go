//go:build !js

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"litequant/core/fixtures"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"litequant/core/runtimetest/chromium"
	"litequant/scripts/serve/sitebuild"
)

var (
	repoRoot    string
	browserPath string
	skipReason  string // why browser tests cannot run
	site        *sitebuild.Info
	siteErr     error
)

func TestMain(m *testing.M) {
	code := func() int {
		var err error
		if repoRoot, err = fixtures.RepoRoot(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		browserPath = chromium.Find()
		if browserPath == "" {
			skipReason = "chromium not found: `make deps` installs Debian's chromium (set CHROMIUM to use another binary)"
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "litequant-e2e-site-*")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		site, siteErr = sitebuild.Build(context.Background(), sitebuild.Options{Root: repoRoot, Out: filepath.Join(dir, "site"), Version: "e2e"})
		return m.Run()
	}()
	os.Exit(code)
}

// requireBrowser skips the test without chromium, or fails it under CI.
func requireBrowser(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		if os.Getenv("CI") != "" {
			t.Fatal(skipReason + "; CI is set, so the browser tests must run")
		}
		t.Skip(skipReason)
	}
	if siteErr != nil {
		t.Fatalf("building the site: %v", siteErr)
	}
}

// server serves the built site on a free port of 127.0.0.1.
type server struct {
	URL string
	srv *http.Server
	mu  sync.Mutex
	log []string // request paths
}

func startServer(t *testing.T) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{URL: "http://" + ln.Addr().String() + "/"}
	h := sitebuild.Handler(site.Dir)
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.log = append(s.log, r.URL.Path)
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// browser is a headless chromium with a fresh profile. Every request the
// page makes is recorded (network events), and the browser's proxy is a
// local recorder, so a request to any origin but the loopback test server,
// from the page, a worker or the browser itself, is seen too.
type browser struct {
	t     *testing.T
	ctx   context.Context
	mu    sync.Mutex
	urls  []string // every request the page made
	proxy []string // every request that reached the proxy
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	requireBrowser(t)
	b := &browser{t: t}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.proxy = append(b.proxy, r.Method+" "+r.Host+r.URL.Path)
		b.mu.Unlock()
		http.Error(w, "no requests leave this machine", http.StatusForbidden)
	})}
	go proxy.Serve(ln)
	t.Cleanup(func() { proxy.Close() })

	opts := append(chromium.Options(browserPath, t.TempDir()), chromedp.ProxyServer("http://"+ln.Addr().String()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.urls = append(b.urls, e.Request.URL)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	b.ctx = ctx
	return b
}

// do runs actions with a time limit.
func (b *browser) do(timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluating %.80s: %v", expr, err)
	}
	return v
}

// waitFor polls a boolean expression.
func (b *browser) waitFor(expr string, timeout time.Duration, what string) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if eval[bool](b, expr) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out after %v waiting for %s; status: %q", timeout, what, b.status().Text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open loads the page and waits for the converter; it returns the time
// from navigation start to the converter being ready.
func (b *browser) open(url string) time.Duration {
	b.t.Helper()
	b.do(30*time.Second, chromedp.Navigate(url))
	b.waitFor(`document.body.dataset.ready === "true"`, 60*time.Second, "the converter to load")
	ms := eval[float64](b, `Number(document.body.dataset.readyMs)`)
	return time.Duration(ms * float64(time.Millisecond))
}

func (b *browser) reload() time.Duration {
	b.t.Helper()
	b.do(30*time.Second, chromedp.Reload())
	b.waitFor(`document.body.dataset.ready === "true"`, 60*time.Second, "the converter to load after reload")
	return time.Duration(eval[float64](b, `Number(document.body.dataset.readyMs)`) * float64(time.Millisecond))
}

func (b *browser) upload(sel string, paths ...string) {
	b.t.Helper()
	b.do(30*time.Second, chromedp.SetUploadFiles(chromedp.CSS(sel), paths))
}

// set sets a control's value (or checkedness) and fires its change event.
func (b *browser) set(sel string, value any) {
	b.t.Helper()
	v, _ := json.Marshal(value)
	prop := "value"
	if _, ok := value.(bool); ok {
		prop = "checked"
	}
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.%s = %s;
		e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, sel, prop, v))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { document.querySelector(%q).click(); return true })()`, sel))
}

// status is the #status line.
type status struct {
	Text string `json:"text"`
	Kind string `json:"kind"`
}

func (b *browser) status() status {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[status](`({text: document.querySelector("#status").textContent, kind: document.querySelector("#status").dataset.kind || ""})`))
	return s
}

// pickModel chooses a model file and waits for its summary.
func (b *browser) pickModel(path string) {
	b.t.Helper()
	b.upload("#model", path)
	b.waitFor(`document.querySelector("#summary dl") !== null || document.querySelector("#status").dataset.kind === "error"`,
		60*time.Second, "the model summary")
}

// quantize presses Quantize and waits for the outcome.
func (b *browser) quantize(timeout time.Duration) (status, time.Duration) {
	b.t.Helper()
	start := time.Now()
	b.click("#quantize")
	b.waitFor(`["done", "cached", "error", "cancelled"].includes(document.querySelector("#status").dataset.kind)`, timeout, "the conversion")
	return b.status(), time.Since(start)
}

// download fetches the bytes behind #download.
func (b *browser) download() ([]byte, string) {
	b.t.Helper()
	type dl struct {
		Href, Name, Data string
	}
	d := eval[dl](b, `(async () => {
		const a = document.querySelector("#download");
		const buf = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
		let s = "";
		for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
		return {Href: a.href, Name: a.download, Data: btoa(s)};
	})()`)
	if !strings.HasPrefix(d.Href, "blob:") {
		b.t.Fatalf("#download href %q is not a blob: URL", d.Href)
	}
	data, err := base64.StdEncoding.DecodeString(d.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	return data, d.Name
}

// browserServices are the hosts of chromium's own background services that
// it contacts whatever page is open (flags turn most off, not these: the
// component updater and the Google account check). Requests to them at the
// proxy are the browser's, not the page's; the page's own requests are
// checked through the DevTools network events as well.
var browserServices = map[string]bool{"update.googleapis.com": true, "accounts.google.com": true}

// foreignRequests returns every request that left the page's origin.
func (b *browser) foreignRequests(origin string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, u := range b.urls {
		if strings.HasPrefix(u, origin+"/") || strings.HasPrefix(u, "blob:"+origin+"/") {
			continue
		}
		out = append(out, u)
	}
	for _, p := range b.proxy {
		host := strings.Fields(p)[1]
		host, _, _ = strings.Cut(host, "/")
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !browserServices[host] {
			out = append(out, p)
		}
	}
	return out
}

// requireNoForeignRequests checks that nothing left the origin and that
// the page's requests were seen at all.
func (b *browser) requireNoForeignRequests(srv *server) {
	b.t.Helper()
	if f := b.foreignRequests(strings.TrimSuffix(srv.URL, "/")); len(f) > 0 {
		b.t.Errorf("requests left the page's origin: %q", f)
	}
	b.mu.Lock()
	n := len(b.urls)
	b.mu.Unlock()
	if n == 0 {
		b.t.Error("no requests were observed: the network watch is not working")
	}
	// The worker's requests reach the server (and no other origin: the
	// proxy would have seen them).
	if !slices.Contains(srv.requests(), "/litequant.wasm") {
		b.t.Errorf("the server never served litequant.wasm; it got %q", srv.requests())
	}
}
