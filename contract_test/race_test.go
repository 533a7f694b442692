//go:build race

package contract_test

// raceEnabled builds the gatehouse binary with the race detector when the
// tests run with it, so both share the build cache.
const raceEnabled = true
