// Package schema holds litequant's FlatBuffers schema for TensorFlow Lite
// models, the code generated from it, and a verifier that checks untrusted
// bytes against it before anything reads them.
//
// The schema is tflite.fbs. From it, `go run ./scripts/genschema` generates
// the flatc object-API package tflitefb and verify_tables_generated.go, the
// fbverify.Schema (every table and union) that Verify walks with the
// table-driven verifier of package core/schema/fbverify. The generated
// tflitefb code trusts its input completely (a malformed file makes it panic
// or allocate without bound), so every buffer from outside must pass Verify
// before tflitefb.GetRootAsModel or UnPack may see it.
//
// metadata_schema.fbs is TensorFlow Lite's model metadata schema (the
// TFLITE_METADATA buffer: normalization, image properties, label files),
// vendored unchanged from tensorflow/tflite-support
// (tensorflow_lite_support/metadata/metadata_schema.fbs); the same
// `go run ./scripts/genschema` (make generate) regenerates its flatc
// package metadatafb and the tables of its verifier, core/schema/metaverify
// (the same fbverify verifier). Package core/metadata reads and updates it.
package schema
