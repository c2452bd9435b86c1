package calib

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"litequant/core/modelbuild"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// weightModel has a CONV_2D, a DEPTHWISE_CONV_2D and a FULLY_CONNECTED on
// a 6×6×3 input, so that every kind of statistics is recorded.
func weightModel(t *testing.T) *tflite.Model {
	f := fb.TensorTypeFLOAT32
	b := modelbuild.New()
	x := b.Tensor("x", f, 1, 6, 6, 3)
	r := rand.New(rand.NewPCG(7, 8))
	vals := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	cw := b.ConstFloat32("cw", []int32{4, 3, 3, 3}, vals(108))
	c := b.Tensor("c", f, 1, 6, 6, 4)
	b.Op(fb.BuiltinOperatorCONV_2D, &fb.Conv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 1, StrideH: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{x, cw, -1}, []int32{c})
	dw := b.ConstFloat32("dw", []int32{1, 3, 3, 4}, vals(36))
	d := b.Tensor("d", f, 1, 3, 3, 4)
	b.Op(fb.BuiltinOperatorDEPTHWISE_CONV_2D, &fb.DepthwiseConv2DOptionsT{Padding: fb.PaddingSAME, StrideW: 2, StrideH: 2, DepthMultiplier: 1, DilationWFactor: 1, DilationHFactor: 1}, []int32{c, dw, -1}, []int32{d})
	rs := b.Tensor("r", f, 1, 36)
	shape := b.ConstInt32("shape", []int32{2}, []int32{1, 36})
	b.Op(fb.BuiltinOperatorRESHAPE, nil, []int32{d, shape}, []int32{rs})
	fw := b.ConstFloat32("fw", []int32{5, 36}, vals(180))
	y := b.Tensor("y", f, 1, 5)
	b.Op(fb.BuiltinOperatorFULLY_CONNECTED, &fb.FullyConnectedOptionsT{}, []int32{rs, fw, -1}, []int32{y})
	b.Inputs(x)
	b.Outputs(y)
	m, err := tflite.Load(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// randomSamples returns n samples of shape whose magnitudes vary over many
// octaves (so that float sums depend on their order), channel 2 always
// negative in the first samples, and a NaN in sample nan (if ≥ 0).
func randomSamples(shape []int, n, nan int) floats {
	r := rand.New(rand.NewPCG(uint64(n), 3))
	size := 1
	for _, d := range shape {
		size *= d
	}
	src := floats{shape: shape}
	for s := 0; s < n; s++ {
		v := make([]float32, size)
		for i := range v {
			v[i] = float32(r.NormFloat64() * math.Exp2(float64(r.IntN(20)-10)))
		}
		if s == nan {
			v[5] = float32(math.NaN())
		}
		src.data = append(src.data, v)
	}
	return src
}

// encoded is st's JSON with the elapsed time left out.
func encoded(t *testing.T, st *Stats) string {
	t.Helper()
	c := *st
	c.Elapsed = 0
	js, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

// shardRun runs src in k shards, passes each through JSON (as the page's
// workers hand them over) and merges them, in reverse shard order.
func shardRun(t *testing.T, m *tflite.Model, src Source, opts Options, k int) *Stats {
	t.Helper()
	var parts []*Stats
	for s := k - 1; s >= 0; s-- {
		o := opts
		o.Shard, o.Shards = s, k
		st, err := Run(context.Background(), m, src, o)
		if err != nil {
			t.Fatalf("shard %d of %d: %v", s, k, err)
		}
		if st.Shard == nil {
			t.Fatalf("shard %d of %d: not a partial result", s, k)
		}
		js, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var back Stats
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, &back)
	}
	st, err := Merge(parts)
	if err != nil {
		t.Fatalf("merging %d shards: %v", k, err)
	}
	return st
}

// Merging the shards gives the complete run's statistics bit for bit,
// whatever the number of shards (more shards than blocks included), with
// and without a NaN, and for samples not a whole number of blocks.
func TestMergeMatchesRun(t *testing.T) {
	m := weightModel(t)
	// With a NaN, patch statistics are NaN and do not encode as JSON:
	// that case checks the ranges and counts alone.
	for _, tc := range []struct {
		n, nan int
		opts   Options
	}{{37, -1, Options{Patches: true, Channels: true, Histograms: true}}, {48, 20, Options{Channels: true, Histograms: true}}, {5, -1, Options{Patches: true, Channels: true, Histograms: true}}} {
		opts := tc.opts
		src := randomSamples([]int{1, 6, 6, 3}, tc.n, tc.nan)
		whole, err := Run(context.Background(), m, src, opts)
		if err != nil {
			t.Fatal(err)
		}
		if whole.Shard != nil || opts.Patches && (whole.Patch(0, 0) == nil || whole.Patch(0, 1) == nil || whole.Patch(0, 3) == nil) {
			t.Fatalf("complete run: shard %v, patches %v", whole.Shard, whole.Subgraphs[0].Patches)
		}
		want := encoded(t, whole)
		for _, k := range []int{2, 3, 5, 8} {
			t.Run(fmt.Sprintf("%d samples nan %d, %d shards", tc.n, tc.nan, k), func(t *testing.T) {
				got := shardRun(t, m, src, opts, k)
				if js := encoded(t, got); js != want {
					t.Errorf("merged statistics differ from a complete run's:\n got %.300s\nwant %.300s", js, want)
				}
			})
		}
	}
}

// The patch sums of each block are added in block order: a complete run
// of more than one block differs from summing all patches in one go only
// by that order, and the test above would not notice a merge that summed
// shard totals instead; this checks the sums are those of the blocks.
func TestBlockSums(t *testing.T) {
	m := weightModel(t)
	src := randomSamples([]int{1, 6, 6, 3}, 2*SampleBlock+3, -1)
	whole, err := Run(context.Background(), m, src, Options{Patches: true})
	if err != nil {
		t.Fatal(err)
	}
	var tot *PatchPart
	for b := 0; b < 3; b++ {
		blk := floats{shape: src.shape, data: src.data[b*SampleBlock : min(len(src.data), (b+1)*SampleBlock)]}
		part, err := Run(context.Background(), m, blk, Options{Patches: true, Shards: 2})
		if err != nil {
			t.Fatal(err)
		}
		p := part.Patch(0, 0)
		if len(p.Parts) != 1 {
			t.Fatalf("block %d: %d parts", b, len(p.Parts))
		}
		if tot == nil {
			tot = &PatchPart{Sum: make([]float64, len(p.Parts[0].Sum)), Moment: make([]float64, len(p.Parts[0].Moment))}
		}
		tot.add(p.Parts[0])
	}
	got := whole.Patch(0, 0)
	if got.Patches != tot.Patches {
		t.Fatalf("patches %g, want %g", got.Patches, tot.Patches)
	}
	for i, v := range tot.Sum {
		if got.Mean[i] != v/tot.Patches {
			t.Fatalf("mean[%d] = %g, want %g", i, got.Mean[i], v/tot.Patches)
		}
	}
	for i, v := range tot.Moment {
		if got.Moment[i] != float32(v/tot.Patches) {
			t.Fatalf("moment[%d] = %g, want %g", i, got.Moment[i], v/tot.Patches)
		}
	}
}

func TestMergeErrors(t *testing.T) {
	m := weightModel(t)
	src := randomSamples([]int{1, 6, 6, 3}, 20, -1)
	shard := func(s, k int) *Stats {
		st, err := Run(context.Background(), m, src, Options{Patches: true, Shard: s, Shards: k})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	whole, err := Run(context.Background(), m, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Run(context.Background(), m, randomSamples([]int{1, 6, 6, 3}, 9, -1), Options{Shard: 1, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		parts []*Stats
		want  string
	}{
		{"none", nil, "no shards"},
		{"complete", []*Stats{whole}, "not a partial result"},
		{"missing", []*Stats{shard(0, 3), shard(2, 3)}, "no shard ran samples 8 to 15"},
		{"twice", []*Stats{shard(0, 2), shard(1, 2), shard(1, 2)}, "block 1 was run by shards 1 and 2"},
		{"other samples", []*Stats{shard(0, 2), other}, "shard 1 has 9 samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(tc.parts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	if _, err := Run(context.Background(), m, src, Options{Shard: 2, Shards: 2}); err == nil {
		t.Error("shard 2 of 2 accepted")
	}
}
