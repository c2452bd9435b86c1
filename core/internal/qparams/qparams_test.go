package qparams

import (
	"math"
	"testing"
)

func TestNudge(t *testing.T) {
	cases := []struct {
		min, max          float32
		qmin, qmax        int
		nmin, nmax, scale float32
		zp                int
	}{
		// Already exact: [0, 255] over [0, 255] keeps scale 1, zero point 0.
		{0, 255, 0, 255, 0, 255, 1, 0},
		// [-1, 1] over 8 bits: scale 2/255; in float32 -min/scale is
		// 127.49999, so the zero point is 127 (as in TensorFlow).
		{-1, 1, 0, 255, -127 * (2.0 / 255), 128 * (2.0 / 255), 2.0 / 255, 127},
		// A range above zero is pulled down to include it.
		{0.5, 2.5, 0, 255, 0, 2.5 - 0.5, 2.0 / 255, 0},
		// Entirely negative: zero point at the top.
		{-3, -1, 0, 255, -2, 0, 2.0 / 255, 255},
		// Narrow range [1, 255].
		{-1, 1, 1, 255, -1, 1, 2.0 / 254, 128},
	}
	for _, c := range cases {
		nmin, nmax, scale, zp := Nudge(c.min, c.max, c.qmin, c.qmax)
		if zp != c.zp || !near(scale, c.scale) || !near(nmin, c.nmin) || !near(nmax, c.nmax) {
			t.Errorf("Nudge(%g, %g, %d, %d) = %g %g %g %d, want %g %g %g %d",
				c.min, c.max, c.qmin, c.qmax, nmin, nmax, scale, zp, c.nmin, c.nmax, c.scale, c.zp)
		}
		// 0.0 is representable: nudged min is an integer multiple of scale.
		if q := -nmin / scale; !near(q, RoundHalfAway(q)) {
			t.Errorf("Nudge(%g, %g): 0 not representable (min/scale = %g)", c.min, c.max, q)
		}
	}
	if lo, hi := FakeQuantRange(8, true); lo != 1 || hi != 255 {
		t.Errorf("FakeQuantRange(8, narrow) = %d, %d", lo, hi)
	}
}

func near(a, b float32) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-5*(1+max(a, -a, b, -b))
}

func TestAsymmetric(t *testing.T) {
	cases := []struct {
		min, max float32
		scale    float32
		zp       int64
	}{
		{0, 6, 6.0 / 255, -128},                     // ReLU6
		{-1, 1, 2.0 / 255, -1},                      // -128 + 127.49999 rounds (half away) to -1, in float32
		{0.5, 2.5, 2.5 / 255, -128},                 // extended down to 0
		{-3, -1, 3.0 / 255, 127},                    // extended up to 0
		{-14.32, 23.19, (23.19 + 14.32) / 255, -31}, // a logits range
		{0, 0, 1.0 / 255, -128},                     // empty: taken as [0, 1]
	}
	for _, c := range cases {
		s, z := Asymmetric(c.min, c.max, -128, 127)
		if !near(s, c.scale) || z != c.zp {
			t.Errorf("Asymmetric(%g, %g) = %g %d, want %g %d", c.min, c.max, s, z, c.scale, c.zp)
		}
		// 0 is exactly representable and the range is covered.
		lo, hi := float32(-128-z)*s, float32(127-z)*s
		if lo > min(c.min, 0)+s/2 || hi < max(c.max, 0)-s/2 {
			t.Errorf("Asymmetric(%g, %g): represents [%g, %g]", c.min, c.max, lo, hi)
		}
	}
	if s, z := Asymmetric(0, 255, 0, 255); s != 1 || z != 0 {
		t.Errorf("uint8 [0, 255]: %g %d", s, z)
	}
}

func TestSymmetricAndQuantize(t *testing.T) {
	if s := Symmetric(-3, 2, 32767); s != float32(3)/32767 {
		t.Errorf("Symmetric = %g", s)
	}
	if s := Symmetric(0, 0, 127); s != float32(1)/127 {
		t.Errorf("Symmetric of zeros = %g", s)
	}
	nan := float32(math.NaN())
	for _, c := range []struct {
		v, scale float32
		zp, want int64
	}{
		{0.5, 0.1, 3, 8}, {0.25, 0.5, 0, 1}, {-0.25, 0.5, 0, -1}, {0.75, 0.5, 0, 2}, // halves away from zero
		{100, 0.1, 0, 127}, {-100, 0.1, 0, -128}, // saturate
		{float32(math.Inf(-1)), 1, 0, -128}, {nan, 1, 5, 5},
	} {
		if got := Quantize(c.v, c.scale, c.zp, -128, 127); got != c.want {
			t.Errorf("Quantize(%g, %g, %d) = %d, want %d", c.v, c.scale, c.zp, got, c.want)
		}
	}
}
