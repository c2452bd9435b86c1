package qparams

import "testing"

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
