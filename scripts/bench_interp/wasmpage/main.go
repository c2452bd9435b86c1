//go:build js && wasm

// Command wasmpage is the browser half of bench_interp: the Go interpreter
// as js/wasm in a chromium page. It sets
//
//	globalThis.benchInterp(model, inputs, warmup, runs) → Promise<string>
//
// model a Uint8Array holding a .tflite file, inputs an array of Uint8Arrays
// holding .npy files (one per model input); the promise resolves to
// benchcore.Result as JSON.
package main

import (
	"bytes"
	"encoding/json"
	"syscall/js"

	"litequant/core/npy"
	"litequant/scripts/bench_interp/benchcore"
)

func main() {
	js.Global().Set("benchInterp", js.FuncOf(func(_ js.Value, args []js.Value) any {
		model := goBytes(args[0])
		var inputs []*npy.Array
		for i := 0; i < args[1].Length(); i++ {
			a, err := npy.Read(bytes.NewReader(goBytes(args[1].Index(i))))
			if err != nil {
				return rejected(err.Error())
			}
			inputs = append(inputs, a)
		}
		warmup, runs := args[2].Int(), args[3].Int()
		var executor js.Func
		executor = js.FuncOf(func(_ js.Value, p []js.Value) any {
			resolve, reject := p[0], p[1]
			go func() {
				defer executor.Release()
				res, err := benchcore.TimeModel("model", model, inputs, warmup, runs)
				if err != nil {
					reject.Invoke(js.Global().Get("Error").New(err.Error()))
					return
				}
				out, _ := json.Marshal(res)
				resolve.Invoke(string(out))
			}()
			return nil
		})
		return js.Global().Get("Promise").New(executor)
	}))
	select {}
}

func goBytes(v js.Value) []byte {
	b := make([]byte, v.Length())
	js.CopyBytesToGo(b, v)
	return b
}

func rejected(msg string) js.Value {
	return js.Global().Get("Promise").Call("reject", js.Global().Get("Error").New(msg))
}
