package convert

// int16 steps of the float fallback (int8 mode): before leaving an
// operator float, --target-sqnr tries it on int16 activations (16x8, with
// conversions where it meets int8 operators; quant's full_mixed.go). The
// rule, on the worst output's SQNR: int16 is kept when it reaches the
// target, or when it gains at least minInt16Gain over the step before and
// leaving the operator float would gain no more; otherwise the operator is
// left float. Either way it is not picked again.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"litequant/core/internal/quant"
)

// minInt16Gain (dB) is the least gain that keeps an int16 step short of
// the target: below it, re-quantizing's rounding alone moves the SQNR.
const minInt16Gain = 0.1

// fallbackState is what the fallback has changed after a step.
type fallbackState struct {
	float, int16 []string
}

// checkInt16Ops checks --int16-ops against the options.
func (o Options) checkInt16Ops() error {
	if len(o.Int16Ops) == 0 {
		return nil
	}
	if m := o.EffectiveMode(); m != Int8 {
		return fmt.Errorf("--int16-ops applies to --mode int8 (mixed int8/int16 activations), not --mode %s", m)
	}
	for _, n := range o.Int16Ops {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("--int16-ops: empty operator name (name operators by their first output tensor)")
		}
		if slices.Contains(o.FloatOps, n) {
			return fmt.Errorf("--int16-ops: %q is also in --float-ops", n)
		}
	}
	return nil
}

// int16Trial is a model with one more operator on int16 activations.
type int16Trial struct {
	bytes []byte
	pass  *PassReport
	ver   *Verification
}

// tryInt16 quantizes with name added to the int16 operators and verifies
// the model. It returns nil when int16 does not apply: not int8 mode, or
// the operator has no int16x8 kernel (quant.ErrNoInt16).
func tryInt16(ctx context.Context, req Request, q quant.Options, int16Ops []string, name string, requant requantizer, plan *verifyPlan, progress func(string, int, int)) (*int16Trial, error) {
	if req.Options.EffectiveMode() != Int8 {
		return nil, nil
	}
	q.Int16Ops = append(slices.Clone(int16Ops), name)
	b, pass, err := requant(q)
	if errors.Is(err, quant.ErrNoInt16) || errors.Is(err, errAllFloat) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := verify(ctx, req.Model, b, plan, progress)
	if err != nil {
		return nil, err
	}
	if v.Error != "" {
		return nil, fmt.Errorf("verification: %s", v.Error)
	}
	return &int16Trial{b, pass, v}, nil
}
