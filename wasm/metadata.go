//go:build js && wasm

package main

import (
	"encoding/json"
	"syscall/js"

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
