package fbsparse

// The schema language's tokens.

import (
	"fmt"
	"strconv"
	"strings"
)

// Tokens.

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokNumber
	tokString
	tokPunct
)

type token struct {
	kind      tokKind
	text      string // identifier, number or punctuation as written; string contents
	line, col int
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of file"
	case tokString:
		return strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

func tokenize(name, src string) ([]token, error) {
	var toks []token
	line, col := 1, 1
	i := 0
	errAt := func(l, c int, format string, args ...any) error {
		return fmt.Errorf("%s:%d:%d: %s", name, l, c, fmt.Sprintf(format, args...))
	}
	advance := func(n int) {
		for k := 0; k < n; k++ {
			if src[i] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n' || c == ' ' || c == '\t' || c == '\r':
			advance(1)
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				advance(1)
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			return nil, errAt(line, col, "block comments (/* */) are not supported; use // comments")
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{tokIdent, src[i:j], line, col})
			advance(j - i)
		case isDigit(c) || ((c == '-' || c == '+') && i+1 < len(src) && (isDigit(src[i+1]) || src[i+1] == '.')) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			j := i + 1
			for j < len(src) && (isIdentPart(src[j]) || src[j] == '.' ||
				((src[j] == '-' || src[j] == '+') && (src[j-1] == 'e' || src[j-1] == 'E') && !strings.HasPrefix(strings.ToLower(src[i:j]), "0x") && !strings.HasPrefix(strings.ToLower(src[i:j]), "-0x"))) {
				j++
			}
			toks = append(toks, token{tokNumber, src[i:j], line, col})
			advance(j - i)
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' || src[j] == '\n' {
					return nil, errAt(line, col, "escapes and newlines in string literals are not supported")
				}
				j++
			}
			if j == len(src) {
				return nil, errAt(line, col, "unterminated string literal")
			}
			toks = append(toks, token{tokString, src[i+1 : j], line, col})
			advance(j + 1 - i)
		case strings.IndexByte("{}()[]:;,=.", c) >= 0:
			toks = append(toks, token{tokPunct, string(c), line, col})
			advance(1)
		default:
			return nil, errAt(line, col, "unexpected character %q", c)
		}
	}
	toks = append(toks, token{kind: tokEOF, line: line, col: col})
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
