//go:build js && wasm

package main

import (
	"context"
	"errors"
	"time"

	"litequant/core/convert"
)

// The page's worker pool (site/pool.js) calibrates in parallel: it asks
// one worker whether a conversion would calibrate (wantsShards), has every
// worker run a shard of the samples (calibrateShard: partial statistics,
// convert.EncodeShard), and then one worker converts with all the shards' statistics
// (quantize with shard statistics), which it merges exactly
// (convert.MergeStats): the model is the one a single worker writes.

// wantsShards reports whether quantizing req would run a calibration: its
// mode calibrates, it has samples, and neither its result nor its
// statistics are cached.
func (s *service) wantsShards(ctx context.Context, req request) (bool, error) {
	opts, err := decodeOptions(req.Options)
	if err != nil {
		return false, err
	}
	if !opts.NeedsCalibration() || len(req.Files) == 0 {
		return false, nil
	}
	if _, ok := s.cache.getResult(ctx, convert.ResultKey(s.build, req.Model, req.Files, opts)); ok {
		return false, nil
	}
	if _, ok := s.cache.getStats(ctx, convert.CalibrationKey(s.build, req.Model, req.Files, opts)); ok {
		return false, nil
	}
	return true, nil
}

// calibrateShard runs shard of shards of req's calibration and returns
// its partial statistics (convert.EncodeShard).
func (s *service) calibrateShard(ctx context.Context, req request, shard, shards int) ([]byte, error) {
	opts, err := decodeOptions(req.Options)
	if err != nil {
		return nil, err
	}
	ctx, done := s.track(ctx)
	defer done()
	s.run.Lock()
	defer s.run.Unlock()
	if ctx.Err() != nil {
		return nil, errCancelled
	}
	st, err := convert.CalibrateShard(ctx, convert.Request{Model: req.Model, Calib: req.Files, Options: opts, Progress: yielding(req.Progress)}, shard, shards)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, errCancelled
		}
		return nil, err
	}
	return convert.EncodeShard(st)
}

// mergeShards decodes and merges the shards' statistics.
func mergeShards(parts [][]byte) (*convert.Stats, error) {
	start := time.Now()
	stats := make([]*convert.Stats, len(parts))
	for i, p := range parts {
		st, err := convert.DecodeShard(p)
		if err != nil {
			return nil, err
		}
		stats[i] = st
	}
	merged, err := convert.MergeStats(stats)
	if err != nil {
		return nil, err
	}
	merged.Elapsed += time.Since(start)
	return merged, nil
}
