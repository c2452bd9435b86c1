package quant

import "testing"

// TestSymmetricInt8DamagedShape: a shape that does not describe the values
// (negative or mismatched dimensions, from a damaged file) gives one scale
// for all of them instead of an index out of range.
func TestSymmetricInt8DamagedShape(t *testing.T) {
	values := []float32{1, -2, 3, -4, 5, -6}
	for _, shape := range [][]int32{{2, -1, 3}, {-2, 3}, {4, 1}, {2, 0, 3}} {
		scales, q := symmetricInt8(values, shape, 0)
		if len(scales) != 1 || len(q) != 6 || q[5] != -127 {
			t.Errorf("shape %v: scales %v, q %v", shape, scales, q)
		}
	}
	if scales, _ := symmetricInt8(values, []int32{2, 3}, 0); len(scales) != 2 {
		t.Errorf("a good shape: %d scales", len(scales))
	}
}
