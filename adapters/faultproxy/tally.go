package faultproxy

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// tally is what a Proxy and a Hostile share: the current rate, the seeded random source and the counts.
type tally struct {
	rate atomic.Uint64 // math.Float64bits of the current rate

	mu     sync.Mutex
	rng    *rand.Rand
	counts map[Kind]int64

	requests atomic.Int64
}

func newTally(seed uint64, rate float64) *tally {
	// The second word of the PCG state only has to differ from the first; any constant does.
	t := &tally{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), counts: make(map[Kind]int64)}
	t.rate.Store(math.Float64bits(rate))
	return t
}

// SetRate changes the rate from the next request on; the test bed sets 0 before it waits for the devices to
// converge.
func (t *tally) SetRate(rate float64) error {
	if err := validRate(rate); err != nil {
		return err
	}
	t.rate.Store(math.Float64bits(rate))
	return nil
}

// Rate returns the current rate.
func (t *tally) Rate() float64 { return math.Float64frombits(t.rate.Load()) }

// Counts is what a Proxy or a Hostile has done so far.
type Counts struct {
	// Requests counts the requests received.
	Requests int64 `json:"requests"`
	// Faults counts the faults (or hostile items) sent, by kind; a kind never sent is absent.
	Faults map[Kind]int64 `json:"faults"`
}

// Total is the number of faults sent.
func (c Counts) Total() int64 {
	var n int64
	for _, v := range c.Faults {
		n += v
	}
	return n
}

// Counts returns the requests received and the faults sent so far.
func (t *tally) Counts() Counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := Counts{Requests: t.requests.Load(), Faults: make(map[Kind]int64, len(t.counts))}
	for k, v := range t.counts {
		c.Faults[k] = v
	}
	return c
}

func (t *tally) count(k Kind) {
	t.mu.Lock()
	t.counts[k]++
	t.mu.Unlock()
}

// roll draws whether the next request meets a fault and which of the candidates (none when there are none);
// aux is one more random word for the fault's details.
func (t *tally) roll(candidates []Kind) (k Kind, aux uint64) {
	rate := t.Rate()
	t.mu.Lock()
	defer t.mu.Unlock()
	if rate == 0 || len(candidates) == 0 || t.rng.Float64() >= rate {
		return "", 0
	}
	return candidates[t.rng.IntN(len(candidates))], t.rng.Uint64()
}
