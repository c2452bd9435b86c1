// Package schema holds litequant's FlatBuffers schema for TensorFlow Lite
// models, the code generated from it, and a verifier that checks untrusted
// bytes against it before anything reads them.
//
// The schema is tflite.fbs. From it, `go run ./scripts/genschema` generates
// the flatc object-API package tflitefb and verify_tables_generated.go, the
// description of every table that Verify walks. The generated tflitefb code
// trusts its input completely (a malformed file makes it panic or allocate
// without bound), so every buffer from outside must pass Verify before
// tflitefb.GetRootAsModel or UnPack may see it.
package schema
