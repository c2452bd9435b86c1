package convert

import (
	"context"
	"errors"
	"fmt"
)

// Advice is what one mode would do to a model, for a front end to show
// before anything is converted: the size after, whether samples are
// needed, and which operators would stay float (with the reason).
type Advice struct {
	Mode       Mode   `json:"mode"`
	Summary    string `json:"summary"`
	Calibrates bool   `json:"calibrates"`
	SizeBefore int    `json:"size_before"`
	SizeAfter  int    `json:"size_after"`
	// FloatOps are the operators that would stay float: in dynamic and
	// float16 mode the operators whose weights stay float, in the
	// calibrated modes those without an integer kernel.
	FloatOps   []FloatOpAdvice `json:"float_ops"`
	IntegerOps int             `json:"integer_ops,omitempty"`
	// Error says why the mode cannot convert this model ("" when it can);
	// Nothing is set when there is nothing for the mode to quantize.
	Error   string `json:"error,omitempty"`
	Nothing bool   `json:"nothing,omitempty"`
}

// FloatOpAdvice names an operator that would stay float.
type FloatOpAdvice struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// adviceRange is the activation range assumed for every tensor when the
// calibrated modes are tried without samples: calibration changes scales,
// not which operators get integer kernels nor the model's size.
const adviceRange = "-8,8"

// Advise tries every mode on the model with the options o (their mode and
// verification ignored), the calibrated ones without samples (every
// activation given adviceRange), and says what each would do. It fails
// only when the model cannot be read; a mode that cannot convert it has
// its Error set.
func Advise(ctx context.Context, model []byte, o Options) ([]Advice, error) {
	o.VerifySplit, o.VerifyRandom = 0, 0
	var out []Advice
	for _, mi := range ModeInfos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mo := o
		mo.Mode = mi.Name
		mo.AllowNoop = false
		if mi.Calibrates {
			mo.DefaultRange = adviceRange
		} else {
			mo.DefaultRange, mo.CalibCount, mo.InputType, mo.OutputType, mo.IntegerOnly = "", 0, "", "", false
			mo.InputStats = nil
		}
		a := Advice{Mode: mi.Name, Summary: mi.Summary, Calibrates: mi.Calibrates, SizeBefore: len(model)}
		res, err := Convert(ctx, Request{Model: model, Options: mo})
		switch {
		case errors.Is(err, ErrNothingToDo):
			a.Nothing = true
			a.SizeAfter = len(model)
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return nil, err
		case err != nil:
			a.Error = err.Error()
		default:
			q := res.Report.Quantize
			a.SizeAfter = res.Report.SizeAfter
			a.IntegerOps = q.IntegerOps
			for _, f := range q.FloatOps {
				a.FloatOps = append(a.FloatOps, FloatOpAdvice{Name: f.Name, Reason: f.Reason})
			}
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no modes")
	}
	return out, nil
}
