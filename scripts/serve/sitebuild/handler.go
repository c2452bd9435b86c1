package sitebuild

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

// contentTypes are set explicitly: a system MIME table may lack .wasm
// (WebAssembly.instantiateStreaming needs application/wasm) or map .js
// oddly.
var contentTypes = map[string]string{
	".html":   "text/html; charset=utf-8",
	".js":     "text/javascript; charset=utf-8",
	".mjs":    "text/javascript; charset=utf-8",
	".css":    "text/css; charset=utf-8",
	".json":   "application/json",
	".wasm":   "application/wasm",
	".tflite": "application/octet-stream",
	".png":    "image/png",
	".jpg":    "image/jpeg",
	".svg":    "image/svg+xml",
	".ico":    "image/x-icon",
	".txt":    "text/plain; charset=utf-8",
	".md":     "text/plain; charset=utf-8",
}

// compressible lists the types worth gzipping (images already are).
var compressible = map[string]bool{".html": true, ".js": true, ".mjs": true, ".css": true, ".json": true,
	".wasm": true, ".tflite": true, ".svg": true, ".txt": true, ".md": true}

// Handler serves the static site in dir: GET and HEAD only, index.html for
// folders, no dotfiles, the right Content-Type (application/wasm for the
// module), gzip where the client accepts it, strong ETags, and on every
// response the page's Content-Security-Policy and other hardening headers.
// Files are re-read when they change on disk.
func Handler(dir string) http.Handler {
	return &handler{dir: dir, cache: map[string]*entry{}}
}

type handler struct {
	dir   string
	mu    sync.Mutex
	cache map[string]*entry // by cleaned path
}

// entry is a file's content as last read, and its gzip form.
type entry struct {
	mod  time.Time
	size int64
	raw  []byte
	gz   []byte // nil: not worth compressing
	etag string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", CSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if strings.HasSuffix(r.URL.Path, "/") || p == "/" {
		p = path.Join(p, "index.html")
	}
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") {
			http.NotFound(w, r)
			return
		}
	}
	e, err := h.load(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "cannot read "+p, http.StatusInternalServerError)
		return
	}
	ext := path.Ext(p)
	ct := contentTypes[ext]
	if ct == "" {
		ct = "application/octet-stream"
	}
	hdr.Set("Content-Type", ct)
	// Revalidate every time: the service worker keeps the offline copy,
	// and a rebuilt site must never mix old and new files.
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Vary", "Accept-Encoding")
	body, etag := e.raw, e.etag
	if e.gz != nil && acceptsGzip(r) {
		body, etag = e.gz, e.etag+"-gz"
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, "", e.mod, bytes.NewReader(body))
}

// load returns the file at p (slash-separated, rooted), reading it again
// when it changed.
func (h *handler) load(p string) (*entry, error) {
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	name := strings.TrimPrefix(p, "/")
	st, err := root.Stat(name)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fs.ErrNotExist
	}
	h.mu.Lock()
	e := h.cache[p]
	h.mu.Unlock()
	if e != nil && e.mod.Equal(st.ModTime()) && e.size == st.Size() {
		return e, nil
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	e = &entry{mod: st.ModTime(), size: st.Size(), raw: raw, etag: hex.EncodeToString(sum[:12])}
	if compressible[path.Ext(p)] && len(raw) > 256 {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(raw)
		zw.Close()
		if b.Len() < len(raw) {
			e.gz = b.Bytes()
		}
	}
	h.mu.Lock()
	h.cache[p] = e
	h.mu.Unlock()
	return e, nil
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(name) != "gzip" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
