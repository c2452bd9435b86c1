package calib

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"litequant/core/interp"
	fb "litequant/core/schema/tflitefb"
)

// addBlock must give the sums and upper-triangle second moments of the
// patches one by one, for lengths around its 4×4 tiles and partial blocks.
func TestAddBlockMatchesOuterProducts(t *testing.T) {
	for _, tc := range []struct{ d, groups, n int }{
		{1, 1, 1}, {3, 1, 64}, {4, 1, 17}, {9, 3, 64}, {27, 1, 5}, {70, 1, 64}, {256, 1, 33},
	} {
		t.Run(fmt.Sprintf("d%d_g%d_n%d", tc.d, tc.groups, tc.n), func(t *testing.T) {
			d, n := tc.d, tc.n
			st := &PatchStats{Dims: d, Groups: tc.groups, sum: make([]float64, tc.groups*d), moment: make([]float64, tc.groups*d*d)}
			r := rand.New(rand.NewPCG(uint64(d), uint64(n)))
			wantSum := make([]float64, tc.groups*d)
			wantMom := make([]float64, tc.groups*d*d)
			for g := 0; g < tc.groups; g++ {
				x := make([]float64, d*patchBlock)
				for b := 0; b < n; b++ {
					for i := 0; i < d; i++ {
						v := math.Round(r.NormFloat64()*8) / 4 // exact in sums
						x[i*patchBlock+b] = v
						wantSum[g*d+i] += v
					}
					for i := 0; i < d; i++ {
						for j := i; j < d; j++ {
							wantMom[g*d*d+i*d+j] += x[i*patchBlock+b] * x[j*patchBlock+b]
						}
					}
				}
				st.addBlock(g, x, patchBlock, n)
			}
			if st.n != float64(n) {
				t.Errorf("patches %g, want %d", st.n, n)
			}
			for i, v := range wantSum {
				if st.sum[i] != v {
					t.Fatalf("sum[%d] = %g, want %g", i, st.sum[i], v)
				}
			}
			for g := 0; g < tc.groups; g++ {
				for i := 0; i < d; i++ {
					for j := i; j < d; j++ {
						k := g*d*d + i*d + j
						if st.moment[k] != wantMom[k] {
							t.Fatalf("group %d moment[%d][%d] = %g, want %g", g, i, j, st.moment[k], wantMom[k])
						}
					}
				}
			}
		})
	}
}

// observe must record the same statistics as taking each sampled window
// one at a time (padding as zeros), for strided, dilated and padded
// convolutions with more windows than one block holds.
func TestObserveMatchesWindows(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		kind                    fb.BuiltinOperator
		h, w, c, kh, kw, s, dil int
		same                    bool
	}{
		{"conv same stride 2", fb.BuiltinOperatorCONV_2D, 11, 13, 3, 3, 3, 2, 1, true},
		{"conv valid dilated", fb.BuiltinOperatorCONV_2D, 12, 12, 2, 2, 3, 1, 2, false},
		{"depthwise same", fb.BuiltinOperatorDEPTHWISE_CONV_2D, 10, 9, 5, 3, 3, 1, 1, true},
		{"depthwise same stride 2 dilated", fb.BuiltinOperatorDEPTHWISE_CONV_2D, 15, 14, 4, 3, 2, 2, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tc.h), uint64(tc.c)))
			x := make([]float32, 2*tc.h*tc.w*tc.c)
			for i := range x {
				x[i] = float32(math.Round(r.NormFloat64()*8) / 4)
			}
			tensor := &interp.Tensor{Type: fb.TensorTypeFLOAT32, Shape: []int{2, tc.h, tc.w, tc.c}, Data: f32Bytes(x)}
			p := &patchOp{dwise: tc.kind == fb.BuiltinOperatorDEPTHWISE_CONV_2D, kh: tc.kh, kw: tc.kw, in: tc.c, sh: tc.s, sw: tc.s, dh: tc.dil, dw: tc.dil, same: tc.same}
			d, groups := tc.kh*tc.kw*tc.c, 1
			if tc.kind == fb.BuiltinOperatorDEPTHWISE_CONV_2D {
				d, groups = tc.kh*tc.kw, tc.c
			}
			p.st = &PatchStats{Dims: d, Groups: groups, sum: make([]float64, groups*d), moment: make([]float64, groups*d*d)}
			p.observe(tensor)

			// The reference: every window, one by one.
			effH, effW := (tc.kh-1)*tc.dil+1, (tc.kw-1)*tc.dil+1
			oh, ow, padT, padL := (tc.h-effH)/tc.s+1, (tc.w-effW)/tc.s+1, 0, 0
			if tc.same {
				oh, ow = (tc.h+tc.s-1)/tc.s, (tc.w+tc.s-1)/tc.s
				padT, padL = max(0, (oh-1)*tc.s+effH-tc.h)/2, max(0, (ow-1)*tc.s+effW-tc.w)/2
			}
			want := &PatchStats{Dims: d, Groups: groups, sum: make([]float64, groups*d), moment: make([]float64, groups*d*d)}
			at := func(b, y, xx, ch int) float64 {
				if y < 0 || y >= tc.h || xx < 0 || xx >= tc.w {
					return 0
				}
				return float64(x[((b*tc.h+y)*tc.w+xx)*tc.c+ch])
			}
			patch := make([]float64, d*patchBlock)
			windows := 0
			for b := 0; b < 2; b++ {
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						windows++
						y0, x0 := oy*tc.s-padT, ox*tc.s-padL
						for g := 0; g < groups; g++ {
							for a := 0; a < tc.kh; a++ {
								for e := 0; e < tc.kw; e++ {
									if groups == 1 {
										for ch := 0; ch < tc.c; ch++ {
											patch[((a*tc.kw+e)*tc.c+ch)*patchBlock] = at(b, y0+a*tc.dil, x0+e*tc.dil, ch)
										}
									} else {
										patch[(a*tc.kw+e)*patchBlock] = at(b, y0+a*tc.dil, x0+e*tc.dil, g)
									}
								}
							}
							want.addBlock(g, patch, patchBlock, 1)
						}
					}
				}
			}
			if windows <= patchBlock {
				t.Fatalf("%d windows: the case should need more than one block", windows)
			}
			if p.st.n != want.n {
				t.Fatalf("patches %g, want %g", p.st.n, want.n)
			}
			for i := range want.sum {
				if p.st.sum[i] != want.sum[i] {
					t.Fatalf("sum[%d] = %g, want %g", i, p.st.sum[i], want.sum[i])
				}
			}
			for g := 0; g < groups; g++ {
				for i := 0; i < d; i++ {
					for j := i; j < d; j++ {
						if k := g*d*d + i*d + j; p.st.moment[k] != want.moment[k] {
							t.Fatalf("group %d moment[%d][%d] = %g, want %g", g, i, j, p.st.moment[k], want.moment[k])
						}
					}
				}
			}
		})
	}
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}
