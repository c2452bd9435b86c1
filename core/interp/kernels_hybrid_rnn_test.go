package interp

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Hybrid RNN, UNIDIRECTIONAL_SEQUENCE_RNN (kernels_hybrid_rnn.go) and SVDF
// (kernels_hybrid_svdf.go) against the real runtime on built models with
// INT8 weights, state carried over calls, outputs within hybridTol.

// hrnnWeights adds an INT8 constant with one random scale.
func hrnnWeights(b *modelbuild.Builder, r *rand.Rand, name string, shape ...int) int32 {
	t := b.Const(name, fb.TensorTypeINT8, ktShape32(shape), ktI8(r, -127, 127, shape...).Data)
	b.Quantize(t, []float32{0.5 / 127 * (0.5 + r.Float32())}, []int64{0}, 0)
	return t
}

func hrnnBias(b *modelbuild.Builder, r *rand.Rand, n int) int32 {
	v := cvtValues(r, n)
	for i := range v {
		v[i] *= 0.3
	}
	return b.ConstFloat32("bias", []int32{int32(n)}, v)
}

type hrnnCfg struct {
	seq, timeMajor, asym, noBias bool
	batch, steps, in, units      int
	act                          fb.ActivationFunctionType
}

func (c hrnnCfg) String() string {
	return fmt.Sprintf("seq%v_tm%v_asym%v_nobias%v_b%d_t%d_i%d_u%d_%s", c.seq, c.timeMajor, c.asym, c.noBias, c.batch, c.steps, c.in, c.units, fb.EnumNamesActivationFunctionType[c.act])
}

func (c hrnnCfg) model(r *rand.Rand) ([]byte, []int) {
	b := modelbuild.New()
	xShape := []int{c.batch, c.in}
	if c.seq {
		xShape = []int{c.batch, c.steps, c.in}
		if c.timeMajor {
			xShape[0], xShape[1] = xShape[1], xShape[0]
		}
	}
	x := b.Tensor("x", fb.TensorTypeFLOAT32, ktShape32(xShape)...)
	w := hrnnWeights(b, r, "w", c.units, c.in)
	rw := hrnnWeights(b, r, "r", c.units, c.units)
	bias := int32(-1)
	if !c.noBias {
		bias = hrnnBias(b, r, c.units)
	}
	h := b.Tensor("h", fb.TensorTypeFLOAT32, int32(c.batch), int32(c.units))
	b.TensorT(h).IsVariable = true
	yShape := append(append([]int{}, xShape[:len(xShape)-1]...), c.units)
	y := b.Tensor("y", fb.TensorTypeFLOAT32, ktShape32(yShape)...)
	if c.seq {
		b.Op(fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN, &fb.SequenceRNNOptionsT{TimeMajor: c.timeMajor, FusedActivationFunction: c.act, AsymmetricQuantizeInputs: c.asym}, []int32{x, w, rw, bias, h}, []int32{y})
	} else {
		b.Op(fb.BuiltinOperatorRNN, &fb.RNNOptionsT{FusedActivationFunction: c.act, AsymmetricQuantizeInputs: c.asym}, []int32{x, w, rw, bias, h}, []int32{y})
	}
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes(), xShape
}

func TestHybridRNNRuntime(t *testing.T) {
	tanh, relu, none := fb.ActivationFunctionTypeTANH, fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeNONE
	var cfgs []hrnnCfg
	for _, asym := range []bool{false, true} {
		cfgs = append(cfgs,
			hrnnCfg{asym: asym, batch: 1, in: 5, units: 4, act: tanh},
			hrnnCfg{asym: asym, batch: 3, in: 12, units: 16, act: relu},
			hrnnCfg{asym: asym, batch: 2, in: 7, units: 3, act: none},
			hrnnCfg{seq: true, asym: asym, batch: 2, steps: 6, in: 5, units: 8, act: tanh},
			hrnnCfg{seq: true, timeMajor: true, asym: asym, batch: 3, steps: 5, in: 4, units: 6, act: tanh},
			hrnnCfg{seq: true, asym: asym, batch: 1, steps: 9, in: 10, units: 12, act: relu},
		)
	}
	worst := 0.0
	for i, c := range cfgs {
		t.Run(c.String(), func(t *testing.T) {
			r := cvtRand(uint64(700 + i))
			model, shape := c.model(r)
			worst = max(worst, hybridCompareRecurrent(t, model, cvtArray(r, append([]int{4}, shape...)...)))
		})
	}
	t.Logf("max relative difference over all cases: %.3g", worst)
	// Without a bias the runtime refuses the RNN; so does the Go interpreter.
	model, _ := hrnnCfg{batch: 1, in: 3, units: 2, act: tanh, noBias: true}.model(cvtRand(1))
	m, err := tflite.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(m, Options{}); err == nil || !strings.Contains(err.Error(), "bias") {
		t.Errorf("RNN without a bias: got %v, want an error naming the bias", err)
	}
}

type hsvdfCfg struct {
	batch, in, units, rank, memory int
	asym, noBias                   bool
	act                            fb.ActivationFunctionType
}

func (c hsvdfCfg) model(r *rand.Rand) []byte {
	b := modelbuild.New()
	filters := c.units * c.rank
	x := b.Tensor("x", fb.TensorTypeFLOAT32, int32(c.batch), int32(c.in))
	wf := hrnnWeights(b, r, "wf", filters, c.in)
	wt := hrnnWeights(b, r, "wt", filters, c.memory)
	bias := int32(-1)
	if !c.noBias {
		bias = hrnnBias(b, r, c.units)
	}
	st := b.Tensor("state", fb.TensorTypeFLOAT32, int32(c.batch), int32(filters*c.memory))
	b.TensorT(st).IsVariable = true
	y := b.Tensor("y", fb.TensorTypeFLOAT32, int32(c.batch), int32(c.units))
	b.Op(fb.BuiltinOperatorSVDF, &fb.SVDFOptionsT{Rank: int32(c.rank), FusedActivationFunction: c.act, AsymmetricQuantizeInputs: c.asym}, []int32{x, wf, wt, bias, st}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}

func TestHybridSVDFRuntime(t *testing.T) {
	relu, none := fb.ActivationFunctionTypeRELU, fb.ActivationFunctionTypeNONE
	var cfgs []hsvdfCfg
	for _, asym := range []bool{false, true} {
		cfgs = append(cfgs,
			hsvdfCfg{batch: 1, in: 6, units: 4, rank: 1, memory: 5, asym: asym, act: relu},
			hsvdfCfg{batch: 2, in: 10, units: 3, rank: 2, memory: 8, asym: asym, act: none},
			hsvdfCfg{batch: 3, in: 4, units: 5, rank: 3, memory: 3, asym: asym, act: relu, noBias: true},
		)
	}
	worst := 0.0
	for i, c := range cfgs {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			r := cvtRand(uint64(800 + i))
			// Twelve calls: the memory fills and shifts past its length.
			worst = max(worst, hybridCompareRecurrent(t, c.model(r), cvtArray(r, 12, c.batch, c.in)))
		})
	}
	t.Logf("max relative difference over all cases: %.3g", worst)
}
