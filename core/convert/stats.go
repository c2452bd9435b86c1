package convert

import (
	"bytes"
	"encoding/json"
	"fmt"

	"litequant/core/internal/calib"
)

// Stats are calibration statistics: what a calibration run recorded about
// a model's activations on its samples. Front ends keep them (the browser
// in IndexedDB, under CalibrationKey) and hand them back in Request.Stats
// so that a conversion with other output options skips calibration.
type Stats = calib.Stats

// EncodeStats returns the cache encoding of s: JSON on one line, with
// sample names as they are (no HTML escaping).
func EncodeStats(s *Stats) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encoding calibration statistics: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// DecodeStats reads statistics written by EncodeStats. A damaged entry, or
// one that is not statistics at all, is an error: the caller recalibrates.
func DecodeStats(b []byte) (*Stats, error) {
	var s Stats
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // another format: not these statistics
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decoding calibration statistics: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("decoding calibration statistics: more than one value")
	}
	if s.Samples <= 0 || len(s.Subgraphs) == 0 {
		return nil, fmt.Errorf("decoding calibration statistics: %d samples, %d subgraphs: not statistics of a calibration run", s.Samples, len(s.Subgraphs))
	}
	for i, sg := range s.Subgraphs {
		if sg == nil {
			return nil, fmt.Errorf("decoding calibration statistics: subgraph entry %d is missing", i)
		}
	}
	return &s, nil
}
