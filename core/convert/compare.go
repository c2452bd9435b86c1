package convert

import (
	"context"
	"fmt"

	"litequant/core/internal/compare"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// CompareReport is a per-tensor error report of a quantized model against
// its float model (README, "compare").
type CompareReport = compare.Report

// CompareRequest is one comparison.
type CompareRequest struct {
	Float, Quantized []byte
	// Samples are read as --calib samples are, against the float model's
	// inputs.
	Samples []samples.File
	// Count caps the samples used (0: all, up to 500); ImageMean and
	// ImageStd normalise images as in Options.
	Count               int
	ImageMean, ImageStd float32
	// Isolated also measures each operator on the float model's inputs.
	Isolated bool
	Progress func(Progress)
}

// Compare runs both models on the samples and reports, tensor by tensor,
// how far the quantized one strays. Errors say which model they concern.
func Compare(ctx context.Context, req CompareRequest) (*CompareReport, error) {
	fm, err := tflite.Load(req.Float)
	if err != nil {
		return nil, fmt.Errorf("float model: %w", err)
	}
	qm, err := tflite.Load(req.Quantized)
	if err != nil {
		return nil, fmt.Errorf("quantized model: %w", err)
	}
	if len(fm.Subgraphs) == 0 || len(qm.Subgraphs) == 0 {
		return nil, fmt.Errorf("a model has no subgraph")
	}
	if len(req.Samples) == 0 {
		return nil, fmt.Errorf("no samples: give .npy, .npz, image or .wav files for the float model's inputs")
	}
	inputs, pixels := ModelInputs(fm)
	set, err := samples.Load(inputs, req.Samples, samples.Options{CalibCount: req.Count,
		ImageMean: req.ImageMean, ImageStd: req.ImageStd, Uint8AsPixels: pixels})
	if err != nil {
		return nil, err
	}
	opts := compare.Options{Isolated: req.Isolated}
	if req.Progress != nil {
		opts.Progress = func(done, total int) { req.Progress(Progress{Phase: "comparing", Done: done, Total: total}) }
	}
	return compare.Run(ctx, fm, qm, set, opts)
}
