//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"syscall/js"

	"litequant/core/convert"
	"litequant/core/samples"
)

// jsAPI builds the globalThis.litequant object (documented in main.go).
func (s *service) jsAPI() js.Value {
	api := js.Global().Get("Object").New()
	api.Set("version", version)
	api.Set("build", s.build)
	api.Set("modes", modesJS())
	api.Set("inspect", asyncFunc(func(args []js.Value) (func() (any, error), error) {
		model, err := bytesArg(args, 0, "model")
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			j, err := inspectModel(model)
			if err != nil {
				return nil, err
			}
			return parseJSON(j), nil
		}, nil
	}))
	api.Set("quantize", asyncFunc(func(args []js.Value) (func() (any, error), error) {
		req, err := quantizeArgs(args)
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			res, err := s.quantize(context.Background(), req)
			if err != nil {
				return nil, err
			}
			return res.js(), nil
		}, nil
	}))
	api.Set("wantsShards", asyncFunc(func(args []js.Value) (func() (any, error), error) {
		req, err := quantizeArgs(args)
		if err != nil {
			return nil, err
		}
		return func() (any, error) { return s.wantsShards(context.Background(), req) }, nil
	}))
	api.Set("calibrateShard", asyncFunc(func(args []js.Value) (func() (any, error), error) {
		req, shard, shards, err := shardArgs(args)
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			b, err := s.calibrateShard(context.Background(), req, shard, shards)
			if err != nil {
				return nil, err
			}
			return jsBytes(b), nil
		}, nil
	}))
	api.Set("cancel", js.FuncOf(func(js.Value, []js.Value) any {
		return s.cancelAll()
	}))
	api.Set("recent", asyncFunc(func([]js.Value) (func() (any, error), error) {
		return func() (any, error) {
			list, err := s.cache.recent(context.Background())
			if err != nil {
				return nil, err
			}
			entries := make([]any, len(list))
			for i, e := range list {
				entries[i] = map[string]any{"key": e.Key, "name": e.Name, "mode": e.Mode, "date": e.Date,
					"size_before": e.SizeBefore, "size_after": e.SizeAfter}
			}
			return map[string]any{"entries": entries, "warning": s.cache.takeWarning()}, nil
		}, nil
	}))
	api.Set("load", asyncFunc(func(args []js.Value) (func() (any, error), error) {
		key, err := stringArg(args, 0, "key")
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			res, err := s.load(context.Background(), key)
			if err != nil {
				return nil, err
			}
			return res.js(), nil
		}, nil
	}))
	api.Set("remove", asyncFunc(func(args []js.Value) (func() (any, error), error) {
		key, err := stringArg(args, 0, "key")
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			return nil, s.cache.remove(context.Background(), key)
		}, nil
	}))
	addAdvise(api)
	addMetadata(api)
	addPreview(api)
	return api
}

// js converts a result for JavaScript.
func (r *result) js() js.Value {
	var stats any
	if r.Stats != "" {
		stats = r.Stats
	}
	return js.ValueOf(map[string]any{
		"model":      jsBytes(r.Model),
		"report":     parseJSON(r.Report),
		"reportJSON": r.Report,
		"statsJSON":  stats,
		"cached":     r.Cached,
		"key":        r.Key,
		"name":       r.Name,
		"elapsedMs":  r.ElapsedMS,
		"warning":    r.Warning,
	})
}

// quantizeArgs decodes quantize(model, files, options, onProgress, name).
func quantizeArgs(args []js.Value) (request, error) {
	var req request
	var err error
	if req.Model, err = bytesArg(args, 0, "model"); err != nil {
		return req, err
	}
	if len(args) > 1 && !args[1].IsUndefined() && !args[1].IsNull() {
		files := args[1]
		if !js.Global().Get("Array").Call("isArray", files).Bool() {
			return req, errors.New("files: want an array of {name, bytes}")
		}
		for i := 0; i < files.Length(); i++ {
			f := files.Index(i)
			if f.Type() != js.TypeObject {
				return req, fmt.Errorf("files[%d]: want {name, bytes}", i)
			}
			name := f.Get("name")
			if name.Type() != js.TypeString {
				return req, fmt.Errorf("files[%d].name: want a string", i)
			}
			data, err := bytesOf(f.Get("bytes"))
			if err != nil {
				return req, fmt.Errorf("files[%d].bytes (%s): %v", i, name.String(), err)
			}
			req.Files = append(req.Files, samples.File{Name: name.String(), Data: data})
		}
	}
	if len(args) > 2 {
		switch o := args[2]; o.Type() {
		case js.TypeString:
			req.Options = o.String()
		case js.TypeObject:
			req.Options = js.Global().Get("JSON").Call("stringify", o).String()
		case js.TypeUndefined, js.TypeNull:
		default:
			return req, errors.New("options: want a JSON string or an object")
		}
	}
	if len(args) > 3 && args[3].Type() == js.TypeFunction {
		fn := args[3]
		req.Progress = func(p convert.Progress) {
			defer func() { _ = recover() }() // a throwing callback must not stop the conversion
			fn.Invoke(map[string]any{"phase": p.Phase, "done": p.Done, "total": p.Total})
		}
	}
	if len(args) > 4 && args[4].Type() == js.TypeString {
		req.Name = args[4].String()
	}
	if len(args) > 5 && !args[5].IsUndefined() && !args[5].IsNull() {
		parts := args[5]
		if !js.Global().Get("Array").Call("isArray", parts).Bool() {
			return req, errors.New("shards: want an array of calibrateShard results (Uint8Arrays)")
		}
		for i := 0; i < parts.Length(); i++ {
			b, err := bytesOf(parts.Index(i))
			if err != nil {
				return req, fmt.Errorf("shards[%d]: %v (a calibrateShard result)", i, err)
			}
			req.Shards = append(req.Shards, b)
		}
	}
	return req, nil
}

// shardArgs decodes calibrateShard(model, files, options, shard, shards,
// onProgress).
func shardArgs(args []js.Value) (req request, shard, shards int, err error) {
	if len(args) < 5 || args[3].Type() != js.TypeNumber || args[4].Type() != js.TypeNumber {
		return req, 0, 0, errors.New("calibrateShard(model, files, options, shard, shards, onProgress?): shard and shards must be numbers")
	}
	shard, shards = args[3].Int(), args[4].Int()
	qa := []js.Value{args[0], args[1], args[2], js.Undefined()}
	if len(args) > 5 {
		qa[3] = args[5]
	}
	req, err = quantizeArgs(qa)
	return req, shard, shards, err
}

// asyncFunc wraps a call as a JavaScript function returning a Promise.
// parse decodes the arguments synchronously (they may be changed by the
// caller once the call returns); the work it returns runs in a goroutine.
// Errors and panics in either reject the promise; nothing escapes to kill
// the Go program.
func asyncFunc(parse func(args []js.Value) (func() (any, error), error)) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) any {
		var work func() (any, error)
		err := protect(func() (err error) {
			work, err = parse(args)
			return err
		})
		return newPromise(func(resolve, reject js.Value) {
			if err != nil {
				reject.Invoke(jsError(err))
				return
			}
			go func() {
				var v any
				err := protect(func() (err error) {
					v, err = work()
					return err
				})
				if err != nil {
					reject.Invoke(jsError(err))
					return
				}
				resolve.Invoke(v)
			}()
		})
	})
}

// protect runs f, turning a panic into an error (and logging its stack to
// the console, for bug reports).
func protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			// console.error, not os.Stderr: under Node a write to stderr
			// waits for a callback, which deadlocks inside a JS call.
			js.Global().Get("console").Call("error", fmt.Sprintf("litequant: panic: %v\n%s", r, debug.Stack()))
			err = fmt.Errorf("internal error in litequant: %v (this is a bug; the details are in the console)", r)
		}
	}()
	return f()
}

func newPromise(executor func(resolve, reject js.Value)) js.Value {
	fn := js.FuncOf(func(this js.Value, args []js.Value) any {
		executor(args[0], args[1])
		return nil
	})
	defer fn.Release()
	return js.Global().Get("Promise").New(fn)
}

func jsError(err error) js.Value {
	return js.Global().Get("Error").New(oneLine(err))
}

func parseJSON(s string) js.Value {
	return js.Global().Get("JSON").Call("parse", s)
}

// bytesOf copies a Uint8Array (or an ArrayBuffer) into Go.
func bytesOf(v js.Value) ([]byte, error) {
	if v.Type() != js.TypeObject {
		return nil, errors.New("want a Uint8Array")
	}
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		v = js.Global().Get("Uint8Array").New(v)
	}
	if !v.InstanceOf(js.Global().Get("Uint8Array")) {
		return nil, errors.New("want a Uint8Array")
	}
	b := make([]byte, v.Length())
	js.CopyBytesToGo(b, v)
	return b, nil
}

// jsBytes copies b into a new Uint8Array.
func jsBytes(b []byte) js.Value {
	v := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(v, b)
	return v
}

func bytesArg(args []js.Value, i int, name string) ([]byte, error) {
	if i >= len(args) {
		return nil, fmt.Errorf("%s: missing (want a Uint8Array)", name)
	}
	b, err := bytesOf(args[i])
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return b, nil
}

func stringArg(args []js.Value, i int, name string) (string, error) {
	if i >= len(args) || args[i].Type() != js.TypeString {
		return "", fmt.Errorf("%s: want a string", name)
	}
	return args[i].String(), nil
}

// modesJS is convert.ModeInfos as a JavaScript array of {name, summary,
// calibrates}: the page builds its mode menu from it.
func modesJS() js.Value {
	arr := js.Global().Get("Array").New()
	for _, m := range convert.ModeInfos {
		o := js.Global().Get("Object").New()
		o.Set("name", string(m.Name))
		o.Set("summary", m.Summary)
		o.Set("calibrates", m.Calibrates)
		arr.Call("push", o)
	}
	return arr
}
