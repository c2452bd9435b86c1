package calib

import (
	"math"
	"runtime"
	"sync"
)

// minParallelWork is the work (multiply-adds) below which inParallel stays
// on the calling goroutine: starting goroutines costs more than it saves.
const minParallelWork = 1 << 16

// inParallel runs f over [0, n) in up to GOMAXPROCS pieces at once when
// work is large enough, else in one call. The pieces are whole multiples
// of 4 (the moment's row tiles); with triangle, the work of index i is
// taken to shrink with i as a triangle's rows do, so the first pieces are
// shorter. Each index is
// computed by exactly one call with the same arithmetic as a single call
// would do, so the result never depends on the split.
func inParallel(n, work int, triangle bool, f func(from, to int)) {
	k := runtime.GOMAXPROCS(0)
	if k < 2 || work < minParallelWork || n < 8 {
		f(0, n)
		return
	}
	k = min(k, n/4)
	// Split points for equal shares of a triangle: the rows before s hold
	// a fraction 1-(1-s/n)² of the work.
	var wg sync.WaitGroup
	from := 0
	for p := 1; p <= k; p++ {
		to := n
		if p < k {
			frac := float64(p) / float64(k)
			if triangle {
				frac = 1 - math.Sqrt(1-frac)
			}
			to = int(float64(n)*frac) &^ 3
		}
		if to <= from {
			continue
		}
		wg.Add(1)
		go func(from, to int) {
			defer wg.Done()
			f(from, to)
		}(from, to)
		from = to
	}
	wg.Wait()
}
