package convert

import (
	"context"
	"fmt"

	"litequant/core/internal/calib"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// CalibrateShard runs one shard of a conversion's calibration: the model
// and samples of req (read as Convert reads them, verification split
// included), of which only the blocks of calib.SampleBlock samples whose
// index b has b % shards == shard. Its result is partial; MergeStats
// combines the shards' into the statistics a single calibration gives, bit
// for bit, which Convert then takes in Request.Stats (with
// Request.Merged). The browser runs the shards in parallel workers.
// Progress is told the shard's sample count first (0 done), then each
// sample. The statistics record the samples' description, so that the
// conversion from merged statistics reports it without reading the
// samples again.
func CalibrateShard(ctx context.Context, req Request, shard, shards int) (*Stats, error) {
	if shards < 2 || shard < 0 || shard >= shards {
		return nil, fmt.Errorf("calibration shard %d of %d: want 0 ≤ shard < shards and shards ≥ 2", shard, shards)
	}
	if !req.Options.NeedsCalibration() {
		return nil, fmt.Errorf("--mode %s takes no calibration", req.Options.EffectiveMode())
	}
	if len(req.Calib) == 0 {
		return nil, fmt.Errorf("--mode %s needs calibration samples: pass --calib FILE or FOLDER (.npy, .npz, images, .wav)", req.Options.EffectiveMode())
	}
	m, err := tflite.Load(req.Model)
	if err != nil {
		return nil, err
	}
	// The normalization a single run uses; images are decoded only when
	// calibrated, so a shard decodes its own and no others (a damaged one
	// fails the shard that owns it, naming it).
	set, err := loadSamples(m, req, &MetadataReport{}, true)
	if err != nil {
		return nil, err
	}
	if req.Options.VerifySplit > 0 {
		if set, _, err = splitHeld(set, req.Options); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	progress := func(done, total int) {
		if req.Progress != nil {
			req.Progress(Progress{"calibrating", done, total})
		}
	}
	todo := 0 // the shard's samples, for progress over all shards
	for i := 0; i < set.Len(); i++ {
		if (i/calib.SampleBlock)%shards == shard {
			todo++
		}
	}
	progress(0, todo)
	co := calibOptions(req.Options, set, progress)
	co.Shard, co.Shards = shard, shards
	stats, err := calib.Run(ctx, m, set, co)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	return stats, nil
}

// MergeStats combines the partial statistics of every shard of one
// calibration (CalibrateShard) into complete ones.
func MergeStats(parts []*Stats) (*Stats, error) {
	return calib.Merge(parts)
}

// calibOptions are the calibration options of a conversion with options o
// (one place for Convert and CalibrateShard, so that shards record what a
// single run does).
func calibOptions(o Options, set *samples.Set, progress func(done, total int)) calib.Options {
	return calib.Options{Patches: true, Channels: true, Histograms: true, MaxMemory: o.memoryLimit(), Progress: progress, Sources: set.Describe()}
}
