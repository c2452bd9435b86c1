package convert

import (
	"context"
	"errors"
	"testing"
	"time"

	"litequant/core/interp"
	"litequant/core/tflite"
)

// FuzzConvert runs mutated models through the whole conversion, dynamic
// and int8 (calibrated on two samples made for the model's inputs), with
// a 64 MiB memory limit (so that execs stay under the fuzzer's 10 s): every input must give a result or an error,
// never a panic (ErrInternal) or a hang, and a result must load again.
// Seeds: the project's built models and the ../shared models up to 256 KiB
// (read at test time); crashers found are kept under testdata/fuzz.
func FuzzConvert(f *testing.F) {
	for _, m := range builtModels() {
		f.Add(m)
	}
	_, shared := sharedModels(256 << 10)
	for _, m := range shared {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dog := watchdog(60*time.Second, "a conversion")
		defer dog.Stop()
		m, err := tflite.Load(data)
		if err != nil {
			return
		}
		calib := tinySamples(t, m)
		for _, mode := range []Mode{Dynamic, Int8} {
			req := Request{Model: data, Options: Options{Mode: mode, MinWeightElements: 1, AllowNoop: true, Limits: Limits{MaxMemory: "64MiB"}}}
			if mode == Int8 {
				if calib == nil {
					continue
				}
				req.Calib, req.Options.CalibCount = calib, 2
			}
			res, err := Convert(context.Background(), req)
			checkConverted(t, mode, res, err)
		}
	})
}

// checkConverted fails on an internal error or a result that does not
// load.
func checkConverted(t *testing.T, mode Mode, res *Result, err error) {
	t.Helper()
	var pe *PanicError
	if errors.As(err, &pe) {
		t.Fatalf("%s: %v\n%s", mode, err, pe.Stack)
	}
	var ipe *interp.PanicError
	if errors.As(err, &ipe) {
		t.Fatalf("%s: %v\n%s", mode, err, ipe.Stack)
	}
	if errors.Is(err, ErrInternal) || errors.Is(err, interp.ErrInternal) {
		t.Fatalf("%s: %v", mode, err)
	}
	if err == nil {
		if _, lerr := tflite.Load(res.Model); lerr != nil {
			t.Fatalf("%s: the converted model does not load: %v", mode, lerr)
		}
	}
}
