// Package metaverify checks untrusted TFLITE_METADATA bytes (a
// ModelMetadata flatbuffer, schema core/schema/metadata_schema.fbs) before
// the flatc package metadatafb may read them: core/schema/fbverify's
// verifier, the same as core/schema's, with the metadata schema's tables
// (tables_generated.go, from `go run ./scripts/genschema`).
package metaverify
