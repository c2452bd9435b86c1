// Command bench_page measures the page's int8 calibration in headless
// chromium, per model and per number of workers (the page's Threads
// option), beside the native converter.
//
// Usage, from anywhere in the repository:
//
//	go run ./scripts/bench_page [--model PATH ...] [--images N] [--threads 1,2,4] [--repeat 3]
//
// For each model (default: mobilenet_v1_0.25_224_float and iris_landmark
// from ../shared/models, and a 257×257 segmentation-size model built in
// code, scripts/bench_page/segmodel) it builds the site (as scripts/serve
// does), and for each thread count opens the page in a fresh chromium
// profile (so nothing is cached), picks the model and --images copies of
// the shared photos, quantizes to int8 with every photo calibrating, and
// reads the calibration's ms/sample from the report, --repeat times per
// thread count (the counts alternating in each round). It prints the
// medians with their ratio to the 1-worker figure, the native converter's
// ms/sample, and the peak memory (PSS) of chromium's processes, and under
// each model where the time went (profile.go: each shard's wall and calibration
// time, the merge, the CPU time of the worker threads, of chromium and of
// the whole machine). Then it runs scripts/bench_interp on the same models
// (--interp-rounds rounds) for the per-inference figures (Go native, Go
// wasm, TFLite, LiteRT.js) and their wasm/LiteRT.js ratio.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"litequant/core/convert"
	"litequant/core/fixtures"
	"litequant/core/runtimetest/chromium"
	"litequant/core/samples"
	"litequant/scripts/bench_page/procmem"
	"litequant/scripts/bench_page/segmodel"
	"litequant/scripts/serve/sitebuild"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var models list
	flag.Var(&models, "model", "model file (repeatable; default: mobilenet_v1_0.25, iris_landmark and a 257×257 segmentation-size model)")
	images := flag.Int("images", 48, "calibration images (the shared photos, repeated)")
	threads := flag.String("threads", "", "comma-separated worker counts (default: 1, 2 and the machine's cores when more)")
	repeat := flag.Int("repeat", 3, "rounds of page runs per model; the figures are the medians, every run is listed under them")
	interpRounds := flag.Int("interp-rounds", 3, "rounds of scripts/bench_interp after the page runs, for the per-inference wasm/LiteRT.js ratio (0: none)")
	flag.Parse()
	if *repeat < 1 {
		fmt.Fprintln(os.Stderr, "bench_page: --repeat wants at least 1")
		os.Exit(2)
	}
	if err := run(models, *images, *threads, *repeat); err != nil {
		fmt.Fprintln(os.Stderr, "bench_page:", err)
		os.Exit(1)
	}
	if *interpRounds > 0 {
		if err := perInference(models, *interpRounds); err != nil {
			fmt.Fprintln(os.Stderr, "bench_page: bench_interp:", err)
			os.Exit(1)
		}
	}
}

func run(models []string, nImages int, threadList string, repeat int) error {
	root, err := fixtures.RepoRoot()
	if err != nil {
		return err
	}
	browser := chromium.Find()
	if browser == "" {
		return errors.New("chromium not found (make deps, or set CHROMIUM)")
	}
	tmp, err := os.MkdirTemp("", "bench_page-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	shared := filepath.Join(filepath.Dir(root), "shared")
	if len(models) == 0 {
		for _, m := range []string{"mobilenet_v1_0.25_224_float", "iris_landmark"} {
			models = append(models, filepath.Join(shared, "models", m+".tflite"))
		}
		seg := filepath.Join(tmp, "segmentation_257.tflite")
		if err := os.WriteFile(seg, segmodel.Build(), 0o644); err != nil {
			return err
		}
		models = append(models, seg)
	}
	counts := []int{1, 2}
	if c := runtime.NumCPU(); c > 2 {
		counts = append(counts, min(c, 8))
	}
	if threadList != "" {
		counts = nil
		for _, f := range strings.Split(threadList, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return fmt.Errorf("--threads: %q is not a worker count", f)
			}
			counts = append(counts, n)
		}
	}
	images, err := imageCopies(filepath.Join(shared, "data", "images"), filepath.Join(tmp, "images"), nImages)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "building the site...")
	site, err := sitebuild.Build(context.Background(), sitebuild.Options{Root: root, Out: filepath.Join(tmp, "site"), Version: "bench"})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sitebuild.Handler(site.Dir)}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/"

	fmt.Printf("page int8 calibration, %d images, ms/sample: median of %d runs (ratio to 1 worker's median); peak chromium PSS\n", nImages, repeat)
	for _, path := range models {
		if path, err = filepath.Abs(path); err != nil { // chromium's file input wants absolute paths
			return err
		}
		name := strings.TrimSuffix(filepath.Base(path), ".tflite")
		fmt.Fprintf(os.Stderr, "%s: native...\n", name)
		nat, err := nativeMS(path, images)
		if err != nil {
			return fmt.Errorf("%s: native: %v", name, err)
		}
		line := fmt.Sprintf("%-30s native %7.1f", name, nat)
		var profiles, cpuRatios []string
		ms := map[int][]float64{}
		cpu := map[int][]float64{}
		peak := map[int]int64{}
		// The thread counts alternate within each round, so that a slow
		// spell of the machine falls on both sides of a ratio.
		for r := 0; r < repeat; r++ {
			for _, n := range counts {
				fmt.Fprintf(os.Stderr, "%s: %d worker(s), round %d of %d...\n", name, n, r+1, repeat)
				v, pk, prof, err := pageMS(browser, filepath.Join(tmp, fmt.Sprintf("profile-%s-%d-%d", name, n, r)), url, path, images, n)
				if err != nil {
					return fmt.Errorf("%s, %d workers: %v", name, n, err)
				}
				profiles = append(profiles, fmt.Sprintf("  %s, %d worker(s), round %d: %.1f ms/sample; %s", name, n, r+1, v, prof))
				ms[n] = append(ms[n], v)
				cpu[n] = append(cpu[n], prof.busiest())
				peak[n] = max(peak[n], pk)
			}
		}
		one, oneCPU := median(ms[1]), median(cpu[1])
		for _, n := range counts {
			m := median(ms[n])
			ratio := "-"
			if one > 0 {
				ratio = fmt.Sprintf("%.2fx", m/one)
			}
			if n > 1 && oneCPU > 0 && median(cpu[n]) > 0 {
				// On a machine busy with other work the workers get less than a
				// core each and the ms/sample ratio says little: the busiest
				// worker's CPU time over the single worker's is the ratio the
				// wall times tend to when each worker has a core to itself.
				cpuRatios = append(cpuRatios, fmt.Sprintf("%d workers %.2fx", n, median(cpu[n])/oneCPU))
			}
			line += fmt.Sprintf(" | %d worker(s) %7.1f (%s, %d MiB)", n, m, ratio, peak[n]>>20)
		}
		fmt.Println(line)
		if len(cpuRatios) > 0 {
			fmt.Printf("  busiest worker's CPU time (click to done) over the 1-worker run's: %s\n", strings.Join(cpuRatios, ", "))
		}
		for _, p := range profiles {
			fmt.Println(p)
		}
	}
	return nil
}

// median is the middle value of xs (the mean of the middle two for an
// even count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// nativeMS is the native converter's calibration ms/sample.
func nativeMS(model string, images []string) (float64, error) {
	data, err := os.ReadFile(model)
	if err != nil {
		return 0, err
	}
	files, err := samples.ReadPaths(images)
	if err != nil {
		return 0, err
	}
	res, err := convert.Convert(context.Background(), convert.Request{Model: data, Calib: files, Options: convert.Options{Mode: "int8"}})
	if err != nil {
		return 0, err
	}
	c := res.Report.Calibration
	return c.ElapsedMS / float64(c.Samples), nil
}

// pageMS quantizes in a fresh chromium profile with n workers and returns
// the report's calibration ms/sample and the peak PSS of chromium.
func pageMS(browser, profile, url, model string, images []string, n int) (float64, int64, *profile, error) {
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromium.Options(browser, profile)...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	if err := chromedp.Do(ctx); err != nil {
		return 0, 0, nil, err
	}
	pid := 0
	if c := chromedp.FromContext(ctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		pid = c.Browser.Process().Pid
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	wait := func(expr string) error {
		if os.Getenv("BENCH_PAGE_DEBUG") != "" {
			fmt.Fprintln(os.Stderr, "  waiting for", expr)
		}
		for {
			ok, err := chromedp.Run(tctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	set := func(sel, prop string, v any) chromedp.Action[chromedp.Void] {
		js, _ := json.Marshal(v)
		return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.%s = %s;
			e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, sel, prop, js))(ctx, t)
			return chromedp.Void{}, err
		}
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
		return 0, 0, nil, err
	}
	if err := wait(`document.body.dataset.ready === "true"`); err != nil {
		return 0, 0, nil, err
	}
	if err := chromedp.Do(tctx, chromedp.SetUploadFiles(chromedp.CSS("#model"), []string{model})); err != nil {
		return 0, 0, nil, err
	}
	if err := wait(`document.querySelector("#summary dl") !== null`); err != nil {
		return 0, 0, nil, err
	}
	if err := chromedp.Do(tctx, set("#mode", "value", "int8"), chromedp.SetUploadFiles(chromedp.CSS("#samples"), images),
		set("#verify", "checked", false), set("#threads", "value", strconv.Itoa(n))); err != nil {
		return 0, 0, nil, err
	}
	peak := int64(0)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if pid > 0 {
				peak = max(peak, procmem.TreePSS(pid))
			}
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond): // reading smaps costs CPU the workers want
			}
		}
	}()
	before, machine0 := procmem.TreeThreads(pid), machineBusy()
	t0 := time.Now()
	// One call clicks and resolves when the status is final (a
	// MutationObserver, not polling: on 2 cores a poll every few
	// milliseconds would take CPU from the workers being measured).
	_, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`new Promise((resolve) => {
		const st = document.querySelector("#status");
		const final = () => ["done", "cached", "error", "cancelled"].includes(st.dataset.kind);
		const obs = new MutationObserver(() => { if (final()) { obs.disconnect(); resolve(true); } });
		obs.observe(st, { attributes: true, attributeFilter: ["data-kind"] });
		document.querySelector("#quantize").click();
	})`, chromedp.EvalAwaitPromise))
	wall := time.Since(t0)
	after, machine1 := procmem.TreeThreads(pid), machineBusy()
	close(stop)
	<-done
	if err != nil {
		return 0, 0, nil, err
	}
	type status struct {
		Text string `json:"text"`
		Kind string `json:"kind"`
	}
	st, err := chromedp.Run(tctx, chromedp.Evaluate[status](`({text: document.querySelector("#status").textContent, kind: document.querySelector("#status").dataset.kind})`))
	if err != nil {
		return 0, 0, nil, err
	}
	if st.Kind != "done" {
		return 0, 0, nil, fmt.Errorf("status %q (%s)", st.Text, st.Kind)
	}
	type calib struct {
		Samples   int     `json:"samples"`
		ElapsedMS float64 `json:"elapsed_ms"`
	}
	c, err := chromedp.Run(tctx, chromedp.Evaluate[calib](`(async () => JSON.parse(await (await fetch(document.querySelector("#report-download").href)).text()).calibration)()`, chromedp.EvalAwaitPromise))
	if err != nil {
		return 0, 0, nil, err
	}
	if c.Samples == 0 {
		return 0, 0, nil, errors.New("the report has no calibration")
	}
	prof, err := readProfile(tctx, wall, before, after, machine1-machine0)
	if err != nil {
		return 0, 0, nil, err
	}
	return c.ElapsedMS / float64(c.Samples), peak, prof, nil
}

// imageCopies copies the photos in src into dst as often as needed for n
// files, named so that they sort in order.
func imageCopies(src, dst string, n int) ([]string, error) {
	paths, _ := filepath.Glob(filepath.Join(src, "*"))
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, fmt.Errorf("no images in %s", src)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for i := 0; i < n; i++ {
		data, err := os.ReadFile(paths[i%len(paths)])
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dst, fmt.Sprintf("%03d-%s", i, filepath.Base(paths[i%len(paths)])))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
