// Package interp runs float TensorFlow Lite models in pure Go: the
// calibration engine for full-integer quantization (an Observer sees every
// tensor an operator produces) and the reference for checking results.
//
// An Interpreter is built once per model and subgraph. Constants are decoded
// once (FLOAT16/INT8 weights behind DEQUANTIZE are folded to float32 at
// construction), activation memory comes from a pool that is reused across
// Invoke calls, so steady-state inference allocates nothing. Shapes are
// resolved from the actual inputs on every Invoke, so dynamic dimensions work.
//
// Kernels follow TensorFlow Lite's reference semantics; each lives in a file
// named after its family (kernels_*.go) and registers itself in the kernels
// table.
package interp
