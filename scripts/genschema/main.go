// Command genschema regenerates everything derived from litequant's
// FlatBuffers schema core/schema/tflite.fbs:
//
//   - the flatc Go object-API package core/schema/tflitefb, made by exactly
//     `flatc --go --gen-object-api --go-namespace tflitefb -o <tmp>
//     core/schema/tflite.fbs` and gofmt'd (old generated files are deleted
//     first, so removed types vanish);
//   - core/schema/verify_tables_generated.go, the description of every table
//     and union that core/schema's Verify checks untrusted bytes against;
//   - the flatc Go object-API package core/schema/metadatafb from
//     core/schema/metadata_schema.fbs, TensorFlow Lite's model metadata
//     schema (tensorflow/tflite-support,
//     tensorflow_lite_support/metadata/metadata_schema.fbs, vendored as is),
//     made the same way with --go-namespace metadatafb, and its verifier,
//     core/schema/metaverify: tables_generated.go from that schema and
//     verify_generated.go, a copy of core/schema/verify.go in that package
//     (the verifier is table-driven, so one implementation serves both).
//
// Run it from anywhere inside the repository:
//
//	go run ./scripts/genschema
//
// It needs Debian's flatc 2.0.8 (package flatbuffers-compiler) on PATH, or
// its path in -flatc. With -tables-only it regenerates only the verifier
// tables, which needs no flatc. The output is deterministic: running it twice
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
	metaVerRel   = "core/schema/metaverify"
	verifyRel    = "core/schema/verify.go"
	tablesRel    = "core/schema/verify_tables_generated.go"
	tablesPkg    = "schema"
	wantFlatcVer = "2.0.8"
)

func main() {
	flatc := flag.String("flatc", "flatc", "the flatc binary to run (Debian's flatbuffers-compiler, version "+wantFlatcVer+")")
	tablesOnly := flag.Bool("tables-only", false, "regenerate only "+tablesRel+" (no flatc needed)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./scripts/genschema [-flatc path] [-tables-only]\n\n"+
			"Regenerates %s/*.go and %s from %s.\n\n", goPkgRel, tablesRel, schemaRel)
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
	schemaPath := filepath.Join(root, schemaRel)
	s, err := fbsparse.ParseFile(schemaPath)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", schemaRel, err)
	}
	tablesSrc, err := fbsparse.GoVerifyTables(s, tablesPkg, filepath.Base(schemaRel))
	if err != nil {
		return err
	}

	metaTables, metaVerify, err := metaVerifier(root)
	if err != nil {
		return err
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
	if err := os.WriteFile(filepath.Join(root, tablesRel), tablesSrc, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, metaVerRel, "tables_generated.go"), metaTables, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, metaVerRel, "verify_generated.go"), metaVerify, 0o644); err != nil {
		return err
	}
	fmt.Printf("genschema: wrote %s\n", metaVerRel)
	fmt.Printf("genschema: wrote %s (%d tables, %d unions)\n", tablesRel, len(s.Tables), len(s.Unions))
	return nil
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

// metaVerifier generates the metadata schema's verifier package: its
// tables, and core/schema/verify.go with the package clause changed.
func metaVerifier(root string) (tables, verify []byte, err error) {
	s, err := fbsparse.ParseFile(filepath.Join(root, metaRel))
	if err != nil {
		return nil, nil, fmt.Errorf("parsing %s: %w", metaRel, err)
	}
	pkg := filepath.Base(metaVerRel)
	if tables, err = fbsparse.GoVerifyTables(s, pkg, filepath.Base(metaRel)); err != nil {
		return nil, nil, err
	}
	src, err := os.ReadFile(filepath.Join(root, verifyRel))
	if err != nil {
		return nil, nil, err
	}
	body, ok := bytes.CutPrefix(src, []byte("package schema\n"))
	if !ok {
		return nil, nil, fmt.Errorf("%s does not start with \"package schema\"", verifyRel)
	}
	tables = bytes.Replace(tables, []byte("from tflite.fbs."), []byte("from metadata_schema.fbs."), 1)
	out := append([]byte("// Code generated by scripts/genschema from verify.go. DO NOT EDIT.\n// It is "+verifyRel+" in package "+pkg+".\n\npackage "+pkg+"\n"), body...)
	if verify, err = format.Source(out); err != nil {
		return nil, nil, fmt.Errorf("gofmt the copy of %s: %v", verifyRel, err)
	}
	return tables, verify, nil
}
