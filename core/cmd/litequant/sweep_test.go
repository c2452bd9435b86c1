package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"litequant/core/fixtures"
	"litequant/core/npy"
	"litequant/core/tflite"
)

// The sweep: mutated variants (truncations, bit flips, overwrites; a
// deterministic seed) of real models, each through `inspect`,
// `quantize --mode dynamic` and `quantize --mode int8` (calibrated on two
// samples made for the original model), each variant in a process of its
// own so that a hang is killed and its peak RSS measured. Every step must
// end (exit status 0, 1 or 2) within sweepStepLimit, none may report an
// internal error (a recovered panic) or crash, and no process may peak
// above sweepRSSLimit. LITEQUANT_SWEEP=N sets the number of variants
// (default 300, which keeps the test near a minute).
const (
	sweepStepLimit = 20 * time.Second
	sweepRSSLimit  = 2 << 30
	sweepChildEnv  = "LITEQUANT_SWEEP_CHILD"
	sweepWorkers   = 2 // child processes at a time
)

// sweepModels are the real models swept: float models that int8 mode
// calibrates, of several kinds (dense, convolutional, depthwise, batch
// matmul, a detector with many operators).
var sweepModels = []string{
	"hello_world_float.tflite",
	"single_fc_bias.tflite",
	"single_depthwise_conv2d_bias.tflite",
	"bmm.tflite",
	"conv_fc_mnist.tflite",
	"face_detection_short_range.tflite",
}

// mutation kinds, in turn.
var mutationKinds = []string{"truncate", "flip", "overwrite", "int32", "zeros"}

// mutate returns variant k of data.
func mutate(data []byte, r *rand.Rand, kind string) []byte {
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
		if at+4 <= n {
			v := vals[r.IntN(len(vals))]
			out[at], out[at+1], out[at+2], out[at+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
	case "zeros":
		at := r.IntN(n)
		for i := at; i < min(n, at+8+r.IntN(57)); i++ {
			out[i] = 0
		}
	}
	return out
}

type sweepStep struct {
	name   string
	status int
	ms     float64
	err    string
}

// TestSweepChild is the child side of TestSweep: it runs the three
// commands on the variant named by the environment and reports each on
// stdout. Without the variable it does nothing.
func TestSweepChild(t *testing.T) {
	spec := os.Getenv(sweepChildEnv)
	if spec == "" {
		return
	}
	parts := strings.Split(spec, "|")
	variant, calib := parts[0], parts[1:]
	out := filepath.Join(filepath.Dir(variant), "out.tflite")
	steps := [][]string{
		{"inspect", variant},
		{"quantize", "--mode", "dynamic", "--min-weight-elements", "1", "-o", out, variant},
		append(append([]string{"quantize", "--mode", "int8", "--calib-count", "2"}, calibFlags(calib)...), "-o", out, variant),
	}
	for _, args := range steps {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		status := run(args, &stdout, &stderr)
		ms := float64(time.Since(start).Microseconds()) / 1000
		fmt.Printf("STEP %s %d %.1f %s\n", args[0]+map[bool]string{true: "-" + argAfter(args, "--mode"), false: ""}[args[0] == "quantize"], status, ms, strings.ReplaceAll(strings.TrimSpace(stderr.String()), "\n", " / "))
	}
}

func calibFlags(files []string) []string {
	var out []string
	for _, f := range files {
		out = append(out, "--calib", f)
	}
	return out
}

func argAfter(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// writeCalib writes two samples for m's inputs, one .npy per input.
func writeCalib(t *testing.T, dir, base string, m *tflite.Model) []string {
	set, err := fixtures.Samples(m, base, 2)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for k, a := range fixtures.Stack(set) {
		p := filepath.Join(dir, fmt.Sprintf("%s.in%d.npy", base, k))
		if err := npy.WriteFile(p, a); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func TestSweep(t *testing.T) {
	if os.Getenv(sweepChildEnv) != "" {
		t.Skip("child process")
	}
	shared := fixtures.RequireShared(t)
	total := 300
	if v := os.Getenv("LITEQUANT_SWEEP"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("LITEQUANT_SWEEP=%q: want a number of variants", v)
		}
		total = n
	}
	dir := t.TempDir()
	type model struct {
		name  string
		data  []byte
		calib []string
	}
	var models []model
	for _, name := range sweepModels {
		data, err := os.ReadFile(filepath.Join(shared, "models", name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := tflite.Load(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		models = append(models, model{name, data, writeCalib(t, dir, name, m)})
	}
	type outcome struct{ ok, failed, bad int }
	counts := map[string]*outcome{}
	kinds := map[string]int{}
	var problems []string
	var maxRSS int64
	var slowest sweepStep
	slowestCase := ""
	start := time.Now()
	// The variants are made in order (one random stream, so the same
	// seed gives the same variants), then run sweepWorkers at a time.
	type job struct {
		i     int
		name  string
		path  string
		calib []string
		steps []sweepStep
		rss   int64
		err   error
	}
	r := rand.New(rand.NewPCG(16, 2026))
	jobs := make([]*job, total)
	for i := range jobs {
		md := models[i%len(models)]
		kind := mutationKinds[(i/len(models))%len(mutationKinds)]
		kinds[kind]++
		variant := mutate(md.data, r, kind)
		vdir := filepath.Join(dir, fmt.Sprintf("v%d", i))
		os.Mkdir(vdir, 0o755)
		vpath := filepath.Join(vdir, md.name)
		if err := os.WriteFile(vpath, variant, 0o644); err != nil {
			t.Fatal(err)
		}
		jobs[i] = &job{i: i, name: fmt.Sprintf("variant %d (%s, %s, %d bytes)", i, md.name, kind, len(variant)), path: vpath, calib: md.calib}
	}
	next := make(chan *job)
	var wg sync.WaitGroup
	for w := 0; w < sweepWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				j.steps, j.rss, j.err = runSweepChild(j.path, j.calib)
				os.RemoveAll(filepath.Dir(j.path))
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, j := range jobs {
		caseName, steps, rss := j.name, j.steps, j.rss
		if j.err != nil {
			problems = append(problems, caseName+": "+j.err.Error())
			continue
		}
		maxRSS = max(maxRSS, rss)
		if rss > sweepRSSLimit {
			problems = append(problems, fmt.Sprintf("%s: peak RSS %d MiB", caseName, rss>>20))
		}
		for _, s := range steps {
			o := counts[s.name]
			if o == nil {
				o = &outcome{}
				counts[s.name] = o
			}
			switch {
			case strings.Contains(s.err, "internal error") || s.status > 2 || s.status < 0:
				o.bad++
				problems = append(problems, fmt.Sprintf("%s: %s: status %d: %s", caseName, s.name, s.status, s.err))
			case time.Duration(s.ms*float64(time.Millisecond)) > sweepStepLimit:
				o.bad++
				problems = append(problems, fmt.Sprintf("%s: %s took %.0f ms", caseName, s.name, s.ms))
			case s.status == 0:
				o.ok++
			default:
				o.failed++
			}
			if s.ms > slowest.ms {
				slowest, slowestCase = s, caseName
			}
		}
	}
	t.Logf("sweep: %d variants of %d models (%v) in %v; peak RSS %d MiB; slowest step %s %.0f ms (%s)",
		total, len(models), kinds, time.Since(start).Round(time.Second), maxRSS>>20, slowest.name, slowest.ms, slowestCase)
	for _, name := range []string{"inspect", "quantize-dynamic", "quantize-int8"} {
		if o := counts[name]; o != nil {
			t.Logf("  %-17s %4d ok, %4d refused with an error, %d panics or hangs", name, o.ok, o.failed, o.bad)
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// runSweepChild runs the three commands on one variant in a child process,
// killing it after three step limits, and returns its steps and peak RSS.
func runSweepChild(variant string, calib []string) ([]sweepStep, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*sweepStepLimit+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSweepChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), sweepChildEnv+"="+strings.Join(append([]string{variant}, calib...), "|"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss << 10 // KiB on Linux
		}
	}
	if ctx.Err() != nil {
		return nil, rss, fmt.Errorf("hang: killed after %v", 3*sweepStepLimit+10*time.Second)
	}
	var steps []sweepStep
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 5)
		if len(f) < 4 || f[0] != "STEP" {
			continue
		}
		st, _ := strconv.Atoi(f[2])
		ms, _ := strconv.ParseFloat(f[3], 64)
		s := sweepStep{name: f[1], status: st, ms: ms}
		if len(f) == 5 {
			s.err = f[4]
		}
		steps = append(steps, s)
	}
	if err != nil || len(steps) != 3 {
		tail := stderr.String() + stdout.String()
		if len(tail) > 2000 {
			tail = tail[:2000]
		}
		return nil, rss, fmt.Errorf("the child crashed (%v, %d steps reported): %s", err, len(steps), tail)
	}
	return steps, rss, nil
}
