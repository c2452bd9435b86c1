package modelbuild

import fb "litequant/core/schema/tflitefb"

// DynamicConv is a model whose input height and width are dynamic:
// x [1, 4, 4, 3] (shape_signature [1, -1, -1, 3]) -> CONV_2D 1×1 SAME with
// 2 filters -> y [1, 4, 4, 2] (shape_signature [1, -1, -1, 2]).
func DynamicConv() []byte {
	f := fb.TensorTypeFLOAT32
	b := New()
	x := b.Tensor("x", f, 1, 4, 4, 3)
	b.TensorT(x).ShapeSignature = []int32{1, -1, -1, 3}
	w := b.ConstFloat32("w", []int32{2, 1, 1, 3}, []float32{0.5, -0.25, 1, 0.1, 0.2, -0.3})
	bias := b.ConstFloat32("b", []int32{2}, []float32{0.1, -0.1})
	y := b.Tensor("y", f, 1, 4, 4, 2)
	b.TensorT(y).ShapeSignature = []int32{1, -1, -1, 2}
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{x, w, bias}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	return b.Bytes()
}
