package convert

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFrontEndsUseTheFacade keeps the layering: the CLI and the wasm module
// reach quantization only through this package, never a core/internal
// package directly. (Go's internal rule already stops wasm/, which is
// outside core/; the CLI lives under core/, so only this test stops it.)
func TestFrontEndsUseTheFacade(t *testing.T) {
	for _, dir := range []string{"../cmd/litequant", "../../wasm", "../../wasm/e2e"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files found (%v)", dir, err)
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(path, "litequant/core/internal/") {
					t.Errorf("%s imports %s: front ends go through litequant/core/convert", f, path)
				}
			}
		}
	}
	// And the quantization packages are internal.
	for _, pkg := range []string{"calib", "deadchan", "opspec", "opversion", "qparams", "quant"} {
		if _, err := os.Stat(filepath.Join("..", pkg)); err == nil {
			t.Errorf("core/%s exists: quantization packages live under core/internal", pkg)
		}
		if _, err := os.Stat(filepath.Join("..", "internal", pkg)); err != nil {
			t.Errorf("core/internal/%s: %v", pkg, err)
		}
	}
}
