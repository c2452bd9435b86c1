package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"litequant/core/convert"
)

// recipe is the JSON that --config reads: the options object the page
// sends to the converter (convert.Options' JSON names), which the page
// also saves as a recipe. "threads" is the page's own (its worker pool)
// and is ignored here.
type recipe struct {
	convert.Options
	Threads int `json:"threads"`
}

// configPath finds --config FILE (or --config=FILE) in args, "" if absent.
func configPath(args []string) (string, error) {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasVal {
			return val, nil
		}
		if i+1 >= len(args) {
			return "", usageError{"--config needs a file: --config recipe.json"}
		}
		return args[i+1], nil
	}
	return "", nil
}

// applyConfig reads --config's file, if given, into o. It runs after the
// flags are registered (so their defaults are in o) and before they are
// parsed, so flags given on the command line override the recipe.
func applyConfig(args []string, o *convert.Options) error {
	path, err := configPath(args)
	if err != nil || path == "" {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	r := recipe{Options: *o}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("--config %s: option %q: want a %s, got %s", path, strings.TrimPrefix(te.Field, "Options."), te.Type, te.Value)
		}
		return fmt.Errorf("--config %s: %v", path, strings.TrimPrefix(err.Error(), "json: "))
	}
	*o = r.Options
	return nil
}

// writeMetadata prints what the conversion did with the model's TFLite
// metadata: the samples' normalization (the metadata's in place of the
// 127.5 default), the tensor metadata updated, the label files kept.
func writeMetadata(w io.Writer, m *convert.MetadataReport) {
	if m == nil {
		return
	}
	if m.Normalization != "" {
		fmt.Fprintf(w, "image samples: %s\n", m.Normalization)
	}
	for _, u := range m.Updated {
		fmt.Fprintf(w, "metadata: %s\n", u)
	}
	if len(m.Files) > 0 {
		fmt.Fprintf(w, "metadata: kept associated files %s\n", strings.Join(m.Files, ", "))
	}
	if m.Warning != "" {
		fmt.Fprintf(w, "warning: metadata: %s\n", m.Warning)
	}
}
