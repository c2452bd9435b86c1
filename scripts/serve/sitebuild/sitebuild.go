// Package sitebuild assembles litequant's static page (the site/ folder,
// the WebAssembly converter built from wasm/, and Go's wasm_exec.js) into
// one deployable folder, and serves such a folder the way the page expects
// (Handler). scripts/serve and the end-to-end tests use it.
package sitebuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// CSP is the Content-Security-Policy of the page: scripts, workers and
// WebAssembly from its own origin only, connections to its own origin (and
// blob: URLs, which never leave the machine) only, no inline script or
// style, no plugins, no framing. index.html carries the same policy in a
// meta tag (without frame-ancestors, which a meta tag cannot set) for hosts
// that send no headers.
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src 'self' blob:; img-src 'self' blob:; style-src 'self'; manifest-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// MetaCSP is CSP as index.html's meta tag states it.
var MetaCSP = strings.TrimSuffix(CSP, "; frame-ancestors 'none'")

// marker marks a folder Build made, so that rebuilding may empty it.
const marker = ".litequant-site"

// Placeholders stamped at build time.
const (
	buildPlaceholder  = "__LITEQUANT_BUILD__"  // worker.js: the converter's build id
	cachePlaceholder  = "__LITEQUANT_CACHE__"  // sw.js: the cache name's version
	assetsPlaceholder = "__LITEQUANT_ASSETS__" // sw.js: comma-separated asset URLs
)

// Options says what to build.
type Options struct {
	Root    string // repository root (holding go.mod, site/ and wasm/)
	Out     string // output folder; emptied first if Build made it
	Version string // the converter's version string; "" means dev
	Go      string // the go command; "" means "go"
}

// Info describes a built site.
type Info struct {
	Dir       string
	Build     string   // the converter's build id: SHA-256 of litequant.wasm, shortened
	WasmBytes int      // size of litequant.wasm
	Files     []string // every file, relative to Dir, slash-separated
}

// Build writes the deployable site to o.Out: site/'s files, litequant.wasm
// (GOOS=js GOARCH=wasm, stripped) and wasm_exec.js from the Go toolchain
// that built it, with the build id and asset list stamped into worker.js
// and sw.js.
func Build(ctx context.Context, o Options) (*Info, error) {
	if o.Go == "" {
		o.Go = "go"
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if err := prepareOut(o.Out); err != nil {
		return nil, err
	}
	src := filepath.Join(o.Root, "site")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if strings.HasPrefix(d.Name(), ".") && rel != "." {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(o.Out, rel), 0o755)
		}
		return copyFile(p, filepath.Join(o.Out, rel))
	})
	if err != nil {
		return nil, err
	}
	goroot, err := output(ctx, o.Root, nil, o.Go, "env", "GOROOT")
	if err != nil {
		return nil, err
	}
	if err := copyFile(filepath.Join(strings.TrimSpace(goroot), "lib", "wasm", "wasm_exec.js"), filepath.Join(o.Out, "wasm_exec.js")); err != nil {
		return nil, err
	}
	wasmPath := filepath.Join(o.Out, "litequant.wasm")
	if _, err := output(ctx, o.Root, []string{"GOOS=js", "GOARCH=wasm"}, o.Go, "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+o.Version, "-o", wasmPath, "./wasm"); err != nil {
		return nil, err
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	info := &Info{Dir: o.Out, Build: hex.EncodeToString(sum[:8]), WasmBytes: len(wasm)}
	if err := stamp(filepath.Join(o.Out, "worker.js"), buildPlaceholder, info.Build); err != nil {
		return nil, err
	}

	// The service worker precaches every file; its cache is named after
	// the content of all of them, so any change makes a new cache.
	all := sha256.New()
	err = filepath.WalkDir(o.Out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(o.Out, p)
		rel = filepath.ToSlash(rel)
		if rel == marker || rel == "sw.js" {
			return nil
		}
		info.Files = append(info.Files, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(all, "%s %d\n", rel, len(b))
		all.Write(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(info.Files)
	assets := []string{"./"}
	for _, f := range info.Files {
		assets = append(assets, "./"+f)
	}
	sw := filepath.Join(o.Out, "sw.js")
	if err := stamp(sw, cachePlaceholder, hex.EncodeToString(all.Sum(nil)[:8])); err != nil {
		return nil, err
	}
	if err := stamp(sw, assetsPlaceholder, strings.Join(assets, ",")); err != nil {
		return nil, err
	}
	info.Files = append(info.Files, "sw.js")
	sort.Strings(info.Files)
	return info, nil
}

// prepareOut creates out, or empties it when an earlier Build made it. It
// refuses to touch a non-empty folder that Build did not make.
func prepareOut(out string) error {
	if out == "" {
		return errors.New("sitebuild: no output folder")
	}
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(out, marker)); err != nil {
			return fmt.Errorf("sitebuild: %s is not empty and was not made by sitebuild; not touching it", out)
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(out, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, marker), []byte("made by scripts/serve (sitebuild); emptied on rebuild\n"), 0o644)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

func stamp(file, placeholder, value string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if !bytes.Contains(b, []byte(placeholder)) {
		return fmt.Errorf("sitebuild: %s lacks the placeholder %s", path.Base(filepath.ToSlash(file)), placeholder)
	}
	return os.WriteFile(file, bytes.ReplaceAll(b, []byte(placeholder), []byte(value)), 0o644)
}

func output(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}
