package interp

import (
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
)

// broadcastShape returns the NumPy-style broadcast of shapes a and b.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastStrides returns, for a tensor of shape `in` broadcast to `out`,
// the element stride of each output dimension in the input (0 where the
// input is broadcast along it). len(result) == len(out).
func broadcastStrides(in, out []int) []int {
	st := make([]int, len(out))
	s := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := i - (len(out) - len(in))
		if j < 0 {
			continue
		}
		if in[j] != 1 {
			st[i] = s
		}
		s *= in[j]
	}
	return st
}

// normAxis resolves a possibly negative axis against rank.
func normAxis(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

// activationRange returns the clamp bounds of a fused activation. TANH and
// SIGN_BIT are not clamps; callers handle them (activate does).
func activationRange(act fb.ActivationFunctionType) (lo, hi float32) {
	switch act {
	case fb.ActivationFunctionTypeRELU:
		return 0, float32(math.Inf(1))
	case fb.ActivationFunctionTypeRELU6:
		return 0, 6
	case fb.ActivationFunctionTypeRELU_N1_TO_1:
		return -1, 1
	}
	return float32(math.Inf(-1)), float32(math.Inf(1))
}

// activate applies a fused activation in place.
func activate(v []float32, act fb.ActivationFunctionType) error {
	switch act {
	case fb.ActivationFunctionTypeNONE:
		return nil
	case fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeRELU6, fb.ActivationFunctionTypeRELU_N1_TO_1:
		lo, hi := activationRange(act)
		for i, x := range v {
			if x < lo {
				v[i] = lo
			} else if x > hi {
				v[i] = hi
			}
		}
		return nil
	case fb.ActivationFunctionTypeTANH:
		for i, x := range v {
			v[i] = float32(math.Tanh(float64(x)))
		}
		return nil
	case fb.ActivationFunctionTypeSIGN_BIT:
		for i, x := range v {
			if math.Signbit(float64(x)) {
				v[i] = 1
			} else {
				v[i] = 0
			}
		}
		return nil
	}
	return unsupportedf("fused activation %d", act)
}
