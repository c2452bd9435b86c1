package metaverify

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCopyIsCurrent: verify_generated.go is core/schema/verify.go as it is
// now; after a change there, `go run ./scripts/genschema -tables-only`
// regenerates the copy.
func TestCopyIsCurrent(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("..", "verify.go"))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := os.ReadFile("verify_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := bytes.CutPrefix(orig, []byte("package schema\n"))
	_, got, ok := bytes.Cut(cp, []byte("package metaverify\n"))
	if !ok || !bytes.Equal(got, body) {
		t.Error("verify_generated.go is not the current core/schema/verify.go: run go run ./scripts/genschema -tables-only")
	}
}
