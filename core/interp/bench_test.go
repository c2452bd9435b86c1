package interp

import (
	"os"
	"path/filepath"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/modelbuild"
	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Whole-model benchmarks on the float models from ../shared (skipped when
// it is absent), reporting ms/inference, and micro-benchmarks of the matrix
// product and the 3×3 depthwise convolution. Steady-state Invoke should
// allocate nothing: check with -benchmem.

func benchModel(b *testing.B, name string) {
	dir, ok := fixtures.SharedDir()
	if !ok {
		b.Skipf("../shared fixtures absent (looked for %s): model benchmarks skipped", dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, "models", name+".tflite"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := tflite.Load(data)
	if err != nil {
		b.Fatal(err)
	}
	it, err := New(m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := cvtRand(60)
	for i := 0; i < it.NumInputs(); i++ {
		in := it.Input(i)
		x := cvtArray(r, in.Shape...)
		if err := it.SetInput(i, in.Shape, x.Data); err != nil {
			b.Fatal(err)
		}
	}
	benchInvoke(b, it)
}

// benchInvoke times Invoke after three warm-up calls (the activation pool
// settles after the second) and reports ms/inference.
func benchInvoke(b *testing.B, it *Interpreter) {
	b.Helper()
	for i := 0; i < 3; i++ {
		if err := it.Invoke(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := it.Invoke(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/inference")
}

func BenchmarkMobilenetV1_025(b *testing.B) { benchModel(b, "mobilenet_v1_0.25_224_float") }

func BenchmarkIrisLandmark(b *testing.B) { benchModel(b, "iris_landmark") }

// BenchmarkGEMM times gemmRows on shapes of MobileNet's and the iris model's
// 1×1 convolutions (M pixels × K input channels times K × N), single
// goroutine.
func BenchmarkGEMM(b *testing.B) {
	for _, s := range []struct {
		name    string
		m, n, k int
	}{
		{"12544x16x8", 12544, 16, 8},
		{"3136x32x32", 3136, 32, 32},
		{"784x64x64", 784, 64, 64},
		{"196x128x128", 196, 128, 128},
		{"49x256x256", 49, 256, 256},
		{"1024x64x32", 1024, 64, 32},
		{"1x1001x256", 1, 1001, 256},
		{"61x67x129", 61, 67, 129},
	} {
		b.Run(s.name, func(b *testing.B) {
			r := cvtRand(61)
			a := cvtValues(r, s.m*s.k)
			w := newPackedB(cvtValues(r, s.k*s.n), s.k, s.n, 1, s.k)
			bias := cvtValues(r, s.n)
			c := make([]float32, s.m*s.n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				gemmRows(a, s.k, w, bias, c, s.n, 0, s.m, noClampLo, noClampHi)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkDepthwise3x3 times single DEPTHWISE_CONV_2D models with
// MobileNet's shapes (3×3, SAME, multiplier 1).
func BenchmarkDepthwise3x3(b *testing.B) {
	for _, s := range []struct {
		name       string
		h, c, strd int
	}{
		{"112x112x8_s1", 112, 8, 1},
		{"112x112x16_s2", 112, 16, 2},
		{"56x56x32_s1", 56, 32, 1},
		{"14x14x128_s1", 14, 128, 1},
	} {
		b.Run(s.name, func(b *testing.B) {
			r := cvtRand(62)
			c := dwBase(1, s.h, s.h, s.c, 1, 3, 3)
			c.sh, c.sw = s.strd, s.strd
			cs := c.add(r, "")
			mb := modelbuild.New()
			ins, outs := cs.build(mb, "")
			mb.Inputs(ins...)
			mb.Outputs(outs...)
			m, err := tflite.Load(mb.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			it, err := New(m, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := it.SetInput(0, cs.inputs[0].Shape, cs.inputs[0].Data); err != nil {
				b.Fatal(err)
			}
			benchInvoke(b, it)
			out := c.outShape()
			b.ReportMetric(2*float64(cvtCount(out)*9)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestInvokeAllocs checks that steady-state Invoke of models using these
// kernels allocates nothing.
func TestInvokeAllocs(t *testing.T) {
	r := cvtRand(63)
	models := map[string][]byte{}
	for name, c := range map[string]convCfg{
		"conv3x3": convBase(1, 20, 20, 8, 16, 3, 3),
		"conv1x1": convBase(1, 30, 30, 16, 24, 1, 1),
	} {
		cs := c.add(r, name)
		b := modelbuild.New()
		ins, outs := cs.build(b, "")
		b.Inputs(ins...)
		b.Outputs(outs...)
		models[name] = b.Bytes()
	}
	one := func(name string, cs cvtCase) {
		b := modelbuild.New()
		ins, outs := cs.build(b, "")
		b.Inputs(ins...)
		b.Outputs(outs...)
		models[name] = b.Bytes()
	}
	one("convWeightsIn", convCfg{batch: 1, h: 8, w: 8, c: 4, o: 6, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, filterInput: true}.add(r, ""))
	one("dw", dwBase(1, 40, 40, 8, 1, 3, 3).add(r, ""))
	one("dw5", dwBase(1, 20, 20, 4, 2, 5, 5).add(r, ""))
	one("tconv", tconvBase(8, 8, 4, 6, 3, 2, fb.PaddingSAME).add(r, ""))
	one("fc", fcCfg{in: []int{4, 64}, units: 33, depth: 64}.add(r, ""))
	one("fcWeightsIn", fcCfg{in: []int{4, 64}, units: 33, depth: 64, weightInput: true}.add(r, ""))
	one("bmm", bmmCfg{lhs: []int{2, 9, 5}, rhs: []int{2, 9, 7}, adjX: true}.add(r, ""))
	one("bmmConst", bmmCfg{lhs: []int{2, 5, 9}, rhs: []int{9, 7}, constRHS: true}.add(r, ""))
	one("pool", poolCfg{code: fb.BuiltinOperatorAVERAGE_POOL_2D, batch: 1, h: 16, w: 16, c: 8, fh: 3, fw: 3, sh: 2, sw: 2}.add(r))
	models["lstm"] = lstmBase(2, 6, 4, 8).model(r)
	for name, model := range models {
		m, err := tflite.Load(model)
		if err != nil {
			t.Fatal(err)
		}
		it, err := New(m, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := 0; i < it.NumInputs(); i++ {
			in := it.Input(i)
			x := cvtArray(r, in.Shape...)
			if err := it.SetInput(i, in.Shape, x.Data); err != nil {
				t.Fatal(err)
			}
		}
		if err := it.Invoke(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a := testing.AllocsPerRun(5, func() {
			if err := it.Invoke(); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: %v allocations per Invoke, want 0", name, a)
		}
	}
	_ = npy.Float32
}
