// Package calib runs a float model on calibration samples and records, for
// every float tensor it computes, the statistics activation quantization
// needs: the range of values seen over all samples (min/max, as TensorFlow's
// calibrator records) and, with Options.Histograms, a histogram of the
// values (Histogram), from which other range methods choose. Statistics
// are gathered on the fly by an interpreter observer, so no activation is
// kept beyond the operator that made it.
package calib

import (
	"context"
	"fmt"
	"math"
	"time"

	"litequant/core/internal/opspec"
	"litequant/core/interp"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Source gives calibration samples: for each sample, one buffer per model
// input holding little-endian data in the input's type, and its shape.
// core/samples.Set implements it.
type Source interface {
	Len() int
	Shapes(i int) [][]int
	SampleTo(i int, dst [][]byte) ([][]byte, error)
	Source(i int) string // where sample i came from, for messages
}

// TensorStats is what was seen of one float tensor.
type TensorStats struct {
	Min float32 `json:"min"`
	Max float32 `json:"max"`
	// NonFinite counts NaN and ±Inf values, which are left out of Min/Max
	// (a -Inf pad value must not make the range infinite).
	NonFinite int64 `json:"non_finite,omitempty"`
	// ChannelMin and ChannelMax are the ranges of each index of the last
	// axis (the channels of an NHWC activation), kept with
	// Options.Channels.
	ChannelMin []float32 `json:"channel_min,omitempty"`
	ChannelMax []float32 `json:"channel_max,omitempty"`
	// SampleMax is the largest finite magnitude the tensor reached on each
	// sample (0 where it had none), which shows when a few samples set
	// the range (see Stats.SampleMax).
	SampleMax Float32s `json:"sample_max,omitempty"`
	// Hist counts the finite values over all samples (Options.Histograms),
	// for the range methods other than min/max.
	Hist *Histogram `json:"hist,omitempty"`
	// In a partial result (Options.Shards): Empty says the tensor held no
	// finite value in the shard (Min and Max mean nothing; it is kept for
	// NonFinite), ChannelEmpty lists the channels that never did (their
	// ranges are 0). Merge resolves both; a complete result has neither.
	Empty        bool  `json:"empty,omitempty"`
	ChannelEmpty []int `json:"channel_empty,omitempty"`
	seen         bool
}

// SubgraphStats holds the statistics of one calibrated subgraph.
type SubgraphStats struct {
	Index int `json:"index"`
	// Tensors maps tensor index to its statistics; tensors that were never
	// finite (or are not FLOAT32) are absent.
	Tensors map[int]*TensorStats `json:"tensors"`
	// Patches maps the index of a CONV_2D, DEPTHWISE_CONV_2D or
	// FULLY_CONNECTED operator to the statistics of its input patches
	// (Options.Patches).
	Patches map[int]*PatchStats `json:"patches,omitempty"`
}

// Stats is the result of a calibration run. It encodes to JSON, so it can
// be cached (the browser keeps it in IndexedDB).
type Stats struct {
	Samples int `json:"samples"`
	// SampleNames says where each sample came from (Source.Source).
	SampleNames []string         `json:"sample_names,omitempty"`
	Subgraphs   []*SubgraphStats `json:"subgraphs"`
	Elapsed     time.Duration    `json:"elapsed_ns"`
	// Shard is set on a partial result (Options.Shards), which Merge
	// combines with the other shards' into a complete one.
	Shard *ShardInfo `json:"shard,omitempty"`
	// Sources describes the samples for reports (Options.Sources); Merge
	// keeps the first shard's.
	Sources string `json:"sources,omitempty"`
}

// ShardInfo says which samples a partial result covers.
type ShardInfo struct {
	// Blocks are the indices of the blocks of SampleBlock samples run
	// (block b holds samples b·SampleBlock up to the next block).
	Blocks []int `json:"blocks"`
}

// SampleBlock is how many consecutive samples make a block: the patch
// statistics of each block are summed on their own and the block sums
// added in block order, both in a complete run and when Merge combines
// shards, so that how the blocks were shared out never changes a bit of
// the result. Shards (Options.Shards) take whole blocks.
const SampleBlock = 8

// Range returns the recorded range of tensor t in subgraph sg.
func (s *Stats) Range(sg, t int) (min, max float32, ok bool) {
	for _, ss := range s.Subgraphs {
		if ss.Index == sg {
			if ts := ss.Tensors[t]; ts != nil {
				return ts.Min, ts.Max, true
			}
		}
	}
	return 0, 0, false
}

// SampleMax returns, for each sample, the largest magnitude tensor t of
// subgraph sg reached on it, or nil when it was not recorded.
func (s *Stats) SampleMax(sg, t int) []float32 {
	for _, ss := range s.Subgraphs {
		if ss.Index == sg {
			if ts := ss.Tensors[t]; ts != nil && len(ts.SampleMax) == s.Samples {
				return ts.SampleMax
			}
		}
	}
	return nil
}

// SampleName says where sample i came from ("" when unknown).
func (s *Stats) SampleName(i int) string {
	if i < 0 || i >= len(s.SampleNames) {
		return ""
	}
	return s.SampleNames[i]
}

// ChannelRange returns the per-channel (last axis) ranges of tensor t in
// subgraph sg, recorded with Options.Channels. A tensor that held NaN or
// ±Inf has none (its channels' ranges would leave those values out).
func (s *Stats) ChannelRange(sg, t int) (min, max []float32, ok bool) {
	for _, ss := range s.Subgraphs {
		if ss.Index == sg {
			if ts := ss.Tensors[t]; ts != nil && ts.ChannelMin != nil && ts.NonFinite == 0 {
				return ts.ChannelMin, ts.ChannelMax, true
			}
		}
	}
	return nil, nil, false
}

// Patch returns the input-patch statistics of operator op of subgraph sg,
// or nil.
func (s *Stats) Patch(sg, op int) *PatchStats {
	for _, ss := range s.Subgraphs {
		if ss.Index == sg {
			return ss.Patches[op]
		}
	}
	return nil
}

// Options controls a run.
type Options struct {
	// Patches also records the input-patch statistics of every CONV_2D,
	// DEPTHWISE_CONV_2D and FULLY_CONNECTED operator with float input
	// (see PatchStats), which weight quantization uses to choose roundings
	// and correct biases.
	Patches bool
	// Channels also records the range of each channel (last axis) of
	// every float activation that a CONV_2D, DEPTHWISE_CONV_2D or
	// FULLY_CONNECTED reads as its input (TensorStats.ChannelMin and
	// ChannelMax), which tells which input channels are always 0.
	Channels bool
	// Histograms also records a histogram of every float activation's
	// values (TensorStats.Hist), from which the calibration methods other
	// than min/max choose ranges.
	Histograms bool
	// Subgraphs lists the subgraphs to calibrate; nil means the primary
	// subgraph and every signature's subgraph whose inputs take the same
	// samples: inputs of the same types and shapes, or shapes that differ
	// only in the leading (batch) dimension, in which case the subgraph is
	// run on the samples as they are and left out if it cannot run them.
	Subgraphs []int
	// Progress, if set, is called after each sample with the number done
	// (of the shard's samples, with Shards).
	Progress func(done, total int)
	// MaxMemory is the interpreters' activation memory limit
	// (interp.Options.MaxMemory; 0: its default).
	MaxMemory int64
	// Shards > 1 runs only a shard of the samples: the blocks of
	// SampleBlock samples whose index b has b % Shards == Shard. The result
	// is partial (Stats.Shard set): Merge combines the Shards results into
	// the one a complete run gives, bit for bit.
	Shard, Shards int
	// Sources, if set, is recorded in Stats.Sources (a description of all
	// the samples, such as "48 images").
	Sources string
}

// inShard reports whether sample i is run.
func (o Options) inShard(i int) bool {
	return o.Shards <= 1 || (i/SampleBlock)%o.Shards == o.Shard
}

// Run calibrates m on every sample of src. It stops early when ctx is
// cancelled (checked between samples), returning ctx's error.
func Run(ctx context.Context, m *tflite.Model, src Source, opts Options) (*Stats, error) {
	start := time.Now()
	n := src.Len()
	if n == 0 {
		return nil, fmt.Errorf("no calibration samples")
	}
	partial := opts.Shards > 1
	if partial && (opts.Shard < 0 || opts.Shard >= opts.Shards) {
		return nil, fmt.Errorf("calibration shard %d of %d: want 0 ≤ shard < shards", opts.Shard, opts.Shards)
	}
	todo := 0
	for i := 0; i < n; i++ {
		if opts.inShard(i) {
			todo++
		}
	}
	subgraphs := opts.Subgraphs
	if subgraphs == nil {
		subgraphs = entrySubgraphs(m)
	}
	type run struct {
		it    *interp.Interpreter
		stats *SubgraphStats
		// lenient: a signature whose inputs differ from the primary
		// subgraph's only in their leading (batch) dimension; it is fed
		// the same samples, and dropped if it cannot run them.
		lenient bool
		dead    bool
	}
	var runs []run
	sample := 0 // the sample being run, for TensorStats.SampleMax
	for _, si := range subgraphs {
		lenient := false
		if si != 0 && opts.Subgraphs == nil && !sameInputs(m, 0, si, false) {
			if !sameInputs(m, 0, si, true) {
				continue // a signature with other inputs: the samples do not fit it
			}
			lenient = true
		}
		it, err := interp.New(m, interp.Options{Subgraph: si, MaxMemory: opts.MaxMemory})
		if err != nil {
			return nil, err
		}
		ss := &SubgraphStats{Index: si, Tensors: map[int]*TensorStats{}}
		var channels map[int]bool
		if opts.Channels {
			channels = weightInputs(m, si)
		}
		obs := observer(ss, channels, opts.Histograms, &sample)
		if opts.Patches {
			byInput := patchOps(m, si)
			ss.Patches = map[int]*PatchStats{}
			for _, ops := range byInput {
				for _, p := range ops {
					ss.Patches[p.op] = p.st
				}
			}
			minmax := obs
			obs = func(t *interp.Tensor) {
				minmax(t)
				if t.Type == fb.TensorTypeFLOAT32 {
					for _, p := range byInput[t.Index] {
						p.observe(t)
					}
				}
			}
		}
		it.SetObserver(obs)
		runs = append(runs, run{it: it, stats: ss, lenient: lenient})
	}
	var buf [][]byte
	names := make([]string, n)
	var blocks []int
	endBlock := func() {
		if len(blocks) == 0 {
			return
		}
		for _, r := range runs {
			for _, p := range r.stats.Patches {
				p.endBlock(blocks[len(blocks)-1], !partial)
			}
		}
	}
	done := 0
	for i := 0; i < n; i++ {
		if !opts.inShard(i) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if b := i / SampleBlock; len(blocks) == 0 || blocks[len(blocks)-1] != b {
			endBlock()
			blocks = append(blocks, b)
		}
		sample, names[i] = i, src.Source(i)
		var err error
		buf, err = src.SampleTo(i, buf)
		if err != nil {
			return nil, err // Source's errors name the sample
		}
		shapes := src.Shapes(i)
		for k := range runs {
			r := &runs[k]
			if r.dead {
				continue
			}
			if len(buf) != r.it.NumInputs() {
				return nil, fmt.Errorf("sample %s has %d inputs, subgraph %d takes %d", src.Source(i), len(buf), r.stats.Index, r.it.NumInputs())
			}
			err := func() error {
				for k := range buf {
					if err := r.it.SetInput(k, shapes[k], buf[k]); err != nil {
						return err
					}
				}
				return r.it.Invoke()
			}()
			if err != nil && r.lenient {
				r.dead = true
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("sample %s: %w", src.Source(i), err)
			}
		}
		done++
		if opts.Progress != nil {
			opts.Progress(done, todo)
		}
	}
	endBlock()
	st := &Stats{Samples: n, SampleNames: names, Elapsed: time.Since(start), Sources: opts.Sources}
	if partial {
		st.Shard = &ShardInfo{Blocks: append([]int{}, blocks...)}
	}
	for _, r := range runs {
		if r.dead {
			continue
		}
		for k, ts := range r.stats.Tensors {
			if !ts.seen && (!partial || ts.NonFinite == 0) {
				delete(r.stats.Tensors, k)
				continue
			}
			ts.Empty = !ts.seen
			if ts.NonFinite > 0 && !partial {
				// Not reported (ChannelRange), and a merge of shards
				// could not tell where the first non-finite value was.
				ts.ChannelMin, ts.ChannelMax = nil, nil
			}
			for i := range ts.ChannelMin {
				if ts.ChannelMin[i] > ts.ChannelMax[i] { // never finite
					ts.ChannelMin[i], ts.ChannelMax[i] = 0, 0
					if partial {
						ts.ChannelEmpty = append(ts.ChannelEmpty, i)
					}
				}
			}
			for len(ts.SampleMax) < n {
				ts.SampleMax = append(ts.SampleMax, 0)
			}
		}
		for k, p := range r.stats.Patches {
			if partial {
				p.sum, p.moment = nil, nil
				if len(p.Parts) == 0 {
					delete(r.stats.Patches, k)
				}
				continue
			}
			if p.finish(); p.Patches == 0 {
				delete(r.stats.Patches, k)
			}
		}
		st.Subgraphs = append(st.Subgraphs, r.stats)
	}
	return st, nil
}

// weightInputs lists the tensors of subgraph si that an operator with a
// weight whose layout opspec gives (CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED) applies that weight to.
func weightInputs(m *tflite.Model, si int) map[int]bool {
	out := map[int]bool{}
	for _, op := range m.Subgraphs[si].Operators {
		if _, k, ok := opspec.Lookup(m.Builtin(op)).LaidOut(); ok && k < len(op.Inputs) && op.Inputs[k] >= 0 {
			out[int(op.Inputs[k])] = true
		}
	}
	return out
}

// observer records the range of every FLOAT32 tensor it is shown, its
// largest magnitude on the current sample (*sample), the range of each
// channel of those in channels, and with hist its histogram.
func observer(ss *SubgraphStats, channels map[int]bool, hist bool, sample *int) interp.Observer {
	return func(t *interp.Tensor) {
		if t.Type != fb.TensorTypeFLOAT32 || t.IsConst() {
			return
		}
		ts := ss.Tensors[t.Index]
		if ts == nil {
			ts = &TensorStats{}
			ss.Tensors[t.Index] = ts
		}
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range t.F32() {
			if v != v || v > math.MaxFloat32 || v < -math.MaxFloat32 {
				ts.NonFinite++
				continue
			}
			if v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
		if lo > hi {
			return // nothing finite in this tensor this time
		}
		for len(ts.SampleMax) <= *sample {
			ts.SampleMax = append(ts.SampleMax, 0)
		}
		ts.SampleMax[*sample] = max(ts.SampleMax[*sample], -lo, hi)
		// Channel ranges of a tensor that ever held NaN or ±Inf are not
		// reported (ChannelRange), so they need not be kept.
		if channels[t.Index] && ts.NonFinite == 0 && len(t.Shape) > 0 {
			observeChannels(ts, t.F32(), t.Shape[len(t.Shape)-1])
		}
		if hist {
			if ts.Hist == nil {
				ts.Hist = &Histogram{}
			}
			ts.Hist.Add(t.F32(), lo, hi)
		}
		if !ts.seen {
			ts.Min, ts.Max, ts.seen = lo, hi, true
			return
		}
		ts.Min, ts.Max = min(ts.Min, lo), max(ts.Max, hi)
	}
}

// entrySubgraphs lists subgraph 0 and every signature's subgraph, once each.
func entrySubgraphs(m *tflite.Model) []int {
	list := []int{0}
	for _, sd := range m.SignatureDefs {
		si := int(sd.SubgraphIndex)
		dup := false
		for _, x := range list {
			dup = dup || x == si
		}
		if !dup {
			list = append(list, si)
		}
	}
	return list
}

// sameInputs reports whether subgraphs a and b take inputs of the same
// types and shapes (except, with anyBatch, their leading dimension).
func sameInputs(m *tflite.Model, a, b int, anyBatch bool) bool {
	ga, gb := m.Subgraphs[a], m.Subgraphs[b]
	if len(ga.Inputs) != len(gb.Inputs) {
		return false
	}
	for k := range ga.Inputs {
		ta, tb := ga.Tensors[ga.Inputs[k]], gb.Tensors[gb.Inputs[k]]
		if ta.Type != tb.Type || len(ta.Shape) != len(tb.Shape) {
			return false
		}
		for d := range ta.Shape {
			if ta.Shape[d] != tb.Shape[d] && !(anyBatch && d == 0) {
				return false
			}
		}
	}
	return true
}

// observeChannels widens ts's per-channel ranges by values, whose last axis
// has c channels. values must be finite.
func observeChannels(ts *TensorStats, values []float32, c int) {
	if c <= 0 || len(values)%c != 0 {
		return
	}
	if len(ts.ChannelMin) != c {
		if ts.ChannelMin != nil {
			return // the shape changed between samples: keep the first
		}
		ts.ChannelMin, ts.ChannelMax = make([]float32, c), make([]float32, c)
		for i := range ts.ChannelMin {
			ts.ChannelMin[i], ts.ChannelMax[i] = float32(math.Inf(1)), float32(math.Inf(-1))
		}
	}
	lo, hi := ts.ChannelMin, ts.ChannelMax
	for k := 0; k < len(values); k += c {
		row := values[k : k+c]
		lo, hi := lo[:len(row)], hi[:len(row)]
		for i, v := range row {
			if v < lo[i] {
				lo[i] = v
			}
			if v > hi[i] {
				hi[i] = v
			}
		}
	}
}
