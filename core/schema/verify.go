package schema

import "litequant/core/schema/fbverify"

// Identifier returns the FlatBuffers file identifier of TensorFlow Lite
// models, "TFL3" (bytes 4 to 8 of every model).
func Identifier() string { return tfliteSchema.FileIdentifier }

// VerifyError is the error Verify returns: what is wrong, and where (see
// fbverify.Error).
type VerifyError = fbverify.Error

// Verify checks that buf is a well-formed TensorFlow Lite FlatBuffer
// (tflite.fbs, identifier "TFL3"), so that the generated tflitefb code can
// read it without going out of bounds: fbverify's Schema.Verify with the
// tables of tflite.fbs (verify_tables_generated.go) and the default limits.
// Error paths start with "model", e.g.
// "model.subgraphs[0].operators[5].builtin_options (Conv2DOptions)".
//
// Errors are *VerifyError values.
func Verify(buf []byte) error {
	return tfliteSchema.Verify(buf)
}
