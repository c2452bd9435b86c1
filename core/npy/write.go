package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// headerAlign is the alignment numpy gives the start of the data.
const headerAlign = 64

// growthAxisMaxDigits is numpy's room for the first dimension's digits: the
// header is padded so that it can be rewritten in place as the array grows.
const growthAxisMaxDigits = 21

// Write encodes a as a .npy file: format version 1.0, or 2.0 if the header
// is too long for 1.0, laid out byte for byte as numpy.save does (the data
// starts 64-byte aligned).
func Write(w io.Writer, a *Array) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if _, err := w.Write(encodeHeader(a)); err != nil {
		return err
	}
	_, err := w.Write(a.Data)
	return err
}

// WriteFile writes a to the named .npy file, creating or truncating it.
func WriteFile(path string, a *Array) error {
	if err := a.Validate(); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = Write(bw, a)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// encodeHeader returns the magic, version, header length and the padded
// header dictionary for a.
func encodeHeader(a *Array) []byte {
	var shape strings.Builder
	shape.WriteByte('(')
	for i, d := range a.Shape {
		if i > 0 {
			shape.WriteString(", ")
		}
		shape.WriteString(strconv.Itoa(d))
	}
	if len(a.Shape) == 1 {
		shape.WriteByte(',')
	}
	shape.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", a.DType.Descr(), shape.String())
	if len(a.Shape) > 0 {
		// Like numpy, leave room to grow the first dimension in place.
		dict += strings.Repeat(" ", max(growthAxisMaxDigits-len(strconv.Itoa(a.Shape[0])), 0))
	}

	prefixLen := len(magic) + 2 + 2
	major := byte(1)
	if padded(prefixLen, len(dict)) > math.MaxUint16 {
		prefixLen, major = len(magic)+2+4, 2
	}
	total := padded(prefixLen, len(dict))
	out := make([]byte, 0, prefixLen+total)
	out = append(out, magic...)
	out = append(out, major, 0)
	if major == 1 {
		out = binary.LittleEndian.AppendUint16(out, uint16(total))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(total))
	}
	out = append(out, dict...)
	for len(out) < prefixLen+total-1 {
		out = append(out, ' ')
	}
	return append(out, '\n')
}

// padded returns the length of a header dictionary of n bytes once padded
// with spaces and a final newline so that the data after it is aligned.
func padded(prefixLen, n int) int {
	end := prefixLen + n + 1
	end += (headerAlign - end%headerAlign) % headerAlign
	return end - prefixLen
}
