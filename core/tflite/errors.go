package tflite

import (
	"errors"
	"fmt"

	"litequant/core/schema"
)

// notModelError is a refusal of a file that is not a model at all; it
// matches ErrNotModel with errors.Is.
type notModelError struct{ msg string }

func (e *notModelError) Error() string { return e.msg }
func (e *notModelError) Unwrap() error { return ErrNotModel }

// notModel returns an error saying what data is when it is too short to be
// a model or lacks the "TFL3" identifier ("this is a PNG image, not a
// .tflite model: ..."), and nil otherwise. The bytes found stay in the
// message's last clause for those who want them.
func notModel(data []byte) error {
	what, hint := Sniff(data)
	if hint != "" {
		hint = ": " + hint
	}
	var detail string
	switch {
	case len(data) < 8:
		detail = fmt.Sprintf("%d bytes is too short for a FlatBuffer", len(data))
	case string(data[4:8]) != FileIdentifier:
		detail = fmt.Sprintf("file identifier is %q, want %q", data[4:8], FileIdentifier)
	default:
		return nil
	}
	if what == "" {
		return &notModelError{fmt.Sprintf("%v: %s", ErrNotModel, detail)}
	}
	return &notModelError{fmt.Sprintf("this is %s, not a .tflite model%s (%s)", what, hint, detail)}
}

// verifyFailed words a schema.Verify error. When the structure runs past
// the end of the file, and a whole file would be of a size a model can have,
// the file was most likely cut short: say so first, keep the verifier's
// place and offsets after.
func verifyFailed(data []byte, err error) error {
	var ve *schema.VerifyError
	if errors.As(err, &ve) && ve.Needs > int64(len(data)) && ve.Needs < maxFlatBufferBytes {
		return fmt.Errorf("the file ends at byte %d but the model needs %d: it looks truncated (was the download complete?); malformed model: %w", len(data), ve.Needs, err)
	}
	return fmt.Errorf("malformed model: %w", err)
}
