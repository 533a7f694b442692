//go:build race

package storetest

// raceEnabled reports whether the tests run under the race detector, which
// slows the transpiled SQLite down about tenfold.
const raceEnabled = true
