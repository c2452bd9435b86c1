package rangemethod

import (
	"math"

	"litequant/core/internal/calib"
	"litequant/core/internal/qparams"
)

// seg is a stretch [l, r] of a tensor's values holding n of them, taken as
// spread evenly over it (l == r: n values equal to l).
type seg struct {
	l, r, n float64
}

// dist is a tensor's value distribution as the histogram gives it: its
// bins, clipped to the exact min/max the calibration recorded.
type dist struct {
	segs     []seg
	min, max float64
	total    float64
}

// maxEvalSegs bounds the segments error estimates run over: histogram bins
// merged in powers of two until at most this many remain (counts stay
// exact; the positions within a segment are what is estimated).
const maxEvalSegs = 1024

// newDist returns the distribution of h over [lo, hi], with neighbouring
// bins merged into at most maxSegs segments.
func newDist(h *calib.Histogram, lo, hi float32, maxSegs int) *dist {
	d := &dist{min: float64(lo), max: float64(hi), total: float64(h.Total)}
	group := 1
	for (len(h.Counts)+group-1)/group > maxSegs {
		group *= 2
	}
	for k := 0; k < len(h.Counts); k += group {
		var n int64
		for j := k; j < min(k+group, len(h.Counts)); j++ {
			n += h.Counts[j]
		}
		if n == 0 {
			continue
		}
		l, w := h.Bin(k)
		r := l + w*float64(group)
		l, r = max(l, d.min), min(r, d.max)
		if r < l {
			l, r = d.min, d.min // cannot happen with a consistent histogram
		}
		d.segs = append(d.segs, seg{l, r, float64(n)})
	}
	return d
}

// quantizer is a quantized tensor's grid: integer multiples of scale
// between lo and hi (the dequantized ends of the integer range).
type quantizer struct {
	scale, lo, hi float64
}

// grid is a tensor's integer type: its range and whether it is symmetric
// (zero point 0, as int16 activations are).
type grid struct {
	qmin, qmax int
	symmetric  bool
}

// quantizerFor returns the grid the quantizer gives the range [lo, hi],
// computed as the quantizer computes it (package qparams).
func (g grid) quantizerFor(lo, hi float64) quantizer {
	if g.symmetric {
		s := float64(qparams.Symmetric(float32(lo), float32(hi), g.qmax))
		return quantizer{s, -float64(g.qmax) * s, float64(g.qmax) * s}
	}
	s32, zp := qparams.Asymmetric(float32(lo), float32(hi), g.qmin, g.qmax)
	s := float64(s32)
	return quantizer{s, float64(int64(g.qmin)-zp) * s, float64(int64(g.qmax)-zp) * s}
}

// sawSq is ∫_0^u (t - round(t))² dt.
func sawSq(u float64) float64 {
	f := math.Floor(u)
	x := u - f
	g := x * x * x / 3
	if x > 0.5 {
		y := x - 1
		g = 1.0/24 + (y*y*y+0.125)/3
	}
	return f/12 + g
}

// sqErr is the total squared quantize-dequantize error of the n values of
// s under q.
func (q quantizer) sqErr(s seg) float64 {
	if s.r <= s.l {
		x := s.l
		var e float64
		switch {
		case x < q.lo:
			e = x - q.lo
		case x > q.hi:
			e = x - q.hi
		default:
			e = x - q.scale*math.Round(x/q.scale)
		}
		return s.n * e * e
	}
	cube := func(a, b, c float64) float64 { // ∫_a^b (x-c)² dx
		return ((b-c)*(b-c)*(b-c) - (a-c)*(a-c)*(a-c)) / 3
	}
	var sum float64
	if s.l < q.lo {
		sum += cube(s.l, min(s.r, q.lo), q.lo)
	}
	if s.r > q.hi {
		sum += cube(max(s.l, q.hi), s.r, q.hi)
	}
	if a, b := max(s.l, q.lo), min(s.r, q.hi); b > a {
		sc := q.scale
		sum += sc * sc * sc * (sawSq(b/sc) - sawSq(a/sc))
	}
	return sum * s.n / (s.r - s.l)
}

// mse is the mean squared quantization error of d's values when the
// tensor takes the range [lo, hi] in grid g.
func (d *dist) mse(g grid, lo, hi float64) float64 {
	if d.total == 0 {
		return 0
	}
	q := g.quantizerFor(lo, hi)
	var sum float64
	for _, s := range d.segs {
		sum += q.sqErr(s)
	}
	return sum / d.total
}

// absBelow is how many values have |x| <= t.
func (d *dist) absBelow(t float64) float64 {
	var c float64
	for _, s := range d.segs {
		c += s.within(-t, t)
	}
	return c
}

// below is how many values are <= t.
func (d *dist) below(t float64) float64 {
	var c float64
	for _, s := range d.segs {
		c += s.within(math.Inf(-1), t)
	}
	return c
}

// within is how many of s's values lie in [a, b].
func (s seg) within(a, b float64) float64 {
	if s.r <= s.l {
		if s.l >= a && s.l <= b {
			return s.n
		}
		return 0
	}
	l, r := max(s.l, a), min(s.r, b)
	if r <= l {
		return 0
	}
	return s.n * (r - l) / (s.r - s.l)
}

// quantile returns the smallest t in [lo, hi] with count(t) >= want, by
// bisection (count is non-decreasing).
func quantile(count func(float64) float64, want, lo, hi float64) float64 {
	for range 80 {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if count(mid) >= want {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
