package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"litequant/core/inspect"
	"litequant/core/tflite"
)

func runInspect(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{fmt.Sprintf("want one model file, got %d arguments", len(pos))}
	}
	m, size, err := loadModelFile(pos[0])
	if err != nil {
		return err
	}
	s := inspect.Summarize(m, size)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return s.WriteText(stdout)
}

// loadModelFile reads and parses a .tflite file; errors name the file.
func loadModelFile(path string) (*tflite.Model, int, error) {
	data, err := readModelFile(path)
	if err != nil {
		return nil, 0, err
	}
	m, err := tflite.Load(data)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return m, len(data), nil
}
