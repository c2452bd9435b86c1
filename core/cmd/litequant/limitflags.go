package main

import (
	"flag"

	"litequant/core/convert"
)

// registerLimits adds the flags of convert.Limits to fs.
func registerLimits(fs *flag.FlagSet, l *convert.Limits) {
	fs.StringVar(&l.MaxMemory, "max-memory", "", "refuse a model whose activations need more memory than this (e.g. 8GiB, 1500MB; default 4GiB)")
	fs.Int64Var(&l.MaxImagePixels, "max-image-pixels", 0, "refuse calibration images whose header declares more pixels than this (default 64 megapixels, 67108864)")
	fs.Func("input-shape", "NAME=1,224,224,3: the shape of an input with dynamic dimensions for calibration and verification (repeatable)",
		func(v string) error { l.InputShapes = append(l.InputShapes, v); return nil })
}
