package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progress draws a one-line progress bar on a terminal and stays silent otherwise, so scripts and logs get only
// the final summary.
type progress struct {
	w       io.Writer
	label   string
	total   int64
	done    int64
	enabled bool
	start   time.Time
	last    time.Time
	now     func() time.Time
}

func newProgress(w io.Writer, label string, total int64) *progress {
	p := &progress{w: w, label: label, total: total, now: time.Now}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.enabled = true
	}
	p.start = p.now()
	return p
}

// Add advances the bar by n and redraws it at most ten times a second.
func (p *progress) Add(n int64) {
	p.done += n
	if !p.enabled {
		return
	}
	if t := p.now(); t.Sub(p.last) >= 100*time.Millisecond || p.done >= p.total {
		p.last = t
		fmt.Fprint(p.w, "\r"+progressLine(p.label, p.done, p.total, t.Sub(p.start))+"\033[K")
	}
}

// A rate measured over less than rateMinElapsed, or fewer than rateMinItems items in less than rateMinBurst, says
// more about when the first item happened to land than about the speed: the bar shows none until then.
const (
	rateMinElapsed = time.Second
	rateMinItems   = 300
	rateMinBurst   = 200 * time.Millisecond
)

// progressLine is the bar for done of total items after elapsed: "label [====    ]  40% 400/1000 (812/s)".
func progressLine(label string, done, total int64, elapsed time.Duration) string {
	const width = 30
	frac := 0.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	filled := int(frac * width)
	line := fmt.Sprintf("%s [%s%s] %3.0f%% %d/%d", label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		frac*100, done, total)
	if elapsed >= rateMinElapsed || (done >= rateMinItems && elapsed >= rateMinBurst) {
		line += fmt.Sprintf(" (%s/s)", rateText(float64(done)/elapsed.Seconds()))
	}
	return line
}

// rateText writes a rate with the precision it deserves: 0.5, 12, 4200.
func rateText(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.0f", r)
}

// Finish clears the bar so the summary that follows starts on a clean line.
func (p *progress) Finish() {
	if p.enabled {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
