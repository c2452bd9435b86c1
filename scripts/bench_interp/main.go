// Command bench_interp compares the speed of the Go interpreter
// (core/interp) with TensorFlow Lite's own runtime on float models.
//
// Usage, from anywhere in the repository:
//
//	go run ./scripts/bench_interp [--model PATH ...] [--runs N] [--rounds N] [--warmup N]
//
// For each model (default: mobilenet_v1_0.25_224_float and iris_landmark
// from ../shared/models next to the repository, and the 257×257
// segmentation-size model of scripts/bench_page/segmodel) it writes deterministic
// random inputs to a temporary .npy file per model input and measures the
// mean wall time of one inference over --runs calls, after --warmup calls,
// in each of these ways:
//
//   - go native: the interpreter in this process, with its default worker
//     goroutines (GOMAXPROCS, see core/interp's LITEQUANT_THREADS);
//   - go 1 thread: the same in a child process with LITEQUANT_THREADS=1;
//   - go wasm: the interpreter compiled with GOOS=js GOARCH=wasm
//     (./scripts/bench_interp/wasm) and run by Node with Go's
//     lib/wasm/wasm_exec_node.js;
//   - wasm chrome: the same in a headless chromium page
//     (./scripts/bench_interp/wasmpage), as the converter page runs it
//     (left out with --no-litert, or when chromium is missing);
//   - tflite: the real runtime, 1 thread (WebAssembly SIMD build, in Node),
//     through scripts/tflite_run.js;
//   - litert.js: the current LiteRT web runtime (XNNPack, WebAssembly,
//     1 thread) in headless chromium, through core/runtimetest/litert
//     (left out with --no-litert, or when chromium is missing).
//
// The measurements are repeated --rounds times, interleaved, so that each
// sees the same conditions on a busy machine, and the median of the rounds
// is reported with its ratios to the runtimes'. It needs node in PATH and
// scripts/node_modules installed (npm ci --prefix scripts).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"litequant/core/fixtures"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"litequant/core/npy"
	"litequant/core/runtimetest/litert"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
	"litequant/scripts/bench_interp/benchcore"
	"litequant/scripts/bench_page/segmodel"
)

var defaultModels = []string{"mobilenet_v1_0.25_224_float", "iris_landmark"}

type modelList []string

func (m *modelList) String() string     { return strings.Join(*m, ",") }
func (m *modelList) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var models modelList
	flag.Var(&models, "model", "model file (repeatable; default: the two reference models in ../shared/models)")
	runs := flag.Int("runs", 20, "timed inferences per measurement")
	rounds := flag.Int("rounds", 5, "interleaved repetitions of the four measurements")
	warmup := flag.Int("warmup", 5, "untimed inferences before timing")
	child := flag.Bool("native-child", false, "internal: time natively and print JSON")
	noLiteRT := flag.Bool("no-litert", false, "leave out LiteRT.js (chromium)")
	flag.Parse()
	if *child {
		res, err := benchcore.Time(flag.Arg(0), flag.Args()[1:], *warmup, *runs)
		if err != nil {
			fail(err)
		}
		out, _ := json.Marshal(res)
		fmt.Println(string(out))
		return
	}
	if *runs < 1 || *warmup < 1 || *rounds < 1 {
		fail(errors.New("--runs, --rounds and --warmup must be at least 1"))
	}
	if err := run(models, *runs, *rounds, *warmup, !*noLiteRT); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench_interp:", err)
	os.Exit(1)
}

// The measurements, in table order.
const (
	mNative = iota
	mSingle
	mWasm
	mWasmPage
	mRuntime
	mLiteRT
	numMeasures
)

type row struct {
	name string
	ms   [numMeasures][]float64 // one mean per round
	err  []string
}

// median returns the median of v, or 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64{}, v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func run(models []string, runs, rounds, warmup int, withLiteRT bool) error {
	root, err := fixtures.RepoRoot()
	if err != nil {
		return err
	}
	defaults := len(models) == 0
	if defaults {
		for _, m := range defaultModels {
			models = append(models, filepath.Join(filepath.Dir(root), "shared", "models", m+".tflite"))
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return errors.New("node is not in PATH")
	}
	tmp, err := os.MkdirTemp("", "bench_interp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if defaults { // and a segmentation-size model (../shared has none)
		seg := filepath.Join(tmp, "segmentation_257.tflite")
		if err := os.WriteFile(seg, segmodel.Build(), 0o644); err != nil {
			return err
		}
		models = append(models, seg)
	}

	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %v", err)
	}
	wasmExec := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec_node.js")
	if _, err := os.Stat(wasmExec); err != nil {
		return fmt.Errorf("%s is missing (needed to run the js/wasm build)", wasmExec)
	}
	wasmBin := filepath.Join(tmp, "bench.wasm")
	fmt.Fprintln(os.Stderr, "building the js/wasm benchmark...")
	build := exec.Command("go", "build", "-o", wasmBin, "./scripts/bench_interp/wasm")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the wasm benchmark: %v\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var page *wasmPage
	if withLiteRT {
		fmt.Fprintln(os.Stderr, "starting the js/wasm interpreter in chromium...")
		if page, err = openWasmPage(root, strings.TrimSpace(string(goroot)), filepath.Join(tmp, "page")); err != nil {
			fmt.Fprintf(os.Stderr, "go wasm in chromium left out: %v\n", err)
			page = nil
		} else {
			defer page.Close()
		}
	}
	var lrt *litert.Runtime
	if withLiteRT {
		fmt.Fprintln(os.Stderr, "starting LiteRT.js in chromium...")
		if lrt, err = litert.Open(); err != nil {
			fmt.Fprintf(os.Stderr, "LiteRT.js left out: %v\n", err)
		} else {
			defer lrt.Close()
		}
	}

	var rows []row
	for mi, path := range models {
		name := strings.TrimSuffix(filepath.Base(path), ".tflite")
		fmt.Fprintf(os.Stderr, "%s...\n", name)
		inputs, err := writeInputs(path, filepath.Join(tmp, fmt.Sprintf("m%d", mi)))
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		r := row{name: name}
		note := func(what string, err error) {
			r.err = append(r.err, fmt.Sprintf("%s: %v", what, err))
		}
		for round := 0; round < rounds; round++ {
			if res, err := benchcore.Time(path, inputs, warmup, runs); err != nil {
				note("go native", err)
			} else {
				r.ms[mNative] = append(r.ms[mNative], res.MeanMs)
			}
			var res benchcore.Result
			cmd := exec.Command(self, append([]string{"--native-child", fmt.Sprintf("--runs=%d", runs), fmt.Sprintf("--warmup=%d", warmup), path}, inputs...)...)
			cmd.Env = append(os.Environ(), "LITEQUANT_THREADS=1")
			if err := runJSON(cmd, &res); err != nil {
				note("go 1 thread", err)
			} else {
				r.ms[mSingle] = append(r.ms[mSingle], res.MeanMs)
			}
			cmd = exec.Command(node, append([]string{wasmExec, wasmBin, "--model", path, fmt.Sprintf("--runs=%d", runs), fmt.Sprintf("--warmup=%d", warmup)}, inputs...)...)
			if err := runJSON(cmd, &res); err != nil {
				note("go wasm", err)
			} else {
				r.ms[mWasm] = append(r.ms[mWasm], res.MeanMs)
			}
			if page != nil {
				if ms, err := page.time(path, inputs, warmup, runs); err != nil {
					note("go wasm in chromium", err)
				} else {
					r.ms[mWasmPage] = append(r.ms[mWasmPage], ms)
				}
			}
			if ms, err := runRuntime(node, root, path, inputs, filepath.Join(tmp, fmt.Sprintf("out%d", mi)), runs, warmup); err != nil {
				note("tflite", err)
			} else {
				r.ms[mRuntime] = append(r.ms[mRuntime], ms)
			}
			if lrt != nil {
				if ms, err := timeLiteRT(lrt, path, inputs, runs, warmup); err != nil {
					note("litert.js", err)
				} else {
					r.ms[mLiteRT] = append(r.ms[mLiteRT], ms)
				}
			}
			if len(r.err) > 0 {
				break
			}
		}
		rows = append(rows, r)
	}
	printTable(rows, runs, rounds)
	return nil
}

// writeInputs writes one deterministic random .npy file per model input
// into dir and returns their paths.
func writeInputs(modelPath, dir string) ([]string, error) {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return nil, err
	}
	m, err := tflite.Load(data)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	sg := m.Subgraphs[0]
	var paths []string
	for i, ti := range sg.Inputs {
		t := sg.Tensors[ti]
		shape := make([]int, len(t.Shape))
		count := 1
		for j, d := range t.Shape {
			shape[j] = max(int(d), 1)
			count *= shape[j]
		}
		var a *npy.Array
		switch t.Type {
		case fb.TensorTypeFLOAT32:
			v := make([]float32, count)
			for j := range v {
				v[j] = r.Float32()*2 - 1
			}
			a = npy.FromFloat32(shape, v)
		case fb.TensorTypeINT32:
			v := make([]int32, count)
			for j := range v {
				v[j] = int32(r.IntN(4))
			}
			a = npy.FromInt32(shape, v)
		case fb.TensorTypeUINT8:
			v := make([]uint8, count)
			for j := range v {
				v[j] = uint8(r.IntN(256))
			}
			a = npy.FromUint8(shape, v)
		case fb.TensorTypeINT8:
			v := make([]int8, count)
			for j := range v {
				v[j] = int8(r.IntN(256) - 128)
			}
			a = npy.FromInt8(shape, v)
		default:
			return nil, fmt.Errorf("input %d has type %s, which this benchmark does not generate", i, tflite.TypeName(t.Type))
		}
		p := filepath.Join(dir, fmt.Sprintf("in%d.npy", i))
		if err := npy.WriteFile(p, a); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// runJSON runs cmd and decodes the last line of its output into v.
func runJSON(cmd *exec.Cmd, v any) error {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return json.Unmarshal([]byte(lines[len(lines)-1]), v)
}

// runRuntime times the model in the real runtime with scripts/tflite_run.js.
func runRuntime(node, root, model string, inputs []string, out string, runs, warmup int) (float64, error) {
	args := []string{filepath.Join(root, "scripts", "tflite_run.js"), "--model", model, "--out", out,
		"--threads", "1", fmt.Sprintf("--warmup=%d", warmup), fmt.Sprintf("--repeat=%d", runs)}
	cmd := exec.Command(node, append(args, inputs...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	data, err := os.ReadFile(filepath.Join(out, "meta.json"))
	if err != nil {
		return 0, err
	}
	var meta struct {
		MsPerInference *float64 `json:"ms_per_inference"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return 0, err
	}
	if meta.MsPerInference == nil {
		return 0, errors.New("meta.json has no ms_per_inference")
	}
	return *meta.MsPerInference, nil
}

// timeLiteRT times the model in LiteRT.js on the input files.
func timeLiteRT(r *litert.Runtime, model string, inputs []string, runs, warmup int) (float64, error) {
	data, err := os.ReadFile(model)
	if err != nil {
		return 0, err
	}
	var arrays []*npy.Array
	for _, p := range inputs {
		a, err := npy.ReadFile(p)
		if err != nil {
			return 0, err
		}
		arrays = append(arrays, a)
	}
	m, err := r.Load(data)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	return m.Time(arrays, warmup, runs)
}

func printTable(rows []row, runs, rounds int) {
	ms := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f ms", v)
	}
	ratio := func(a, b float64) string {
		if a == 0 || b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", a/b)
	}
	fmt.Printf("ms per inference: median of %d rounds, each the mean of %d inferences\n", rounds, runs)
	fmt.Printf("%-30s %11s %11s %11s %11s %11s %11s   %13s %14s %11s %11s %15s\n", "model", "go native", "go 1 thread", "go wasm", "wasm chrome", "tflite", "litert.js",
		"native/tflite", "1thread/tflite", "wasm/tflite", "wasm/litert", "chrome/litert")
	for _, r := range rows {
		var m [numMeasures]float64
		for i := range m {
			m[i] = median(r.ms[i])
		}
		fmt.Printf("%-30s %11s %11s %11s %11s %11s %11s   %13s %14s %11s %11s %15s\n", r.name, ms(m[mNative]), ms(m[mSingle]), ms(m[mWasm]), ms(m[mWasmPage]), ms(m[mRuntime]), ms(m[mLiteRT]),
			ratio(m[mNative], m[mRuntime]), ratio(m[mSingle], m[mRuntime]), ratio(m[mWasm], m[mRuntime]), ratio(m[mWasm], m[mLiteRT]), ratio(m[mWasmPage], m[mLiteRT]))
		for _, e := range r.err {
			fmt.Printf("  %s\n", e)
		}
	}
}
