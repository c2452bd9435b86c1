package interp

// Test helpers for the external test package (interp_test), whose tests
// import packages that import interp (convert).

var (
	HybridMaxRelDiff = maxRelDiff
	HybridRunGo      = runGo
)

// HybridTol is hybridTol for interp_test.
const HybridTol = hybridTol
