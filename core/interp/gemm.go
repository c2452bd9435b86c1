package interp

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Float32 matrix multiplication for the convolution, fully-connected,
// matmul and LSTM kernels.
//
// gemmRows computes C = clamp(A·B + bias) where A is M×K (row-major, any
// row stride, used in place: for a 1×1 convolution it is the input
// itself), B is K×N held packed (packedB: column panels of gemmNR, packed
// once for constant weights), C is M×N (row-major, any row stride). Tiles
// of gemmMR rows × gemmNR columns each run one micro-kernel call over the
// whole depth K.
//
// The micro-kernel is shaped by what the Go compiler does with it, on amd64
// and js/wasm alike:
//   - its scheduler issues all multiplications of a loop iteration before
//     the additions into loop-carried accumulators, so more than a few
//     register accumulators spill. The accumulators live instead in a small
//     array on the stack (L1, store-to-load forwarded), one load and one
//     store per three multiply-adds;
//   - statements go column by column: each packed B value is loaded once
//     per k step and used for the three rows, whose nine A values (k
//     unrolled by three) stay in registers — writes to the accumulator
//     array would otherwise force the B values to be reloaded for each row;
//   - under js/wasm every loop back edge goes through the function's
//     dispatch table and float loads cannot fold constant offsets, so
//     unrolling and fewer loads matter even more there.
// It runs at roughly 8-10 GFLOP/s on a recent x86 core and 5-7 under V8.
//
// Blocking: rows are taken gemmBlockBytes of A at a time; every B panel
// (K×gemmNR, a few KB) is swept over all of a block's rows, so the panel
// stays in L1 and the A block in L2.
//
// Each output element is computed by one fixed sequence of operations on
// its row and column, so results do not depend on how rows are split
// between goroutines.

const (
	gemmNR = 8 // columns per packed panel and per micro-tile
	gemmMR = 3 // rows per micro-tile

	// gemmBlockBytes bounds the bytes of A swept by every panel in turn.
	gemmBlockBytes = 48 << 10
)

// packedB is a K×N matrix stored as ceil(N/gemmNR) column panels; panel p
// holds columns [p*gemmNR, p*gemmNR+gemmNR) as K rows of gemmNR values
// (k-major), zero-padded past N.
type packedB struct {
	k, n int
	data []float32
}

// packedSize is the number of float32s a packed K×N matrix needs.
func packedSize(k, n int) int { return (n + gemmNR - 1) / gemmNR * gemmNR * k }

// newPackedB packs a K×N matrix whose element (k, j) is
// src[k*strideK+j*strideN] into fresh memory.
func newPackedB(src []float32, k, n, strideK, strideN int) *packedB {
	p := &packedB{}
	p.pack(make([]float32, packedSize(k, n)), src, k, n, strideK, strideN)
	return p
}

// pack fills p from src (element (k, j) at src[k*strideK+j*strideN]) using
// buf, which must hold packedSize(k, n) float32s.
func (p *packedB) pack(buf, src []float32, k, n, strideK, strideN int) {
	p.k, p.n = k, n
	p.data = buf[:packedSize(k, n)]
	for j0 := 0; j0 < n; j0 += gemmNR {
		panel := p.data[j0*k : j0*k+gemmNR*k]
		nc := min(gemmNR, n-j0)
		for kk := 0; kk < k; kk++ {
			row := panel[kk*gemmNR : kk*gemmNR+gemmNR : kk*gemmNR+gemmNR]
			base := kk*strideK + j0*strideN
			j := 0
			for ; j < nc; j++ {
				row[j] = src[base+j*strideN]
			}
			for ; j < gemmNR; j++ {
				row[j] = 0
			}
		}
	}
}

// gemmOp is one matrix product C = clamp(A·B + bias, lo, hi), kept in a
// kernel's node state so that handing it to worker goroutines allocates
// nothing.
type gemmOp struct {
	m    int
	a    []float32 // row i at a[i*lda:], K values
	lda  int
	b    *packedB
	bias []float32 // nil or at least N values
	c    []float32 // row i at c[i*ldc:], N values
	ldc  int
	lo   float32
	hi   float32

	par parJob
}

// noClampLo and noClampHi bound a product without a clamping activation.
var (
	noClampLo = float32(math.Inf(-1))
	noClampHi = float32(math.Inf(1))
)

// set describes the next product.
func (g *gemmOp) set(m int, a []float32, lda int, b *packedB, bias, c []float32, ldc int, lo, hi float32) {
	g.m, g.a, g.lda, g.b, g.bias, g.c, g.ldc, g.lo, g.hi = m, a, lda, b, bias, c, ldc, lo, hi
}

// release drops the references to activation memory after a product.
func (g *gemmOp) release() { g.a, g.b, g.bias, g.c = nil, nil, nil, nil }

// run computes the whole product, on several goroutines when worthwhile.
func (g *gemmOp) run() {
	if g.m <= 0 || g.b.n <= 0 {
		return
	}
	if parallelWorth(g.m * g.b.n * max(g.b.k, 1)) {
		parallelRows(g, g.m, gemmMR)
		return
	}
	g.rows(0, 0, g.m)
}

func (g *gemmOp) rows(_, i0, i1 int) {
	gemmRows(g.a, g.lda, g.b, g.bias, g.c, g.ldc, i0, i1, g.lo, g.hi)
}

func (g *gemmOp) job() *parJob { return &g.par }

// gemmRows computes rows [i0, i1) of C = clamp(A·B + bias, lo, hi): row i
// of A is a[i*lda:][:K], row i of C is c[i*ldc:][:N], bias is nil or holds
// at least N values.
func gemmRows(a []float32, lda int, b *packedB, bias []float32, c []float32, ldc int, i0, i1 int, lo, hi float32) {
	k, n := b.k, b.n
	if k == 0 {
		// An empty sum: the result is the bias.
		for i := i0; i < i1; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				v := float32(0)
				if bias != nil {
					v = bias[j]
				}
				row[j] = min(max(v, lo), hi)
			}
		}
		return
	}
	block := max(gemmMR, gemmBlockBytes/(4*k)/gemmMR*gemmMR)
	var acc [gemmMR][gemmNR]float32
	var init [gemmNR]float32
	for b0 := i0; b0 < i1; b0 += block {
		b1 := min(b0+block, i1)
		for j0 := 0; j0 < n; j0 += gemmNR {
			nc := min(gemmNR, n-j0)
			panel := b.data[j0*k : j0*k+gemmNR*k]
			init = [gemmNR]float32{}
			if bias != nil {
				copy(init[:nc], bias[j0:j0+nc])
			}
			i := b0
			for ; i+gemmMR <= b1; i += gemmMR {
				acc[0], acc[1], acc[2] = init, init, init
				kernel3x8(a[i*lda:i*lda+k], a[(i+1)*lda:(i+1)*lda+k], a[(i+2)*lda:(i+2)*lda+k], panel, &acc)
				storeTile(c[i*ldc:], ldc, j0, nc, acc[:], lo, hi)
			}
			for ; i < b1; i++ {
				acc[0] = init
				kernel1x8(a[i*lda:i*lda+k], panel, &acc[0])
				storeTile(c[i*ldc:], ldc, j0, nc, acc[:1], lo, hi)
			}
		}
	}
}

// storeClamped writes src clamped to [lo, hi] into dst. The common
// activations avoid branches on the values' signs, which no predictor
// guesses right: no clamp is a copy, and for lo = 0 (RELU, RELU6) the
// clamp works on the bits, where non-negative floats order as integers
// (viewing the slices as uint32s keeps the values out of float registers,
// which js/wasm could only convert through memory).
func storeClamped(dst, src []float32, lo, hi float32) {
	src = src[:len(dst)]
	switch {
	case lo == noClampLo && hi == noClampHi:
		copy(dst, src)
	case lo == 0 && hi == noClampHi:
		d, s := f32bits(dst), f32bits(src)
		s = s[:len(d)]
		j := 0
		for ; j+4 <= len(s); j += 4 { // unrolled for js/wasm's costly loop jumps
			d4, s4 := (*[4]uint32)(d[j:]), (*[4]uint32)(s[j:])
			d4[0] = s4[0] &^ uint32(int32(s4[0])>>31) // negative (or -0) → +0
			d4[1] = s4[1] &^ uint32(int32(s4[1])>>31)
			d4[2] = s4[2] &^ uint32(int32(s4[2])>>31)
			d4[3] = s4[3] &^ uint32(int32(s4[3])>>31)
		}
		for ; j < len(s); j++ {
			d[j] = s[j] &^ uint32(int32(s[j])>>31)
		}
	case lo == 0 && hi > 0:
		d, s := f32bits(dst), f32bits(src)
		s = s[:len(d)]
		h := uint64(math.Float32bits(hi))
		j := 0
		for ; j+4 <= len(s); j += 4 {
			d4, s4 := (*[4]uint32)(d[j:]), (*[4]uint32)(s[j:])
			d4[0] = clampBits(s4[0], h)
			d4[1] = clampBits(s4[1], h)
			d4[2] = clampBits(s4[2], h)
			d4[3] = clampBits(s4[3], h)
		}
		for ; j < len(s); j++ {
			d[j] = clampBits(s[j], h)
		}
	default:
		for j, v := range src {
			if v < lo {
				v = lo
			}
			if v > hi {
				v = hi
			}
			dst[j] = v
		}
	}
}

// f32bits views float32s as their bit patterns (same size and layout, so
// the slice header carries over).
func f32bits(v []float32) []uint32 { return *(*[]uint32)(unsafe.Pointer(&v)) }

// storeTile writes rows of a micro-tile (nc columns each) to c, clamped.
// Full-width rows are written without a loop: under js/wasm every loop
// iteration costs a jump through the function's dispatch table.
func storeTile(c []float32, ldc, j0, nc int, acc [][gemmNR]float32, lo, hi float32) {
	if nc != gemmNR {
		for r := range acc {
			storeClamped(c[r*ldc+j0:r*ldc+j0+nc], acc[r][:nc], lo, hi)
		}
		return
	}
	switch {
	case lo == noClampLo && hi == noClampHi:
		for r := range acc {
			*(*[gemmNR]float32)(c[r*ldc+j0:]) = acc[r]
		}
	case lo == 0 && hi == noClampHi:
		for r := range acc {
			d := (*[gemmNR]uint32)(f32bits(c[r*ldc+j0 : r*ldc+j0+gemmNR]))
			s := (*[gemmNR]uint32)(f32bits(acc[r][:]))
			d[0] = s[0] &^ uint32(int32(s[0])>>31)
			d[1] = s[1] &^ uint32(int32(s[1])>>31)
			d[2] = s[2] &^ uint32(int32(s[2])>>31)
			d[3] = s[3] &^ uint32(int32(s[3])>>31)
			d[4] = s[4] &^ uint32(int32(s[4])>>31)
			d[5] = s[5] &^ uint32(int32(s[5])>>31)
			d[6] = s[6] &^ uint32(int32(s[6])>>31)
			d[7] = s[7] &^ uint32(int32(s[7])>>31)
		}
	case lo == 0 && hi > 0:
		h := uint64(math.Float32bits(hi))
		for r := range acc {
			d := (*[gemmNR]uint32)(f32bits(c[r*ldc+j0 : r*ldc+j0+gemmNR]))
			s := (*[gemmNR]uint32)(f32bits(acc[r][:]))
			d[0] = clampBits(s[0], h)
			d[1] = clampBits(s[1], h)
			d[2] = clampBits(s[2], h)
			d[3] = clampBits(s[3], h)
			d[4] = clampBits(s[4], h)
			d[5] = clampBits(s[5], h)
			d[6] = clampBits(s[6], h)
			d[7] = clampBits(s[7], h)
		}
	default:
		for r := range acc {
			storeClamped(c[r*ldc+j0:r*ldc+j0+nc], acc[r][:nc], lo, hi)
		}
	}
}

// clampBits clamps the float32 with bits u to [0, h], h being the bits of a
// positive float32, without branches: non-negative floats order as their
// bit patterns do. (uint64 arithmetic saves js/wasm the sign extensions of
// int32.)
func clampBits(u uint32, h uint64) uint32 {
	x := uint64(u)
	x &= (x >> 31) - 1 // negative (or -0) → +0
	over := -((h - x) >> 63)
	return uint32(x + (h-x)&over)
}

// kernel3x8 adds rows a0..a2 (K values each) times the K×8 panel bp to acc.
// The statements go column by column so that each panel value is loaded
// once and used for the three rows while the nine row values stay in
// registers; the accumulators live in memory (see the file comment). k is
// unrolled by three.
func kernel3x8(a0, a1, a2, bp []float32, acc *[3][8]float32) {
	k := len(a0)
	a1 = a1[:k]
	a2 = a2[:k]
	bp = bp[:8*k]
	c0, c1, c2 := &acc[0], &acc[1], &acc[2]
	i := 0
	for ; i+3 <= k; i += 3 {
		b := bp[8*i : 8*i+24 : 8*i+24]
		x0, y0, z0 := a0[i], a0[i+1], a0[i+2]
		x1, y1, z1 := a1[i], a1[i+1], a1[i+2]
		x2, y2, z2 := a2[i], a2[i+1], a2[i+2]
		p, q, r := b[0], b[8], b[16]
		c0[0] += x0*p + y0*q + z0*r
		c1[0] += x1*p + y1*q + z1*r
		c2[0] += x2*p + y2*q + z2*r
		p, q, r = b[1], b[9], b[17]
		c0[1] += x0*p + y0*q + z0*r
		c1[1] += x1*p + y1*q + z1*r
		c2[1] += x2*p + y2*q + z2*r
		p, q, r = b[2], b[10], b[18]
		c0[2] += x0*p + y0*q + z0*r
		c1[2] += x1*p + y1*q + z1*r
		c2[2] += x2*p + y2*q + z2*r
		p, q, r = b[3], b[11], b[19]
		c0[3] += x0*p + y0*q + z0*r
		c1[3] += x1*p + y1*q + z1*r
		c2[3] += x2*p + y2*q + z2*r
		p, q, r = b[4], b[12], b[20]
		c0[4] += x0*p + y0*q + z0*r
		c1[4] += x1*p + y1*q + z1*r
		c2[4] += x2*p + y2*q + z2*r
		p, q, r = b[5], b[13], b[21]
		c0[5] += x0*p + y0*q + z0*r
		c1[5] += x1*p + y1*q + z1*r
		c2[5] += x2*p + y2*q + z2*r
		p, q, r = b[6], b[14], b[22]
		c0[6] += x0*p + y0*q + z0*r
		c1[6] += x1*p + y1*q + z1*r
		c2[6] += x2*p + y2*q + z2*r
		p, q, r = b[7], b[15], b[23]
		c0[7] += x0*p + y0*q + z0*r
		c1[7] += x1*p + y1*q + z1*r
		c2[7] += x2*p + y2*q + z2*r
	}
	for ; i < k; i++ {
		b := bp[8*i : 8*i+8 : 8*i+8]
		x0, x1, x2 := a0[i], a1[i], a2[i]
		p := b[0]
		c0[0] += x0 * p
		c1[0] += x1 * p
		c2[0] += x2 * p
		p = b[1]
		c0[1] += x0 * p
		c1[1] += x1 * p
		c2[1] += x2 * p
		p = b[2]
		c0[2] += x0 * p
		c1[2] += x1 * p
		c2[2] += x2 * p
		p = b[3]
		c0[3] += x0 * p
		c1[3] += x1 * p
		c2[3] += x2 * p
		p = b[4]
		c0[4] += x0 * p
		c1[4] += x1 * p
		c2[4] += x2 * p
		p = b[5]
		c0[5] += x0 * p
		c1[5] += x1 * p
		c2[5] += x2 * p
		p = b[6]
		c0[6] += x0 * p
		c1[6] += x1 * p
		c2[6] += x2 * p
		p = b[7]
		c0[7] += x0 * p
		c1[7] += x1 * p
		c2[7] += x2 * p
	}
}

// kernel1x8 adds row a0 (K values) times the K×8 panel bp to acc, with k
// unrolled by four.
func kernel1x8(a0, bp []float32, acc *[8]float32) {
	k := len(a0)
	bp = bp[:8*k]
	i := 0
	for ; i+4 <= k; i += 4 {
		b := bp[8*i : 8*i+32 : 8*i+32]
		x, y, z, w := a0[i], a0[i+1], a0[i+2], a0[i+3]
		acc[0] += (x*b[0] + y*b[8]) + (z*b[16] + w*b[24])
		acc[1] += (x*b[1] + y*b[9]) + (z*b[17] + w*b[25])
		acc[2] += (x*b[2] + y*b[10]) + (z*b[18] + w*b[26])
		acc[3] += (x*b[3] + y*b[11]) + (z*b[19] + w*b[27])
		acc[4] += (x*b[4] + y*b[12]) + (z*b[20] + w*b[28])
		acc[5] += (x*b[5] + y*b[13]) + (z*b[21] + w*b[29])
		acc[6] += (x*b[6] + y*b[14]) + (z*b[22] + w*b[30])
		acc[7] += (x*b[7] + y*b[15]) + (z*b[23] + w*b[31])
	}
	for ; i < k; i++ {
		b := bp[8*i : 8*i+8 : 8*i+8]
		x := a0[i]
		acc[0] += x * b[0]
		acc[1] += x * b[1]
		acc[2] += x * b[2]
		acc[3] += x * b[3]
		acc[4] += x * b[4]
		acc[5] += x * b[5]
		acc[6] += x * b[6]
		acc[7] += x * b[7]
	}
}

// rowRunner is work split by output rows: rows(part, i0, i1) computes rows
// [i0, i1) and may run concurrently with other ranges of the same job; part
// (below poolThreads()) tells concurrent callers apart, e.g. to give each
// its own scratch space. job returns the state shared by one parallel run,
// kept in the kernel's node state so that nothing is allocated per call.
type rowRunner interface {
	rows(part, i0, i1 int)
	job() *parJob
}

// Native builds spread large products over the available cores with a
// small pool of worker goroutines started on first use; js/wasm (one
// thread) and GOMAXPROCS=1 run everything on the caller's goroutine.
// LITEQUANT_THREADS=n caps the number of goroutines used (1 disables the
// pool).
//
// A run splits the rows in a few chunks per goroutine, taken in turn from
// a shared counter, and offers one ticket per worker on a channel (values,
// so nothing is allocated). The caller works through chunks too; when none
// are left it revokes the tickets no worker has taken yet, so a busy
// machine that does not schedule a worker in time costs nothing but the
// parallelism, and it waits only for the workers that are running.
var workerPool struct {
	once    sync.Once
	threads int
	jobs    chan rowJob
}

// maxThreads bounds the goroutines of one run.
const maxThreads = 8

// parJob is the shared state of one parallel run.
type parJob struct {
	next    atomic.Int64 // next chunk to take
	chunks  int64
	chunk   int // rows per chunk
	m       int
	tickets [maxThreads]atomic.Int32 // ticketPosted, ticketTaken or ticketRevoked; index = part
	wg      sync.WaitGroup           // taken tickets not yet finished
}

const (
	ticketPosted int32 = iota + 1
	ticketTaken
	ticketRevoked
)

type rowJob struct {
	r    rowRunner
	part int
}

// parallelMinWork is the multiply-add count below which a product runs on
// one goroutine (handing work to a worker costs a few microseconds).
const parallelMinWork = 1 << 18

func poolThreads() int {
	workerPool.once.Do(func() {
		t := 1
		if runtime.GOARCH != "wasm" {
			t = runtime.GOMAXPROCS(0)
		}
		if s := os.Getenv("LITEQUANT_THREADS"); s != "" {
			if v, err := strconv.Atoi(s); err == nil && v >= 1 {
				t = min(t, v)
			}
		}
		t = min(t, maxThreads)
		workerPool.threads = t
		if t > 1 {
			workerPool.jobs = make(chan rowJob, 4*t)
			for w := 1; w < t; w++ {
				go func() {
					for j := range workerPool.jobs {
						pj := j.r.job()
						// A ticket of an earlier run may take the current
						// run's ticket of the same part: that is fine, the
						// current ticket's own message then finds it taken.
						if pj.tickets[j.part].CompareAndSwap(ticketPosted, ticketTaken) {
							runChunks(j.r, j.part)
							pj.wg.Done()
						}
					}
				}()
			}
		}
	})
	return workerPool.threads
}

// parallelWorth reports whether a job of work multiply-adds should be split.
func parallelWorth(work int) bool {
	return work >= parallelMinWork && poolThreads() > 1
}

// runChunks computes chunks of r until none are left.
func runChunks(r rowRunner, part int) {
	j := r.job()
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			return
		}
		i0 := int(c) * j.chunk
		r.rows(part, i0, min(i0+j.chunk, j.m))
	}
}

// parallelRows runs r over rows [0, m) on the caller and the workers, in
// chunks of a multiple of align rows, and returns when all are done.
func parallelRows(r rowRunner, m, align int) {
	t := poolThreads()
	chunk := (m + 3*t - 1) / (3 * t)
	chunk = (chunk + align - 1) / align * align
	if t <= 1 || chunk >= m {
		r.rows(0, 0, m)
		return
	}
	j := r.job()
	j.m, j.chunk, j.chunks = m, chunk, int64((m+chunk-1)/chunk)
	j.next.Store(0)
	for p := 1; p < t; p++ {
		j.wg.Add(1)
		j.tickets[p].Store(ticketPosted)
		select {
		case workerPool.jobs <- rowJob{r: r, part: p}:
		default: // workers far behind: the ticket is revoked below
		}
	}
	runChunks(r, 0)
	for p := 1; p < t; p++ {
		if j.tickets[p].CompareAndSwap(ticketPosted, ticketRevoked) {
			j.wg.Done()
		}
	}
	j.wg.Wait()
}
