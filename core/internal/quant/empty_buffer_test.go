package quant

import (
	"errors"
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestEmptyWeightBuffer: a weight whose buffer is an empty (non-nil)
// vector, as a damaged file can hold it, is not a constant: the passes
// leave it alone instead of indexing a unit without tensors (found by
// FuzzConvert).
func TestEmptyWeightBuffer(t *testing.T) {
	b := modelbuild.New()
	f := fb.TensorTypeFLOAT32
	x := b.Tensor("x", f, 1, 4)
	w := b.ConstFloat32("w", []int32{2, 4}, []float32{1, 2, 3, 4, 5, 6, 7, 8})
	y := b.Tensor("y", f, 1, 2)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{x, w, -1}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	for _, pass := range []struct {
		name string
		run  func(*tflite.Model, Options) (*Report, error)
	}{{"dynamic", Dynamic}, {"float16", Float16}} {
		m, err := tflite.Load(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		sg := m.Subgraphs[0]
		m.Buffers[sg.Tensors[sg.Operators[0].Inputs[1]].Buffer].Data = []byte{}
		rep, err := pass.run(m, Options{MinWeightElements: 1, AllowNoop: true})
		if err != nil && !errors.Is(err, ErrNothingToDo) {
			t.Errorf("%s: %v", pass.name, err)
		}
		if err == nil && !rep.Noop {
			t.Errorf("%s quantized a weight with no data: %+v", pass.name, rep)
		}
	}
}
