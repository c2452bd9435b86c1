//go:build !js

package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"litequant/core/convert"
	"litequant/scripts/bench_page/procmem"
	"litequant/scripts/bench_page/segmodel"
)

// poolRun quantizes modelPath to int8 in a fresh browser (so nothing is
// cached) with the page's Threads option set to threads, every image
// calibrating. It returns the download, the calibration's ms per sample
// (from the report), the workers the page sharded over (0: not sharded),
// and the peak memory of chromium's processes during the conversion.
func poolRun(t *testing.T, srv *server, modelPath string, images []string, threads int) (model []byte, msPerSample float64, workers int, peak int64) {
	t.Helper()
	b := newBrowser(t)
	b.open(srv.URL)
	b.pickModel(modelPath)
	b.set("#mode", "int8")
	b.upload("#samples", images...)
	b.set("#verify", false)
	b.set("#threads", strconv.Itoa(threads))
	stop := watchMemory(b)
	st, _ := b.quantize(20 * time.Minute)
	peak = stop()
	if st.Kind != "done" {
		t.Fatalf("%d threads: status %q (%s)", threads, st.Text, st.Kind)
	}
	model, _ = b.download()
	type calib struct {
		Samples   int     `json:"samples"`
		ElapsedMS float64 `json:"elapsed_ms"`
		Cached    bool    `json:"cached"`
	}
	c := eval[calib](b, `(async () => JSON.parse(await (await fetch(document.querySelector("#report-download").href)).text()).calibration)()`)
	if c.Cached || c.Samples != len(images) {
		t.Errorf("%d threads: report's calibration %+v, want %d samples, not cached", threads, c, len(images))
	}
	workers = eval[int](b, `performance.getEntriesByName("litequant-shards").map((e) => e.detail.workers).pop() || 0`)
	return model, c.ElapsedMS / float64(c.Samples), workers, peak
}

// TestPoolMatchesNative: mobilenet_v1_0.25 int8 on 48 images, calibrated
// by one worker and sharded over two and three, downloads the same bytes
// as the native converter. It logs the page's calibration ms/sample for
// each (the README's figures; no timing is asserted).
func TestPoolMatchesNative(t *testing.T) {
	modelPath := shared(t, "models", "mobilenet_v1_0.25_224_float.tflite")
	images := imagePaths(t, 48)
	want, native := nativeConvert(t, modelPath, images, convert.Options{Mode: "int8"})
	srv := startServer(t)
	for _, threads := range []int{1, 2, 3} {
		got, ms, workers, peak := poolRun(t, srv, modelPath, images, threads)
		if threads > 1 && workers != threads {
			t.Errorf("%d threads: the calibration was sharded over %d workers", threads, workers)
		}
		if threads == 1 && workers != 0 {
			t.Errorf("1 thread: the calibration was sharded over %d workers", workers)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d threads: the page's model (%d bytes) differs from the native converter's (%d bytes)", threads, len(got), len(want))
		}
		t.Logf("FIGURE page calibration, mobilenet_v1_0.25 int8, 48 images, %d worker(s): %.1f ms/sample; peak chromium memory %.0f MiB (native convert %v)",
			threads, ms, float64(peak)/(1<<20), native.Round(time.Millisecond))
	}
}

// TestPoolFailingSample: a damaged image among the samples fails a
// sharded run once, naming the file.
func TestPoolFailingSample(t *testing.T) {
	modelPath := shared(t, "models", "mobilenet_v1_0.25_224_float.tflite")
	images := imagePaths(t, 20)
	bad := filepath.Join(t.TempDir(), "15-broken.jpg")
	if err := os.WriteFile(bad, []byte("this is not a JPEG"), 0o644); err != nil {
		t.Fatal(err)
	}
	images = append(images, bad)
	srv := startServer(t)
	b := newBrowser(t)
	b.open(srv.URL)
	b.pickModel(modelPath)
	b.set("#mode", "int8")
	b.upload("#samples", images...)
	b.set("#verify", false)
	b.set("#threads", "2")
	st, _ := b.quantize(10 * time.Minute)
	if st.Kind != "error" || strings.Count(st.Text, "15-broken.jpg") != 1 {
		t.Fatalf("status %q (%s), want one error naming 15-broken.jpg once", st.Text, st.Kind)
	}
	// The pool is usable afterwards.
	b.upload("#samples", images[:9]...)
	if st, _ := b.quantize(10 * time.Minute); st.Kind != "done" {
		t.Errorf("after the failure: %q (%s)", st.Text, st.Kind)
	}
}

// watchMemory samples the proportional set size (PSS) of chromium's
// processes every 100 ms until the returned function is called, which
// returns the peak (0 where /proc is unavailable).
func watchMemory(b *browser) func() int64 {
	c := chromedp.FromContext(b.ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return func() int64 { return 0 }
	}
	root := c.Browser.Process().Pid
	var mu sync.Mutex
	var peak int64
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := procmem.TreePSS(root); v > 0 {
				mu.Lock()
				peak = max(peak, v)
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// TestPoolSegmentationMemory calibrates a 257×257 segmentation-size model
// (segmodel.Build) on 16 images with four workers: the result equals
// the native converter's, and the peak memory of chromium's processes is
// logged (the README's figure; not asserted). It takes minutes: one
// sample of this model is about a second of wasm.
func TestPoolSegmentationMemory(t *testing.T) {
	images := imagePaths(t, 16)
	modelPath := filepath.Join(t.TempDir(), "segmentation_257.tflite")
	if err := os.WriteFile(modelPath, segmodel.Build(), 0o644); err != nil {
		t.Fatal(err)
	}
	want, native := nativeConvert(t, modelPath, images, convert.Options{Mode: "int8"})
	srv := startServer(t)
	for _, threads := range []int{4} {
		got, ms, workers, peak := poolRun(t, srv, modelPath, images, threads)
		if threads > 1 && workers != threads {
			t.Errorf("%d threads: sharded over %d workers", threads, workers)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d threads: the page's model differs from the native converter's", threads)
		}
		t.Logf("FIGURE page calibration, 257×257 segmentation-size model (int8 output %d KB) int8, 16 images, %d worker(s): %.1f ms/sample; peak chromium memory (PSS) %.0f MiB (native convert %v)",
			len(want)/1024, threads, ms, float64(peak)/(1<<20), native.Round(time.Millisecond))
	}
}
