package interp

import (
	"fmt"

	"litequant/core/internal/qparams"
	fb "litequant/core/schema/tflitefb"
)

// FAKE_QUANT: quantize to num_bits over the nudged [min, max] and back to
// float, as TensorFlow's FakeQuantWithMinMaxArgs (what quantization-aware
// training records). The nudging is qparams.Nudge, shared with the passes
// that turn these ranges into real quantization parameters.
func init() {
	register(fb.BuiltinOperatorFAKE_QUANT, &kernel{
		prepare: func(n *node) error {
			o, _ := n.opts.(*fb.FakeQuantOptionsT)
			if o == nil {
				return fmt.Errorf("FAKE_QUANT without options")
			}
			if o.NumBits < 2 || o.NumBits > 16 {
				return fmt.Errorf("num_bits %d out of range [2, 16]", o.NumBits)
			}
			if !(o.Min <= 0 && o.Max >= 0) || o.Min == o.Max {
				// TensorFlow requires min <= 0 <= max for the args form.
				return fmt.Errorf("range [%g, %g] must contain 0 and be non-empty", o.Min, o.Max)
			}
			if len(n.inputs) != 1 || n.inputs[0] == nil || n.inputs[0].Type != fb.TensorTypeFLOAT32 {
				return unsupportedf("FAKE_QUANT takes one FLOAT32 input")
			}
			qmin, qmax := qparams.FakeQuantRange(int(o.NumBits), o.NarrowRange)
			lo, hi, scale, _ := qparams.Nudge(o.Min, o.Max, qmin, qmax)
			n.state = fakeQuant{lo, hi, scale}
			return nil
		},
		eval: func(n *node) error {
			fq := n.state.(fakeQuant)
			in := n.inputs[0]
			out := n.output(0, in.Shape)
			src, dst := in.F32(), out.F32()
			inv := 1 / fq.scale
			for i, x := range src {
				x = min(max(x, fq.lo), fq.hi)
				dst[i] = qparams.RoundHalfAway((x-fq.lo)*inv)*fq.scale + fq.lo
			}
			return nil
		},
	})
}

type fakeQuant struct{ lo, hi, scale float32 }
