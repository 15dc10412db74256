package testbed

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// op is one planned edit. The plan comes from the seed alone; whether the target is on the device when the
// instant comes depends on how far syncing has got.
type op struct {
	at     time.Duration
	kind   Kind
	prop   string
	target string // the contact's UID, for edits of an existing contact
	pick   uint64 // which value a Remove takes away
	size   int    // how many contacts an Import adds
	tok    string
	// concurrent marks an edit of a group made on several devices at the same instant.
	concurrent bool
}

// Shares of each kind in a device's plan, in percent.
var opMix = []struct {
	kind  Kind
	share int
}{{Set, 35}, {Add, 20}, {Remove, 13}, {Create, 20}, {Delete, 9}, {Import, 3}}

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// devicePlan is the device's n edits at instants spread over d. Edits of existing contacts aim at an initial
// contact four times in five, else at one this device created earlier in its plan.
func devicePlan(seed uint64, device, n int, d time.Duration, initial []string) []op {
	r := newRand(seed, uint64(device))
	ats := instants(r, n, d)
	var own []string
	ops := make([]op, n)
	for i := range ops {
		o := op{at: ats[i], tok: token(seed, device, i), pick: r.Uint64()}
		x := r.IntN(100)
		for _, m := range opMix {
			if x < m.share {
				o.kind = m.kind
				break
			}
			x -= m.share
		}
		switch o.kind {
		case Set:
			o.prop = singleProps[r.IntN(len(singleProps))]
		case Add, Remove:
			o.prop = multiProps[r.IntN(len(multiProps))]
		case Import:
			o.size = 5 + r.IntN(16)
		}
		switch o.kind {
		case Create:
			own = append(own, "tb-"+o.tok)
		case Import:
			for k := range o.size {
				own = append(own, "tb-"+importToken(o.tok, k))
			}
		default:
			if len(own) > 0 && r.IntN(5) == 0 {
				o.target = own[r.IntN(len(own))]
			} else {
				o.target = initial[r.IntN(len(initial))]
			}
		}
		ops[i] = o
	}
	return ops
}

// importToken names the k-th contact of an import.
func importToken(tok string, k int) string { return fmt.Sprintf("%sx%02d", tok, k) }

// groupEdit is one contact edited on several devices at the same instant.
type groupEdit struct {
	at  time.Duration
	ops map[int]op // by device index
}

// groupPlan is the run's concurrent edits: one group for every ten edits of a device's plan, each editing an
// initial contact on two or more devices at once.
func groupPlan(seed uint64, devices, opsPerDevice int, d time.Duration, initial []string) []groupEdit {
	if devices < 2 || opsPerDevice == 0 {
		return nil
	}
	r := newRand(seed, 1<<32)
	n := max(1, opsPerDevice/10)
	ats := instants(r, n, d)
	groups := make([]groupEdit, n)
	for i := range groups {
		target := initial[r.IntN(len(initial))]
		members := r.Perm(devices)[:2+r.IntN(devices-1)]
		slices.Sort(members)
		g := groupEdit{at: ats[i], ops: map[int]op{}}
		for _, m := range members {
			dev := m + 1
			o := op{at: ats[i], target: target, tok: fmt.Sprintf("s%dd%02dg%05d", seed, dev, i), pick: r.Uint64(), concurrent: true}
			switch r.IntN(3) {
			case 0:
				o.kind, o.prop = Set, singleProps[r.IntN(len(singleProps))]
			case 1:
				o.kind, o.prop = Add, multiProps[r.IntN(len(multiProps))]
			default:
				o.kind, o.prop = Remove, multiProps[r.IntN(len(multiProps))]
			}
			g.ops[dev] = o
		}
		groups[i] = g
	}
	return groups
}

// instants returns n sorted random instants in [0, d).
func instants(r *rand.Rand, n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		if d > 0 {
			out[i] = time.Duration(r.Int64N(int64(d)))
		}
	}
	slices.Sort(out)
	return out
}
