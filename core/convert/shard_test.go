package convert

import (
	"bytes"
	"context"
	"strings"

	"litequant/core/samples"
	"testing"
)

// Calibrating in shards, merging and converting with the merged
// statistics writes the model a single Convert writes, byte for byte, with
// and without a verification split; the report does not call the merged
// statistics cached.
func TestShardsConvertAsOne(t *testing.T) {
	model := imageNet()
	files := []samples.File{pixels(t, 30)}
	for _, opts := range []Options{{Mode: "int8"}, {Mode: "int8", VerifySplit: 0.2}} {
		req := Request{Model: model, Calib: files, Options: opts}
		one, err := Convert(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{2, 3, 5} {
			var parts []*Stats
			for s := 0; s < k; s++ {
				st, err := CalibrateShard(context.Background(), req, s, k)
				if err != nil {
					t.Fatalf("shard %d of %d: %v", s, k, err)
				}
				// As the page hands them from worker to worker.
				wire, err := EncodeShard(st)
				if err != nil {
					t.Fatal(err)
				}
				if st, err = DecodeShard(wire); err != nil {
					t.Fatal(err)
				}
				parts = append(parts, st)
			}
			merged, err := MergeStats(parts)
			if err != nil {
				t.Fatal(err)
			}
			r := req
			r.Stats, r.Merged = merged, true
			res, err := Convert(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(res.Model, one.Model) {
				t.Errorf("split %g, %d shards: the model differs from a single calibration's", opts.VerifySplit, k)
			}
			if c := res.Report.Calibration; c == nil || c.Cached || c.Samples != one.Report.Calibration.Samples || c.Sources != one.Report.Calibration.Sources {
				t.Errorf("split %g, %d shards: calibration report %+v, want %+v (not cached)", opts.VerifySplit, k, c, one.Report.Calibration)
			}
		}
	}
	if _, err := CalibrateShard(context.Background(), Request{Model: model, Calib: files, Options: Options{Mode: "int8"}}, 2, 2); err == nil || !strings.Contains(err.Error(), "shard 2 of 2") {
		t.Errorf("shard 2 of 2: %v", err)
	}
	if _, err := CalibrateShard(context.Background(), Request{Model: model, Options: Options{Mode: "dynamic"}}, 0, 2); err == nil {
		t.Error("a shard of a mode without calibration accepted")
	}
}
