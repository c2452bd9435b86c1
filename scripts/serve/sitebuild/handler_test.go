package sitebuild

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("console.log('litequant');\n", 100)
	for name, body := range map[string]string{
		"index.html":      "<!doctype html><title>x</title>" + strings.Repeat(" ", 300),
		"app.js":          big,
		"litequant.wasm":  "\x00asm" + strings.Repeat("\x01\x00", 400),
		"img.png":         "\x89PNG" + strings.Repeat("z", 400),
		".litequant-site": "marker",
		"sub/index.html":  "<p>sub</p>",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(filepath.Dir(dir), "secret.txt"), []byte("outside"), 0o644)
	h := Handler(dir)
	get := func(method, path, enc string) *http.Response {
		r := httptest.NewRequest(method, path, nil)
		if enc != "" {
			r.Header.Set("Accept-Encoding", enc)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}
	tests := []struct {
		path, enc   string
		status      int
		ctype, cenc string
	}{
		{"/", "", 200, "text/html; charset=utf-8", ""},
		{"/sub/", "", 200, "text/html; charset=utf-8", ""},
		{"/app.js", "gzip, deflate, br", 200, "text/javascript; charset=utf-8", "gzip"},
		{"/app.js", "br", 200, "text/javascript; charset=utf-8", ""},
		{"/app.js", "gzip;q=0", 200, "text/javascript; charset=utf-8", ""},
		{"/litequant.wasm", "gzip", 200, "application/wasm", "gzip"},
		{"/img.png", "gzip", 200, "image/png", ""},
		{"/missing.js", "", 404, "", ""},
		{"/.litequant-site", "", 404, "", ""},
		{"/../secret.txt", "", 404, "", ""},
		{"/sub", "", 404, "", ""},
	}
	for _, tc := range tests {
		res := get("GET", tc.path, tc.enc)
		if res.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, res.StatusCode, tc.status)
			continue
		}
		if res.Header.Get("Content-Security-Policy") != CSP {
			t.Errorf("%s: no CSP header", tc.path)
		}
		if tc.status != 200 {
			continue
		}
		if ct := res.Header.Get("Content-Type"); ct != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, ct, tc.ctype)
		}
		if ce := res.Header.Get("Content-Encoding"); ce != tc.cenc {
			t.Errorf("%s (Accept-Encoding %q): Content-Encoding %q, want %q", tc.path, tc.enc, ce, tc.cenc)
		}
		body, _ := io.ReadAll(res.Body)
		if tc.cenc == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		want, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(tc.path, "/"))))
		if strings.HasSuffix(tc.path, "/") {
			want, _ = os.ReadFile(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(tc.path, "/")), "index.html"))
		}
		if !bytes.Equal(body, want) {
			t.Errorf("%s: body differs", tc.path)
		}
	}
	if res := get("POST", "/", ""); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", res.StatusCode)
	}
	// Conditional requests and changes on disk.
	first := get("GET", "/app.js", "gzip")
	r := httptest.NewRequest("GET", "/app.js", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	r.Header.Set("If-None-Match", first.Header.Get("ETag"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	os.WriteFile(filepath.Join(dir, "app.js"), []byte(big+"// changed\n"), 0o644)
	if again := get("GET", "/app.js", "gzip"); again.Header.Get("ETag") == first.Header.Get("ETag") {
		t.Error("a changed file keeps its ETag")
	}
}

// TestMetaCSPMatchesHeader: index.html states the same policy as the
// server's header, so a host that sends no headers gets it too.
func TestMetaCSPMatchesHeader(t *testing.T) {
	html, err := os.ReadFile(filepath.Join("..", "..", "..", "site", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	want := `<meta http-equiv="Content-Security-Policy" content="` + MetaCSP + `">`
	if !bytes.Contains(html, []byte(want)) {
		t.Errorf("site/index.html lacks\n%s", want)
	}
	for _, placeholder := range []string{buildPlaceholder} {
		if b, _ := os.ReadFile(filepath.Join("..", "..", "..", "site", "worker.js")); !bytes.Contains(b, []byte(placeholder)) {
			t.Errorf("worker.js lacks %s", placeholder)
		}
	}
	sw, _ := os.ReadFile(filepath.Join("..", "..", "..", "site", "sw.js"))
	for _, placeholder := range []string{cachePlaceholder, assetsPlaceholder} {
		if !bytes.Contains(sw, []byte(placeholder)) {
			t.Errorf("sw.js lacks %s", placeholder)
		}
	}
}

func TestPrepareOutRefusesForeignFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644)
	if err := prepareOut(dir); err == nil {
		t.Fatal("emptied a folder sitebuild did not make")
	}
	if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
		t.Fatal("file removed")
	}
	out := filepath.Join(t.TempDir(), "site")
	if err := prepareOut(out); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "old.js"), []byte("x"), 0o644)
	if err := prepareOut(out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "old.js")); err == nil {
		t.Error("rebuild kept an old file")
	}
}
