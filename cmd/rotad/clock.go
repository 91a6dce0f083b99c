package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
)

// clockOffsetEnv shifts rotad's clock from the real one by a Go duration
// ("-2160h"). It is for tests, which start daemons on a pinned day (see
// package clocktest); serve warns loudly when it is set.
const clockOffsetEnv = "ROTAD_CLOCK_OFFSET"

// clockOffset is read once: every part of one process reads one clock.
var clockOffset, clockOffsetErr = func() (time.Duration, error) {
	v := os.Getenv(clockOffsetEnv)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", clockOffsetEnv, v, err)
	}
	return d, nil
}()

// now is rotad's clock: the only one the daemon and its commands read.
func now() time.Time { return time.Now().Add(clockOffset) }

// onClock makes a cron schedule fire at its times on rotad's clock (the
// cron runner waits on the real one).
func onClock(s cron.Schedule) cron.Schedule {
	if clockOffset == 0 {
		return s
	}
	return shifted{s, clockOffset}
}

type shifted struct {
	cron.Schedule
	by time.Duration
}

func (s shifted) Next(t time.Time) time.Time {
	next := s.Schedule.Next(t.Add(s.by))
	if next.IsZero() {
		return next
	}
	return next.Add(-s.by)
}

// addJob runs fn at spec's times on rotad's clock.
func addJob(jobs *cron.Cron, spec string, fn func()) error {
	s, err := scheduler.ParseCron(spec)
	if err != nil {
		return err
	}
	jobs.Schedule(onClock(s), cron.FuncJob(fn))
	return nil
}

// openStore opens the database at path on rotad's clock.
func openStore(ctx context.Context, path string) (*store.DB, error) {
	db, err := store.Open(ctx, path, store.Options{})
	if err == nil {
		db.Now = now
	}
	return db, err
}
