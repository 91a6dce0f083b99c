// Package clocktest pins "now" for a whole test run, so that no test
// depends on the day it runs and any day can be tried on purpose.
//
// With ROTA_TEST_NOW unset, Now is the real clock. With
// ROTA_TEST_NOW=2027-03-28T01:59:30+01:00 (RFC 3339), Now reads that
// instant when the test process started and runs on from there at real
// speed, so that fixtures whose engines wait on real timers still see time
// pass. Every fixture takes its clock from here: the store's (storetest),
// the engine's, the API's, and a rotad process under test (DaemonEnv
// passes the same clock on to it). `make test-dates` runs the suites at
// the instants that matter (odd and even weeks, daylight-saving changes,
// 29 February, New Year's Eve).
package clocktest

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// Env is the variable that pins the run's clock.
const Env = "ROTA_TEST_NOW"

// DaemonOffsetEnv is the variable rotad reads its clock's offset from the
// real one (a Go duration). It exists for tests: rotad warns loudly when
// it is set.
const DaemonOffsetEnv = "ROTAD_CLOCK_OFFSET"

var offset = func() time.Duration {
	v := os.Getenv(Env)
	if v == "" {
		return 0
	}
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		panic(fmt.Sprintf("clocktest: %s=%q is not an RFC 3339 time: %v", Env, v, err))
	}
	return at.Sub(time.Now())
}()

// Now is the test run's clock.
func Now() time.Time { return time.Now().Add(offset) }

// Pinned reports whether ROTA_TEST_NOW pins this run's clock.
func Pinned() bool { return offset != 0 }

// Offset is how far the run's clock is from the real one.
func Offset() time.Duration { return offset }

// DaemonEnv is the environment entry that makes a rotad process started
// now read at as its current time, and then run on at real speed. Two
// daemons started with the same at agree (to the time between the calls).
func DaemonEnv(at time.Time) string {
	return DaemonOffsetEnv + "=" + at.Sub(time.Now()).String()
}

// Reproduce logs, if t fails, the instant its clock read when it began
// and how to run it again at that instant.
func Reproduce(t testing.TB) {
	t.Helper()
	began := Now()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the test's clock read %s when it began: %s=%s go test -run '^%s$' reproduces it", began.Format(time.RFC3339), Env, began.Format(time.RFC3339), t.Name())
		}
	})
}

// Fake is a clock that moves only when told to, for tests that drive an
// engine or a fake past a moment rather than wait for it.
type Fake struct {
	mu sync.Mutex
	t  time.Time
}

// NewFake returns a fake clock reading at.
func NewFake(at time.Time) *Fake { return &Fake{t: at} }

// Now is the fake's time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Advance moves the fake on by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// Set moves the fake to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = t
}
