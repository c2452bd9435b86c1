package opspec

import (
	"reflect"

	fb "litequant/core/schema/tflitefb"
)

// Layout says how the elements of a weight applied channel by channel to
// an activation map to that activation's channels (its last axis) and to
// the operator's output channels: CONV_2D [O, kh, kw, I], FULLY_CONNECTED
// [O, I] and DEPTHWISE_CONV_2D [1, kh, kw, I·m]. Calibration records
// patch statistics, Full tunes the weights and package deadchan clears
// dead channels only where the table gives one; the zero Layout (Rank 0)
// gives none.
//
// The output-channel axis is the weight's ChannelAxis: the outermost axis
// (0), or the innermost one for a depthwise weight. The input-channel
// axis In is always the innermost.
type Layout struct {
	// Rank is the weight's rank; 0 when the layout is not known.
	Rank int
	// Activation is the operator input position of the activation the
	// weight applies to.
	Activation int
	// In is the weight's input-channel axis (Rank-1).
	In int
	// Depthwise: the weight is [1, kh, kw, I·m] and its innermost axis
	// holds both: output channel c reads input channel c / m, m (the depth
	// multiplier) being that axis's size over the input's channels.
	Depthwise bool
}

// Known reports whether the table gives w's layout.
func (w Weight) Known() bool { return w.Layout.Rank > 0 }

// Reads returns the input channel output channel out of a depthwise
// weight with depth multiplier mult reads (out / mult); a weight that is
// not depthwise reads every input channel, and Reads returns 0 (the one
// group of its patch statistics).
func (w Weight) Reads(out, mult int) int {
	if w.Layout.Depthwise && mult > 0 {
		return out / mult
	}
	return 0
}

// Element returns the flat position, in a weight of layout w with
// channels output channels of per values each, of value p of output
// channel o: o·per + p when the output channels are the outermost axis,
// p·channels + o when they are the innermost (depthwise).
func (w Weight) Element(o, p, per, channels int) int {
	if w.Layout.Depthwise {
		return p*channels + o
	}
	return o*per + p
}

// Channels is a weight's layout fitted to its shape and to the channels
// of the activation it applies to (see Weight.Fit).
type Channels struct {
	n, outs, in, mult int
	depthwise         bool
}

// Fit fits w's layout to a weight of shape holding n values and applied
// to an activation of channels channels. It fails when the layout is not
// known or the shape does not fit it: another rank, a grouped
// convolution, a FULLY_CONNECTED over a flattened input, a depthwise
// weight whose channels are not a multiple of the input's.
func (w Weight) Fit(shape []int32, n, channels int) (Channels, bool) {
	l := w.Layout
	if !w.Known() || len(shape) != l.Rank || channels <= 0 {
		return Channels{}, false
	}
	c := Channels{n: n, in: int(shape[l.In]), mult: 1, depthwise: l.Depthwise}
	if l.Depthwise {
		if shape[0] != 1 || c.in%channels != 0 {
			return Channels{}, false
		}
		c.mult, c.outs = c.in/channels, c.in
	} else {
		if c.in != channels {
			return Channels{}, false
		}
		c.outs = int(shape[w.ChannelAxis])
	}
	if c.in == 0 || c.outs == 0 || n == 0 || n%c.in != 0 || n%c.outs != 0 {
		return Channels{}, false
	}
	return c, true
}

// Outs is the number of output channels.
func (c Channels) Outs() int { return c.outs }

// In returns the input channel weight value k applies to.
func (c Channels) In(k int) int { return k % c.in / c.mult }

// Out returns the output channel weight value k belongs to.
func (c Channels) Out(k int) int {
	if c.depthwise {
		return k % c.in
	}
	return k / (c.n / c.outs)
}

// LaidOut returns the first weight of op whose layout the table gives,
// and the position of the activation it applies to in op's inputs.
func (s *Spec) LaidOut() (w Weight, activation int, ok bool) {
	for _, w := range s.WeightsOrNil() {
		if w.Known() {
			return w, w.Layout.Activation, true
		}
	}
	return Weight{}, 0, false
}

// SetAsymmetricInputs sets asymmetric_quantize_inputs on op, an operator
// of the spec, when Dynamic.AsymmetricInputs says its options have it,
// creating default options when it has none.
func (s *Spec) SetAsymmetricInputs(op *fb.OperatorT) {
	if s != nil && s.Dynamic.AsymmetricInputs != nil {
		s.Dynamic.AsymmetricInputs(op)
	}
}

// asymmetric returns the Dynamic.AsymmetricInputs of an operator whose
// options, of type typ, are T (a schema options type with the field
// AsymmetricQuantizeInputs; TestTableIsConsistent runs every one).
func asymmetric[T any](typ fb.BuiltinOptions) func(op *fb.OperatorT) {
	return func(op *fb.OperatorT) {
		if v := optionsValue(op); v != nil {
			if _, ok := v.(*T); !ok {
				return // options of another operator: left alone
			}
		}
		o := ensureOptions[T](op, typ)
		reflect.ValueOf(o).Elem().FieldByName("AsymmetricQuantizeInputs").SetBool(true)
	}
}
