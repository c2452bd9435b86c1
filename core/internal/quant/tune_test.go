package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"litequant/core/internal/calib"
	"litequant/core/internal/opspec"
	fb "litequant/core/schema/tflitefb"
)

// Tuned rounding never raises the expected squared output error of any
// channel, keeps every weight within one step of its nearest rounding,
// and the bias correction is Δw·mean.
func TestTuneWeights(t *testing.T) {
	const out, d = 6, 12
	r := rand.New(rand.NewPCG(9, 9))
	w := make([]float32, out*d)
	for i := range w {
		w[i] = float32(r.NormFloat64()) * float32(1+i/d)
	}
	// Correlated inputs with a large mean (as after a ReLU).
	st := &calib.PatchStats{Dims: d, Groups: 1, Patches: 500, Mean: make([]float64, d)}
	mom := make([]float64, d*d)
	for n := 0; n < 500; n++ {
		base := r.Float64() * 4
		x := make([]float64, d)
		for i := range x {
			x[i] = base + r.Float64()
			st.Mean[i] += x[i] / 500
		}
		for i := range x {
			for j := range x {
				mom[i*d+j] += x[i] * x[j] / 500
			}
		}
	}
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			st.Moment = append(st.Moment, float32(mom[i*d+j]))
		}
	}
	shape := []int32{out, d}
	scales, nearest := symmetricInt8(w, shape, 0)
	q := append([]int8(nil), nearest...)
	corr := tuneWeights(opspec.Lookup(fb.BuiltinOperatorFULLY_CONNECTED).Weights[0], w, shape, scales, q, st, true, true)
	if len(corr) != out {
		t.Fatalf("corrections %v", corr)
	}
	cost := func(q []int8, o int) (mse, mean float64) {
		for i := 0; i < d; i++ {
			di := float64(q[o*d+i])*float64(scales[o]) - float64(w[o*d+i])
			mean += di * st.Mean[i]
			for j := 0; j < d; j++ {
				dj := float64(q[o*d+j])*float64(scales[o]) - float64(w[o*d+j])
				mse += di * dj * (mom[i*d+j] - st.Mean[i]*st.Mean[j])
			}
		}
		return mse, mean
	}
	better := 0
	for o := 0; o < out; o++ {
		before, _ := cost(nearest, o)
		after, mean := cost(q, o)
		if after > before*(1+1e-9) {
			t.Errorf("channel %d: error %g after tuning, %g before", o, after, before)
		}
		if after < before {
			better++
		}
		if math.Abs(corr[o]-mean) > 1e-9*math.Max(1, math.Abs(mean)) {
			t.Errorf("channel %d: correction %g, want Δw·mean = %g", o, corr[o], mean)
		}
		for i := 0; i < d; i++ {
			if diff := int(q[o*d+i]) - int(nearest[o*d+i]); diff < -1 || diff > 1 || q[o*d+i] == -128 {
				t.Errorf("weight %d moved from %d to %d", o*d+i, nearest[o*d+i], q[o*d+i])
			}
		}
	}
	if better == 0 {
		t.Error("tuning improved no channel")
	}
	// Shared weights keep the nearest rounding; only the bias is corrected.
	q2 := append([]int8(nil), nearest...)
	if corr := tuneWeights(opspec.Lookup(fb.BuiltinOperatorFULLY_CONNECTED).Weights[0], w, shape, scales, q2, st, true, false); corr == nil || string(int8Bytes(q2)) != string(int8Bytes(nearest)) {
		t.Error("optimize=false changed the weights")
	}
	// Mismatched statistics are ignored.
	if corr := tuneWeights(opspec.Lookup(fb.BuiltinOperatorFULLY_CONNECTED).Weights[0], w, []int32{out * 2, d / 2}, scales, q2, st, true, true); corr != nil {
		t.Error("statistics of another shape were used")
	}
}
