//go:build !js

package interp

// DefaultMaxMemory is the activation memory limit when Options.MaxMemory
// is 0: 4 GiB natively.
const DefaultMaxMemory int64 = 4 << 30
