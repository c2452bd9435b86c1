package interp

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sort"
	"strings"

	"litequant/core/tflite"
)

// ErrMemoryLimit is wrapped by errors for models whose activations would
// need more memory than Options.MaxMemory.
var ErrMemoryLimit = errors.New("memory limit")

// maxMemory is the limit in force: opts.MaxMemory, or DefaultMaxMemory.
func maxMemory(opts Options) int64 {
	if opts.MaxMemory > 0 {
		return opts.MaxMemory
	}
	return DefaultMaxMemory
}

// tensorBytes is the storage size of shape's elements of elemSize bytes, or
// -1 when it overflows. Unknown (negative) dimensions count as 0, as in
// numElements.
func tensorBytes(shape []int, elemSize int) int64 {
	n := int64(elemSize)
	for _, d := range shape {
		if d < 0 {
			return 0
		}
		if d > 0 && n > math.MaxInt64/int64(d) {
			return -1
		}
		n *= int64(d)
	}
	return n
}

// unknownDims reports whether shape has a negative (unknown) dimension.
func unknownDims(shape []int) bool {
	for _, d := range shape {
		if d < 0 {
			return true
		}
	}
	return false
}

// FormatBytes writes a byte count for people: "1.5 GiB", "300 MiB", "12 KiB".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkPlan computes, from the model's static shapes, the peak memory the
// subgraph's activations take as the interpreter runs it (inputs, outputs
// and state for the whole run, every other activation from the operator
// writing it to its last reader) and refuses a peak above limit, naming
// the largest tensors. It runs before anything is allocated.
func (it *Interpreter) checkPlan(limit int64) error {
	sg := it.model.Subgraphs[it.subgraph]
	size := make([]int64, len(sg.Tensors))
	for ti, t := range it.tensors {
		if t.isConst {
			continue
		}
		b := tensorBytes(t.Shape, t.ElemSize())
		if b < 0 {
			return fmt.Errorf("subgraph %d: %v: the size of its shape overflows: %w", it.subgraph, t, ErrMemoryLimit)
		}
		size[ti] = b
	}
	written := make([]int, len(sg.Tensors)) // first operator writing each tensor
	last := make([]int, len(sg.Tensors))    // last operator reading it
	for i := range written {
		written[i], last[i] = -1, -1
	}
	for oi, op := range sg.Operators {
		for _, t := range op.Inputs {
			if t >= 0 {
				last[t] = oi
			}
		}
		for _, t := range op.Outputs {
			if written[t] < 0 {
				written[t] = oi
			}
			if last[t] < oi {
				last[t] = oi
			}
		}
	}
	var always int64 // pinned for the whole run
	nops := len(sg.Operators)
	delta := make([]int64, nops+1)
	for ti, t := range it.tensors {
		switch {
		case t.isConst || size[ti] == 0:
		case it.pinned[ti] || written[ti] < 0 || it.isOutput(ti) || it.isInput(ti) || sg.Tensors[ti].IsVariable:
			always += size[ti]
		default:
			delta[written[ti]] += size[ti]
			delta[last[ti]+1] -= size[ti]
		}
	}
	peak, at, live := always, -1, always
	for oi := 0; oi < nops; oi++ {
		live += delta[oi]
		if live > peak {
			peak, at = live, oi
		}
	}
	if peak <= limit {
		return nil
	}
	where := ""
	if at >= 0 {
		where = fmt.Sprintf(" (at operator %d, %s)", at, it.model.OpName(sg.Operators[at]))
	}
	return fmt.Errorf("subgraph %d: the activations need %s at their peak%s, more than the %s limit: %w (largest tensors: %s)",
		it.subgraph, FormatBytes(peak), where, FormatBytes(limit), ErrMemoryLimit, it.largest(size, 3))
}

func (it *Interpreter) isInput(t int) bool {
	for _, i := range it.inputs {
		if i == t {
			return true
		}
	}
	return false
}

// largest names the n largest tensors by size.
func (it *Interpreter) largest(size []int64, n int) string {
	idx := make([]int, 0, len(size))
	for i, s := range size {
		if s > 0 {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return size[idx[a]] > size[idx[b]] })
	var parts []string
	for _, i := range idx[:min(n, len(idx))] {
		t := it.tensors[i]
		parts = append(parts, fmt.Sprintf("tensor %d %q %s%v %s", i, t.Name, tflite.TypeName(t.Type), t.Shape, FormatBytes(size[i])))
	}
	return strings.Join(parts, ", ")
}

// limitError is what a kernel's request for output memory beyond the limit
// panics with; Invoke and New turn it back into the error.
type limitError struct{ err error }

// reserve accounts for size more bytes of activation memory, panicking
// with a limitError when the total would exceed the limit. Kernels size
// outputs from their operands' values (RESHAPE, FILL, TILE...), so the
// static plan alone cannot bound them.
func (n *node) reserve(k int, shape []int, size int64) {
	it := n.it
	if size >= 0 && it.allocated+size <= it.maxMemory {
		it.allocated += size
		return
	}
	// A copy, so that shape (a kernel's local slice) does not escape.
	dims := make([]int, len(shape))
	for i, d := range shape {
		dims[i] = d
	}
	n.overLimit(k, dims, size)
}

// overLimit panics with the limitError for output k of the given shape.
func (n *node) overLimit(k int, shape []int, size int64) {
	it := n.it
	what := fmt.Sprintf("%s of shape %v", tflite.TypeName(n.outputs[k].Type), shape)
	if size < 0 {
		panic(limitError{n.wrap(fmt.Errorf("output %d: the size of %s overflows: %w", k, what, ErrMemoryLimit))})
	}
	panic(limitError{n.wrap(fmt.Errorf("output %d: %s needs %s, which with the %s already in use exceeds the %s limit: %w",
		k, what, FormatBytes(size), FormatBytes(it.allocated), FormatBytes(it.maxMemory), ErrMemoryLimit))})
}

// ErrInternal is wrapped by errors that stand for a panic inside the
// interpreter: a bug (tests and fuzzers treat it as a failure), reported
// as an error so that one bad model cannot bring the program down.
var ErrInternal = errors.New("internal error")

// recoverLimit turns a panic into *err: a limitError into its error, any
// other panic into an internal error naming the subgraph.
func (it *Interpreter) recoverLimit(r any, err *error) {
	if le, ok := r.(limitError); ok {
		*err = le.err
		return
	}
	*err = &PanicError{Subgraph: it.subgraph, Value: r, Stack: debug.Stack()}
}

// PanicError is a panic inside the interpreter, caught and returned; it
// matches ErrInternal.
type PanicError struct {
	Subgraph int
	Value    any
	Stack    []byte // where it happened, for bug reports
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("subgraph %d: %v: %v", e.Subgraph, ErrInternal, e.Value)
}

func (e *PanicError) Unwrap() error { return ErrInternal }
