package main

import (
	"fmt"
	"os"

	"litequant/core/tflite"
)

// readModelFile reads a model file. A directory (a SavedModel, most
// often) is refused saying what it is, instead of the system's "is a
// directory".
func readModelFile(path string) ([]byte, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		what, hint := tflite.SniffPath(path)
		if hint != "" {
			hint = ": " + hint
		}
		return nil, fmt.Errorf("%s: this is %s, not a .tflite model%s", path, what, hint)
	}
	return os.ReadFile(path)
}
