package interp

import (
	"fmt"

	fb "litequant/core/schema/tflitefb"
)

// PAD, PADV2, MIRROR_PAD, TILE and BROADCAST_TO.

// padState caches constant paddings ([rank][2] flattened).
type padState struct {
	pads []int
}

// readPaddings reads a [rank, 2] INT32/INT64 paddings operand.
func readPaddings(t *Tensor, rank int, buf []int) ([]int, error) {
	if err := mvCheckInts(t, "paddings"); err != nil {
		return nil, err
	}
	if len(t.Shape) != 2 || t.Shape[1] != 2 || (rank >= 0 && t.Shape[0] != rank) {
		if rank < 0 {
			return nil, fmt.Errorf("paddings %v: want shape [rank, 2]", t)
		}
		return nil, fmt.Errorf("paddings %v: want shape [%d, 2]", t, rank)
	}
	pads, err := mvReadInts(t, "paddings", buf)
	if err != nil {
		return nil, err
	}
	for _, p := range pads {
		if p < 0 {
			return nil, fmt.Errorf("paddings %v has a negative value", mvList(pads))
		}
	}
	return pads, nil
}

func preparePad(n *node) error {
	if len(n.inputs) < 2 || n.inputs[0] == nil || len(n.outputs) != 1 {
		return fmt.Errorf("want 2 or 3 inputs and 1 output")
	}
	if err := mvSameType(n.inputs[0], n.outputs[0]); err != nil {
		return err
	}
	st := &padState{}
	n.state = st
	if p := n.inputs[1]; p != nil && p.IsConst() {
		pads, err := readPaddings(p, -1, nil)
		if err != nil {
			return err
		}
		if len(pads)/2 > maxMoveDims {
			return unsupportedf("rank %d", len(pads)/2)
		}
		st.pads = pads
	}
	return nil
}

// paddings returns the node's paddings for an input of the given rank.
func (st *padState) paddings(n *node, rank int, buf []int) ([]int, error) {
	if st.pads == nil {
		return readPaddings(n.inputs[1], rank, buf)
	}
	if len(st.pads) != 2*rank {
		return nil, fmt.Errorf("paddings have %d rows for an input of rank %d", len(st.pads)/2, rank)
	}
	return st.pads, nil
}

// padOutput sizes output 0 to in padded by pads, fills it with the
// esize-byte value (unless value is nil or there is no border) and copies in
// into its interior; it returns the output and its row-major strides.
func padOutput(n *node, in *Tensor, es int, pads []int, value []byte) (*Tensor, mvDims) {
	rank := len(in.Shape)
	var shape, inSt, outSt mvDims
	for i, d := range in.Shape {
		shape[i] = d + pads[2*i] + pads[2*i+1]
	}
	mvStrides(in.Shape, inSt[:rank])
	mvStrides(shape[:rank], outSt[:rank])
	out := n.output(0, shape[:rank])
	if value != nil && len(out.Data) != len(in.Data) {
		mvFill(out.Data, es, value)
	}
	off := 0
	for i := 0; i < rank; i++ {
		off += pads[2*i] * outSt[i]
	}
	mvCopy(out.Data, in.Data, es, in.Shape, off, outSt[:rank], 0, inSt[:rank])
	return out, outSt
}

func evalPad(n *node) error {
	in, out := n.inputs[0], n.outputs[0]
	es, err := moveSize(in)
	if err != nil {
		return err
	}
	if err := mvCheckRank(in, maxMoveDims); err != nil {
		return err
	}
	rank := len(in.Shape)
	var pbuf [2 * maxMoveDims]int
	pads, err := n.state.(*padState).paddings(n, rank, pbuf[:0])
	if err != nil {
		return err
	}
	// The pad value: PADV2's constant, else zero (the zero point for
	// quantized tensors).
	var value [8]byte
	if cv := n.input(2); cv != nil {
		if cv.Type != in.Type || cv.NumElements() != 1 || len(cv.Data) < es {
			return fmt.Errorf("constant value %v: want one %v element", cv, in.Type)
		}
		copy(value[:], cv.Data[:es])
	} else if zp := mvZeroPoint(out); zp != 0 {
		switch out.Type {
		case fb.TensorTypeINT8:
			value[0] = byte(int8(zp))
		case fb.TensorTypeUINT8:
			value[0] = byte(zp)
		case fb.TensorTypeINT16:
			value[0], value[1] = byte(zp), byte(zp>>8)
		}
	}
	padOutput(n, in, es, pads, value[:])
	return nil
}

func evalMirrorPad(n *node) error {
	in := n.inputs[0]
	es, err := moveSize(in)
	if err != nil {
		return err
	}
	if err := mvCheckRank(in, maxMoveDims); err != nil {
		return err
	}
	rank := len(in.Shape)
	var pbuf [2 * maxMoveDims]int
	pads, err := n.state.(*padState).paddings(n, rank, pbuf[:0])
	if err != nil {
		return err
	}
	// REFLECT leaves out the edge element, SYMMETRIC repeats it.
	reflect := 1
	if opts, _ := n.opts.(*fb.MirrorPadOptionsT); opts != nil && opts.Mode == fb.MirrorPadModeSYMMETRIC {
		reflect = 0
	}
	for i, d := range in.Shape {
		if pads[2*i] > d-reflect || pads[2*i+1] > d-reflect {
			return fmt.Errorf("paddings %v too large for dimension %d of %v", mvList(pads), i, in)
		}
	}
	out, outSt := padOutput(n, in, es, pads, nil)
	if len(out.Data) == 0 {
		return nil
	}
	// Fill the borders dimension by dimension, innermost first: along d,
	// every border slab (all of the dimensions after d, already padded) is a
	// copy of an interior slab of the output itself.
	for d := rank - 1; d >= 0; d-- {
		lo, size := pads[2*d], in.Shape[d]
		if lo == 0 && pads[2*d+1] == 0 {
			continue
		}
		block := outSt[d] * es
		var idx mvDims
		base := 0
		for k := 0; k < d; k++ {
			base += pads[2*k] * outSt[k]
		}
		for {
			b := base * es
			for p := 0; p < out.Shape[d]; p++ {
				i := p - lo
				var q int
				switch {
				case i < 0:
					q = -i - 1 + reflect
				case i >= size:
					q = 2*size - i - 1 - reflect
				default:
					continue
				}
				dst := b + p*block
				src := b + (lo+q)*block
				copy(out.Data[dst:dst+block], out.Data[src:src+block])
			}
			// Next interior index of the dimensions before d.
			k := d - 1
			for ; k >= 0; k-- {
				idx[k]++
				base += outSt[k]
				if idx[k] < in.Shape[k] {
					break
				}
				base -= outSt[k] * in.Shape[k]
				idx[k] = 0
			}
			if k < 0 {
				break
			}
		}
	}
	return nil
}

// ---- TILE, BROADCAST_TO ----

func evalTile(n *node) error {
	in, _, es, err := moveOperands(n, 2, "(input, multiples)", maxMoveDims/2)
	if err != nil {
		return err
	}
	rank := len(in.Shape)
	mult := n.inputs[1]
	if err := mvCheckInts(mult, "multiples"); err != nil {
		return err
	}
	if len(mult.Shape) != 1 || mult.NumElements() != rank {
		return fmt.Errorf("multiples %v: want a vector of length %d", mult, rank)
	}
	var inSt, shape, view, sStr, dStr mvDims
	mvStrides(in.Shape, inSt[:rank])
	for i, d := range in.Shape {
		m := mvIntAt(mult, i)
		if m < 0 {
			return fmt.Errorf("multiples has a negative value %d", m)
		}
		shape[i] = d * m
		// The output seen as [m0, d0, m1, d1, ...] reads the input with
		// stride 0 along each m.
		view[2*i], view[2*i+1] = m, d
		sStr[2*i], sStr[2*i+1] = 0, inSt[i]
	}
	mvStrides(view[:2*rank], dStr[:2*rank])
	o := n.output(0, shape[:rank])
	mvCopy(o.Data, in.Data, es, view[:2*rank], 0, dStr[:2*rank], 0, sStr[:2*rank])
	return nil
}

// broadcastMaxDims is TensorFlow Lite's BROADCAST_TO limit.
const broadcastMaxDims = 8

func evalBroadcastTo(n *node) error {
	in, _, es, err := moveOperands(n, 2, "(input, shape)", 0)
	if err != nil {
		return err
	}
	st := n.inputs[1]
	if err := mvCheckInts(st, "shape"); err != nil {
		return err
	}
	if len(st.Shape) != 1 {
		return fmt.Errorf("shape %v is not a vector", st)
	}
	rank := st.NumElements()
	if rank > broadcastMaxDims {
		return unsupportedf("output rank %d (at most %d)", rank, broadcastMaxDims)
	}
	if len(in.Shape) > rank {
		return fmt.Errorf("cannot broadcast %v to rank %d", in, rank)
	}
	var shape, inSt, sStr, dStr mvDims
	for i := 0; i < rank; i++ {
		shape[i] = mvIntAt(st, i)
		if shape[i] < 0 {
			return fmt.Errorf("shape has a negative dimension %d", shape[i])
		}
	}
	lead := rank - len(in.Shape)
	mvStrides(in.Shape, inSt[:len(in.Shape)])
	for i, d := range in.Shape {
		if d != shape[lead+i] && d != 1 {
			return fmt.Errorf("cannot broadcast %v to %v", in, mvList(shape[:rank]))
		}
		if d != 1 {
			sStr[lead+i] = inSt[i]
		}
	}
	mvStrides(shape[:rank], dStr[:rank])
	o := n.output(0, shape[:rank])
	mvCopy(o.Data, in.Data, es, shape[:rank], 0, dStr[:rank], 0, sStr[:rank])
	return nil
}

func init() {
	register(fb.BuiltinOperatorPAD, &kernel{prepare: preparePad, eval: evalPad})
	register(fb.BuiltinOperatorPADV2, &kernel{prepare: preparePad, eval: evalPad})
	register(fb.BuiltinOperatorMIRROR_PAD, &kernel{prepare: preparePad, eval: evalMirrorPad})
	register(fb.BuiltinOperatorTILE, &kernel{eval: evalTile})
	register(fb.BuiltinOperatorBROADCAST_TO, &kernel{eval: evalBroadcastTo})
}
