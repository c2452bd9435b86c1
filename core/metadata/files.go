package metadata

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLabelsBytes bounds the label file read from the appended zip.
const maxLabelsBytes = 4 << 20

// packedFiles returns the files of the zip appended to a model file (TFLite's
// metadata populator packs the associated files so), nil when there is none.
func packedFiles(file []byte) ([]*zip.File, error) {
	// The end-of-central-directory record is in the last 64 KiB + 22 bytes.
	tail := file[max(0, len(file)-(1<<16+22)):]
	if !bytes.Contains(tail, []byte("PK\x05\x06")) {
		return nil, nil
	}
	r, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if errors.Is(err, zip.ErrFormat) {
		return nil, nil // the bytes PK\5\6 in the model's own data, no zip
	}
	if err != nil {
		return nil, fmt.Errorf("the zip of associated files appended to the model: %w", err)
	}
	return r.File, nil
}

// labels reads the lines of the named file.
func labels(files []*zip.File, name string) ([]string, error) {
	for _, f := range files {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("label file %s: %w", name, err)
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, maxLabelsBytes+1))
		if err != nil {
			return nil, fmt.Errorf("label file %s: %w", name, err)
		}
		if len(data) > maxLabelsBytes {
			return nil, fmt.Errorf("label file %s is over %d bytes", name, maxLabelsBytes)
		}
		lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n"), "\n")
		return lines, nil
	}
	return nil, nil // named but not packed: the names are still shown
}

// KeepFiles appends the zip of associated files of the input model file
// to the converted one, as the input had it (the converter rebuilds the
// FlatBuffer, which drops whatever followed it), and returns the names of
// the files kept.
func KeepFiles(in, out []byte) ([]byte, []string, error) {
	files, err := packedFiles(in)
	if err != nil || len(files) == 0 {
		return out, nil, err
	}
	var names []string
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		if err := w.Copy(f); err != nil {
			return nil, nil, fmt.Errorf("keeping associated file %s: %w", f.Name, err)
		}
		names = append(names, f.Name)
	}
	if err := w.Close(); err != nil {
		return nil, nil, err
	}
	return append(out, buf.Bytes()...), names, nil
}
