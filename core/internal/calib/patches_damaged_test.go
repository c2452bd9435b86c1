package calib

import (
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
)

// TestPatchOpsDamagedShapes: operators whose shapes give no sensible
// patch size (negative or enormous, from a damaged file) are skipped, not
// a panic (a sweep variant of face_detection_short_range.tflite had
// negative dimensions in a CONV_2D's shapes).
func TestPatchOpsDamagedShapes(t *testing.T) {
	f := fb.TensorTypeFLOAT32
	conv := &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}
	for _, c := range []struct {
		name string
		in   []int32
		w    []int32
	}{
		{"negative channels", []int32{1, 4, 4, -3}, []int32{2, 1, 1, -3}},
		{"negative kernel", []int32{1, 4, 4, 3}, []int32{2, -1431655765, 1, 3}},
		{"enormous patch", []int32{1, 4, 4, 1 << 20}, []int32{2, 1 << 10, 1 << 10, 1 << 20}},
	} {
		b := modelbuild.New()
		x := b.Tensor("x", f, c.in...)
		w := b.Tensor("w", f, c.w...)
		y := b.Tensor("y", f, 1, 4, 4, 2)
		b.Op(fb.BuiltinOperatorCONV_2D, conv, []int32{x, w, -1}, []int32{y})
		b.Inputs(x, w)
		b.Outputs(y)
		if ops := patchOps(b.Model(), 0); len(ops) != 0 {
			t.Errorf("%s: %d operators recorded", c.name, len(ops))
		}
	}
}
