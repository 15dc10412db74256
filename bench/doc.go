// Package bench holds the project's end-to-end benchmarks and the data they run on. Each benchmark has a
// reference measured in the same run (a raw SQLite insert loop, a plain go-vcard round trip, a raw CardDAV
// client), and `bench/run` prints every figure as a ratio against its reference. docs/benchmarks.md records the
// results and the commands that produced them.
package bench
