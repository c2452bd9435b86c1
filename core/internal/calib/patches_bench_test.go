package calib

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkAddBlock times adding one block of patches to the statistics
// for patch lengths of mobilenet's convolutions (27: the first 3×3×3
// convolution; 64 and 256: pointwise ones).
func BenchmarkAddBlock(b *testing.B) {
	for _, d := range []int{27, 64, 256} {
		b.Run(fmt.Sprint(d), func(b *testing.B) {
			st := &PatchStats{Dims: d, Groups: 1, sum: make([]float64, d), moment: make([]float64, d*d)}
			x := make([]float64, d*patchBlock)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range x {
				x[i] = r.Float64()
			}
			b.SetBytes(int64(8 * len(x)))
			for b.Loop() {
				st.addBlock(0, x, patchBlock, patchBlock)
			}
		})
	}
}
