package interp

import (
	"fmt"
	"math"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// The arithmetic shared by the hybrid (dynamic-range) kernels: float
// activations meet constant int8 weights. As in TensorFlow Lite's hybrid
// kernels (tensor_utils' SymmetricQuantizeFloats, AsymmetricQuantizeFloats
// and MatrixBatchVectorMultiplyAccumulate), each batch row of the input is
// quantized to int8 on the fly with a scale of its own (and, asymmetric, a
// zero point of its own), the products are summed exactly in int32, and the
// sum becomes float once: bias + float(sum) × (input scale × weight scale).
// With an input zero point z the sum is corrected by z times the weight
// row's sum, so Σ w·(q − z) is computed as Σ w·q − z·Σ w.

// hybridSymmetric quantizes src into dst (same length) symmetrically over
// [-127, 127] and returns the scale: max|src| / 127, with values multiplied
// by 127 / max|src| and rounded half away from zero. An all-zero row gives
// zeros and scale 1.
func hybridSymmetric(dst []int8, src []float32) float32 {
	lo, hi := hybridMinMax(src)
	r := max(float32(math.Abs(float64(lo))), float32(math.Abs(float64(hi))))
	dst = dst[:len(src)]
	if r == 0 {
		clear(dst)
		return 1
	}
	scale := r / 127
	inv := 127 / r
	for i, v := range src {
		q := math.Round(float64(float32(v * inv)))
		dst[i] = int8(max(-127, min(127, q)))
	}
	return scale
}

// hybridAsymmetric quantizes src into dst (same length) over [-128, 127]
// with the range widened to include 0 and returns the scale and zero point,
// chosen in float64 as TensorFlow Lite does (the zero point from whichever
// end of the range gives the smaller error, nudged to an integer in range).
// A row whose range is empty gives zeros, scale 1 and zero point 0.
func hybridAsymmetric(dst []int8, src []float32) (float32, int32) {
	lo, hi := hybridMinMax(src)
	rmin := float64(min(0, lo))
	rmax := float64(max(0, hi))
	dst = dst[:len(src)]
	if rmin == rmax {
		clear(dst)
		return 1, 0
	}
	scale := (rmax - rmin) / 255
	zFromMin := -128 - rmin/scale
	zFromMax := 127 - rmax/scale
	z := zFromMax
	if 128+math.Abs(rmin/scale) < 127+math.Abs(rmax/scale) {
		z = zFromMin
	}
	var zp int32
	switch {
	case z <= -128:
		zp = -128
	case z >= 127:
		zp = 127
	default:
		zp = int32(math.Round(z))
	}
	s := float32(scale)
	inv := 1 / s
	fz := float32(zp)
	for i, v := range src {
		q := math.Round(float64(fz + float32(v*inv)))
		dst[i] = int8(max(-128, min(127, q)))
	}
	return s, zp
}

// hybridMinMax returns the smallest and largest value of a non-empty row
// (0, 0 for an empty one).
func hybridMinMax(v []float32) (lo, hi float32) {
	if len(v) == 0 {
		return 0, 0
	}
	lo, hi = v[0], v[0]
	for _, x := range v[1:] {
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
	}
	return lo, hi
}

// hybridQuantizeRow quantizes one row, asymmetrically or not, and returns
// its scale and zero point (0 when symmetric).
func hybridQuantizeRow(dst []int8, src []float32, asymmetric bool) (float32, int32) {
	if asymmetric {
		return hybridAsymmetric(dst, src)
	}
	return hybridSymmetric(dst, src), 0
}

// dotI8 is the exact int32 sum of a[i]·b[i].
func dotI8(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}

// rowSumsI8 returns the sum of each of the rows of length cols of w.
func rowSumsI8(w []int8, rows, cols int) []int32 {
	out := make([]int32, rows)
	for r := range out {
		var s int32
		for _, v := range w[r*cols : (r+1)*cols] {
			s += int32(v)
		}
		out[r] = s
	}
	return out
}

// hybridTensorScale is the single scale TensorFlow Lite's per-tensor hybrid
// kernels read (the tensor's legacy quantization parameters): the scale of
// a tensor with exactly one scale and one zero point, and 0 for any other
// (a kernel given per-channel scales then scales every product by 0).
func hybridTensorScale(t *Tensor) float32 {
	if len(t.Scale) == 1 && len(t.ZeroPoint) == 1 {
		return t.Scale[0]
	}
	return 0
}

// hybridWeights checks that w is a constant INT8 weight tensor with
// quantization parameters; what names it in errors.
func hybridWeights(w *Tensor, what string) error {
	if w.Type != fb.TensorTypeINT8 {
		return unsupportedf("%s of type %s (hybrid kernels take INT8 weights)", what, tflite.TypeName(w.Type))
	}
	if len(w.Scale) == 0 {
		return fmt.Errorf("%s %v has no quantization scale", what, w)
	}
	return nil
}

// isF32 and isI8 test a possibly absent tensor's type.
func isF32(t *Tensor) bool { return t != nil && t.Type == fb.TensorTypeFLOAT32 }
func isI8(t *Tensor) bool  { return t != nil && t.Type == fb.TensorTypeINT8 }
