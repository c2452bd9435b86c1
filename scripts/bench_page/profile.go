package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"litequant/scripts/bench_page/procmem"
)

// profile is where one page conversion's time went: its wall time (click
// to done), each shard's wall time (request to statistics, in the page)
// and its calibration's own time, the merge and conversion in the first
// worker, the CPU time of chromium's worker threads and of all chromium,
// and the CPU time the whole machine was busy meanwhile (other work
// included: on a shared machine the workers compete with it).
type profile struct {
	wall    time.Duration
	shards  []shardTime
	mergeMS float64
	workers []float64    // CPU seconds of each busy worker thread, most first
	others  []threadTime // chromium's other busiest threads, most first
	chrome  float64      // CPU seconds of all chromium's threads
	machine float64      // CPU seconds the machine was busy (all processes)
}

// threadTime is one thread's CPU seconds over a conversion.
type threadTime struct {
	comm    string
	seconds float64
}

type shardTime struct {
	Shard   int     `json:"shard"`
	WallMS  float64 `json:"wall"`
	CalibMS float64 `json:"calib"`
	Bytes   int     `json:"bytes"`
}

// readProfile reads the page's performance entries (site/pool.js) and the
// CPU time between two thread snapshots.
func readProfile(ctx context.Context, wall time.Duration, before, after []procmem.ThreadCPU, machine float64) (*profile, error) {
	p := &profile{wall: wall, machine: machine}
	var err error
	p.shards, err = chromedp.Run(ctx, chromedp.Evaluate[[]shardTime](`performance.getEntriesByName("litequant-shard").map((e) => ({shard: e.detail.shard, wall: e.duration, calib: e.detail.calibMs || 0, bytes: e.detail.bytes}))`))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(p.shards, func(a, b shardTime) int { return a.Shard - b.Shard })
	if p.mergeMS, err = chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.getEntriesByName("litequant-merge").map((e) => e.duration).pop() || 0`)); err != nil {
		return nil, err
	}
	was := map[int]float64{}
	for _, t := range before {
		was[t.TID] = t.Seconds
	}
	for _, t := range after {
		d := t.Seconds - was[t.TID]
		p.chrome += d
		switch {
		case strings.HasPrefix(t.Comm, "DedicatedWorker") && d >= 0.05:
			p.workers = append(p.workers, d)
		case d >= 0.05:
			p.others = append(p.others, threadTime{t.Comm, d})
		}
	}
	slices.SortFunc(p.workers, func(a, b float64) int { return cmp.Compare(b, a) })
	slices.SortFunc(p.others, func(a, b threadTime) int { return cmp.Compare(b.seconds, a.seconds) })
	if len(p.others) > 4 {
		p.others = p.others[:4]
	}
	return p, nil
}

// busiest is the CPU time of the busiest worker thread, 0 if none was seen.
func (p *profile) busiest() float64 {
	if len(p.workers) == 0 {
		return 0
	}
	return p.workers[0]
}

func (p *profile) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wall %.2f s", p.wall.Seconds())
	for _, s := range p.shards {
		fmt.Fprintf(&b, "; shard %d %.2f s (calibration %.2f s, %.1f MB)", s.Shard, s.WallMS/1000, s.CalibMS/1000, float64(s.Bytes)/1e6)
	}
	if p.mergeMS > 0 {
		fmt.Fprintf(&b, "; merge+quantize %.2f s", p.mergeMS/1000)
	}
	fmt.Fprintf(&b, "; CPU: worker threads")
	for _, w := range p.workers {
		fmt.Fprintf(&b, " %.2f", w)
	}
	fmt.Fprintf(&b, " s, other threads")
	for _, o := range p.others {
		fmt.Fprintf(&b, " %s %.2f", o.comm, o.seconds)
	}
	fmt.Fprintf(&b, " s, chromium %.2f s, whole machine %.2f s busy of %.2f s (%d cores)", p.chrome, p.machine, p.wall.Seconds()*float64(runtime.NumCPU()), runtime.NumCPU())
	return b.String()
}

// machineBusy is the CPU time the machine has been busy (not idle or
// waiting for I/O) since boot, in seconds, from /proc/stat.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	busy := 0.0
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 7 { // idle, iowait; steal and the guest times (counted in user)
			continue
		}
		x, _ := strconv.ParseFloat(v, 64)
		busy += x
	}
	return busy / 100
}
