//go:build js && wasm

// Command wasm is litequant's in-browser converter: a GOOS=js GOARCH=wasm
// program that exposes the core's conversion (core/convert) to JavaScript
// and caches its results in IndexedDB. It holds no quantization logic, only
// glue: argument decoding, promises, cancellation, the cache. The page
// (site/) runs it in a Web Worker (site/worker.js) so the page never
// freezes.
//
// # JavaScript API
//
// Once the module runs, globalThis.litequant holds:
//
//	litequant.version  string: the build's version ("dev" when unset)
//	litequant.build    string: the build id used in cache keys (the page's
//	                   worker passes the SHA-256 of the .wasm file as the
//	                   LITEQUANT_BUILD environment variable; else version)
//	litequant.modes    array of {name, summary, calibrates}: the modes in menu
//	                   order (convert.ModeInfos); the page builds its menu
//	                   from it
//
//	litequant.inspect(bytes) → Promise<Summary>
//	    bytes: a Uint8Array (or ArrayBuffer) holding a .tflite model.
//	    Summary is `litequant inspect --json`'s object (README).
//
//	litequant.quantize(model, files, options, onProgress?, name?, shards?) → Promise<Result>
//	    model: Uint8Array; files: [{name, bytes: Uint8Array}] calibration
//	    samples (npy, npz, images, wav: the CLI's loaders) — in dynamic and
//	    float16 mode, which take none, verification samples; options: a JSON
//	    string (or a plain object) with the CLI's `quantize` flags as keys,
//	    dashes as underscores ({"mode": "int8", "calib_count": 48}); keys the
//	    core does not know are refused by name, so a new core option needs no
//	    change here. onProgress({phase, done, total}) is called with phase
//	    reading, calibrating (done of total samples), quantizing, writing,
//	    verifying (done of total samples).
//	    name: the model's file name, for the recent list.
//	    Result: {model: Uint8Array, report (object), reportJSON, statsJSON
//	    (calibration statistics as JSON, or null), cached ("result",
//	    "calibration" or ""), key, name, elapsedMs, warning (a cache problem,
//	    reported once per worker, or "")}.
//	    shards: the calibrateShard results of every shard of this
//	    conversion's calibration; they are merged (exactly: the model is
//	    the one a single calibration gives) instead of calibrating.
//
//	litequant.wantsShards(model, files, options) → Promise<boolean>
//	    Whether quantize would calibrate (the mode calibrates, there are
//	    samples, nothing is cached): the page then shards the calibration
//	    over its workers (site/pool.js).
//
//	litequant.calibrateShard(model, files, options, shard, shards, onProgress?) → Promise<Uint8Array>
//	    Calibrates the blocks of samples b with b % shards == shard and
//	    returns their partial statistics (convert.EncodeShard's encoding;
//	    its bytes 4 to 12 are the calibration's time in nanoseconds,
//	    little-endian); onProgress counts this shard's samples. Cancelled
//	    by cancel() like quantize.
//
//	litequant.cancel() → number
//	    Cancels every conversion running or queued; returns how many. Their
//	    promises reject with "cancelled".
//
//	litequant.recent() → Promise<{entries: [{key, name, mode, date, size_before, size_after}], warning}>
//	litequant.load(key) → Promise<Result>   (a stored result, checked against its hash)
//	litequant.remove(key) → Promise<void>
//
// Every error and every Go panic rejects the promise with an Error whose
// message is one readable line; the module stays usable for the next call.
//
// # Cancellation
//
// A Go computation blocks the worker's event loop: the "cancel" message the
// page sends is delivered only when Go gives control back to JavaScript. So
// the progress callback yields (a short time.Sleep, which in js/wasm returns
// to the event loop) after each calibration sample, at most every
// yieldEvery; cancel() then cancels the conversion's context and Convert
// returns at its next check. Steps without a yield point (reading,
// quantizing a very large model) are covered by the page: if the worker has
// not answered a cancel within a few seconds it terminates and restarts the
// worker (site/client.js).
//
// # Cache
//
// IndexedDB database "litequant" (see cache.go): results under
// convert.ResultKey, calibration statistics under convert.CalibrationKey,
// and the recent conversions list.
package main

import (
	"os"
	"syscall/js"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	build := os.Getenv("LITEQUANT_BUILD")
	if build == "" {
		build = version
	}
	svc := newService(build, openIndexedDB)
	js.Global().Set("litequant", svc.jsAPI())
	select {} // serve calls until the worker goes away
}
