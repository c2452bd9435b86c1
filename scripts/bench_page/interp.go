package main

import (
	"os"
	"os/exec"
	"strconv"

	"litequant/core/fixtures"
)

// perInference runs scripts/bench_interp on models (its defaults when
// none), printing its table: ms per inference of the Go interpreter
// natively and as wasm, of TFLite and LiteRT.js, with the wasm/litert
// (Node) and chrome/litert (the page's wasm in chromium) ratios.
func perInference(models []string, rounds int) error {
	root, err := fixtures.RepoRoot()
	if err != nil {
		return err
	}
	args := []string{"run", "./scripts/bench_interp", "--rounds", strconv.Itoa(rounds)}
	for _, m := range models {
		args = append(args, "--model", m)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
