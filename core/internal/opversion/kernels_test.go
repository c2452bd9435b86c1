package opversion

import (
	"testing"

	"litequant/core/internal/opspec"
	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestKernelVersions is where opspec's table and these rules meet: for
// every operator opspec gives an integer kernel, in every activation type
// it has one for, Required of the plain operator (activations of that
// type, its weights int8 or uint8 as the mode stores them, its bias
// present or absent, whichever needs the lower version) is the version
// opspec names, and the pinned runtime registers it. Most operators' type
// rules are opspec's versions themselves (see kernel); this checks the
// operators whose rules here are written out.
func TestKernelVersions(t *testing.T) {
	for _, s := range opspec.All() {
		for _, act := range []fb.TensorType{fb.TensorTypeINT8, fb.TensorTypeINT16, fb.TensorTypeUINT8} {
			want := s.Full.Kernel(act)
			if want == 0 {
				continue
			}
			if max, ok := PinnedMax(s.Op); ok && want > max {
				t.Errorf("%s: %s kernel at version %d, the pinned runtime registers up to %d", s.Name(), tflite.TypeName(act), want, max)
			}
			got := int32(0)
			forms := []bool{true}
			if len(s.Biases) > 0 {
				forms = append(forms, false)
			}
			for _, bias := range forms {
				m, op := plainOp(s, act, bias)
				if v := Required(m, m.Subgraphs[0], op); got == 0 || v < got {
					got = v
				}
			}
			if got != want {
				t.Errorf("%s with %s activations: opspec says version %d, Required gives %d", s.Name(), tflite.TypeName(act), want, got)
			}
		}
	}
}

// plainOp builds one operator of spec s with activations of type act
// (scale 0.5, zero point 0; rank 4), weights int8 (uint8 with uint8
// activations), a bias when bias is set (int32, int64 with int16
// activations) and int32 for every other input.
func plainOp(s *opspec.Spec, act fb.TensorType, bias bool) (*tflite.Model, *fb.OperatorT) {
	b := modelbuild.New()
	n := 2 // AllInputs: two of them
	for _, k := range s.Full.Inputs {
		n = max(n, k+1)
	}
	for _, w := range s.Weights {
		n = max(n, w.Input+1)
	}
	for _, k := range s.Biases {
		n = max(n, k+1)
	}
	weight, biasType := fb.TensorTypeINT8, fb.TensorTypeINT32
	switch act {
	case fb.TensorTypeUINT8:
		weight = fb.TensorTypeUINT8
	case fb.TensorTypeINT16:
		biasType = fb.TensorTypeINT64
	}
	tensor := func(typ fb.TensorType) int32 {
		x := b.Tensor("t", typ, 1, 2, 2, 1)
		b.Quantize(x, []float32{0.5}, []int64{0}, 0)
		return x
	}
	ins := make([]int32, n)
	for k := range ins {
		switch s.Role(k) {
		case opspec.Activation:
			ins[k] = tensor(act)
		case opspec.WeightRole:
			ins[k] = tensor(weight)
		case opspec.BiasRole:
			ins[k] = -1
			if bias {
				ins[k] = tensor(biasType)
			}
		default:
			ins[k] = b.Tensor("other", fb.TensorTypeINT32, 4)
		}
	}
	out := act
	if s.Full.IntegerOutputs {
		out = fb.TensorTypeINT32
	}
	op := b.Op(s.Op, nil, ins, []int32{tensor(out)})
	if s.Full.Prepare != nil {
		s.Full.Prepare(op, act)
	}
	return b.Model(), op
}
