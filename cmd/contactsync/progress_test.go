package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressLine: no rate in the first moments, when one early item would make it absurd (an item after a
// millisecond is "1000/s"); a rate once a second has passed, or once a few hundred items give it weight.
func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		name        string
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{"start", 0, 1000, 0, "sync [                              ]   0% 0/1000"},
		{"first item at once", 1, 1000, time.Millisecond, "sync [                              ]   0% 1/1000"},
		{"a burst too short to time", 400, 1000, 50 * time.Millisecond, "sync [============                  ]  40% 400/1000"},
		{"a burst long enough", 400, 1000, 250 * time.Millisecond, "sync [============                  ]  40% 400/1000 (1600/s)"},
		{"a few items in under a second", 20, 1000, 900 * time.Millisecond, "sync [                              ]   2% 20/1000"},
		{"after a second", 3, 1000, 1500 * time.Millisecond, "sync [                              ]   0% 3/1000 (2.0/s)"},
		{"done", 1000, 1000, 4 * time.Second, "sync [==============================] 100% 1000/1000 (250/s)"},
		{"more than announced", 1200, 1000, 4 * time.Second, "sync [==============================] 100% 1200/1000 (300/s)"},
		{"unknown total", 5, 0, 2 * time.Second, "sync [                              ]   0% 5/0 (2.5/s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := progressLine("sync", tc.done, tc.total, tc.elapsed); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestProgressDraws: on a terminal the bar is redrawn in place at most ten times a second and cleared at the
// end; the rate shows only once it means something.
func TestProgressDraws(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &progress{w: &buf, label: "import", total: 1000, enabled: true, now: func() time.Time { return now }}
	p.start = now
	now = now.Add(time.Millisecond)
	p.Add(1)
	now = now.Add(10 * time.Millisecond)
	p.Add(1) // within 100 ms of the last draw: not drawn
	now = now.Add(2 * time.Second)
	p.Add(998)
	p.Finish()
	draws := strings.Split(buf.String(), "\r")[1:]
	if len(draws) != 3 {
		t.Fatalf("%d draws, want 3 (two bars and the clearing): %q", len(draws), buf.String())
	}
	if strings.Contains(draws[0], "/s") {
		t.Errorf("the first draw shows a rate after 1 ms: %q", draws[0])
	}
	if !strings.Contains(draws[1], "1000/1000 (497/s)") {
		t.Errorf("the last bar: %q", draws[1])
	}
	if draws[2] != "\033[K" {
		t.Errorf("Finish wrote %q, want the line cleared", draws[2])
	}
}
