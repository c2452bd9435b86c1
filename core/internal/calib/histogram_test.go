package calib

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// addAll adds v to h in chunks of n, as the observer adds samples.
func addAll(h *Histogram, v []float32, n int) {
	for i := 0; i < len(v); i += n {
		c := v[i:min(i+n, len(v))]
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, x := range c {
			if x == x && !math.IsInf(float64(x), 0) {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
		h.Add(c, lo, hi)
	}
}

// bruteCounts counts v in bins of width 2^e from bin offset.
func bruteCounts(v []float32, e int, offset int64, n int) []int64 {
	c := make([]int64, n)
	for _, x := range v {
		if x != x || math.IsInf(float64(x), 0) {
			continue
		}
		i := int64(math.Floor(float64(x) / math.Ldexp(1, e)))
		c[i-offset]++
	}
	return c
}

func series() map[string][]float32 {
	r := rand.New(rand.NewPCG(7, 8))
	out := map[string][]float32{}
	var g, grow, relu, special []float32
	for i := 0; i < 20000; i++ {
		g = append(g, float32(r.NormFloat64()))
		// A range that keeps growing, on both sides.
		grow = append(grow, float32(r.NormFloat64()*math.Exp2(float64(i)/1000)))
		relu = append(relu, float32(max(0, r.NormFloat64()*3)))
	}
	special = []float32{0, 0, float32(math.NaN()), float32(math.Inf(1)), 1e-40, -1e-40, 0, 3e38, -3e38, 1}
	out["gaussian"], out["growing"], out["relu"], out["special"] = g, grow, relu, special
	out["zeros"] = make([]float32, 100)
	return out
}

// TestHistogramExact: whatever the growth, the counts are those of the
// final bins exactly, within HistogramBins, and the bins are as fine as
// can be (one step finer would not hold the values).
func TestHistogramExact(t *testing.T) {
	for name, v := range series() {
		for _, chunk := range []int{1, 7, 1000, len(v)} {
			h := &Histogram{}
			addAll(h, v, chunk)
			if len(h.Counts) > HistogramBins || len(h.Counts) == 0 {
				t.Fatalf("%s/%d: %d bins", name, chunk, len(h.Counts))
			}
			want := bruteCounts(v, h.Exp, h.Offset, len(h.Counts))
			if !reflect.DeepEqual(h.Counts, want) {
				t.Errorf("%s/%d: counts differ from a direct count at exponent %d", name, chunk, h.Exp)
			}
			var total int64
			for _, c := range want {
				total += c
			}
			if total != h.Total {
				t.Errorf("%s/%d: total %d, want %d", name, chunk, h.Total, total)
			}
			// Canonical: the same histogram whatever the chunks.
			one := &Histogram{}
			addAll(one, v, len(v))
			if !reflect.DeepEqual(h, one) {
				t.Errorf("%s/%d: differs from the histogram of one chunk (exp %d vs %d)", name, chunk, h.Exp, one.Exp)
			}
		}
	}
}

// TestHistogramMergeOrder: merging histograms of parts in any order gives
// the histogram of the whole.
func TestHistogramMergeOrder(t *testing.T) {
	for name, v := range series() {
		whole := &Histogram{}
		addAll(whole, v, 100)
		r := rand.New(rand.NewPCG(9, 10))
		for trial := 0; trial < 5; trial++ {
			// Parts: random contiguous pieces, merged in random order.
			var parts []*Histogram
			for i := 0; i < len(v); {
				n := 1 + r.IntN(len(v)/3+1)
				p := &Histogram{}
				addAll(p, v[i:min(i+n, len(v))], 50)
				parts = append(parts, p)
				i += n
			}
			r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
			m := &Histogram{}
			for _, p := range parts {
				m.Merge(p)
			}
			if !reflect.DeepEqual(m, whole) {
				t.Errorf("%s trial %d: merged histogram differs from the whole's (exp %d vs %d)", name, trial, m.Exp, whole.Exp)
			}
		}
	}
}

func TestHistogramJSON(t *testing.T) {
	for name, v := range series() {
		h := &Histogram{}
		addAll(h, v, 333)
		b, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		var back Histogram
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(&back, h) {
			t.Errorf("%s: differs after JSON", name)
		}
	}
	for _, bad := range []string{`{"exp":0,"offset":0,"total":5,"counts":[1]}`, `{"exp":0,"offset":0,"total":0,"counts":[-99999]}`} {
		var h Histogram
		if err := json.Unmarshal([]byte(bad), &h); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
