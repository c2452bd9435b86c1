package rangemethod

import (
	"math"
)

// percentileRange is the range holding the central P% of the values: for
// a symmetric grid [-t, t] with t the P-th percentile of |x|, otherwise
// the (100-P)-th and P-th percentiles. It is never wider than min/max.
func (d *dist) percentileRange(g grid, p float64) (lo, hi float64) {
	if d.total == 0 || p >= 100 {
		return d.min, d.max
	}
	if g.symmetric {
		peak := max(-d.min, d.max)
		t := quantile(d.absBelow, d.total*p/100, 0, peak)
		return max(d.min, -t), min(d.max, t)
	}
	lo = quantile(d.below, d.total*(100-p)/100, d.min, d.max)
	hi = quantile(d.below, d.total*p/100, d.min, d.max)
	return lo, hi
}

// shrink is the candidate factors of the MSE search: 2^(-k/8) from 1 down
// to 2^-12, then refined around the best by 2^(±j/64).
var shrink = func() []float64 {
	var f []float64
	for k := 0; k <= 96; k++ {
		f = append(f, math.Exp2(-float64(k)/8))
	}
	return f
}()

// search1 returns the factor a in (0, 1] minimising cost(a), over shrink
// and then finer steps around the best.
func search1(cost func(a float64) float64) float64 {
	best, bestE := 1.0, cost(1)
	for _, a := range shrink[1:] {
		if e := cost(a); e < bestE {
			best, bestE = a, e
		}
	}
	for j := -7; j <= 7; j++ {
		a := best * math.Exp2(float64(j)/64)
		if j == 0 || a > 1 {
			continue
		}
		if e := cost(a); e < bestE {
			best, bestE = a, e
		}
	}
	return best
}

// mseRange is the range within min/max that minimises the
// quantize-dequantize mean squared error of the values: the symmetric
// grid's one bound, or, for an asymmetric grid, both ends shrunk together
// and then each on its own.
func (d *dist) mseRange(g grid) (lo, hi float64) {
	lo, hi = d.min, d.max
	if d.total == 0 {
		return lo, hi
	}
	a := search1(func(a float64) float64 { return d.mse(g, a*d.min, a*d.max) })
	lo, hi = a*d.min, a*d.max
	if g.symmetric {
		return lo, hi
	}
	if hi > 0 {
		b := search1(func(b float64) float64 { return d.mse(g, lo, b*d.max) })
		hi = b * d.max
	}
	if lo < 0 {
		b := search1(func(b float64) float64 { return d.mse(g, b*d.min, hi) })
		lo = b * d.min
	}
	return lo, hi
}

// Entropy calibration (TensorRT's, as ONNX Runtime has it): a histogram of
// |x| with entropyBins bins; for each candidate threshold i (bins), the
// reference distribution is the first i bins with everything beyond added
// to the last, the candidate is those i bins merged into as many groups as
// the integer type has levels on that side and spread back evenly over
// each group's nonzero bins, and the threshold with the least
// Kullback-Leibler divergence wins.
const (
	entropyBins = 2048
	// entropyMaxLevels caps the levels of the candidate distribution: a
	// 16-bit side has 32768 levels, more than the histogram has bins, so
	// the 16-bit search runs on this coarser target grid (the threshold
	// it finds is as fine as the histogram; only the target is coarser).
	entropyMaxLevels = 512
	// entropyCandidates bounds the thresholds tried (evenly spaced).
	entropyCandidates = 384
	// entropyMinValues: with fewer values than bins the histogram is too
	// sparse for a divergence to mean anything (a regressor's one output
	// over 100 samples would be clipped to a few of them), and the range
	// stays min/max.
	entropyMinValues = entropyBins
)

// entropyRange is the range whose threshold has the least KL divergence
// (see entropyBins), clipped to min/max.
func (d *dist) entropyRange(g grid) (lo, hi float64) {
	peak := max(-d.min, d.max)
	if d.total < entropyMinValues || !(peak > 0) {
		return d.min, d.max
	}
	// Levels on the side the values are on: a one-sided tensor in an
	// asymmetric grid has them all, a two-sided one (or a symmetric grid)
	// half.
	levels := g.qmax - g.qmin + 1
	if g.symmetric || (d.min < 0 && d.max > 0) {
		levels /= 2
	}
	levels = min(levels, entropyMaxLevels)
	width := peak / entropyBins
	hist := make([]float64, entropyBins)
	for _, s := range d.segs {
		a, b := s.l, s.r
		if b <= a {
			k := min(int(math.Abs(a)/width), entropyBins-1)
			hist[k] += s.n
			continue
		}
		// The absolute values of the stretch: split at 0.
		for _, part := range [][2]float64{{max(a, 0), max(b, 0)}, {max(-b, 0), max(-a, 0)}} {
			pl, pr := part[0], part[1]
			if pr <= pl {
				continue
			}
			n := s.n * (pr - pl) / (b - a)
			k0, k1 := int(pl/width), min(int(pr/width), entropyBins-1)
			for k := k0; k <= k1; k++ {
				bl, br := max(pl, float64(k)*width), min(pr, float64(k+1)*width)
				if k == entropyBins-1 {
					br = pr
				}
				if br > bl {
					hist[k] += n * (br - bl) / (pr - pl)
				}
			}
		}
	}
	step := max(1, (entropyBins-levels)/entropyCandidates)
	best, bestKL := entropyBins, math.Inf(1)
	p := make([]float64, entropyBins)
	qd := make([]float64, entropyBins)
	for i := levels; i <= entropyBins; i += step {
		if kl := klAt(hist, i, levels, p, qd); kl < bestKL {
			best, bestKL = i, kl
		}
	}
	t := float64(best) * width
	return max(d.min, -t), min(d.max, t)
}

// klAt is the KL divergence of threshold i (bins) with levels levels; p and
// q are scratch of at least i elements.
func klAt(hist []float64, i, levels int, p, q []float64) float64 {
	p, q = p[:i], q[:i]
	copy(p, hist[:i])
	var outliers float64
	for _, c := range hist[i:] {
		outliers += c
	}
	p[i-1] += outliers
	for j := range levels {
		a, b := j*i/levels, (j+1)*i/levels
		var sum float64
		nz := 0
		for k := a; k < b; k++ {
			sum += hist[k]
			if hist[k] > 0 {
				nz++
			}
		}
		for k := a; k < b; k++ {
			q[k] = 0
			if hist[k] > 0 {
				q[k] = sum / float64(nz)
			}
		}
	}
	var ps, qs float64
	for k := range p {
		ps += p[k]
		qs += q[k]
	}
	if ps == 0 || qs == 0 {
		return math.Inf(1)
	}
	const eps = 1e-10 // smoothing where the candidate has no mass
	var kl float64
	for k := range p {
		if p[k] == 0 {
			continue
		}
		pk := p[k] / ps
		qk := max(q[k]/qs, eps)
		kl += pk * math.Log(pk/qk)
	}
	return kl
}
