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
		p.draw()
	}
}

func (p *progress) draw() {
	const width = 30
	frac := 0.0
	if p.total > 0 {
		frac = float64(p.done) / float64(p.total)
		if frac > 1 {
			frac = 1
		}
	}
	filled := int(frac * width)
	rate := float64(p.done) / max(p.now().Sub(p.start).Seconds(), 1e-9)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%% %d/%d (%.0f/s)", p.label, strings.Repeat("=", filled),
		strings.Repeat(" ", width-filled), frac*100, p.done, p.total, rate)
}

// Finish clears the bar so the summary that follows starts on a clean line.
func (p *progress) Finish() {
	if p.enabled {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
