// Package testclock is the one fake clock of gatehouse's tests (the
// contract suite, auth's tests, the benchmarks, verify's tests): it stands
// still at the second it was made but for the moves a test makes (past a
// token's expiry, to a key's active_from), so what a test asserts about
// time holds however slowly the machine runs it. Servers and nodes given
// one Clock agree on the time.
package testclock

import (
	"sync/atomic"
	"time"
)

// Clock is a fake clock; its Now is what auth.Config.Now and
// verify.Options.Now take. It is safe for concurrent use.
type Clock struct {
	start  time.Time
	offset atomic.Int64
}

// New returns a clock that reads the current whole second, in UTC.
func New() *Clock { return &Clock{start: time.Now().UTC().Truncate(time.Second)} }

// Now is the fake time.
func (c *Clock) Now() time.Time { return c.start.Add(time.Duration(c.offset.Load())) }

// Set puts the clock d after the time it started at.
func (c *Clock) Set(d time.Duration) { c.offset.Store(int64(d)) }

// At sets the clock so that it now reads t.
func (c *Clock) At(t time.Time) { c.Set(t.Sub(c.start)) }

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
