package samples

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// extensions maps the file extensions of calibration files to their kind.
var extensions = map[string]kind{
	".npy":  kindNPY,
	".npz":  kindNPZ,
	".png":  kindImage,
	".jpg":  kindImage,
	".jpeg": kindImage,
	".gif":  kindImage,
	".bmp":  kindImage,
	".wav":  kindWAV,
	".wave": kindWAV,
}

const extensionList = ".npy, .npz, .png, .jpg, .jpeg, .gif, .bmp, .wav"

// detect tells a file's kind from its content, or else from its extension.
func detect(f File) (kind, error) {
	d := f.Data
	has := func(p string) bool { return bytes.HasPrefix(d, []byte(p)) }
	switch {
	case len(d) == 0:
		return kindUnknown, errors.New("the file is empty")
	case has("\x93NUMPY"):
		return kindNPY, nil
	case has("PK\x03\x04"), has("PK\x05\x06"):
		return kindNPZ, nil
	case has("RIFF") && len(d) >= 12 && string(d[8:12]) == "WAVE", has("RF64"):
		return kindWAV, nil
	case has("\x89PNG\r\n\x1a\n"), has("\xff\xd8\xff"), has("GIF87a"), has("GIF89a"), has("BM"):
		return kindImage, nil
	}
	if k, ok := extensions[strings.ToLower(filepath.Ext(f.Name))]; ok {
		return k, nil
	}
	return kindUnknown, fmt.Errorf("unrecognised file type: want %s", extensionList)
}

// ReadPaths reads calibration files from disk for Load. Each path is a file
// or a folder. A file is read whatever its name. A folder contributes its
// files (not those of its subfolders: the walk is not recursive) in the
// byte order of their names, skipping hidden files (names starting with a
// dot) and files whose extension is not one of .npy, .npz, .png, .jpg, .jpeg,
// .gif, .bmp or .wav (case-insensitive); a folder with no such file is an
// error. File names are the paths as given, joined with the folder's
// entries.
func ReadPaths(paths []string) ([]File, error) {
	var files []File
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, pathErr(p, err)
		}
		if !st.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, pathErr(p, err)
			}
			files = append(files, File{Name: p, Data: data})
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, pathErr(p, err)
		}
		found := 0
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			if _, ok := extensions[strings.ToLower(filepath.Ext(name))]; !ok {
				continue
			}
			full := filepath.Join(p, name)
			st, err := os.Stat(full) // follows symbolic links
			if err != nil {
				return nil, pathErr(full, err)
			}
			if st.IsDir() {
				continue
			}
			data, err := os.ReadFile(full)
			if err != nil {
				return nil, pathErr(full, err)
			}
			files = append(files, File{Name: full, Data: data})
			found++
		}
		if found == 0 {
			return nil, fmt.Errorf("%s: the folder holds no calibration files (%s)", p, extensionList)
		}
	}
	return files, nil
}

// pathErr formats a file system error as "path: problem".
func pathErr(p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return errors.New(oneLine(fmt.Sprintf("%s: %v", p, err)))
}
