package calib

import (
	"encoding/json"
	"fmt"
	"math"
)

// HistogramBins is the most bins a Histogram spans. Its bins are 2^Exp
// wide, and Exp is the smallest that holds the values seen in at most
// HistogramBins bins, so the values always cover more than half of them:
// at least 2048 bins over a tensor's range. That is 8 times int8's 256
// steps, as fine as TensorRT's 2048-bin entropy histograms, and fine
// enough for a 16-bit range: a 16-bit method only chooses where to clip
// (the steps themselves are far finer than any histogram), and the
// candidate clips 1/2048 of the range apart are closer than the accuracy
// calibration data give. A dense histogram of 4096 int64 counts is 32 KiB
// per activation while calibrating; the JSON form is run-length encoded.
const HistogramBins = 4096

// minHistExp is the finest bin width, 2^-150 (below float32's smallest
// subnormal), where a tensor that is 0 everywhere stays; maxHistDepth
// keeps a bin index within 2^41 of 0 (|x| / 2^Exp), so bin indices are
// exact integers whatever the values.
const (
	minHistExp   = -150
	maxHistDepth = 40
)

// Histogram counts a tensor's finite values in bins of width 2^Exp: bin i
// holds the values x with i <= x/2^Exp < i+1. Counts[k] is bin Offset+k;
// the first and last counts are never 0.
//
// The state is canonical: Exp is the smallest exponent (at least
// minHistExp, and at least ilogb(max |x|) - maxHistDepth) at which every
// value seen lies within HistogramBins consecutive bins, and the counts
// are exact. Because a bin of width 2^(e+1) is exactly two bins of width
// 2^e, a histogram widens by merging neighbouring bins without losing a
// count (as TensorFlow's calibrator widens its histogram by whole bins and
// ONNX Runtime's by a factor), and the result of any sequence of Add and
// Merge calls depends only on the values seen, not on their order or
// grouping. Non-finite values are not counted (TensorStats.NonFinite).
type Histogram struct {
	Exp    int
	Offset int64
	Counts []int64
	Total  int64
}

// Width returns the width of a bin.
func (h *Histogram) Width() float64 { return math.Ldexp(1, h.Exp) }

// binIndex returns floor(x / 2^e), exact: the scaling by a power of two is
// exact in float64 for every float32 (no overflow, no subnormal).
func binIndex(x float32, inv float64) int64 {
	v := float64(x) * inv
	i := int64(v)
	if float64(i) > v {
		i--
	}
	return i
}

// expFloor is the smallest exponent allowed for values of magnitude up to
// peak.
func expFloor(peak float64) int {
	e := minHistExp
	if peak > 0 && !math.IsInf(peak, 0) {
		_, x := math.Frexp(peak) // peak < 2^x
		e = max(e, x-maxHistDepth)
	}
	return e
}

// Add counts values, whose finite values lie in [lo, hi] (lo <= hi: the
// caller has scanned them). NaN and ±Inf are skipped.
func (h *Histogram) Add(values []float32, lo, hi float32) {
	if !(lo <= hi) {
		return
	}
	e := expFloor(max(-float64(lo), float64(hi)))
	if h.Total > 0 {
		e = max(e, h.Exp)
	}
	for {
		inv := math.Ldexp(1, -e)
		first, last := binIndex(lo, inv), binIndex(hi, inv)
		if h.Total > 0 {
			k := uint(e - h.Exp)
			first, last = min(first, h.Offset>>k), max(last, (h.Offset+int64(len(h.Counts))-1)>>k)
		}
		if last-first < HistogramBins {
			break
		}
		e++
	}
	h.coarsen(e)
	inv := math.Ldexp(1, -e)
	h.cover(binIndex(lo, inv), binIndex(hi, inv))
	c, off := h.Counts, h.Offset
	var n int64
	for _, v := range values {
		if v != v || v > math.MaxFloat32 || v < -math.MaxFloat32 {
			continue
		}
		c[binIndex(v, inv)-off]++
		n++
	}
	h.Total += n
	h.trim()
}

// coarsen widens the bins to 2^e (e >= h.Exp), merging 2^(e-h.Exp) bins
// into one.
func (h *Histogram) coarsen(e int) {
	if h.Total == 0 {
		h.Exp = e
		return
	}
	if e <= h.Exp {
		return
	}
	k := uint(e - h.Exp)
	first := h.Offset >> k // arithmetic shift: floor division
	last := (h.Offset + int64(len(h.Counts)) - 1) >> k
	out := make([]int64, last-first+1)
	for i, c := range h.Counts {
		out[((h.Offset+int64(i))>>k)-first] += c
	}
	h.Exp, h.Offset, h.Counts = e, first, out
}

// cover makes the dense counts span bins first..last too.
func (h *Histogram) cover(first, last int64) {
	if len(h.Counts) == 0 {
		h.Offset, h.Counts = first, make([]int64, last-first+1, HistogramBins)
		return
	}
	end := h.Offset + int64(len(h.Counts)) - 1
	if first < h.Offset {
		grown := make([]int64, end-first+1, max(HistogramBins, int(end-first+1)))
		copy(grown[h.Offset-first:], h.Counts)
		h.Offset, h.Counts = first, grown
	}
	if last > end {
		for range last - end {
			h.Counts = append(h.Counts, 0)
		}
	}
}

// trim drops zero counts at both ends.
func (h *Histogram) trim() {
	i, j := 0, len(h.Counts)
	for i < j && h.Counts[i] == 0 {
		i++
	}
	for j > i && h.Counts[j-1] == 0 {
		j--
	}
	if i == j {
		h.Counts, h.Offset = nil, 0
		return
	}
	h.Offset += int64(i)
	h.Counts = h.Counts[i:j]
}

// Merge adds other's counts to h: the result is the histogram of the
// values both saw, whatever the order (see Histogram).
func (h *Histogram) Merge(other *Histogram) {
	if other == nil || other.Total == 0 {
		return
	}
	if h.Total == 0 {
		*h = Histogram{Exp: other.Exp, Offset: other.Offset, Counts: append([]int64(nil), other.Counts...), Total: other.Total}
		return
	}
	o := *other
	o.Counts = append([]int64(nil), other.Counts...)
	e := max(h.Exp, o.Exp)
	for {
		k := uint(e - h.Exp)
		ko := uint(e - o.Exp)
		first := min(h.Offset>>k, o.Offset>>ko)
		last := max((h.Offset+int64(len(h.Counts))-1)>>k, (o.Offset+int64(len(o.Counts))-1)>>ko)
		if last-first < HistogramBins {
			break
		}
		e++
	}
	h.coarsen(e)
	o.coarsen(e)
	h.cover(o.Offset, o.Offset+int64(len(o.Counts))-1)
	for i, c := range o.Counts {
		h.Counts[o.Offset-h.Offset+int64(i)] += c
	}
	h.Total += o.Total
	h.trim()
}

// Bin returns the lower edge of the k-th counted bin and the bin width.
func (h *Histogram) Bin(k int) (lo, width float64) {
	w := h.Width()
	return float64(h.Offset+int64(k)) * w, w
}

// histJSON is a Histogram's JSON form: the counts run-length encoded, a
// negative number -n standing for n zero counts.
type histJSON struct {
	Exp    int     `json:"exp"`
	Offset int64   `json:"offset"`
	Total  int64   `json:"total"`
	Counts []int64 `json:"counts"`
}

// MarshalJSON implements json.Marshaler.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	j := histJSON{Exp: h.Exp, Offset: h.Offset, Total: h.Total, Counts: []int64{}}
	for i := 0; i < len(h.Counts); {
		if h.Counts[i] != 0 {
			j.Counts = append(j.Counts, h.Counts[i])
			i++
			continue
		}
		n := 0
		for i < len(h.Counts) && h.Counts[i] == 0 {
			n++
			i++
		}
		j.Counts = append(j.Counts, -int64(n))
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler, checking what a damaged cache
// entry could break.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var j histJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var counts []int64
	var total int64
	for _, c := range j.Counts {
		if c >= 0 {
			counts = append(counts, c)
			total += c
			continue
		}
		if -c > HistogramBins || len(counts)+int(-c) > HistogramBins {
			return fmt.Errorf("histogram: more than %d bins", HistogramBins)
		}
		for range -c {
			counts = append(counts, 0)
		}
	}
	if len(counts) > HistogramBins || total != j.Total || j.Exp < minHistExp || j.Exp > 200 {
		return fmt.Errorf("histogram: damaged (%d bins, total %d of %d, exponent %d)", len(counts), total, j.Total, j.Exp)
	}
	*h = Histogram{Exp: j.Exp, Offset: j.Offset, Counts: counts, Total: j.Total}
	h.trim()
	return nil
}
