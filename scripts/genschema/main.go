// Command genschema regenerates everything derived from litequant's
// FlatBuffers schema core/schema/tflite.fbs:
//
//   - the flatc Go object-API package core/schema/tflitefb, made by exactly
//     `flatc --go --gen-object-api --go-namespace tflitefb -o <tmp>
//     core/schema/tflite.fbs` and gofmt'd (old generated files are deleted
//     first, so removed types vanish);
//   - core/schema/verify_tables_generated.go, the fbverify.Schema (every
//     table and union) that core/schema's Verify checks untrusted bytes
//     against;
//   - the flatc Go object-API package core/schema/metadatafb from
//     core/schema/metadata_schema.fbs, TensorFlow Lite's model metadata
//     schema (tensorflow/tflite-support,
//     tensorflow_lite_support/metadata/metadata_schema.fbs, vendored as is),
//     made the same way with --go-namespace metadatafb, and
//     core/schema/metaverify/tables_generated.go, that schema's
//     fbverify.Schema (the verifier, core/schema/fbverify, is table-driven,
//     so one implementation serves both schemas).
//
// The verifier descriptions to generate are fbsparse.Targets.
//
// Run it from anywhere inside the repository:
//
//	go run ./scripts/genschema
//
// It needs Debian's flatc 2.0.8 (package flatbuffers-compiler) on PATH, or
// its path in -flatc. With -tables-only it regenerates only the verifier
// descriptions, which needs no flatc. The output is deterministic: running it twice
// gives byte-identical files.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"litequant/scripts/genschema/fbsparse"
)

const (
	schemaRel    = "core/schema/tflite.fbs"
	goPkgRel     = "core/schema/tflitefb"
	goNamespace  = "tflitefb"
	metaRel      = "core/schema/metadata_schema.fbs"
	metaPkgRel   = "core/schema/metadatafb"
	metaNS       = "metadatafb"
	wantFlatcVer = "2.0.8"
)

func main() {
	flatc := flag.String("flatc", "flatc", "the flatc binary to run (Debian's flatbuffers-compiler, version "+wantFlatcVer+")")
	tablesOnly := flag.Bool("tables-only", false, "regenerate only the verifier descriptions (no flatc needed)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./scripts/genschema [-flatc path] [-tables-only]\n\n"+
			"Regenerates %s/*.go and %s/*.go from %s and %s, and the verifier descriptions:\n%s\n", goPkgRel, metaPkgRel, schemaRel, metaRel, targetList())
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*flatc, *tablesOnly); err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
}

func run(flatc string, tablesOnly bool) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	tables := make([][]byte, len(fbsparse.Targets))
	for i, tg := range fbsparse.Targets {
		s, err := fbsparse.ParseFile(filepath.Join(root, tg.Schema))
		if err != nil {
			return fmt.Errorf("parsing %s: %w", tg.Schema, err)
		}
		if tables[i], err = fbsparse.GoVerifyTables(s, tg.GoTables); err != nil {
			return fmt.Errorf("%s: %w", tg.Schema, err)
		}
	}
	var goFiles, metaFiles map[string][]byte
	if !tablesOnly {
		if goFiles, err = runFlatc(root, flatc, schemaRel, goNamespace); err != nil {
			return err
		}
		if metaFiles, err = runFlatc(root, flatc, metaRel, metaNS); err != nil {
			return err
		}
	}

	// Everything is generated and formatted; only now touch the tree.
	if !tablesOnly {
		if err := replaceGoPackage(filepath.Join(root, goPkgRel), goFiles); err != nil {
			return err
		}
		fmt.Printf("genschema: wrote %d files to %s\n", len(goFiles), goPkgRel)
		if err := replaceGoPackage(filepath.Join(root, metaPkgRel), metaFiles); err != nil {
			return err
		}
		fmt.Printf("genschema: wrote %d files to %s\n", len(metaFiles), metaPkgRel)
	}
	for i, tg := range fbsparse.Targets {
		if err := os.WriteFile(filepath.Join(root, tg.Out), tables[i], 0o644); err != nil {
			return err
		}
		fmt.Printf("genschema: wrote %s\n", tg.Out)
	}
	return nil
}

// targetList lists the verifier descriptions for the usage message.
func targetList() string {
	var b strings.Builder
	for _, tg := range fbsparse.Targets {
		fmt.Fprintf(&b, "  %s from %s\n", tg.Out, tg.Schema)
	}
	return b.String()
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, schemaRel)); err != nil {
				return "", fmt.Errorf("found go.mod in %s but no %s there: run genschema inside the litequant repository", dir, schemaRel)
			}
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory: run genschema inside the litequant repository")
		}
		dir = parent
	}
}

// runFlatc runs flatc into a temporary directory and returns the generated
// Go files, gofmt'd, by base name.
func runFlatc(root, flatc, schemaRel, goNamespace string) (map[string][]byte, error) {
	path, err := exec.LookPath(flatc)
	if err != nil {
		return nil, fmt.Errorf("flatc not found (%v): install Debian's flatbuffers-compiler (flatc %s), e.g. apt-get install flatbuffers-compiler, or pass its path with -flatc", err, wantFlatcVer)
	}
	if out, err := exec.Command(path, "--version").Output(); err != nil {
		return nil, fmt.Errorf("%s --version: %v: install Debian's flatbuffers-compiler (flatc %s)", path, err, wantFlatcVer)
	} else if v := strings.TrimSpace(string(out)); !strings.HasSuffix(v, " "+wantFlatcVer) {
		fmt.Fprintf(os.Stderr, "genschema: warning: %s reports %q; the checked-in code was made by flatc %s and other versions generate different code\n", path, v, wantFlatcVer)
	}

	tmp, err := os.MkdirTemp("", "genschema-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(path, "--go", "--gen-object-api", "--go-namespace", goNamespace, "-o", tmp, schemaRel)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}

	genDir := filepath.Join(tmp, goNamespace)
	entries, err := os.ReadDir(genDir)
	if err != nil {
		return nil, fmt.Errorf("flatc wrote no %s directory: %v", goNamespace, err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			return nil, fmt.Errorf("unexpected flatc output %s", e.Name())
		}
		src, err := os.ReadFile(filepath.Join(genDir, e.Name()))
		if err != nil {
			return nil, err
		}
		formatted, err := format.Source(src)
		if err != nil {
			return nil, fmt.Errorf("gofmt %s: %v", e.Name(), err)
		}
		files[e.Name()] = formatted
	}
	if len(files) == 0 {
		return nil, errors.New("flatc generated no Go files")
	}
	return files, nil
}

// replaceGoPackage deletes the old .go files in dir and writes files there.
func replaceGoPackage(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
