//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"syscall/js"

	"litequant/core/convert"
	"litequant/core/metadata"
	"litequant/core/tflite"
)

// addMetadata adds metadata(model) to the API: a promise of the model's
// TFLite metadata (metadata.Info as a JSON-shaped object: normalization,
// image size and colour space, labels), or null when it has none.
func addMetadata(api js.Value) {
	api.Set("metadata", asyncFunc(func(args []js.Value) (func() (any, error), error) {
		model, err := bytesArg(args, 0, "model")
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			m, err := tflite.Load(model)
			if err != nil {
				return nil, err
			}
			info, err := metadata.Read(m, model)
			if err != nil {
				return nil, err
			}
			if info == nil {
				return nil, nil
			}
			j, err := json.Marshal(info)
			if err != nil {
				return nil, err
			}
			return parseJSON(string(j)), nil
		}, nil
	}))
}

// addPreview adds preview(float, quantized, files, options) to the API: a
// promise of the float and the quantized classifier's top-5 labels, or
// segmenter's masks, on one held-back sample (convert.ModelPreview), run
// with litequant's interpreter in the worker; null when the model is no
// classifier or segmenter with labels.
func addPreview(api js.Value) {
	api.Set("preview", asyncFunc(func(args []js.Value) (func() (any, error), error) {
		req, err := quantizeArgs(append(args[:1:1], args[2:]...))
		if err != nil {
			return nil, err
		}
		quantized, err := bytesArg(args, 1, "quantized")
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			o, err := decodeOptions(req.Options)
			if err != nil {
				return nil, err
			}
			p, err := convert.ModelPreview(context.Background(), req.Model, quantized, req.Files, o, 5)
			if errors.Is(err, convert.ErrNoPreview) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			j, err := json.Marshal(p)
			if err != nil {
				return nil, err
			}
			return parseJSON(string(j)), nil
		}, nil
	}))
}
