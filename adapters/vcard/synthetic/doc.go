// Package synthetic makes deterministic synthetic address books: vCards shaped like a typical phone contact's,
// the same bytes for the same seed and index on every machine. The benchmarks (package bench), the test bed
// (package engine/testbed, which ships in the binary) and tests generate their cards here, so the figures and
// the runs they report are about the same data.
package synthetic
