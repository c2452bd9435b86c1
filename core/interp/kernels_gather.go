package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// GATHER, GATHER_ND and EMBEDDING_LOOKUP: rows of the params tensor picked
// by index tensors, copied as contiguous runs of any element size.

// mvCheckIndices accepts the index types TensorFlow Lite's gathers take.
func mvCheckIndices(t *Tensor, what string) error {
	if t == nil {
		return fmt.Errorf("missing %s operand", what)
	}
	switch t.Type {
	case fb.TensorTypeINT16, fb.TensorTypeINT32, fb.TensorTypeINT64:
	default:
		return fmt.Errorf("%s %v: want INT16, INT32 or INT64", what, t)
	}
	if len(t.Data) < t.NumElements()*t.ElemSize() {
		return fmt.Errorf("%s %v has no data", what, t)
	}
	return nil
}

// mvIndexAt returns element i of an INT16/INT32/INT64 index tensor.
func mvIndexAt(t *Tensor, i int) int {
	switch t.Type {
	case fb.TensorTypeINT64:
		return int(t.I64()[i])
	case fb.TensorTypeINT16:
		return int(t.I16()[i])
	}
	return int(t.I32()[i])
}

func evalGather(n *node) error {
	if len(n.inputs) != 2 || n.inputs[0] == nil {
		return fmt.Errorf("want 2 inputs (params, indices)")
	}
	params, idx, out := n.inputs[0], n.inputs[1], n.outputs[0]
	if err := mvSameType(params, out); err != nil {
		return err
	}
	es, err := moveSize(params)
	if err != nil {
		return err
	}
	if err := mvCheckIndices(idx, "indices"); err != nil {
		return err
	}
	opts, _ := n.opts.(*fb.GatherOptionsT)
	axis, batchDims := 0, 0
	if opts != nil {
		axis, batchDims = int(opts.Axis), int(opts.BatchDims)
	}
	pr, ir := len(params.Shape), len(idx.Shape)
	if axis < 0 {
		axis += pr
	}
	if axis < 0 || axis >= pr {
		return fmt.Errorf("axis %d out of range for %v", axis, params)
	}
	if batchDims < 0 {
		batchDims += ir
	}
	if batchDims < 0 || batchDims > axis || batchDims > ir {
		return fmt.Errorf("batch_dims %d invalid for axis %d and indices %v", batchDims, axis, idx)
	}
	for i := 0; i < batchDims; i++ {
		if params.Shape[i] != idx.Shape[i] {
			return fmt.Errorf("batch dimension %d differs between %v and %v", i, params, idx)
		}
	}
	if pr+ir-1-batchDims > maxMoveDims {
		return unsupportedf("output rank %d", pr+ir-1-batchDims)
	}
	var buf mvDims
	shape := append(buf[:0], params.Shape[:axis]...)
	shape = append(shape, idx.Shape[batchDims:]...)
	shape = append(shape, params.Shape[axis+1:]...)

	batch := mvProd(params.Shape[:batchDims])
	outer := mvProd(params.Shape[batchDims:axis])
	axisSize := params.Shape[axis]
	inner := mvProd(params.Shape[axis+1:]) * es
	coords := mvProd(idx.Shape[batchDims:])
	// Check every index first: TensorFlow Lite fails the whole operator.
	nidx := idx.NumElements()
	for i := 0; i < nidx; i++ {
		if v := mvIndexAt(idx, i); v < 0 || v >= axisSize {
			return fmt.Errorf("gather index %d out of bounds for dimension %d of size %d", v, axis, axisSize)
		}
	}
	o := n.output(0, shape)
	if inner == 0 {
		return nil
	}
	dst := 0
	for b := 0; b < batch; b++ {
		for i := 0; i < outer; i++ {
			base := (b*outer + i) * axisSize
			for c := 0; c < coords; c++ {
				src := (base + mvIndexAt(idx, b*coords+c)) * inner
				copy(o.Data[dst:dst+inner], params.Data[src:src+inner])
				dst += inner
			}
		}
	}
	return nil
}

func evalGatherND(n *node) error {
	if len(n.inputs) != 2 || n.inputs[0] == nil {
		return fmt.Errorf("want 2 inputs (params, indices)")
	}
	params, idx, out := n.inputs[0], n.inputs[1], n.outputs[0]
	if err := mvSameType(params, out); err != nil {
		return err
	}
	es, err := moveSize(params)
	if err != nil {
		return err
	}
	if err := mvCheckIndices(idx, "indices"); err != nil {
		return err
	}
	pr, ir := len(params.Shape), len(idx.Shape)
	if pr < 1 || ir < 1 {
		return fmt.Errorf("params %v and indices %v must have rank 1 or more", params, idx)
	}
	depth := idx.Shape[ir-1]
	if depth > pr {
		return fmt.Errorf("index depth %d exceeds the rank of %v", depth, params)
	}
	if ir-1+pr-depth > maxMoveDims {
		return unsupportedf("output rank %d", ir-1+pr-depth)
	}
	var buf, pst mvDims
	shape := append(buf[:0], idx.Shape[:ir-1]...)
	shape = append(shape, params.Shape[depth:]...)
	mvStrides(params.Shape, pst[:pr])
	slice := mvProd(params.Shape[depth:])
	total := params.NumElements()
	slices := mvProd(idx.Shape[:ir-1])
	// TensorFlow Lite only checks that each slice lies inside params.
	for i := 0; i < slices; i++ {
		from := 0
		for j := 0; j < depth; j++ {
			from += mvIndexAt(idx, i*depth+j) * pst[j]
		}
		if from < 0 || from+slice > total {
			return fmt.Errorf("gather_nd index %d out of bounds for %v", i, params)
		}
	}
	o := n.output(0, shape)
	run := slice * es
	if run == 0 {
		return nil
	}
	for i := 0; i < slices; i++ {
		from := 0
		for j := 0; j < depth; j++ {
			from += mvIndexAt(idx, i*depth+j) * pst[j]
		}
		copy(o.Data[i*run:(i+1)*run], params.Data[from*es:from*es+run])
	}
	return nil
}

func evalEmbeddingLookup(n *node) error {
	if len(n.inputs) != 2 || n.inputs[0] == nil || n.inputs[1] == nil {
		return fmt.Errorf("want 2 inputs (ids, params)")
	}
	ids, params, out := n.inputs[0], n.inputs[1], n.outputs[0]
	if ids.Type != fb.TensorTypeINT32 || len(ids.Shape) != 1 {
		return fmt.Errorf("ids %v: want an INT32 vector", ids)
	}
	if params.Type != fb.TensorTypeFLOAT32 || out.Type != fb.TensorTypeFLOAT32 {
		return unsupportedf("%v to %v (FLOAT32 params only)", params, out)
	}
	if len(params.Shape) < 2 || len(params.Shape) > maxMoveDims {
		return fmt.Errorf("params %v must have rank 2 or more", params)
	}
	var buf mvDims
	shape := append(buf[:0], ids.Shape[0])
	shape = append(shape, params.Shape[1:]...)
	rows := params.Shape[0]
	row := mvProd(params.Shape[1:]) * 4
	for _, id := range ids.I32() {
		if id < 0 || int(id) >= rows {
			return fmt.Errorf("embedding lookup index %d out of bounds for %d rows", id, rows)
		}
	}
	o := n.output(0, shape)
	for i, id := range ids.I32() {
		copy(o.Data[i*row:(i+1)*row], params.Data[int(id)*row:])
	}
	return nil
}

func init() {
	register(fb.BuiltinOperatorGATHER, &kernel{eval: evalGather})
	register(fb.BuiltinOperatorGATHER_ND, &kernel{eval: evalGatherND})
	register(fb.BuiltinOperatorEMBEDDING_LOOKUP, &kernel{eval: evalEmbeddingLookup})
}
