package convert

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
	"unsafe"

	"litequant/core/internal/calib"
)

// The wire format of a calibration shard's statistics (CalibrateShard),
// which the page's workers hand to the one that merges them. Most of a
// shard's bytes are the patch sums of its blocks (PatchPart.Sum and
// Moment, megabytes for a convolutional network), which JSON would carry
// as base64 to be scanned, unquoted and decoded: here they follow the JSON
// of the rest as raw little-endian float64s, so decoding them is a copy.
// Both formats are exact, so the merged statistics are the same.
//
//	"LQS1" | elapsed ns (int64) | JSON length (uint32) | JSON (EncodeStats,
//	without the parts' sums) | for each part, Sum then Moment: count
//	(uint32, noArray for nil) and count float64s
//
// The parts are taken subgraph by subgraph, operator by operator (in
// increasing index), part by part. The elapsed time leads so that the page
// can read it for its profiles without decoding the rest.

const shardMagic = "LQS1"

// noArray is the count written for a nil array.
const noArray = math.MaxUint32

// shardArrays lists the addresses of the arrays that follow the JSON.
func shardArrays(s *Stats) []*calib.Float64s {
	var out []*calib.Float64s
	for _, sg := range s.Subgraphs {
		if sg == nil {
			continue
		}
		ops := make([]int, 0, len(sg.Patches))
		for op := range sg.Patches {
			ops = append(ops, op)
		}
		slices.Sort(ops)
		for _, op := range ops {
			p := sg.Patches[op]
			if p == nil {
				continue
			}
			for _, part := range p.Parts {
				if part != nil {
					out = append(out, &part.Sum, &part.Moment)
				}
			}
		}
	}
	return out
}

// EncodeShard returns the wire encoding of a shard's statistics.
func EncodeShard(s *Stats) ([]byte, error) {
	if !littleEndian() {
		return nil, errors.New("encoding calibration shard: this machine is not little-endian")
	}
	arrays := shardArrays(s)
	saved := make([]calib.Float64s, len(arrays))
	size := 0
	for i, a := range arrays {
		saved[i], *a = *a, nil
		size += 4 + 8*len(saved[i])
	}
	js, err := EncodeStats(s)
	for i, a := range arrays {
		*a = saved[i]
	}
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 16+len(js)+size)
	out = append(out, shardMagic...)
	out = binary.LittleEndian.AppendUint64(out, uint64(s.Elapsed))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(js)))
	out = append(out, js...)
	for _, a := range saved {
		if a == nil {
			out = binary.LittleEndian.AppendUint32(out, noArray)
			continue
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(len(a)))
		if len(a) > 0 {
			out = append(out, unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), 8*len(a))...)
		}
	}
	return out, nil
}

// DecodeShard reads what EncodeShard wrote.
func DecodeShard(b []byte) (*Stats, error) {
	fail := func(format string, args ...any) (*Stats, error) {
		return nil, fmt.Errorf("decoding calibration shard: "+format, args...)
	}
	if !littleEndian() {
		return fail("this machine is not little-endian")
	}
	if len(b) < 16 || !bytes.Equal(b[:4], []byte(shardMagic)) {
		return fail("not a shard's statistics (%d bytes)", len(b))
	}
	elapsed := time.Duration(binary.LittleEndian.Uint64(b[4:]))
	n := int(binary.LittleEndian.Uint32(b[12:]))
	if n > len(b)-16 {
		return fail("JSON of %d bytes in %d", n, len(b)-16)
	}
	s, err := DecodeStats(b[16 : 16+n])
	if err != nil {
		return nil, err
	}
	if s.Elapsed != elapsed {
		return fail("elapsed time %v in the header, %v in the statistics", elapsed, s.Elapsed)
	}
	rest := b[16+n:]
	for i, a := range shardArrays(s) {
		if len(rest) < 4 {
			return fail("array %d is missing", i)
		}
		c := binary.LittleEndian.Uint32(rest)
		rest = rest[4:]
		if c == noArray {
			*a = nil
			continue
		}
		if uint64(c)*8 > uint64(len(rest)) {
			return fail("array %d of %d values in %d bytes", i, c, len(rest))
		}
		v := make(calib.Float64s, c)
		if c > 0 {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*c), rest)
		}
		*a = v
		rest = rest[8*int(c):]
	}
	if len(rest) != 0 {
		return fail("%d bytes after the last array", len(rest))
	}
	return s, nil
}

// littleEndian reports whether float64s are stored little-endian here (the
// arrays are copied as memory).
func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}
