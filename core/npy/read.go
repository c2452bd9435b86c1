package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// magic starts every .npy file.
const magic = "\x93NUMPY"

// maxHeaderLen bounds the header dictionary. Real headers are well under a
// kilobyte; numpy itself refuses more than 10000 bytes by default.
const maxHeaderLen = 1 << 20

// readChunk is how much data is read at a time when the input's length is
// unknown, so that a header declaring a huge array costs memory only as the
// data actually arrives.
const readChunk = 1 << 20

// Read decodes one .npy array from r. It reads exactly the array's bytes and
// leaves any data that follows unread.
//
// When r is a *bytes.Reader, *bytes.Buffer, *strings.Reader or a regular
// *os.File, the data size declared in the header is checked against the
// bytes remaining before anything is allocated.
func Read(r io.Reader) (*Array, error) {
	a, err := decode(r, remaining(r))
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	return a, nil
}

// ReadFile reads a .npy file.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := decode(f, remaining(f))
	if err != nil {
		return nil, fmt.Errorf("npy: %s: %w", path, err)
	}
	return a, nil
}

// remaining returns how many bytes r still holds, or -1 if that is unknown.
func remaining(r io.Reader) int64 {
	switch v := r.(type) {
	case *bytes.Reader:
		return int64(v.Len())
	case *bytes.Buffer:
		return int64(v.Len())
	case *strings.Reader:
		return int64(v.Len())
	case *os.File:
		st, err := v.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil || off > st.Size() {
			return -1
		}
		return st.Size() - off
	}
	return -1
}

// decode reads one array from r. avail is the number of bytes r holds, or -1
// if unknown; a known avail lets decode reject a truncated array up front.
func decode(r io.Reader, avail int64) (*Array, error) {
	var prefix [12]byte
	n, err := io.ReadFull(r, prefix[:8])
	if n == 0 {
		return nil, errors.New("empty input, not a .npy file")
	}
	if got := prefix[:min(n, len(magic))]; !strings.HasPrefix(magic, string(got)) {
		return nil, fmt.Errorf("not a .npy file: bad magic %q", got)
	}
	if err != nil {
		return nil, fmt.Errorf("truncated file: %d bytes", n)
	}
	major, minor := prefix[6], prefix[7]
	var headerLen int64
	used := int64(8)
	switch {
	case major == 1 && minor == 0:
		if _, err := io.ReadFull(r, prefix[8:10]); err != nil {
			return nil, errors.New("truncated file: no header length")
		}
		headerLen = int64(binary.LittleEndian.Uint16(prefix[8:10]))
		used += 2
	case (major == 2 || major == 3) && minor == 0:
		if _, err := io.ReadFull(r, prefix[8:12]); err != nil {
			return nil, errors.New("truncated file: no header length")
		}
		headerLen = int64(binary.LittleEndian.Uint32(prefix[8:12]))
		used += 4
	default:
		return nil, fmt.Errorf("unsupported format version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	if headerLen > maxHeaderLen {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit", headerLen, maxHeaderLen)
	}
	if avail >= 0 && headerLen > avail-used {
		return nil, fmt.Errorf("truncated header: %d bytes declared, %d available", headerLen, max(avail-used, 0))
	}
	header := make([]byte, headerLen)
	if n, err := io.ReadFull(r, header); err != nil {
		return nil, fmt.Errorf("truncated header: %d bytes declared, %d read", headerLen, n)
	}
	used += headerLen
	if major == 3 && !utf8.Valid(header) {
		return nil, errors.New("version 3.0 header is not valid UTF-8")
	}

	h, err := parseHeader(string(header))
	if err != nil {
		return nil, fmt.Errorf("bad header %s: %w", quoteHeader(header), err)
	}
	if h.fortran {
		return nil, fmt.Errorf("fortran_order is True: Fortran-order arrays are not supported (shape %v, dtype %s)", h.shape, h.descr)
	}
	dt, bigEndian, err := parseDescr(h.descr)
	if err != nil {
		return nil, err
	}
	size, err := byteSize(dt, h.shape)
	if err != nil {
		return nil, err
	}
	if avail >= 0 && int64(size) > avail-used {
		return nil, fmt.Errorf("data is truncated: %v%v needs %d bytes, %d available", dt, h.shape, size, avail-used)
	}
	data, err := readData(r, size, avail >= 0)
	if err != nil {
		return nil, fmt.Errorf("data is truncated: %v%v needs %d bytes, %d read", dt, h.shape, size, len(data))
	}
	if bigEndian {
		swapBytes(data, dt.Size())
	}
	return &Array{DType: dt, Shape: h.shape, Data: data}, nil
}

// readData reads exactly n bytes from r. If the length of r is known (and n
// has been checked against it) the buffer is allocated at once; otherwise it
// grows as data arrives. On a short read it returns what it got and an error.
func readData(r io.Reader, n int, known bool) ([]byte, error) {
	if known || n <= readChunk {
		buf := make([]byte, n)
		m, err := io.ReadFull(r, buf)
		return buf[:m], err
	}
	buf := make([]byte, 0, readChunk)
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), n))
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func swapBytes(data []byte, size int) {
	for i := 0; i+size <= len(data); i += size {
		e := data[i : i+size]
		for j, k := 0, size-1; j < k; j, k = j+1, k-1 {
			e[j], e[k] = e[k], e[j]
		}
	}
}

// quoteHeader quotes a header for an error message, shortening a long one.
func quoteHeader(h []byte) string {
	const max = 120
	s := strings.TrimRight(string(h), " \n")
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// parseDescr maps a numpy type string such as "<f4" to a DType and whether
// the data is big-endian.
func parseDescr(descr string) (dt DType, bigEndian bool, err error) {
	s := descr
	order := byte('=')
	if s != "" && strings.IndexByte("<>|=", s[0]) >= 0 {
		order, s = s[0], s[1:]
	}
	if s == "?" {
		s = "b1"
	}
	if s == "" {
		return InvalidDType, false, errors.New("empty dtype descr")
	}
	code, sizeText := s[0], s[1:]
	size, convErr := strconv.Atoi(sizeText)
	if sizeText == "" {
		size, convErr = 0, nil
	}
	if convErr == nil {
		for d := Bool; d.valid(); d++ {
			if dtypeInfo[d].code == code && dtypeInfo[d].size == size {
				dt = d
			}
		}
	}
	if dt == InvalidDType {
		switch code {
		case 'O':
			return InvalidDType, false, fmt.Errorf("object arrays are not supported (dtype %q)", descr)
		case 'U', 'S', 'a':
			return InvalidDType, false, fmt.Errorf("string arrays are not supported (dtype %q)", descr)
		case 'V':
			return InvalidDType, false, fmt.Errorf("void and structured arrays are not supported (dtype %q)", descr)
		case 'c':
			return InvalidDType, false, fmt.Errorf("complex arrays are not supported (dtype %q)", descr)
		case 'M', 'm':
			return InvalidDType, false, fmt.Errorf("datetime arrays are not supported (dtype %q)", descr)
		}
		return InvalidDType, false, fmt.Errorf("unsupported dtype %q", descr)
	}
	if order == '|' && size > 1 {
		return InvalidDType, false, fmt.Errorf("dtype %q has no byte order", descr)
	}
	// '=' (native order) is read as little-endian: numpy always writes an
	// explicit order, and every platform this tool runs on is little-endian.
	return dt, order == '>' && size > 1, nil
}

// header is the content of a .npy header dictionary.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader parses a header dictionary, a Python literal such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (200, 1), }
//
// It requires exactly the keys descr, fortran_order and shape, as numpy does.
func parseHeader(s string) (header, error) {
	p := &parser{s: s}
	var h header
	seen := map[string]bool{}
	if err := p.expect('{'); err != nil {
		return h, err
	}
	for {
		p.skipSpace()
		if p.peek() == '}' {
			p.pos++
			break
		}
		key, err := p.str()
		if err != nil {
			return h, fmt.Errorf("key: %w", err)
		}
		if seen[key] {
			return h, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		if err := p.expect(':'); err != nil {
			return h, err
		}
		switch key {
		case "descr":
			p.skipSpace()
			if c := p.peek(); c == '[' || c == '{' {
				return h, errors.New("structured dtypes are not supported (descr is a list)")
			}
			h.descr, err = p.str()
		case "fortran_order":
			h.fortran, err = p.boolean()
		case "shape":
			h.shape, err = p.tuple()
		default:
			return h, fmt.Errorf("unexpected key %q", key)
		}
		if err != nil {
			return h, fmt.Errorf("%s: %w", key, err)
		}
		p.skipSpace()
		if p.peek() == ',' {
			p.pos++
		} else if p.peek() != '}' {
			return h, p.errorf("want ',' or '}'")
		}
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return h, p.errorf("unexpected text after '}'")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("missing key %q", k)
		}
	}
	return h, nil
}

// parser scans the small subset of Python literals found in .npy headers.
type parser struct {
	s   string
	pos int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) expect(c byte) error {
	p.skipSpace()
	if p.peek() != c {
		return p.errorf("want %q", c)
	}
	p.pos++
	return nil
}

// str scans a quoted string without escapes, which numpy never writes in
// the keys and type strings of a header.
func (p *parser) str() (string, error) {
	p.skipSpace()
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("want a quoted string")
	}
	end := strings.IndexByte(p.s[p.pos+1:], q)
	if end < 0 {
		return "", p.errorf("unterminated string")
	}
	v := p.s[p.pos+1 : p.pos+1+end]
	if strings.ContainsRune(v, '\\') {
		return "", p.errorf("escape sequences are not supported")
	}
	p.pos += end + 2
	return v, nil
}

func (p *parser) boolean() (bool, error) {
	p.skipSpace()
	for _, lit := range []struct {
		text string
		v    bool
	}{{"True", true}, {"False", false}} {
		if strings.HasPrefix(p.s[p.pos:], lit.text) {
			p.pos += len(lit.text)
			return lit.v, nil
		}
	}
	return false, p.errorf("want True or False")
}

// tuple scans a tuple of non-negative integers, such as (), (5,) or (2, 3).
// Python 2 long literals (3L) are accepted.
func (p *parser) tuple() ([]int, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	shape := []int{}
	for {
		p.skipSpace()
		if p.peek() == ')' {
			p.pos++
			return shape, nil
		}
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
		}
		if start == p.pos {
			return nil, p.errorf("want a non-negative integer")
		}
		d, err := strconv.Atoi(p.s[start:p.pos])
		if err != nil {
			return nil, p.errorf("dimension %s is too large", p.s[start:p.pos])
		}
		if p.peek() == 'L' {
			p.pos++
		}
		shape = append(shape, d)
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
		default:
			return nil, p.errorf("want ',' or ')' in shape")
		}
	}
}
