package scheduler

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"
	"github.com/robfig/cron/v3"

	"github.com/rotahq/rota"
)

// ParseLeave reads a calendar and returns the leave it holds in [from,
// to): events marked busy or out of office, all-day ones as whole local
// days in loc, recurring ones expanded (RRULE and EXDATE). Free,
// transparent and cancelled events are not leave. RDATE is refused rather
// than silently ignored (go-ical does not read it).
func ParseLeave(data []byte, loc *time.Location, from, to time.Time, source string) ([]rota.Leave, error) {
	cal, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		return nil, fmt.Errorf("not an iCalendar: %w", err)
	}
	var out []rota.Leave
	for _, ev := range cal.Events() {
		uid, _ := ev.Props.Text(ical.PropUID)
		if ev.Props.Get(ical.PropRecurrenceDates) != nil {
			return nil, fmt.Errorf("event %s uses RDATE, which rota does not support: use RRULE", uid)
		}
		if !isLeave(ev) {
			continue
		}
		start, err := ev.DateTimeStart(loc)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", uid, err)
		}
		allDay := ev.Props.Get(ical.PropDateTimeStart).ValueType() == ical.ValueDate
		end, err := ev.DateTimeEnd(loc)
		if err != nil || end.IsZero() || !end.After(start) {
			if allDay {
				end = start.AddDate(0, 0, 1)
			} else {
				end = start
			}
		}
		dur := end.Sub(start)
		if allDay {
			// Whole local days, whatever the zone's days are long.
			dur = 0
		}
		summary, _ := ev.Props.Text(ical.PropSummary)
		add := func(s time.Time) {
			e := s.Add(dur)
			if allDay {
				days := int(end.Sub(start).Round(rota.Day) / rota.Day)
				e = time.Date(s.Year(), s.Month(), s.Day()+days, 0, 0, 0, 0, loc)
				s = time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc)
			}
			if e.After(from) && s.Before(to) && e.After(s) {
				out = append(out, rota.Leave{Start: s.UTC(), End: e.UTC(), Source: source, Summary: summary})
			}
		}
		set, err := ev.RecurrenceSet(loc)
		if err != nil {
			return nil, fmt.Errorf("event %s: recurrence: %w", uid, err)
		}
		if set == nil {
			add(start)
			continue
		}
		for _, s := range set.Between(from.Add(-366*rota.Day), to, true) {
			add(s.In(loc))
		}
	}
	return out, nil
}

// isLeave reports whether an event blocks time: not cancelled, and busy
// or out of office (Outlook says so in X-MICROSOFT-CDO-BUSYSTATUS, others
// with TRANSP).
func isLeave(ev ical.Event) bool {
	if st, err := ev.Status(); err == nil && st == ical.EventCancelled {
		return false
	}
	if p := ev.Props.Get("X-MICROSOFT-CDO-BUSYSTATUS"); p != nil {
		switch strings.ToUpper(p.Value) {
		case "OOF", "BUSY":
			return true
		case "FREE", "TENTATIVE", "WORKINGELSEWHERE":
			return false
		}
	}
	if t, err := ev.Props.Text(ical.PropTransparency); err == nil && strings.EqualFold(t, "TRANSPARENT") {
		return false
	}
	return true
}

// LeaveStore keeps the last good copy of each person's calendar leave, so
// that a failed fetch or a restart never clears it.
type LeaveStore interface {
	SaveLeave(ctx context.Context, person string, leave []rota.Leave, fetched time.Time) error
}

// LeaveFetcher fetches people's PTO calendars on a cron schedule and puts
// their leave into the book. A fetch that fails keeps what was there and
// is logged and counted.
type LeaveFetcher struct {
	Book   *Book
	Store  LeaveStore
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time
	// Past and Future bound the leave kept around now.
	Past, Future time.Duration
	// Failed, when set, is called for each failed fetch (a metric).
	Failed func(person string)

	mu     sync.Mutex
	status map[string]FetchStatus
}

// FetchStatus is how a person's calendar fetch went last.
type FetchStatus struct {
	At    time.Time
	Error string
	Count int
}

// FetchAll fetches every configured calendar once.
func (f *LeaveFetcher) FetchAll(ctx context.Context) {
	for _, p := range f.Book.Roster().Org().People {
		if p.PTOCalendar != "" {
			f.Fetch(ctx, p)
		}
	}
}

// Fetch fetches one person's calendar.
func (f *LeaveFetcher) Fetch(ctx context.Context, p *rota.Person) error {
	now := f.Now()
	err := f.fetch(ctx, p, now)
	f.mu.Lock()
	if f.status == nil {
		f.status = map[string]FetchStatus{}
	}
	st := FetchStatus{At: now}
	if err != nil {
		st.Error = err.Error()
		if prev, ok := f.status[p.Name]; ok {
			st.Count = prev.Count
		}
	} else {
		st.Count = len(f.Book.Roster().leave[p.Name])
	}
	f.status[p.Name] = st
	f.mu.Unlock()
	if err != nil {
		f.Log.Warn("PTO calendar fetch failed: keeping the last good copy", "person", p.Name, "err", err)
		if f.Failed != nil {
			f.Failed(p.Name)
		}
	}
	return err
}

func (f *LeaveFetcher) fetch(ctx context.Context, p *rota.Person, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.PTOCalendar, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "rotad")
	res, err := f.Client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", redact(p.PTOCalendar), res.Status)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, 10<<20))
	if err != nil {
		return err
	}
	leave, err := ParseLeave(data, p.Location, now.Add(-f.Past), now.Add(f.Future), "calendar")
	if err != nil {
		return err
	}
	if f.Store != nil {
		if err := f.Store.SaveLeave(ctx, p.Name, leave, now); err != nil {
			return fmt.Errorf("save leave: %w", err)
		}
	}
	f.Book.Update(func(r *Roster) (*Roster, error) { return r.WithLeave(p.Name, leave), nil })
	f.Log.Info("PTO calendar fetched", "person", p.Name, "leave", len(leave))
	return nil
}

// Status returns how each person's last fetch went.
func (f *LeaveFetcher) Status() map[string]FetchStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]FetchStatus, len(f.status))
	for k, v := range f.status {
		out[k] = v
	}
	return out
}

// redact drops a URL's query, where calendar secrets usually are.
func redact(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// ParseCron checks a cron spec as robfig/cron reads it, turning the
// panics it has for some inputs ("TZ=" with nothing after) into errors.
func ParseCron(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid cron spec %q: %v", spec, r)
		}
	}()
	return cron.ParseStandard(spec)
}

// NewCron returns a cron runner whose jobs never overlap themselves and
// survive their own panics (SkipIfStillRunning, then Recover: in the
// other order a panic stops the job for good).
func NewCron(log *slog.Logger, loc *time.Location) *cron.Cron {
	l := cron.PrintfLogger(slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	return cron.New(cron.WithLocation(loc), cron.WithChain(cron.SkipIfStillRunning(l), cron.Recover(l)))
}
