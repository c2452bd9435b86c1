package metaverify

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"litequant/core/schema/fbverify"
	mfb "litequant/core/schema/metadatafb"
	"litequant/scripts/genschema/fbsparse"
)

func parseSchema(t *testing.T) *fbsparse.Schema {
	t.Helper()
	s, err := fbsparse.ParseFile(filepath.Join("..", "metadata_schema.fbs"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTablesMatchSchema checks the compiled description against the parser.
func TestTablesMatchSchema(t *testing.T) {
	s := parseSchema(t)
	if s.FileIdentifier != "M001" || s.RootType != "ModelMetadata" {
		t.Errorf("metadata_schema.fbs: identifier %q, root %s", s.FileIdentifier, s.RootType)
	}
	for _, d := range fbsparse.CompareTables(s, &metadataSchema) {
		t.Error(d)
	}
}

// TestGeneratedTablesUpToDate checks that tables_generated.go is what
// `go run ./scripts/genschema` makes of metadata_schema.fbs.
func TestGeneratedTablesUpToDate(t *testing.T) {
	tg := fbsparse.TargetFor("metaverify")
	if tg == nil || filepath.Base(tg.Out) != "tables_generated.go" || filepath.Base(tg.Schema) != "metadata_schema.fbs" {
		t.Fatalf("genschema's target for package metaverify is %+v", tg)
	}
	want, err := fbsparse.GoVerifyTables(parseSchema(t), tg.GoTables)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("tables_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("tables_generated.go is out of date with metadata_schema.fbs: run `go run ./scripts/genschema -tables-only`")
	}
}

// metadataBytes is a ModelMetadata with strings, vectors of tables and a
// union (NormalizationOptions as a process unit).
func metadataBytes() []byte {
	md := &mfb.ModelMetadataT{
		Name: "m",
		SubgraphMetadata: []*mfb.SubGraphMetadataT{{
			InputTensorMetadata: []*mfb.TensorMetadataT{{
				Name: "image",
				ProcessUnits: []*mfb.ProcessUnitT{{Options: &mfb.ProcessUnitOptionsT{
					Type:  mfb.ProcessUnitOptionsNormalizationOptions,
					Value: &mfb.NormalizationOptionsT{Mean: []float32{127.5}, Std: []float32{127.5}},
				}}},
			}},
		}},
		AssociatedFiles: []*mfb.AssociatedFileT{{Name: "labels.txt"}},
	}
	b := flatbuffers.NewBuilder(256)
	b.FinishWithFileIdentifier(md.Pack(b), []byte("M001"))
	return b.FinishedBytes()
}

// TestVerify checks a valid buffer and that errors speak of metadata, not
// of a model, with paths rooted at "modelmetadata".
func TestVerify(t *testing.T) {
	good := metadataBytes()
	if err := Verify(good); err != nil {
		t.Fatalf("Verify(valid metadata) = %v", err)
	}
	wrongID := append([]byte{}, good...)
	copy(wrongID[4:], "TFL3")
	tests := []struct {
		name string
		buf  []byte
		want string
		path string // the exact fbverify.Error.Path, if not ""
	}{
		{"empty", nil, "not a TFLite model metadata buffer: 0 bytes is too short", ""},
		{"wrong identifier", wrongID, `not a TFLite model metadata buffer: file identifier is "TFL3", want "M001"`, ""},
		{"root offset past end", append(append([]byte{0xff, 0xff, 0, 0}, good[4:8]...), good[8:]...), "past the end", "modelmetadata"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.buf)
			var ve *fbverify.Error
			if !errors.As(err, &ve) {
				t.Fatalf("Verify = %v (%T), want a *fbverify.Error", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "TensorFlow Lite model") {
				t.Errorf("Verify = %v, want an error containing %q", err, tc.want)
			}
			if tc.path != "" && ve.Path != tc.path {
				t.Errorf("error path = %q, want %q", ve.Path, tc.path)
			}
		})
	}
	// A truncated buffer is an error unless only trailing padding is cut,
	// and whatever Verify accepts unpacks without panicking.
	for n := 0; n < len(good); n++ {
		if Verify(good[:n]) != nil {
			continue
		}
		if n < len(good)-8 {
			t.Errorf("Verify(first %d of %d bytes) = nil", n, len(good))
		}
		mfb.GetRootAsModelMetadata(good[:n], 0).UnPack()
	}
}

// FuzzVerify checks that Verify never panics and that whatever it accepts
// metadatafb can unpack without panicking.
func FuzzVerify(f *testing.F) {
	f.Add(metadataBytes())
	f.Fuzz(func(t *testing.T, buf []byte) {
		if Verify(buf) != nil {
			return
		}
		mfb.GetRootAsModelMetadata(buf, 0).UnPack()
	})
}
