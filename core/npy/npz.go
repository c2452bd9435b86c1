package npy

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// NamedArray is one array of an .npz archive.
type NamedArray struct {
	Name  string // the entry's name without the .npy extension
	Array *Array
}

// Archive is the content of an .npz file: its arrays in the order of the
// zip entries.
type Archive []NamedArray

// Get returns the array with the given name, or nil if there is none.
func (ar Archive) Get(name string) *Array {
	for _, na := range ar {
		if na.Name == name {
			return na.Array
		}
	}
	return nil
}

// Names returns the names of the arrays, in order.
func (ar Archive) Names() []string {
	names := make([]string, len(ar))
	for i, na := range ar {
		names[i] = na.Name
	}
	return names
}

// ReadNPZ decodes an .npz archive (as written by numpy.savez or
// numpy.savez_compressed). Every entry must be a .npy file; directory
// entries are ignored.
func ReadNPZ(data []byte) (Archive, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("npy: not an .npz archive: %w", err)
	}
	var ar Archive
	seen := map[string]bool{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, fmt.Errorf("npy: .npz entry %q is not a .npy file", f.Name)
		}
		if seen[name] {
			return nil, fmt.Errorf("npy: .npz holds %q twice", f.Name)
		}
		seen[name] = true
		a, err := readEntry(f)
		if err != nil {
			return nil, fmt.Errorf("npy: .npz entry %q: %w", f.Name, err)
		}
		ar = append(ar, NamedArray{Name: name, Array: a})
	}
	return ar, nil
}

// readEntry decodes one zip entry. Its declared uncompressed size bounds what
// can be read (archive/zip enforces it) but is not trusted for allocation, as
// a compressed entry may claim far more than it holds: the data buffer grows
// as the data is inflated.
func readEntry(f *zip.File) (*Array, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return decode(rc, -1)
}

// ReadNPZFile reads an .npz file.
func ReadNPZFile(path string) (Archive, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ar, err := ReadNPZ(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ar, nil
}

// WriteNPZ writes the arrays as an uncompressed .npz archive, as
// numpy.savez does, each as an entry named Name + ".npy".
func WriteNPZ(w io.Writer, ar Archive) error {
	zw := zip.NewWriter(w)
	seen := map[string]bool{}
	for _, na := range ar {
		if na.Name == "" || seen[na.Name] {
			return fmt.Errorf("npy: empty or duplicate .npz array name %q", na.Name)
		}
		seen[na.Name] = true
		if err := na.Array.Validate(); err != nil {
			return fmt.Errorf("%w (array %q)", err, na.Name)
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: na.Name + ".npy", Method: zip.Store})
		if err != nil {
			return err
		}
		if err := Write(fw, na.Array); err != nil {
			return err
		}
	}
	return zw.Close()
}
