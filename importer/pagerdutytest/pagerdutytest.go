// Package pagerdutytest fakes PagerDuty's REST API for tests, at its wire
// protocol: recorded answers for the lists an import reads, and GET
// /oncalls computed from the schedules' layers by OnCall, a model of
// PagerDuty's documented layer semantics written apart from rota's
// conversion.
package pagerdutytest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/PagerDuty/go-pagerduty"
)

// OnCall is the user ID PagerDuty puts on call on schedule s at t ("" for
// nobody): the highest layer with someone; on a layer, turns of
// rotation_turn_length_seconds counted from rotation_virtual_start in the
// schedule's zone (turns of whole days keep their wall-clock handoff),
// nobody before the layer's start, after its end or outside its
// restrictions (each from its local start for its duration in seconds).
func OnCall(s pagerduty.Schedule, t time.Time) string {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return ""
	}
	for _, l := range s.ScheduleLayers { // highest first
		if u := onLayer(l, loc, t); u != "" {
			return u
		}
	}
	return ""
}

func onLayer(l pagerduty.ScheduleLayer, loc *time.Location, t time.Time) string {
	vs, err := time.Parse(time.RFC3339, l.RotationVirtualStart)
	if err != nil || len(l.Users) == 0 || l.RotationTurnLengthSeconds < 86400 {
		return ""
	}
	if start, err := time.Parse(time.RFC3339, l.Start); err == nil && t.Before(start) {
		return ""
	}
	if end, err := time.Parse(time.RFC3339, l.End); err == nil && !t.Before(end) {
		return ""
	}
	vs = vs.In(loc)
	days := int(l.RotationTurnLengthSeconds / 86400)
	k := 0
	for !vs.AddDate(0, 0, (k+1)*days).After(t) {
		k++
	}
	if len(l.Restrictions) > 0 {
		in := false
		lt := t.In(loc)
		for _, r := range l.Restrictions {
			st, err := time.Parse("15:04:05", r.StartTimeOfDay)
			if err != nil {
				continue
			}
			for back := 0; back <= 7; back++ {
				day := lt.AddDate(0, 0, -back)
				if r.Type == "weekly_restriction" && int(day.Weekday()+6)%7+1 != int(r.StartDayOfWeek) {
					continue
				}
				from := time.Date(day.Year(), day.Month(), day.Day(), st.Hour(), st.Minute(), 0, 0, loc)
				if !t.Before(from) && t.Before(from.Add(time.Duration(r.DurationSeconds)*time.Second)) {
					in = true
				}
			}
		}
		if !in {
			return ""
		}
	}
	return l.Users[k%len(l.Users)].User.ID
}

// Step is how finely /oncalls samples the model: handoffs and
// restrictions must fall on it.
const Step = 15 * time.Minute

// Server is a fake PagerDuty API.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	plant func(scheduleID string, at time.Time, userID string) string
}

// Plant makes /oncalls say who f says instead (nil: the model's): a
// planted difference for a test to find.
func (s *Server) Plant(f func(scheduleID string, at time.Time, userID string) string) {
	s.mu.Lock()
	s.plant = f
	s.mu.Unlock()
}

// NewServer serves files (URL path → file of a recorded answer) to
// requests bearing token; /oncalls is computed from the schedules it
// serves at /schedules/{id}.
func NewServer(token string, files map[string]string) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Token token="+token {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"message":"Unauthorized","code":2006}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oncalls" {
			s.oncalls(w, r, files)
			return
		}
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(f)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(b)
	}))
	return s
}

// oncalls answers GET /oncalls?schedule_ids[]=&since=&until= with the
// model's entries, merged where one user's turns follow each other.
func (s *Server) oncalls(w http.ResponseWriter, r *http.Request, files map[string]string) {
	q := r.URL.Query()
	since, err1 := time.Parse(time.RFC3339, q.Get("since"))
	until, err2 := time.Parse(time.RFC3339, q.Get("until"))
	if err1 != nil || err2 != nil {
		http.Error(w, `{"error":{"message":"Invalid Input Provided","code":2001}}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	plant := s.plant
	s.mu.Unlock()
	var out []pagerduty.OnCall
	for _, id := range q["schedule_ids[]"] {
		b, err := os.ReadFile(files["/schedules/"+id])
		if err != nil {
			continue
		}
		var body struct {
			Schedule pagerduty.Schedule `json:"schedule"`
		}
		if json.Unmarshal(b, &body) != nil {
			continue
		}
		cur := -1 // the entry being extended, by index (out grows)
		// Quarter hour by quarter hour: exact for schedules whose
		// handoffs and restrictions fall on a quarter hour, as the
		// tests' do (minute by minute took 30 s for 90 days under -race).
		for t := since; t.Before(until); t = t.Add(Step) {
			u := OnCall(body.Schedule, t)
			if plant != nil {
				u = plant(id, t, u)
			}
			if cur >= 0 && out[cur].User.ID == u {
				out[cur].End = t.Add(Step).UTC().Format(time.RFC3339)
				continue
			}
			if u == "" {
				cur = -1
				continue
			}
			out = append(out, pagerduty.OnCall{User: pagerduty.User{APIObject: pagerduty.APIObject{ID: u, Type: "user_reference"}},
				Schedule: pagerduty.Schedule{APIObject: pagerduty.APIObject{ID: id, Type: "schedule_reference"}}, EscalationLevel: 1,
				Start: t.UTC().Format(time.RFC3339), End: t.Add(Step).UTC().Format(time.RFC3339)})
			cur = len(out) - 1
		}
	}
	// One page holds everything: a test's range is small.
	json.NewEncoder(w).Encode(map[string]any{"oncalls": out, "limit": len(out), "offset": 0, "more": false})

}
