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

// TestMethodsOnOutliers: a Gaussian with a few far outliers. Min/max
// keeps them; percentile and entropy clip them and keep the bulk; mse
// keeps them when clipping them costs more error than it saves (5 values
// at 100 clipped to 4 cost 0.46 per value, the int8 steps of min/max 0.014)
// and clips them when there is a lot to gain, as there is with 1000 times
// more bulk; auto picks the least error.
func TestMethodsOnOutliers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bulk     int
		g        grid
		mseClips bool
	}{
		{"int8, 5 in 100000", 100000, int8Grid, false},
		{"int16, 5 in 100000", 100000, int16Grid, false},
		{"int8, 5 in 10^7", 10000000, int8Grid, true},
	} {
		r := rand.New(rand.NewPCG(5, 6))
		v := make([]float32, tc.bulk)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		for i := 0; i < 5; i++ {
			v[i*997] = 100
		}
		h, lo, hi := histOf(v, 1<<16)
		d := newDist(h, lo, hi, maxEvalSegs)
		g := tc.g
		base := d.mse(g, d.min, d.max)
		for _, m := range []string{Percentile, MSE, Entropy} {
			a, b := pick(d, g, m, 99.99, nil)
			e := d.mse(g, a, b)
			t.Logf("%s %s: [%.3g, %.3g], mse %.3g (min/max %.3g)", tc.name, m, a, b, e, base)
			if a < d.min || b > d.max {
				t.Errorf("%s %s: [%g, %g] is wider than min/max", tc.name, m, a, b)
			}
			clips := b < 50 && b > 3 && a > -50 && a < -3
			if want := m != MSE || tc.mseClips; clips != want {
				t.Errorf("%s %s: range [%g, %g], want the outliers clipped %v (and the bulk kept)", tc.name, m, a, b, want)
			}
			if m == MSE && !(e <= base) {
				t.Errorf("%s mse: error %g, min/max %g", tc.name, e, base)
			}
		}
		var chose string
		var bestE float64
		a, b := pick(d, g, Auto, 99.99, func(m string, e, _ float64) { chose, bestE = m, e })
		for _, m := range []string{MinMax, Percentile, MSE, Entropy} {
			x, y := pick(d, g, m, 99.99, nil)
			if e := d.mse(g, x, y); e < bestE {
				t.Errorf("%s: auto chose %s (%g) but %s has %g", tc.name, chose, bestE, m, e)
			}
		}
		if d.mse(g, a, b) != bestE {
			t.Errorf("%s: auto's range is not its pick's", tc.name)
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

// TestNoTailNoClip: values uniform over their range have no tail worth
// clipping: mse and entropy keep (nearly) all of it, in 8 and 16 bits.
func TestNoTailNoClip(t *testing.T) {
	v := uniform(200000, -1, 3)
	h, lo, hi := histOf(v, 10000)
	d := newDist(h, lo, hi, maxEvalSegs)
	for _, g := range []grid{int8Grid, int16Grid, {qmin: 0, qmax: 255}} {
		for _, m := range []string{MSE, Entropy} {
			a, b := pick(d, g, m, 0, nil)
			if b < 0.97*d.max || (!g.symmetric && a > 0.97*d.min) || (g.symmetric && b < 0.97*d.max) {
				t.Errorf("%v %s: [%g, %g] of [%g, %g]", g, m, a, b, d.min, d.max)
			}
		}
	}
}

// TestMSEGaussianClip: for a Gaussian in int8 the least-error range clips
// the tails (min/max of 10^6 samples is near ±4.9σ), keeping the range
// between 2.5σ and 4.5σ, and its error is below min/max's; in 16 bits
// rounding is so fine that clipping gains almost nothing.
func TestMSEGaussianClip(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	v := make([]float32, 1000000)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	h, lo, hi := histOf(v, 1<<16)
	d := newDist(h, lo, hi, maxEvalSegs)
	a, b := d.mseRange(int8Grid)
	if -a < 2.5 || b < 2.5 || -a > 4.5 || b > 4.5 {
		t.Errorf("int8: [%g, %g], want the tails beyond 2.5..4.5σ clipped (min/max [%g, %g])", a, b, d.min, d.max)
	}
	if e, base := d.mse(int8Grid, a, b), d.mse(int8Grid, d.min, d.max); !(e < 0.8*base) {
		t.Errorf("int8: error %g, min/max %g", e, base)
	}
	t.Logf("int8 mse range [%.3g, %.3g] of [%.3g, %.3g]", a, b, d.min, d.max)
	_, b16 := d.mseRange(int16Grid)
	if b16 < 4 {
		t.Errorf("int16: clipped to %g", b16)
	}
}
