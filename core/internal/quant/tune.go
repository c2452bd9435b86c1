package quant

import (
	"math"

	"litequant/core/internal/calib"
	"litequant/core/internal/opspec"
	"litequant/core/internal/qparams"
)

// PatchSource gives the input-patch statistics calibration records for
// weight operators (*calib.Stats implements it). When the Ranges given to
// Full also implement it, weights are tuned: see tuneWeights.
type PatchSource interface {
	Patch(subgraph, op int) *calib.PatchStats
}

// tuneWeights quantizes weight w of one CONV_2D, DEPTHWISE_CONV_2D or
// FULLY_CONNECTED operator (values wv, laid out as opspec says) knowing what they are applied to (st), and
// returns the bias correction per output channel (nil when none).
//
// Rounding each weight to the nearest step is what TensorFlow's converter
// does; it minimises the error of each weight, not of the output. Here,
// each output channel's weights are first rounded to nearest, then, while
// it lowers the expected squared output error Δwᵀ·C·Δw (C the covariance
// of the input patches, or their second moment when there is no bias to
// correct), single weights move to their other neighbouring step (greedy
// sweeps, at most 8). Finally the mean output error Δw·mean is removed
// from the bias ("bias correction"). The weights stay symmetric int8 on
// the same scales, within [-127, 127]: only the rounding direction of
// some weights changes.
//
// q receives the int8 values (it holds the nearest rounding on entry).
// optimize false keeps the nearest rounding (the weights are shared with
// another operator) and only corrects the bias.
func tuneWeights(w opspec.Weight, wv []float32, shape []int32, scales []float32, q []int8, st *calib.PatchStats, withBias, optimize bool) []float64 {
	q64 := make([]int64, len(q))
	for i, x := range q {
		q64[i] = int64(x)
	}
	corr := tuneInts(w, wv, shape, scales, 0, -qmax, qmax, q64, st, withBias, optimize)
	for i, x := range q64 {
		q[i] = int8(x)
	}
	return corr
}

// tuneInts is tuneWeights for integer weights q with zero point zp (one
// for every channel) within [lo, hi]: the int8 weights (zero point 0,
// [-127, 127]) and the legacy uint8 ones (asymmetric, [0, 255]).
func tuneInts(wt opspec.Weight, w []float32, shape []int32, scales []float32, zp, lo, hi int64, q []int64, st *calib.PatchStats, withBias, optimize bool) []float64 {
	if st == nil || len(st.Mean) != st.Groups*st.Dims {
		return nil
	}
	d := st.Dims
	channels, mult, ok := tuneChannels(wt, len(w), shape, st)
	if !ok {
		return nil
	}
	index := func(o, p int) int { return wt.Element(o, p, d, channels) }
	group := func(o int) int { return wt.Reads(o, mult) }
	haveMoment := optimize && st.HasMoment()
	// cov[g] is the matrix the greedy minimises for group g.
	covs := map[int][]float64{}
	cov := func(g int) []float64 {
		if c, ok := covs[g]; ok {
			return c
		}
		mean := st.Mean[g*d : (g+1)*d]
		c := make([]float64, d*d)
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				c[i*d+j] = float64(st.At(g, i, j))
				if withBias {
					c[i*d+j] -= mean[i] * mean[j]
				}
			}
		}
		covs[g] = c
		return c
	}
	var corr []float64
	if withBias {
		corr = make([]float64, channels)
	}
	delta := make([]float64, d)
	cd := make([]float64, d)
	for o := 0; o < channels; o++ {
		s := float64(scales[0])
		if len(scales) > 1 {
			s = float64(scales[o])
		}
		g := group(o)
		for p := 0; p < d; p++ {
			i := index(o, p)
			delta[p] = float64(q[i]-zp)*s - float64(w[i])
		}
		if haveMoment && s > 0 {
			c := cov(g)
			for i := 0; i < d; i++ {
				sum := 0.0
				row := c[i*d : (i+1)*d]
				for j, x := range delta {
					sum += row[j] * x
				}
				cd[i] = sum
			}
			for sweep := 0; sweep < 8; sweep++ {
				changed := false
				for p := 0; p < d; p++ {
					i := index(o, p)
					step := int64(1)
					if delta[p] > 0 {
						step = -1
					}
					if delta[p] == 0 || q[i]+step > hi || q[i]+step < lo {
						continue
					}
					move := float64(step) * s
					if gain := 2*move*cd[p] + move*move*c[p*d+p]; gain >= 0 {
						continue
					}
					q[i] += step
					delta[p] += move
					for r := 0; r < d; r++ {
						cd[r] += c[r*d+p] * move
					}
					changed = true
				}
				if !changed {
					break
				}
			}
		}
		if withBias {
			mean := st.Mean[g*d : (g+1)*d]
			sum := 0.0
			for p, x := range delta {
				sum += x * mean[p]
			}
			corr[o] = sum
		}
	}
	if corr != nil {
		for _, x := range corr {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil
			}
		}
	}
	return corr
}

// tuneChannels returns the output channels of weight wt (n values in
// shape) and, for a depthwise weight, its depth multiplier (the output
// channels per group of st); ok is false when st does not fit the weight.
func tuneChannels(wt opspec.Weight, n int, shape []int32, st *calib.PatchStats) (channels, mult int, ok bool) {
	if wt.ChannelAxis < 0 || wt.ChannelAxis >= len(shape) {
		return 0, 0, false
	}
	channels = int(shape[wt.ChannelAxis])
	if wt.Layout.Depthwise {
		if st.Groups == 0 || channels%st.Groups != 0 || n != channels*st.Dims {
			return 0, 0, false
		}
		return channels, channels / st.Groups, true
	}
	return channels, 0, n == channels*st.Dims && st.Groups == 1
}

// importance returns, for each value of weight wt of a CONV_2D,
// DEPTHWISE_CONV_2D or FULLY_CONNECTED operator, the mean square of the input it multiplies
// (from the patch statistics st), or nil when st does not fit: a weight
// error Δw adds about Δw² times it to the output's mean square error.
func importance(wt opspec.Weight, n int, shape []int32, st *calib.PatchStats) []float64 {
	if st == nil || len(st.Mean) != st.Groups*st.Dims || len(shape) == 0 {
		return nil
	}
	d := st.Dims
	sq := func(g, p int) float64 {
		if st.HasMoment() {
			return float64(st.At(g, p, p))
		}
		m := st.Mean[g*d+p]
		return m * m
	}
	channels, mult, ok := tuneChannels(wt, n, shape, st)
	if !ok {
		return nil
	}
	out := make([]float64, n)
	for o := 0; o < channels; o++ {
		for p := 0; p < d; p++ {
			out[wt.Element(o, p, d, channels)] = sq(wt.Reads(o, mult), p)
		}
	}
	return out
}

// clipRange chooses the per-tensor asymmetric parameters of weights w in
// scheme s: among shrinkings of their range [lo, hi], the one whose
// rounding error, weighted by imp (see importance), is smallest. Weights
// outside the chosen range clamp to it. Without imp it is [lo, hi].
func clipRange(s *scheme, w []float32, lo, hi float32, imp []float64) rep {
	best := s.fromRange(lo, hi)
	if imp == nil {
		return best
	}
	bestErr := math.Inf(1)
	for _, a := range []float32{1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1} {
		r := s.fromRange(a*lo, a*hi)
		qlo, qhi := r.bounds()
		e := 0.0
		for i, v := range w {
			q := qparams.Quantize(v, r.scale, r.zp, qlo, qhi)
			d := float64(q-r.zp)*float64(r.scale) - float64(v)
			e += d * d * imp[i]
		}
		if e < bestErr {
			best, bestErr = r, e
		}
	}
	return best
}
