package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// multiOutput is the operators with kernels here that write more than one
// output; their kernels check the count against their options (num,
// num_splits). Every other operator writes exactly one tensor, as
// TensorFlow Lite's kernels require (NumOutputs(node) == 1).
var multiOutput = map[fb.BuiltinOperator]bool{
	fb.BuiltinOperatorSPLIT:   true,
	fb.BuiltinOperatorSPLIT_V: true,
	fb.BuiltinOperatorUNPACK:  true,
}

// checkOutputCount refuses a single-output operator that declares further
// outputs: no kernel writes them, so an operator reading one would find a
// tensor without data (FuzzRun found ADD declaring two outputs and MUL
// reading the second).
func checkOutputCount(n *node) error {
	if multiOutput[n.code] || len(n.op.Outputs) == 1 {
		return nil
	}
	return fmt.Errorf("has %d outputs, but %s writes exactly one (outputs 1 and on would never hold data)", len(n.op.Outputs), n.name)
}
