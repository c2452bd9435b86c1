package rangemethod

import (
	"math"
	"math/rand/v2"
	"testing"

	"litequant/core/internal/calib"
)

// histOf returns the histogram and range of v, added in chunks of n.
func histOf(v []float32, n int) (*calib.Histogram, float32, float32) {
	h := &calib.Histogram{}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for i := 0; i < len(v); i += n {
		c := v[i:min(i+n, len(v))]
		a, b := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, x := range c {
			a, b = min(a, x), max(b, x)
		}
		h.Add(c, a, b)
		lo, hi = min(lo, a), max(hi, b)
	}
	return h, lo, hi
}

func uniform(n int, a, b float64) []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(a + (b-a)*r.Float64())
	}
	return v
}

// trueMSE is the quantize-dequantize error of v in grid g with range [lo, hi].
func trueMSE(v []float32, g grid, lo, hi float64) float64 {
	q := g.quantizerFor(lo, hi)
	var s float64
	for _, x := range v {
		y := math.Round(float64(x)/q.scale) * q.scale
		y = min(max(y, q.lo), q.hi)
		s += (float64(x) - y) * (float64(x) - y)
	}
	return s / float64(len(v))
}

var int8Grid = grid{qmin: -128, qmax: 127}
var int16Grid = grid{qmin: -32767, qmax: 32767, symmetric: true}

func TestPercentileUniform(t *testing.T) {
	v := uniform(200000, -2, 6)
	h, lo, hi := histOf(v, 1000)
	d := newDist(h, lo, hi, maxEvalSegs)
	for _, tc := range []struct {
		g      grid
		p      float64
		lo, hi float64
	}{
		{int8Grid, 99, -2 + 0.08, 6 - 0.08},
		{int8Grid, 90, -2 + 0.8, 6 - 0.8},
		{int16Grid, 99, -6 + 0.08, 6 - 0.08}, // |x|: 1% of values beyond 5.92
		{int8Grid, 100, -2, 6},
	} {
		a, b := d.percentileRange(tc.g, tc.p)
		if tc.g.symmetric {
			a = -b
		}
		if math.Abs(a-tc.lo) > 0.01 || math.Abs(b-tc.hi) > 0.01 {
			t.Errorf("P%g %v: [%g, %g], want [%g, %g]", tc.p, tc.g, a, b, tc.lo, tc.hi)
		}
	}
}

// TestMSEEstimate: the histogram estimate of the quantization error is
// within a few percent of the error measured on the values.
func TestMSEEstimate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	v := make([]float32, 100000)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	h, lo, hi := histOf(v, 5000)
	d := newDist(h, lo, hi, maxEvalSegs)
	for _, tc := range []struct {
		g      grid
		lo, hi float64
	}{
		{int8Grid, float64(lo), float64(hi)},
		{int8Grid, -1, 1},
		{int8Grid, -3, 2},
		{int16Grid, -0.5, 0.5},
		{int16Grid, float64(lo), float64(hi)},
	} {
		est, got := d.mse(tc.g, tc.lo, tc.hi), trueMSE(v, tc.g, tc.lo, tc.hi)
		if math.Abs(est-got) > 0.05*got {
			t.Errorf("%v [%g, %g]: estimate %g, measured %g", tc.g, tc.lo, tc.hi, est, got)
		}
	}
}

// TestMethodsOnOutliers: a Gaussian with a few far outliers. Min/max keeps
// them; percentile, mse and entropy clip near the bulk; mse has less error
// than min/max; auto picks the least error.
func TestMethodsOnOutliers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	v := make([]float32, 100000)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	for i := 0; i < 5; i++ {
		v[i*997] = 100
	}
	h, lo, hi := histOf(v, 4096)
	d := newDist(h, lo, hi, maxEvalSegs)
	for _, g := range []grid{int8Grid, int16Grid} {
		base := d.mse(g, d.min, d.max)
		for _, tc := range []struct {
			name   string
			lo, hi float64
		}{
			{"percentile", 0, 0},
			{"mse", 0, 0},
			{"entropy", 0, 0},
		} {
			a, b := pick(d, g, tc.name, 99.99, nil)
			e := d.mse(g, a, b)
			t.Logf("%v %s: [%.3g, %.3g], mse %.3g (min/max %.3g)", g, tc.name, a, b, e, base)
			if b > 20 || b < 2 || a < -20 {
				t.Errorf("%v %s: range [%g, %g], want the outliers at 100 clipped and the bulk kept", g, tc.name, a, b)
			}
			if tc.name == "mse" && !(e < base) {
				t.Errorf("%v mse: error %g, min/max %g", g, e, base)
			}
		}
		var chose string
		var bestE float64
		a, b := pick(d, g, Auto, 99.99, func(m string, e, _ float64) { chose, bestE = m, e })
		for _, m := range []string{Percentile, MSE, Entropy} {
			x, y := pick(d, g, m, 99.99, nil)
			if e := d.mse(g, x, y); e < bestE {
				t.Errorf("%v auto chose %s (%g) but %s has %g", g, chose, bestE, m, e)
			}
		}
		if d.mse(g, a, b) != bestE {
			t.Errorf("auto's range is not its pick's")
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		method string
		p      float64
		want   string
	}{
		{"", 0, ""},
		{"auto", 99.9, ""},
		{"percentile", 100, ""},
		{"kl", 0, `--calibration "kl" is not a method`},
		{"percentile", 0, ""},
		{"percentile", -1, "--percentile must be in (0, 100]"},
		{"percentile", 100.5, "--percentile must be in (0, 100]"},
		{"mse", 99, "--percentile applies to --calibration percentile or auto, not --calibration mse"},
		{"", 99, "not --calibration minmax"},
	} {
		err := Check(tc.method, tc.p)
		if (err == nil) != (tc.want == "") || (err != nil && !contains(err.Error(), tc.want)) {
			t.Errorf("Check(%q, %g) = %v, want %q", tc.method, tc.p, err, tc.want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
