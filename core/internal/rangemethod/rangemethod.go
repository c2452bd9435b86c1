// Package rangemethod chooses activation ranges from calibration
// histograms (calib.Histogram): min/max as recorded, a percentile, the
// range of least quantization error (MSE), TensorRT's entropy (KL
// divergence) threshold, or per tensor the method of least error (auto).
// Ranges wraps *calib.Stats as a quant.Ranges, so the quantization pass
// takes the chosen ranges where it took the recorded ones; everything else
// the statistics hold (patch statistics, channel ranges, per-sample peaks)
// passes through. Only calibrated ranges change: the pass still gives
// FAKE_QUANT ranges, ranges recorded in the model and fixed output ranges
// (SOFTMAX, LOGISTIC, ...) precedence over calibration.
package rangemethod

import (
	"fmt"
	"math"
	"sort"

	"litequant/core/internal/calib"
)

// The methods.
const (
	MinMax     = "minmax"
	Percentile = "percentile"
	MSE        = "mse"
	Entropy    = "entropy"
	Auto       = "auto"
)

// Methods lists the methods, min/max (the default) first.
var Methods = []string{MinMax, Percentile, MSE, Entropy, Auto}

// DefaultPercentile is the percentile of the percentile method.
const DefaultPercentile = 99.99

// Check checks a method name and percentile as the CLI takes them
// (--calibration, --percentile; "" is min/max, percentile 0 the default).
func Check(method string, percentile float64) error {
	known := false
	for _, m := range Methods {
		known = known || m == method
	}
	if method != "" && !known {
		return fmt.Errorf("--calibration %q is not a method: want one of minmax, percentile, mse, entropy, auto", method)
	}
	if percentile != 0 {
		if !(percentile > 0 && percentile <= 100) {
			return fmt.Errorf("--percentile must be in (0, 100], got %g", percentile)
		}
		if method != Percentile && method != Auto {
			m := method
			if m == "" {
				m = MinMax
			}
			return fmt.Errorf("--percentile applies to --calibration percentile or auto, not --calibration %s", m)
		}
	}
	return nil
}

// Grid is an activation's integer type in the quantized model.
type Grid struct {
	QMin, QMax int
	Symmetric  bool // zero point 0 (int16 activations)
}

// Choice is auto's pick for one tensor: the method and its estimated mean
// squared quantization error on the calibration data beside min/max's.
type Choice struct {
	Tensor    string  `json:"tensor"`
	Subgraph  int     `json:"subgraph,omitempty"`
	Method    string  `json:"method"`
	MSE       float64 `json:"mse"`
	MinMaxMSE float64 `json:"minmax_mse"`
	// GainDB is how much lower the error is than min/max's, in dB.
	GainDB float64 `json:"gain_db"`
	Min    float32 `json:"min"`
	Max    float32 `json:"max"`
	t      int
}

// Ranges are the ranges a method chose. Range gives them; the other
// methods of *calib.Stats pass through.
type Ranges struct {
	*calib.Stats
	method string
	ranges map[[2]int][2]float32
	// Choices are auto's picks, in subgraph and tensor order.
	Choices []Choice
}

// Range implements quant.Ranges.
func (r *Ranges) Range(sg, t int) (lo, hi float32, ok bool) {
	if x, ok := r.ranges[[2]int{sg, t}]; ok {
		return x[0], x[1], true
	}
	return r.Stats.Range(sg, t)
}

// Method names the method that chose the ranges.
func (r *Ranges) Method() string { return r.method }

// New chooses the range of every tensor of st that has a histogram, with
// method for the integer type g. percentile 0 is DefaultPercentile. name
// names tensors for Choices. Tensors without a histogram keep their
// min/max. Min/max returns the recorded ranges unchanged.
func New(st *calib.Stats, method string, percentile float64, g Grid, name func(sg, t int) string) (*Ranges, error) {
	if err := Check(method, percentile); err != nil {
		return nil, err
	}
	if method == "" {
		method = MinMax
	}
	if percentile == 0 {
		percentile = DefaultPercentile
	}
	r := &Ranges{Stats: st, method: method, ranges: map[[2]int][2]float32{}}
	if method == MinMax {
		return r, nil
	}
	gr := grid{qmin: g.QMin, qmax: g.QMax, symmetric: g.Symmetric}
	for _, ss := range st.Subgraphs {
		keys := make([]int, 0, len(ss.Tensors))
		for t := range ss.Tensors {
			keys = append(keys, t)
		}
		sort.Ints(keys)
		for _, t := range keys {
			ts := ss.Tensors[t]
			if ts.Hist == nil || ts.Hist.Total == 0 || ts.NonFinite > 0 || !(ts.Min < ts.Max) {
				continue // min/max as recorded
			}
			d := newDist(ts.Hist, ts.Min, ts.Max, maxEvalSegs)
			lo, hi := pick(d, gr, method, percentile, func(m string, mse, base float64) {
				gain := 0.0
				if mse > 0 && base > 0 {
					gain = 10 * math.Log10(base/mse)
				}
				r.Choices = append(r.Choices, Choice{Tensor: name(ss.Index, t), Subgraph: ss.Index, Method: m, MSE: mse, MinMaxMSE: base, GainDB: gain, t: t})
			})
			lo32, hi32 := float32(lo), float32(hi)
			lo32, hi32 = max(lo32, ts.Min), min(hi32, ts.Max)
			if !(lo32 <= hi32) {
				lo32, hi32 = ts.Min, ts.Max
			}
			if n := len(r.Choices); method == Auto && n > 0 {
				r.Choices[n-1].Min, r.Choices[n-1].Max = lo32, hi32
			}
			r.ranges[[2]int{ss.Index, t}] = [2]float32{lo32, hi32}
		}
	}
	return r, nil
}

// pick returns the range method gives d; auto tells chose its pick.
func pick(d *dist, g grid, method string, percentile float64, chose func(method string, mse, minmax float64)) (lo, hi float64) {
	switch method {
	case MinMax:
		return d.min, d.max
	case Percentile:
		return d.percentileRange(g, percentile)
	case MSE:
		return d.mseRange(g)
	case Entropy:
		return d.entropyRange(g)
	}
	// auto: the least error; min/max wins ties.
	type cand struct {
		m      string
		lo, hi float64
	}
	cands := []cand{{m: MinMax, lo: d.min, hi: d.max}}
	a, b := d.mseRange(g)
	cands = append(cands, cand{MSE, a, b})
	a, b = d.percentileRange(g, percentile)
	cands = append(cands, cand{Percentile, a, b})
	a, b = d.entropyRange(g)
	cands = append(cands, cand{Entropy, a, b})
	base := d.mse(g, d.min, d.max)
	best, bestE := 0, base
	for i, c := range cands[1:] {
		if e := d.mse(g, c.lo, c.hi); e < bestE {
			best, bestE = i+1, e
		}
	}
	chose(cands[best].m, bestE, base)
	return cands[best].lo, cands[best].hi
}
