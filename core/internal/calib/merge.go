package calib

import (
	"fmt"
	"slices"
	"time"
)

// Merge combines the partial results of the shards of one calibration
// (Options.Shards: the same model, samples and options, every block of
// samples run by exactly one shard) into the complete result, the same bit
// for bit as a single Run over all samples gives, whatever the number of
// shards: ranges are minima and maxima, counts are integers, per-sample
// values are placed at their global sample index, and the patch sums are
// added block by block in block order, as Run adds them.
func Merge(parts []*Stats) (*Stats, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merging calibration statistics: no shards")
	}
	n := parts[0].Samples
	nblocks := (n + SampleBlock - 1) / SampleBlock
	owner := make([]int, nblocks) // shard+1 that ran each block, 0 for none
	var elapsed time.Duration
	for k, p := range parts {
		if p == nil || p.Shard == nil {
			return nil, fmt.Errorf("merging calibration statistics: shard %d is not a partial result", k)
		}
		if p.Samples != n {
			return nil, fmt.Errorf("merging calibration statistics: shard %d has %d samples, shard 0 has %d", k, p.Samples, n)
		}
		for _, b := range p.Shard.Blocks {
			if b < 0 || b >= nblocks {
				return nil, fmt.Errorf("merging calibration statistics: shard %d ran block %d of %d", k, b, nblocks)
			}
			if owner[b] != 0 {
				return nil, fmt.Errorf("merging calibration statistics: block %d was run by shards %d and %d", b, owner[b]-1, k)
			}
			owner[b] = k + 1
		}
		elapsed = max(elapsed, p.Elapsed) // the shards ran at once
	}
	for b, o := range owner {
		if o == 0 {
			return nil, fmt.Errorf("merging calibration statistics: no shard ran samples %d to %d", b*SampleBlock, min(n, (b+1)*SampleBlock)-1)
		}
	}
	// The shards in the order of their first block: per-tensor values then
	// combine in sample order, as in a single run.
	order := slices.Clone(parts)
	first := func(p *Stats) int {
		if len(p.Shard.Blocks) == 0 {
			return nblocks
		}
		return slices.Min(p.Shard.Blocks)
	}
	slices.SortStableFunc(order, func(a, b *Stats) int { return first(a) - first(b) })

	out := &Stats{Samples: n, SampleNames: make([]string, n), Elapsed: elapsed, Sources: parts[0].Sources}
	for _, p := range order {
		for _, b := range p.Shard.Blocks {
			for i := b * SampleBlock; i < min(n, (b+1)*SampleBlock); i++ {
				if i < len(p.SampleNames) {
					out.SampleNames[i] = p.SampleNames[i]
				}
			}
		}
	}
	// A subgraph is in the result when every shard kept it (a lenient
	// subgraph that failed on one sample is dropped, as Run drops it).
	for _, ss := range parts[0].Subgraphs {
		merged := &SubgraphStats{Index: ss.Index, Tensors: map[int]*TensorStats{}}
		all := true
		var patches []*SubgraphStats
		for _, p := range order {
			src := p.subgraph(ss.Index)
			if src == nil {
				all = false
				break
			}
			for t, ts := range src.Tensors {
				dst := merged.Tensors[t]
				if dst == nil {
					dst = &TensorStats{}
					merged.Tensors[t] = dst
				}
				if err := mergeTensor(dst, ts, p.Shard.Blocks, n); err != nil {
					return nil, fmt.Errorf("merging calibration statistics: subgraph %d tensor %d: %w", ss.Index, t, err)
				}
			}
			patches = append(patches, src)
		}
		if !all {
			continue
		}
		for t, ts := range merged.Tensors {
			if !ts.seen {
				delete(merged.Tensors, t)
				continue
			}
			for _, c := range ts.ChannelEmpty {
				ts.ChannelMin[c], ts.ChannelMax[c] = 0, 0
			}
			ts.ChannelEmpty = nil
			if ts.NonFinite > 0 { // as Run: not reported
				ts.ChannelMin, ts.ChannelMax = nil, nil
			}
		}
		var err error
		if merged.Patches, err = mergePatches(patches); err != nil {
			return nil, fmt.Errorf("merging calibration statistics: subgraph %d: %w", ss.Index, err)
		}
		out.Subgraphs = append(out.Subgraphs, merged)
	}
	return out, nil
}

// subgraph returns the statistics of subgraph index, or nil.
func (s *Stats) subgraph(index int) *SubgraphStats {
	for _, ss := range s.Subgraphs {
		if ss.Index == index {
			return ss
		}
	}
	return nil
}

// mergeTensor adds src, a shard's statistics of one tensor over the given
// blocks, to dst (the shards are merged in the order of their first
// block). dst.ChannelEmpty lists the channels not yet seen finite; Merge
// zeroes them at the end.
func mergeTensor(dst, src *TensorStats, blocks []int, n int) error {
	if !src.Empty {
		if !dst.seen {
			dst.Min, dst.Max, dst.seen = src.Min, src.Max, true
		} else {
			dst.Min, dst.Max = min(dst.Min, src.Min), max(dst.Max, src.Max)
		}
	}
	dst.NonFinite += src.NonFinite
	if len(src.SampleMax) != 0 && len(src.SampleMax) != n {
		return fmt.Errorf("%d sample maxima for %d samples", len(src.SampleMax), n)
	}
	if len(src.SampleMax) == n {
		if dst.SampleMax == nil {
			dst.SampleMax = make(Float32s, n)
		}
		for _, b := range blocks {
			for i := b * SampleBlock; i < min(n, (b+1)*SampleBlock); i++ {
				dst.SampleMax[i] = src.SampleMax[i]
			}
		}
	}
	mergeChannels(dst, src)
	// Histograms merge exactly and in any order (Histogram.Merge).
	if src.Hist != nil && src.Hist.Total > 0 {
		if dst.Hist == nil {
			dst.Hist = &Histogram{}
		}
		dst.Hist.Merge(src.Hist)
	}
	return nil
}

// mergeChannels widens dst's per-channel ranges by src's, leaving out the
// channels src never saw finite. As Run keeps the channel count of the
// first sample that had one, a shard with another count is ignored.
func mergeChannels(dst, src *TensorStats) {
	if src.ChannelMin == nil || len(src.ChannelMax) != len(src.ChannelMin) {
		return
	}
	empty := make([]bool, len(src.ChannelMin))
	for _, c := range src.ChannelEmpty {
		if c >= 0 && c < len(empty) {
			empty[c] = true
		}
	}
	if dst.ChannelMin == nil {
		dst.ChannelMin, dst.ChannelMax = slices.Clone(src.ChannelMin), slices.Clone(src.ChannelMax)
		dst.ChannelEmpty = slices.Clone(src.ChannelEmpty)
		return
	}
	if len(dst.ChannelMin) != len(src.ChannelMin) {
		return
	}
	var still []int // channels empty in both
	dstEmpty := make([]bool, len(dst.ChannelMin))
	for _, c := range dst.ChannelEmpty {
		dstEmpty[c] = true
	}
	for c := range dst.ChannelMin {
		switch {
		case empty[c]:
			if dstEmpty[c] {
				still = append(still, c)
			}
		case dstEmpty[c]:
			dst.ChannelMin[c], dst.ChannelMax[c] = src.ChannelMin[c], src.ChannelMax[c]
		default:
			dst.ChannelMin[c], dst.ChannelMax[c] = min(dst.ChannelMin[c], src.ChannelMin[c]), max(dst.ChannelMax[c], src.ChannelMax[c])
		}
	}
	dst.ChannelEmpty = still
}

// mergePatches adds up the shards' patch sums of each operator block by
// block, in block order (as Run's endBlock does), and normalises them.
func mergePatches(shards []*SubgraphStats) (map[int]*PatchStats, error) {
	out := map[int]*PatchStats{}
	for _, ss := range shards {
		for op, p := range ss.Patches {
			dst := out[op]
			if dst == nil {
				dst = &PatchStats{Dims: p.Dims, Groups: p.Groups}
				out[op] = dst
			}
			if p.Dims != dst.Dims || p.Groups != dst.Groups {
				return nil, fmt.Errorf("operator %d: patches of %d×%d values in one shard, %d×%d in another", op, p.Groups, p.Dims, dst.Groups, dst.Dims)
			}
			dst.Parts = append(dst.Parts, p.Parts...)
		}
	}
	for op, p := range out {
		slices.SortFunc(p.Parts, func(a, b *PatchPart) int { return a.Block - b.Block })
		d, g := p.Dims, p.Groups
		tot := &PatchPart{Sum: make([]float64, g*d)}
		withMoment := d <= MaxMomentDims
		if withMoment {
			tot.Moment = make([]float64, g*d*(d+1)/2)
		}
		for k, part := range p.Parts {
			if k > 0 && part.Block == p.Parts[k-1].Block {
				return nil, fmt.Errorf("operator %d: block %d twice", op, part.Block)
			}
			if len(part.Sum) != len(tot.Sum) || len(part.Moment) != len(tot.Moment) {
				return nil, fmt.Errorf("operator %d block %d: %d sums and %d moments, want %d and %d", op, part.Block, len(part.Sum), len(part.Moment), len(tot.Sum), len(tot.Moment))
			}
			tot.add(part)
		}
		p.Parts, p.tot = nil, tot
		if p.finish(); p.Patches == 0 {
			delete(out, op)
		}
	}
	return out, nil
}
