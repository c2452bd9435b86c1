package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"litequant/core/convert"
	"litequant/core/samples"
)

const compareUsage = "compare FLOAT.tflite QUANT.tflite --input PATH [--input PATH ...] [--count N] [--image-mean M --image-std S] [--accumulated-only] [--json]"

// runCompare runs a float model and its quantized version on the same
// samples and prints the per-tensor error report.
func runCompare(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	var inputs pathList
	var req convert.CompareRequest
	fs.Var(&inputs, "input", "samples: a .npy, .npz, image or .wav file, or a folder of them, as --calib takes (repeatable)")
	fs.IntVar(&req.Count, "count", 0, "use at most N samples, taken evenly across the files (default: all, up to 500)")
	fs.Func("image-mean", "image pixels p become (p - MEAN) / STD for float inputs (default 127.5)", floatFlag(&req.ImageMean))
	fs.Func("image-std", "see --image-mean (default 127.5)", floatFlag(&req.ImageStd))
	accOnly := fs.Bool("accumulated-only", false, "skip the isolated view (each operator fed the float model's inputs)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{fmt.Sprintf("want a float and a quantized model, got %d arguments", len(pos))}
	}
	if len(inputs) == 0 {
		return usageError{"missing --input samples"}
	}
	if req.Float, err = readModelFile(pos[0]); err != nil {
		return err
	}
	if req.Quantized, err = readModelFile(pos[1]); err != nil {
		return err
	}
	if req.Samples, err = samples.ReadPaths(inputs); err != nil {
		return err
	}
	req.Isolated = !*accOnly
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	update, clear := progressLine(progressOut())
	req.Progress = update
	rep, err := convert.Compare(ctx, req)
	clear()
	switch {
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	case err != nil:
		return fmt.Errorf("%s vs %s: %w", pos[0], pos[1], err)
	}
	if *asJSON {
		js, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", js)
		return err
	}
	return rep.WriteText(stdout)
}
