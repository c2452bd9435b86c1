//go:build js

package interp

// DefaultMaxMemory is the activation memory limit when Options.MaxMemory
// is 0: 1.5 GiB in the browser, where a tab dies well before the 4 GiB a
// wasm32 module could address.
const DefaultMaxMemory int64 = 3 << 29
