package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuantizeConfig: --config reads the page's options JSON; the result
// equals the same options given as flags, flags override the recipe, and
// mistakes in the recipe are named.
func TestQuantizeConfig(t *testing.T) {
	dir := t.TempDir()
	in := fcModelFile(t, dir, 32)
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	flagsOut := filepath.Join(dir, "flags.tflite")
	if st, _, stderr := runCmd("quantize", "--mode", "float16", "--min-weight-elements", "100", "-o", flagsOut, in); st != 0 {
		t.Fatal(stderr)
	}
	recipe := write("recipe.json", `{"mode": "float16", "min_weight_elements": 100, "threads": 2}`)
	cfgOut := filepath.Join(dir, "config.tflite")
	if st, _, stderr := runCmd("quantize", "--config", recipe, "-o", cfgOut, in); st != 0 {
		t.Fatal(stderr)
	}
	if !bytes.Equal(read(flagsOut), read(cfgOut)) {
		t.Error("--config gives another model than the same options as flags")
	}
	// A flag overrides the recipe: dynamic instead of float16.
	dynFlags := filepath.Join(dir, "dyn-flags.tflite")
	if st, _, stderr := runCmd("quantize", "--mode", "dynamic", "--min-weight-elements", "100", "-o", dynFlags, in); st != 0 {
		t.Fatal(stderr)
	}
	over := filepath.Join(dir, "over.tflite")
	if st, _, stderr := runCmd("quantize", "--config="+recipe, "--mode", "dynamic", "-o", over, in); st != 0 {
		t.Fatal(stderr)
	}
	if !bytes.Equal(read(dynFlags), read(over)) {
		t.Error("--mode after --config did not override the recipe's mode")
	}
	for _, c := range []struct{ json, want string }{
		{`{"mode": "float16", "bogus": 1}`, `unknown field "bogus"`},
		{`{"min_weight_elements": "many"}`, `option "min_weight_elements": want a int`},
		{`{"mode": "float16"`, "unexpected EOF"},
	} {
		p := write("bad.json", c.json)
		st, _, stderr := runCmd("quantize", "--config", p, "-o", filepath.Join(dir, "x.tflite"), in)
		if st == 0 || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "--config") {
			t.Errorf("%s: status %d, stderr %q, want it to say %q", c.json, st, stderr, c.want)
		}
	}
}
