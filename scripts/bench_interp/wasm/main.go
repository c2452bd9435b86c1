//go:build js && wasm

// Command wasm is the WebAssembly half of bench_interp: it loads a model,
// feeds it the given .npy inputs, runs the Go interpreter and prints one
// JSON line with the timing. Run it under Node with Go's
// lib/wasm/wasm_exec_node.js:
//
//	node wasm_exec_node.js bench.wasm --model M.tflite --runs N [--warmup N] IN0.npy ...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"litequant/scripts/bench_interp/benchcore"
)

func main() {
	model := flag.String("model", "", "model file")
	runs := flag.Int("runs", 20, "timed runs")
	warmup := flag.Int("warmup", 3, "untimed runs first")
	flag.Parse()
	res, err := benchcore.Time(*model, flag.Args(), *warmup, *runs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench_interp/wasm:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}
