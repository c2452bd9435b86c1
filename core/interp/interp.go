package interp

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// Observer is called after each operator with each tensor it produced, and
// at the start of Invoke with each input. The tensor's data is valid only
// during the call.
type Observer func(t *Tensor)

// Interpreter executes one subgraph of a model.
type Interpreter struct {
	model    *tflite.Model
	subgraph int
	tensors  []*Tensor
	nodes    []*node
	inputs   []int
	outputs  []int
	observer Observer

	// lastUse[t] is the index of the last node reading tensor t; pooled
	// activations go back to the pool after it. Subgraph outputs never do.
	lastUse []int
	pinned  []bool // inputs, outputs, constants: not pooled
	pool    pool
	scratch []byte

	// maxMemory bounds the activation memory (Options.MaxMemory);
	// allocated counts what has been allocated for activations so far.
	maxMemory int64
	allocated int64
}

// node is one operator ready to run.
type node struct {
	index   int
	code    fb.BuiltinOperator
	version int32
	name    string // for messages: "CONV_2D"
	op      *fb.OperatorT
	opts    any // the builtin options table (e.g. *fb.Conv2DOptionsT), or nil
	inputs  []*Tensor
	outputs []*Tensor
	kernel  *kernel
	it      *Interpreter
	// state is the kernel's per-node data built by prepare (packed weights,
	// cached constant operands, ...).
	state any
}

// kernel implements one builtin operator for one kind of operands.
type kernel struct {
	// match, when set, says whether this kernel runs node n (by its
	// operand types: integer or hybrid kernels are variants of an
	// operator beside its float kernel). A kernel without match is the
	// operator's default, used when no variant matches.
	match func(n *node) bool
	// prepare runs once when the interpreter is built; it may check static
	// properties (types, constant operands) and fill n.state. Optional.
	prepare func(n *node) error
	// eval computes the outputs from the inputs. It must size each output
	// with n.output before writing it.
	eval func(n *node) error
}

// kernels maps builtin codes to their implementations: variants with a
// match function first, in registration order, then the default. Kernel
// files add to it in init functions via register.
var kernels = map[fb.BuiltinOperator][]*kernel{}

func register(code fb.BuiltinOperator, k *kernel) {
	ks := kernels[code]
	if k.match == nil {
		if len(ks) > 0 && ks[len(ks)-1].match == nil {
			panic("interp: default kernel registered twice for " + fb.EnumNamesBuiltinOperator[code])
		}
		kernels[code] = append(ks, k)
		return
	}
	// Variants go before the default.
	i := len(ks)
	if i > 0 && ks[i-1].match == nil {
		i--
	}
	kernels[code] = append(ks[:i:i], append([]*kernel{k}, ks[i:]...)...)
}

// Supported reports whether the interpreter has a kernel for code.
func Supported(code fb.BuiltinOperator) bool { return len(kernels[code]) > 0 }

// pick returns the kernel that runs n: the first variant that matches, else
// the default, else nil.
func pick(n *node) *kernel {
	for _, k := range kernels[n.code] {
		if k.match == nil || k.match(n) {
			return k
		}
	}
	return nil
}

// Options selects what to run.
type Options struct {
	// Signature selects a SignatureDef by key; empty means Subgraph.
	Signature string
	// Subgraph is the subgraph index when Signature is empty (0: primary).
	Subgraph int
	// MaxMemory bounds the memory of the activations (every tensor but
	// the constants), in bytes; 0 means DefaultMaxMemory. New refuses a
	// model whose static plan needs more, and Invoke fails (with an error
	// wrapping ErrMemoryLimit) when outputs sized at run time would.
	MaxMemory int64
}

// New prepares subgraph opts.Subgraph (or the signature's) of m. Every
// operator without a kernel is reported at once, by index and name.
func New(m *tflite.Model, opts Options) (it *Interpreter, err error) {
	si := opts.Subgraph
	if opts.Signature != "" {
		found := false
		var keys []string
		for _, sd := range m.SignatureDefs {
			keys = append(keys, sd.SignatureKey)
			if sd.SignatureKey == opts.Signature {
				si, found = int(sd.SubgraphIndex), true
			}
		}
		if !found {
			return nil, fmt.Errorf("no signature %q (model has %q)", opts.Signature, keys)
		}
	}
	if si < 0 || si >= len(m.Subgraphs) {
		return nil, fmt.Errorf("subgraph %d out of range (model has %d)", si, len(m.Subgraphs))
	}
	sg := m.Subgraphs[si]
	it = &Interpreter{model: m, subgraph: si, inputs: intsOf(sg.Inputs), outputs: intsOf(sg.Outputs), maxMemory: maxMemory(opts)}
	defer func() {
		// Kernels' prepare and constant folding run here: a panic in
		// them, or an output beyond the memory limit, is an error.
		if r := recover(); r != nil {
			it.recoverLimit(r, &err)
			it = nil
		}
	}()

	var missing []string
	for oi, op := range sg.Operators {
		code := m.Builtin(op)
		if len(kernels[code]) == 0 {
			missing = append(missing, fmt.Sprintf("operator %d (%s)", oi, m.OpName(op)))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("subgraph %d: no float kernel for %s", si, strings.Join(missing, ", "))
	}

	it.tensors = make([]*Tensor, len(sg.Tensors))
	it.pinned = make([]bool, len(sg.Tensors))
	for ti, t := range sg.Tensors {
		rt := &Tensor{Index: ti, Name: t.Name, Type: t.Type}
		rt.Shape = make([]int, len(t.Shape))
		for i, d := range t.Shape {
			rt.Shape[i] = int(d)
		}
		if q := t.Quantization; q != nil {
			rt.Scale, rt.ZeroPoint, rt.QuantAxis = q.Scale, q.ZeroPoint, int(q.QuantizedDimension)
		}
		if data := m.TensorData(t); len(data) > 0 {
			rt.Data = alignedBytes(len(data))
			copy(rt.Data, data)
			rt.isConst = true
			it.pinned[ti] = true
		}
		it.tensors[ti] = rt
	}
	if err := it.checkPlan(it.maxMemory); err != nil {
		return nil, err
	}
	for _, i := range it.inputs {
		it.pinned[i] = true
		in := it.tensors[i]
		in.Data = alignedBytes(in.NumElements() * in.ElemSize())
		it.allocated += int64(len(in.Data))
	}
	for _, i := range it.outputs {
		it.pinned[i] = true
	}
	// Variable tensors (recurrent state) and tensors read but never written
	// keep their own zeroed memory; state persists across Invoke calls as in
	// TensorFlow Lite.
	produced := make([]bool, len(sg.Tensors))
	for _, op := range sg.Operators {
		for _, idx := range op.Outputs {
			produced[idx] = true
		}
	}
	for ti, t := range sg.Tensors {
		rt := it.tensors[ti]
		if rt.isConst || it.pinned[ti] || (produced[ti] && !t.IsVariable) {
			continue
		}
		if unknownDims(rt.Shape) {
			return nil, fmt.Errorf("subgraph %d: %v is read but never written, and its shape has unknown dimensions", si, rt)
		}
		if n := rt.NumElements(); n >= 0 {
			rt.Data = alignedBytes(n * rt.ElemSize())
			it.allocated += int64(len(rt.Data))
			it.pinned[ti] = true
		}
	}

	it.lastUse = make([]int, len(sg.Tensors))
	for i := range it.lastUse {
		it.lastUse[i] = -1
	}
	// A sparse constant holds fewer bytes than its shape: only DENSIFY may
	// read it (it expands the data once, in prepare).
	for oi, op := range sg.Operators {
		if m.Builtin(op) == fb.BuiltinOperatorDENSIFY {
			continue
		}
		for _, idx := range op.Inputs {
			if idx >= 0 && sg.Tensors[idx].Sparsity != nil && it.tensors[idx].isConst {
				return nil, fmt.Errorf("subgraph %d, operator %d (%s): reads sparse constant tensor %d (%q) directly; only DENSIFY can", si, oi, m.OpName(op), idx, sg.Tensors[idx].Name)
			}
		}
	}
	for oi, op := range sg.Operators {
		code := m.Builtin(op)
		n := &node{index: oi, code: code, version: m.OpCode(op).Version, name: m.OpName(op), op: op, it: it}
		if op.BuiltinOptions != nil {
			n.opts = op.BuiltinOptions.Value
		}
		n.inputs = make([]*Tensor, len(op.Inputs))
		for k, idx := range op.Inputs {
			if idx >= 0 {
				n.inputs[k] = it.tensors[idx]
				it.lastUse[idx] = oi
			}
		}
		if len(op.Inputs) == 0 || op.Inputs[0] < 0 {
			// Every kernel here reads input 0.
			return nil, n.wrap(errors.New("the operator has no input 0"))
		}
		if len(op.Outputs) == 0 {
			// Every operator with a kernel here writes at least one
			// tensor (those without outputs, such as ASSIGN_VARIABLE, have
			// none); kernels index output 0.
			return nil, n.wrap(errors.New("the operator has no outputs"))
		}
		if err := checkOutputCount(n); err != nil {
			return nil, n.wrap(err)
		}
		n.outputs = make([]*Tensor, len(op.Outputs))
		for k, idx := range op.Outputs {
			n.outputs[k] = it.tensors[idx]
		}
		if n.kernel = pick(n); n.kernel == nil {
			return nil, n.wrap(unsupportedf("no kernel for these operand types"))
		}
		it.nodes = append(it.nodes, n)
	}
	if err := it.prepareAndFold(); err != nil {
		return nil, err
	}
	return it, nil
}

func intsOf(v []int32) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// prepareAndFold prepares each operator in execution order and evaluates,
// once, those whose inputs are all constants (DEQUANTIZE of FLOAT16/INT8
// weights above all), dropping them from the run list. Going in order means
// a kernel's prepare already sees folded weights as constants, so it can
// pack them at construction.
func (it *Interpreter) prepareAndFold() error {
	kept := it.nodes[:0]
	for _, n := range it.nodes {
		if n.kernel.prepare != nil {
			if err := n.kernel.prepare(n); err != nil {
				return n.wrap(err)
			}
		}
		foldable := len(n.inputs) > 0
		for _, in := range n.inputs {
			if in != nil && !in.isConst {
				foldable = false
			}
		}
		for _, out := range n.outputs {
			if it.isOutput(out.Index) {
				foldable = false
			}
		}
		if !foldable {
			kept = append(kept, n)
			continue
		}
		if err := it.evalNode(n); err != nil {
			return err
		}
		for _, out := range n.outputs {
			out.isConst = true
			it.pinned[out.Index] = true
			// Give the folded result its own memory, out of the pool.
			own := alignedBytes(len(out.Data))
			copy(own, out.Data)
			it.pool.put(out.Data)
			out.Data = own
		}
	}
	it.nodes = kept
	return nil
}

func (it *Interpreter) isOutput(t int) bool {
	for _, o := range it.outputs {
		if o == t {
			return true
		}
	}
	return false
}

// SetObserver installs fn (nil removes it).
func (it *Interpreter) SetObserver(fn Observer) { it.observer = fn }

// NumInputs returns the number of subgraph inputs.
func (it *Interpreter) NumInputs() int { return len(it.inputs) }

// NumOutputs returns the number of subgraph outputs.
func (it *Interpreter) NumOutputs() int { return len(it.outputs) }

// Input returns input i; write its Data (or call SetInput) before Invoke.
func (it *Interpreter) Input(i int) *Tensor { return it.tensors[it.inputs[i]] }

// Output returns output i, valid after Invoke until the next Invoke.
func (it *Interpreter) Output(i int) *Tensor { return it.tensors[it.outputs[i]] }

// Tensor returns tensor i of the subgraph.
func (it *Interpreter) Tensor(i int) *Tensor { return it.tensors[i] }

// NumTensors returns the subgraph's tensor count.
func (it *Interpreter) NumTensors() int { return len(it.tensors) }

// SetInput gives input i a (possibly new) shape and copies data, which must
// hold exactly that many elements of the input's type.
func (it *Interpreter) SetInput(i int, shape []int, data []byte) error {
	if i < 0 || i >= len(it.inputs) {
		return fmt.Errorf("input %d out of range (subgraph has %d inputs)", i, len(it.inputs))
	}
	in := it.Input(i)
	size := tensorBytes(shape, in.ElemSize())
	if size < 0 || size > it.maxMemory {
		return fmt.Errorf("input %d (%q): shape %v of %s is larger than the %s memory limit: %w", i, in.Name, shape, tflite.TypeName(in.Type), FormatBytes(it.maxMemory), ErrMemoryLimit)
	}
	n := int(size)
	if len(data) != n {
		return fmt.Errorf("input %d (%q): %d bytes given, shape %v of %s needs %d", i, in.Name, len(data), shape, tflite.TypeName(in.Type), n)
	}
	if cap(in.Data) < n {
		it.allocated += int64(n - cap(in.Data))
		in.Data = alignedBytes(n)
	}
	in.Data = in.Data[:n]
	copy(in.Data, data)
	in.Shape = append(in.Shape[:0], shape...)
	return nil
}

// Invoke runs the subgraph on the current inputs.
func (it *Interpreter) Invoke() (err error) {
	defer func() {
		if r := recover(); r != nil {
			it.recoverLimit(r, &err)
		}
	}()
	for k, i := range it.inputs {
		if in := it.tensors[i]; unknownDims(in.Shape) {
			return fmt.Errorf("subgraph %d: input %d (%q) has unknown dimensions %v: give it a shape with SetInput first", it.subgraph, k, in.Name, in.Shape)
		}
	}
	if it.observer != nil {
		for _, i := range it.inputs {
			it.observer(it.tensors[i])
		}
	}
	for _, n := range it.nodes {
		if err := it.evalNode(n); err != nil {
			return err
		}
		if it.observer != nil {
			for _, out := range n.outputs {
				it.observer(out)
			}
		}
		// Return activations whose last reader has run.
		for _, in := range n.inputs {
			if in != nil && !it.pinned[in.Index] && it.lastUse[in.Index] == n.index {
				it.pool.put(in.Data)
				in.Data = nil
			}
		}
		for _, out := range n.outputs {
			if !it.pinned[out.Index] && it.lastUse[out.Index] < 0 {
				it.pool.put(out.Data) // produced but never read
				out.Data = nil
			}
		}
	}
	return nil
}

func (it *Interpreter) evalNode(n *node) error {
	if err := n.kernel.eval(n); err != nil {
		return n.wrap(err)
	}
	return nil
}

// wrap prefixes err with the operator's place, keeping it matchable with
// errors.Is (errUnsupported, for one).
func (n *node) wrap(err error) error {
	return fmt.Errorf("subgraph %d, operator %d (%s): %w", n.it.subgraph, n.index, n.name, err)
}

// output sizes output k to shape and gives it memory (from the pool for
// activations) and returns it. Kernels must call it before writing.
func (n *node) output(k int, shape []int) *Tensor {
	t := n.outputs[k]
	b := tensorBytes(shape, t.ElemSize())
	if b < 0 || b > n.it.maxMemory {
		n.reserve(k, shape, b) // panics with the error
	}
	size := int(b)
	t.Shape = append(t.Shape[:0], shape...)
	if cap(t.Data) >= size {
		t.Data = t.Data[:size]
		return t
	}
	if t.Data != nil {
		n.it.pool.put(t.Data)
	}
	if t.Data = n.it.pool.reuse(size); t.Data == nil {
		n.reserve(k, shape, b)
		t.Data = alignedBytes(size)
	}
	return t
}

// input returns input k, or nil when it is omitted or absent.
func (n *node) input(k int) *Tensor {
	if k < len(n.inputs) {
		return n.inputs[k]
	}
	return nil
}

// scratch returns a reusable buffer of at least size bytes, valid until the
// next call (one kernel at a time uses it).
func (n *node) scratch(size int) []byte {
	if cap(n.it.scratch) < size {
		n.it.scratch = alignedBytes(size)
	}
	return n.it.scratch[:size]
}

// scratchF32 is scratch viewed as n float32s.
func (n *node) scratchF32(count int) []float32 { return view[float32](n.scratch(4 * count))[:count] }

// pool keeps freed activation buffers for reuse, best fit first.
type pool struct{ free [][]byte }

// reuse returns a free buffer of at least size bytes, or nil.
func (p *pool) reuse(size int) []byte {
	best := -1
	for i, b := range p.free {
		if cap(b) >= size && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	b := p.free[best]
	p.free = append(p.free[:best], p.free[best+1:]...)
	return b[:size]
}

func (p *pool) put(b []byte) {
	if cap(b) == 0 {
		return
	}
	// Keep the list ordered by capacity without allocating.
	i := sort.Search(len(p.free), func(i int) bool { return cap(p.free[i]) >= cap(b) })
	p.free = append(p.free, nil)
	copy(p.free[i+1:], p.free[i:])
	p.free[i] = b[:0]
}

var errUnsupported = errors.New("unsupported")

// unsupportedf reports an operator configuration the kernel does not run.
func unsupportedf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUnsupported, fmt.Sprintf(format, args...))
}
