package interp_test

import (
	"errors"
	"strings"
	"testing"

	"litequant/core/interp"
	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// TestTensorWithoutData: a model in which an operator would read a tensor
// that holds no data is refused by Load or New with an error naming the
// operator, never run into a recovered panic (ErrInternal). The FuzzRun
// finding was ADD declaring a second output that no kernel writes, read by
// MUL: "slice bounds out of range [:4096] with capacity 0" inside ewRun.
func TestTensorWithoutData(t *testing.T) {
	f := fb.TensorTypeFLOAT32
	cases := []struct {
		name  string
		build func(b *modelbuild.Builder)
		want  []string
	}{
		{"extra_output_read_later", func(b *modelbuild.Builder) {
			x := b.Tensor("x", f, 1, 64, 64)
			sum := b.Tensor("sum", f, 1, 64, 64)
			ghost := b.Tensor("ghost", f, 1, 64, 64)
			y := b.Tensor("y", f, 1, 64, 64)
			b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{}, []int32{x, x}, []int32{sum, ghost})
			b.Op(fb.BuiltinOperatorMUL, &fb.MulOptionsT{}, []int32{sum, ghost}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
		}, []string{"operator 0 (ADD)", "has 2 outputs", "writes exactly one"}},
		{"extra_output_is_graph_output", func(b *modelbuild.Builder) {
			x := b.Tensor("x", f, 1, 8)
			y := b.Tensor("y", f, 1, 8)
			z := b.Tensor("z", f, 1, 8)
			b.Op(fb.BuiltinOperatorRELU, nil, []int32{x}, []int32{y, z})
			b.Inputs(x)
			b.Outputs(y, z)
		}, []string{"operator 0 (RELU)", "has 2 outputs"}},
		{"read_before_written", func(b *modelbuild.Builder) {
			x := b.Tensor("x", f, 1, 64, 64)
			late := b.Tensor("late", f, 1, 64, 64)
			sum := b.Tensor("sum", f, 1, 64, 64)
			y := b.Tensor("y", f, 1, 64, 64)
			b.Op(fb.BuiltinOperatorADD, &fb.AddOptionsT{}, []int32{x, late}, []int32{sum})
			b.Op(fb.BuiltinOperatorRELU, nil, []int32{x}, []int32{late})
			b.Op(fb.BuiltinOperatorMUL, &fb.MulOptionsT{}, []int32{sum, late}, []int32{y})
			b.Inputs(x)
			b.Outputs(y)
		}, []string{"operator 0 (ADD)", `"late"`, "operator 1, RELU"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := modelbuild.New()
			c.build(b)
			m, err := tflite.Load(b.Bytes())
			if err == nil {
				var it *interp.Interpreter
				if it, err = interp.New(m, interp.Options{}); err == nil {
					t.Fatalf("Load and New accepted the model; Invoke: %v", it.Invoke())
				}
			}
			if errors.Is(err, interp.ErrInternal) {
				t.Fatalf("internal error (recovered panic): %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %s", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
			t.Log(err)
		})
	}
}
