//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"syscall/js"

	"litequant/core/convert"
)

// addAdvise adds advise(model, options) to the API: a promise of what
// each mode would do to the model (convert.Advise, as JSON-shaped
// objects), for the page's mode advice.
func addAdvise(api js.Value) {
	api.Set("advise", asyncFunc(func(args []js.Value) (func() (any, error), error) {
		model, err := bytesArg(args, 0, "model")
		if err != nil {
			return nil, err
		}
		var opts string
		if len(args) > 1 && args[1].Type() == js.TypeString {
			opts = args[1].String()
		}
		return func() (any, error) {
			o, err := decodeOptions(opts)
			if err != nil {
				return nil, err
			}
			adv, err := convert.Advise(context.Background(), model, o)
			if err != nil {
				return nil, err
			}
			j, err := json.Marshal(adv)
			if err != nil {
				return nil, err
			}
			return parseJSON(string(j)), nil
		}, nil
	}))
}
