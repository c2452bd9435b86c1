package tflite_test

import (
	"os"
	"path/filepath"
	"testing"

	"litequant/core/fixtures"
	"litequant/core/tflite"
)

// FuzzLoad feeds arbitrary bytes to Load: it must return a model or an
// error, never panic, and a model it returns must save and load again.
// Seeds: the project's built models and, when ../shared is present, the real
// models under 64 KiB (larger ones slow the fuzzer without adding shapes).
func FuzzLoad(f *testing.F) {
	f.Add(mustSave(f, tinyModel(f)))
	if dir, ok := fixtures.SharedDir(); ok {
		files, _ := filepath.Glob(filepath.Join(dir, "models", "*.tflite"))
		for _, p := range files {
			if st, err := os.Stat(p); err == nil && st.Size() < 64<<10 {
				if data, err := os.ReadFile(p); err == nil {
					f.Add(data)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := tflite.Load(data)
		if err != nil {
			return
		}
		out, err := m.Save()
		if err != nil {
			t.Fatalf("loaded model does not save: %v", err)
		}
		if _, err := tflite.Load(out); err != nil {
			t.Fatalf("saved model does not load: %v", err)
		}
	})
}
