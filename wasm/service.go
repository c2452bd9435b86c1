//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"litequant/core/convert"
	"litequant/core/inspect"
	"litequant/core/samples"
	"litequant/core/tflite"
)

// yieldEvery is how often, at most, a conversion gives the event loop a
// turn (from its progress callback), so that a cancel message gets through.
// Calibration reports progress after each sample, so cancel waits for at
// most one sample (or yieldEvery, whichever is longer).
const yieldEvery = 25 * time.Millisecond

// errCancelled is what a cancelled conversion rejects with.
var errCancelled = errors.New("cancelled")

// service is the converter behind the JavaScript API: conversions (one at
// a time, in call order), cancellation and the cache.
type service struct {
	build string
	cache *cache

	run sync.Mutex // held by the running conversion

	mu     sync.Mutex // guards active, seq
	active map[int]context.CancelFunc
	seq    int
}

func newService(build string, open opener) *service {
	return &service{build: build, cache: &cache{open: open}, active: map[int]context.CancelFunc{}}
}

// request is one quantize call.
type request struct {
	Model    []byte
	Files    []samples.File
	Options  string // JSON
	Name     string
	Progress func(convert.Progress)
	// Shards are the partial statistics of every calibration shard
	// (calibrateShard), merged into the conversion's statistics.
	Shards [][]byte
}

// result is a finished (or cached) conversion.
type result struct {
	Model     []byte
	Report    string // JSON
	Stats     string // JSON, "" without calibration
	Cached    string // "result", "calibration" or ""
	Key       string
	Name      string
	ElapsedMS float64
	Warning   string
}

// track registers a cancellable context for cancelAll.
func (s *service) track(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.seq++
	id := s.seq
	s.active[id] = cancel
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		delete(s.active, id)
		s.mu.Unlock()
		cancel()
	}
}

// cancelAll cancels every running or queued conversion and returns how
// many there were.
func (s *service) cancelAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.active {
		cancel()
	}
	return len(s.active)
}

// decodeOptions reads the options JSON. Unknown keys are refused by name:
// the core defines the options, and one it does not know would otherwise
// be silently ignored.
func decodeOptions(s string) (convert.Options, error) {
	var o convert.Options
	if strings.TrimSpace(s) == "" {
		return o, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			field := te.Field[strings.LastIndex(te.Field, ".")+1:] // "Limits.max_memory": an embedded struct's
			return o, fmt.Errorf("option %q: want a %s, got %s", field, te.Type, te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return o, fmt.Errorf("option %s is not supported by this build of litequant", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return o, fmt.Errorf("options are not valid JSON: %v", err)
	}
	if dec.More() {
		return o, errors.New("options are not valid JSON: more than one value")
	}
	return o, o.Validate()
}

// quantize runs one conversion, or returns its cached result.
func (s *service) quantize(ctx context.Context, req request) (*result, error) {
	start := time.Now()
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
	if req.Progress != nil {
		req.Progress(convert.Progress{Phase: "reading", Done: 0, Total: 1})
	}

	key := convert.ResultKey(s.build, req.Model, req.Files, opts)
	if e, ok := s.cache.getResult(ctx, key); ok {
		return &result{Model: e.Model, Report: e.Report, Stats: e.Stats, Cached: "result", Key: key, Name: e.Name,
			ElapsedMS: ms(time.Since(start)), Warning: s.cache.takeWarning()}, nil
	}

	var stats *convert.Stats
	var ckey string
	merged := len(req.Shards) > 0 && opts.NeedsCalibration()
	if merged {
		ckey = convert.CalibrationKey(s.build, req.Model, req.Files, opts)
		if stats, err = mergeShards(req.Shards); err != nil {
			return nil, err
		}
	} else if opts.NeedsCalibration() {
		ckey = convert.CalibrationKey(s.build, req.Model, req.Files, opts)
		if j, ok := s.cache.getStats(ctx, ckey); ok {
			if st, err := convert.DecodeStats([]byte(j)); err == nil {
				stats = st
			}
		}
	}
	// In a mode without calibration the files are verification samples.
	calibFiles, verifyFiles := req.Files, []samples.File(nil)
	if !opts.NeedsCalibration() {
		calibFiles, verifyFiles = nil, req.Files
	}
	res, err := convert.Convert(ctx, convert.Request{Model: req.Model, Calib: calibFiles, Verify: verifyFiles, Options: opts, Stats: stats,
		Merged: merged, Progress: yielding(req.Progress)})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, errCancelled
		}
		return nil, err
	}
	out := &result{Model: res.Model, Key: key, Name: req.Name}
	if out.Report, err = marshal(res.Report); err != nil {
		return nil, err
	}
	if res.Stats != nil {
		js, err := convert.EncodeStats(res.Stats)
		if err != nil {
			return nil, err
		}
		out.Stats = string(js)
	}
	if stats != nil && !merged {
		out.Cached = "calibration"
	} else if res.Stats != nil {
		s.cache.putStats(ctx, ckey, out.Stats)
	}
	mode := string(opts.EffectiveMode())
	s.cache.putResult(ctx, &entry{Key: key, Name: req.Name, Mode: mode, Date: time.Now(), SizeBefore: len(req.Model),
		SizeAfter: len(res.Model), Model: res.Model, Report: out.Report, Stats: out.Stats})
	out.ElapsedMS = ms(time.Since(start))
	out.Warning = s.cache.takeWarning()
	return out, nil
}

// yielding wraps a progress callback so that it gives the JavaScript event
// loop a turn at most every yieldEvery: in js/wasm, time.Sleep parks the
// only running goroutine, and the runtime returns to the event loop until
// the timer fires, which lets a queued cancel() call run.
func yielding(f func(convert.Progress)) func(convert.Progress) {
	last := time.Now()
	return func(p convert.Progress) {
		if f != nil {
			f(p)
		}
		if time.Since(last) >= yieldEvery {
			time.Sleep(time.Millisecond)
			last = time.Now()
		}
	}
}

// load returns a stored result.
func (s *service) load(ctx context.Context, key string) (*result, error) {
	e, ok := s.cache.getResult(ctx, key)
	if !ok {
		return nil, fmt.Errorf("no stored result %.12s… (it was deleted, or its stored copy was damaged and has been discarded)", key)
	}
	return &result{Model: e.Model, Report: e.Report, Stats: e.Stats, Cached: "result", Key: key, Name: e.Name,
		Warning: s.cache.takeWarning()}, nil
}

// inspectModel summarizes a model.
func inspectModel(model []byte) (string, error) {
	m, err := tflite.Load(model)
	if err != nil {
		return "", err
	}
	return marshal(inspect.Summarize(m, len(model)))
}

func marshal(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// oneLine returns err's message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
