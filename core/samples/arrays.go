package samples

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/x448/float16"
	"math"
	"math/bits"
	"regexp"
	"strconv"
	"strings"

	"litequant/core/npy"
	fb "litequant/core/schema/tflitefb"
	"litequant/core/tflite"
)

// array is the data an .npy file or .npz entry gives one input: the array in
// its stored type, rows of elems elements, each a sample of the given shape.
type array struct {
	a     *npy.Array
	t     fb.TensorType
	shape []int // per-sample shape, dynamic dimensions resolved
	elems int   // elements per sample

	pixels bool // uint8 normalised as pixels (Options.Uint8AsPixels)
	norm   normalizer

	// quantize: floating-point values for an integer input with a
	// quantization (Input.Scale), quantized with scale and zp.
	quantize bool
	scale    float64
	zp       int64
}

// loadNPY reads .npy files: one for a one-input model, or one per input, in
// order, for a multi-input model.
func loadNPY(ins []Input, files []File, o Options) (*source, error) {
	if len(files) != len(ins) {
		names := make([]string, len(files))
		for i, f := range files {
			names[i] = f.Name
		}
		return nil, fmt.Errorf("%s: %d .npy files for a model with %d %s: give one .npy file per input, in input order, or .npz files",
			oneLine(strings.Join(names, ", ")), len(files), len(ins), describeInputs(ins))
	}
	src := &source{kind: kindNPY, files: len(files)}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
		arr, err := npy.Read(bytes.NewReader(f.Data))
		if err != nil {
			return nil, fileErr(f.Name, ins[i:i+1], "%s", npyErr(err))
		}
		a, n, err := fit(f.Name, arr, ins[i], o)
		if err != nil {
			return nil, err
		}
		if i > 0 && n != src.n {
			return nil, fileErr(f.Name, nil, "holds %s for input %v, but %s holds %d for input %v; every input needs the same number",
				plural(n, "sample"), ins[i], files[0].Name, src.n, ins[0])
		}
		src.n = n
		src.arrays = append(src.arrays, a)
	}
	src.name = strings.Join(names, "+")
	return src, nil
}

// loadNPZ reads an .npz archive holding arrays for every input.
func loadNPZ(ins []Input, f File, o Options) (*source, error) {
	ar, err := npy.ReadNPZ(f.Data)
	if err != nil {
		return nil, fileErr(f.Name, ins, "%s", npyErr(err))
	}
	if len(ar) == 0 {
		return nil, fileErr(f.Name, ins, "the archive holds no arrays")
	}
	names, err := matchNPZ(ar, ins)
	if err != nil {
		return nil, fileErr(f.Name, ins, "%v", err)
	}
	src := &source{kind: kindNPZ, name: f.Name, files: 1}
	for i, name := range names {
		label := fmt.Sprintf("%s: array %q", f.Name, name)
		a, n, err := fit(label, ar.Get(name), ins[i], o)
		if err != nil {
			return nil, err
		}
		if i > 0 && n != src.n {
			return nil, fileErr(label, nil, "holds %s for input %v, but array %q holds %d for input %v; every input needs the same number",
				plural(n, "sample"), ins[i], names[0], src.n, ins[0])
		}
		src.n = n
		src.arrays = append(src.arrays, a)
	}
	return src, nil
}

// signatureName matches the decoration TensorFlow's converter gives input
// names: "serving_default_x:0" is x.
var signatureName = regexp.MustCompile(`^(?:serving_default_)?(.*?)(?::[0-9]+)?$`)

// shortName returns an input name without its signature decoration.
func shortName(name string) string {
	return signatureName.FindStringSubmatch(name)[1]
}

// matchNPZ returns, for each input, the name of the archive's array for it.
func matchNPZ(ar npy.Archive, ins []Input) ([]string, error) {
	names := make([]string, len(ins))
	byName := true
	for i, in := range ins {
		switch {
		case ar.Get(in.Name) != nil:
			names[i] = in.Name
		case ar.Get(shortName(in.Name)) != nil:
			names[i] = shortName(in.Name)
		default:
			byName = false
		}
	}
	if byName {
		return names, nil
	}
	byIndex := true
	for i := range ins {
		names[i] = "arr_" + strconv.Itoa(i)
		if ar.Get(names[i]) == nil {
			byIndex = false
		}
	}
	if byIndex {
		return names, nil
	}
	if len(ins) == 1 && len(ar) == 1 {
		return []string{ar[0].Name}, nil
	}
	quoted := make([]string, len(ar))
	for i, n := range ar.Names() {
		quoted[i] = strconv.Quote(n)
	}
	want := make([]string, len(ins))
	for i, in := range ins {
		want[i] = strconv.Quote(in.Name)
	}
	return nil, fmt.Errorf("arrays %s do not match %s: name them after the inputs (%s) or arr_0, arr_1, ... in input order",
		strings.Join(quoted, ", "), describeInputs(ins), strings.Join(want, ", "))
}

// matchShape fits an array of shape a to an input of shape s (see the
// package documentation), returning the number of samples and their shape.
func matchShape(a, s []int) (count int, sample []int, ok bool) {
	dims := func(a, s []int) bool {
		if len(a) != len(s) {
			return false
		}
		for i := range a {
			if s[i] != -1 && a[i] != s[i] {
				return false
			}
		}
		return true
	}
	r := len(s)
	batch1 := r > 0 && (s[0] == 1 || s[0] == -1)
	switch len(a) {
	case r + 1:
		if dims(a[1:], s) {
			return a[0], append([]int(nil), a[1:]...), true
		}
	case r:
		if batch1 && dims(a[1:], s[1:]) {
			return a[0], append([]int{1}, a[1:]...), true
		}
		if dims(a, s) {
			return 1, append([]int(nil), a...), true
		}
	case r - 1:
		if batch1 && dims(a, s[1:]) {
			return 1, append([]int{1}, a...), true
		}
	}
	return 0, nil, false
}

// fit checks an array against an input: its shape, and every value's
// conversion to the input's type.
func fit(label string, arr *npy.Array, in Input, o Options) (*array, int, error) {
	for _, d := range arr.Shape {
		if d == 0 {
			return nil, 0, fmt.Errorf("%s: shape %s holds no values for input %v", oneLine(label), fmtShape(arr.Shape), in)
		}
	}
	n, shape, ok := matchShape(arr.Shape, in.Shape)
	if !ok {
		return nil, 0, fmt.Errorf("%s: shape %s does not fit input %v", oneLine(label), fmtShape(arr.Shape), in)
	}
	a := &array{a: arr, t: in.Type, shape: shape, elems: numElements(shape)}
	if o.Uint8AsPixels && arr.DType == npy.Uint8 && in.Type == fb.TensorTypeFLOAT32 {
		a.pixels, a.norm = true, newNormalizer(o)
		if len(shape) > 0 {
			if err := a.norm.fits(shape[len(shape)-1]); err != nil {
				return nil, 0, fmt.Errorf("%s: %v", oneLine(label), err)
			}
		}
	}
	if in.Scale > 0 && in.Type != fb.TensorTypeFLOAT32 && arr.DType.IsFloat() {
		a.quantize, a.scale, a.zp = true, in.Scale, in.ZeroPoint
	}
	if i, problem := a.check(); problem != "" {
		return nil, 0, fmt.Errorf("%s: %s at sample %d, element %d, for input %v",
			oneLine(label), problem, i/a.elems, i%a.elems, in)
	}
	return a, n, nil
}

// check finds the first value that cannot be converted to the input's type
// without loss, returning its index and what is wrong, or "" if none.
func (a *array) check() (int, string) {
	arr := a.a
	n := len(arr.Data) / arr.DType.Size()
	if a.t == fb.TensorTypeFLOAT32 {
		switch arr.DType {
		case npy.Float16, npy.Float32, npy.Float64:
			for i := 0; i < n; i++ {
				v := getFloat(arr, i)
				if !finite(v) {
					return i, fmt.Sprintf("%v value %v is not a finite number", arr.DType, v)
				}
				if math.IsInf(float64(float32(v)), 0) {
					return i, fmt.Sprintf("%v value %v is beyond the FLOAT32 range", arr.DType, v)
				}
			}
		case npy.Int32, npy.Uint32, npy.Int64, npy.Uint64:
			for i := 0; i < n; i++ {
				v, big := getInt(arr, i)
				u := uint64(v)
				if v < 0 && !big {
					u = -u
				}
				if u != 0 && bits.Len64(u>>bits.TrailingZeros64(u)) > 24 {
					return i, fmt.Sprintf("%v value %s is not exactly representable as FLOAT32", arr.DType, intString(v, big))
				}
			}
		}
		return 0, ""
	}
	lo, hi := tflite.IntRange(a.t)
	if a.quantize {
		for i := 0; i < n; i++ {
			if v := getFloat(arr, i); !finite(v) {
				return i, fmt.Sprintf("%v value %v is not a finite number", arr.DType, v)
			}
		}
		return 0, ""
	}
	if arr.DType.IsFloat() {
		for i := 0; i < n; i++ {
			v := getFloat(arr, i)
			switch {
			case !finite(v):
				return i, fmt.Sprintf("%v value %v is not a finite number", arr.DType, v)
			case v != math.Trunc(v):
				return i, fmt.Sprintf("%v value %v cannot be converted to %s without loss", arr.DType, v, a.t)
			case v < float64(lo) || v >= float64(hi)+1:
				return i, fmt.Sprintf("%v value %v is out of the %s range", arr.DType, v, a.t)
			}
		}
		return 0, ""
	}
	for i := 0; i < n; i++ {
		v, big := getInt(arr, i)
		if big || v < lo || v > hi {
			return i, fmt.Sprintf("%v value %s is out of the %s range", arr.DType, intString(v, big), a.t)
		}
	}
	return 0, ""
}

func intString(v int64, big bool) string {
	if big {
		return strconv.FormatUint(uint64(v), 10)
	}
	return strconv.FormatInt(v, 10)
}

// keep drops every sample but rows, in that order.
func (a *array) keep(rows []int) {
	size := a.elems * a.a.DType.Size()
	data := make([]byte, 0, len(rows)*size)
	for _, r := range rows {
		data = append(data, a.a.Data[r*size:(r+1)*size]...)
	}
	a.a = &npy.Array{DType: a.a.DType, Shape: append([]int{len(rows)}, a.shape...), Data: data}
}

// sample writes sample row, converted to the input's type, to dst.
func (a *array) sample(row int, dst []byte) {
	arr := a.a
	off := row * a.elems
	size := arr.DType.Size()
	if a.t == fb.TensorTypeFLOAT32 {
		switch {
		case a.pixels:
			for k, p := range arr.Data[off : off+a.elems] {
				putFloat32(dst[4*k:], a.norm.at(k, float32(p)))
			}
		case arr.DType == npy.Float32:
			copy(dst, arr.Data[off*4:(off+a.elems)*4])
		case arr.DType.IsFloat():
			for k := 0; k < a.elems; k++ {
				putFloat32(dst[4*k:], float32(getFloat(arr, off+k)))
			}
		default:
			for k := 0; k < a.elems; k++ {
				v, big := getInt(arr, off+k)
				f := float32(v)
				if big {
					f = float32(uint64(v))
				}
				putFloat32(dst[4*k:], f)
			}
		}
		return
	}
	if NPYType(a.t) == arr.DType {
		copy(dst, arr.Data[off*size:(off+a.elems)*size])
		return
	}
	if a.quantize {
		for k := 0; k < a.elems; k++ {
			putInt(dst, k, a.t, QuantizeValue(getFloat(arr, off+k), a.scale, a.zp, a.t))
		}
		return
	}
	isFloat := arr.DType.IsFloat()
	for k := 0; k < a.elems; k++ {
		var v int64
		if isFloat {
			v = int64(getFloat(arr, off+k))
		} else {
			v, _ = getInt(arr, off+k)
		}
		putInt(dst, k, a.t, v)
	}
}

// NPYType returns the .npy dtype with the same memory layout as a tensor
// type, or npy.InvalidDType when there is none.
func NPYType(t fb.TensorType) npy.DType {
	switch t {
	case fb.TensorTypeFLOAT32:
		return npy.Float32
	case fb.TensorTypeFLOAT16:
		return npy.Float16
	case fb.TensorTypeFLOAT64:
		return npy.Float64
	case fb.TensorTypeINT8:
		return npy.Int8
	case fb.TensorTypeUINT8:
		return npy.Uint8
	case fb.TensorTypeINT16:
		return npy.Int16
	case fb.TensorTypeUINT16:
		return npy.Uint16
	case fb.TensorTypeINT32:
		return npy.Int32
	case fb.TensorTypeUINT32:
		return npy.Uint32
	case fb.TensorTypeINT64:
		return npy.Int64
	case fb.TensorTypeUINT64:
		return npy.Uint64
	case fb.TensorTypeBOOL:
		return npy.Bool
	}
	return npy.InvalidDType
}

// putInt stores element k of an integer-typed input.
// QuantizeValue returns real number x in integer type t with the given
// scale and zero point: round(x / scale) + zeroPoint, rounding halves away
// from zero as TensorFlow Lite's reference QUANTIZE does, clamped to t's
// range. NaN gives the zero point.
func QuantizeValue(x, scale float64, zeroPoint int64, t fb.TensorType) int64 {
	lo, hi := tflite.IntRange(t)
	q := x / scale
	if q != q {
		return min(max(zeroPoint, lo), hi)
	}
	// Clamp before converting: a huge quotient must not overflow int64.
	switch q = math.Round(q) + float64(zeroPoint); {
	case q >= float64(hi):
		return hi
	case q <= float64(lo):
		return lo
	}
	return int64(q)
}

func putInt(dst []byte, k int, t fb.TensorType, v int64) {
	switch typeSize(t) {
	case 1:
		dst[k] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(dst[2*k:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(dst[4*k:], uint32(v))
	case 8:
		binary.LittleEndian.PutUint64(dst[8*k:], uint64(v))
	}
}

func putFloat32(b []byte, v float32) {
	binary.LittleEndian.PutUint32(b, math.Float32bits(v))
}

// getFloat reads element i of a floating-point array.
func getFloat(a *npy.Array, i int) float64 {
	switch a.DType {
	case npy.Float16:
		return float64(halfToFloat32(binary.LittleEndian.Uint16(a.Data[2*i:])))
	case npy.Float32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(a.Data[4*i:])))
	default:
		return math.Float64frombits(binary.LittleEndian.Uint64(a.Data[8*i:]))
	}
}

// getInt reads element i of a bool or integer array; for uint64 values above
// math.MaxInt64 big is true and v holds the low 64 bits.
func getInt(a *npy.Array, i int) (v int64, big bool) {
	switch a.DType {
	case npy.Bool:
		if a.Data[i] != 0 {
			return 1, false
		}
		return 0, false
	case npy.Int8:
		return int64(int8(a.Data[i])), false
	case npy.Uint8:
		return int64(a.Data[i]), false
	case npy.Int16:
		return int64(int16(binary.LittleEndian.Uint16(a.Data[2*i:]))), false
	case npy.Uint16:
		return int64(binary.LittleEndian.Uint16(a.Data[2*i:])), false
	case npy.Int32:
		return int64(int32(binary.LittleEndian.Uint32(a.Data[4*i:]))), false
	case npy.Uint32:
		return int64(binary.LittleEndian.Uint32(a.Data[4*i:])), false
	case npy.Int64:
		return int64(binary.LittleEndian.Uint64(a.Data[8*i:])), false
	default: // Uint64
		u := binary.LittleEndian.Uint64(a.Data[8*i:])
		return int64(u), u > math.MaxInt64
	}
}

// halfToFloat32 converts IEEE binary16 bits to float32 (exactly).
func halfToFloat32(h uint16) float32 { return float16.Frombits(h).Float32() }
