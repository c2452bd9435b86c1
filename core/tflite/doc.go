// Package tflite loads TensorFlow Lite model files into a mutable in-memory
// Model and writes them back, dropping nothing the format defines.
//
// Load checks untrusted bytes before reading them (structure with
// schema.Verify, then indices and constant sizes), so a malformed file is an
// error naming the place, never a panic or a huge allocation. Save writes the
// layout TensorFlow's converter writes: identifier "TFL3", buffer data
// 16-byte aligned, builtin operator codes in both the byte-sized deprecated
// field and the 32-bit one, and the same bytes for the same model every time.
package tflite
