package replay

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/rotahq/rota"
)

// Record is one line of the JSONL that rotad export-alerts writes and
// rotad replay reads: an alert, a deploy, an override, leave, or a page
// as recorded (what happened).
type Record struct {
	Type string `json:"type"` // range, alert, deploy, override, leave, maintenance, page, burn, incident

	// range: what the file covers
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`

	// alert
	At          time.Time         `json:"at,omitzero"`
	Service     string            `json:"service,omitempty"`
	DedupKey    string            `json:"dedup_key,omitempty"`
	Summary     string            `json:"summary,omitempty"`
	Severity    string            `json:"severity,omitempty"`
	Integration string            `json:"integration,omitempty"`
	GroupKey    string            `json:"group_key,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	ResolvedAt  time.Time         `json:"resolved_at,omitzero"`
	// StartedAt is when its source said the problem began, when earlier
	// than At.
	StartedAt time.Time `json:"started_at,omitzero"`
	// AckAfter is seconds from its incident's opening to its
	// acknowledgement; -1 never; absent: not recorded.
	AckAfter *float64 `json:"ack_after_s,omitempty"`
	// AckBy and ResolvedBy are who acknowledged its incident and who
	// resolved it.
	AckBy      string `json:"ack_by,omitempty"`
	ResolvedBy string `json:"resolved_by,omitempty"`

	// deploy
	Deploy *rota.Deploy `json:"deploy,omitempty"`
	// override
	Override *rota.Override `json:"override,omitempty"`
	// maintenance (an ad hoc window)
	Maintenance *rota.Maintenance `json:"maintenance,omitempty"`
	// leave
	Person string      `json:"person,omitempty"`
	Leave  *rota.Leave `json:"leave,omitempty"`
	// page (recorded): Person, At, and
	Incident     int64 `json:"incident,omitempty"`
	OffHours     bool  `json:"offhours,omitempty"`
	Interruption bool  `json:"interruption,omitempty"`
	AsAuthor     bool  `json:"as_author,omitempty"`
	// burn (recorded): Person, At (when the managers were told), and
	Team   string    `json:"team,omitempty"`
	Budget string    `json:"budget,omitempty"`
	Window time.Time `json:"window,omitzero"`
	// incident (recorded): Incident, At (its first alert's), Service,
	// Severity, its first alert's DedupKey and Summary, and the deploy it
	// suspected (Deploy).
}

// Write writes in (and what was recorded, if any) as JSONL, in time order.
func Write(w io.Writer, in Input, rec *Recorded) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if !in.To.IsZero() {
		if err := enc.Encode(Record{Type: "range", From: in.From, To: in.To}); err != nil {
			return err
		}
	}
	for _, a := range in.Alerts {
		r := Record{Type: "alert", At: a.At, Service: a.Event.Service, DedupKey: a.Event.DedupKey, Summary: a.Event.Summary, Severity: a.Event.Severity,
			Integration: a.Event.Integration, GroupKey: a.Event.GroupKey, Labels: a.Event.Labels, ResolvedAt: a.ResolvedAt, StartedAt: a.Event.StartedAt,
			AckBy: a.AckBy, ResolvedBy: a.ResolvedBy}
		if a.AckAfter != 0 {
			s := a.AckAfter.Seconds()
			if a.AckAfter < 0 {
				s = -1
			}
			r.AckAfter = &s
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	for i := range in.Deploys {
		if err := enc.Encode(Record{Type: "deploy", Deploy: &in.Deploys[i]}); err != nil {
			return err
		}
	}
	for i := range in.Overrides {
		if err := enc.Encode(Record{Type: "override", Override: &in.Overrides[i]}); err != nil {
			return err
		}
	}
	for i := range in.Maintenance {
		if err := enc.Encode(Record{Type: "maintenance", Maintenance: &in.Maintenance[i]}); err != nil {
			return err
		}
	}
	for p, ls := range in.Leave {
		for i := range ls {
			if err := enc.Encode(Record{Type: "leave", Person: p, Leave: &ls[i]}); err != nil {
				return err
			}
		}
	}
	if rec != nil {
		interrupted := map[[2]any]bool{}
		for _, i := range rec.Interruptions {
			interrupted[[2]any{i.Person, i.At.UnixMilli()}] = true
		}
		for _, inc := range rec.Opened {
			if err := enc.Encode(Record{Type: "incident", Incident: inc.ID, At: inc.At, Service: inc.Service, Severity: inc.Severity, Deploy: inc.Deploy,
				DedupKey: inc.DedupKey, Summary: inc.Summary}); err != nil {
				return err
			}
		}
		for _, p := range rec.Pages {
			if err := enc.Encode(Record{Type: "page", Person: p.Person, At: p.At, Incident: p.IncidentID, OffHours: p.OffHours, AsAuthor: p.AsAuthor}); err != nil {
				return err
			}
		}
		for _, i := range rec.Interruptions {
			if err := enc.Encode(Record{Type: "page", Person: i.Person, At: i.At, Incident: i.IncidentID, OffHours: i.OffHours, Interruption: true}); err != nil {
				return err
			}
		}
		for _, b := range rec.Burns {
			if err := enc.Encode(Record{Type: "burn", Person: b.Person, Team: b.Team, Budget: b.Budget, Window: b.Window, At: b.At}); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// Read reads JSONL written by Write; a line that is not a record is an
// error naming its line.
func Read(r io.Reader) (Input, *Recorded, error) {
	var in Input
	var rec Recorded
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var x Record
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			return in, nil, fmt.Errorf("line %d: %v", line, err)
		}
		switch x.Type {
		case "range":
			in.From, in.To = x.From, x.To
		case "alert":
			if x.Service == "" || x.At.IsZero() {
				return in, nil, fmt.Errorf("line %d: an alert needs at and service", line)
			}
			a := Alert{At: x.At, ResolvedAt: x.ResolvedAt, AckBy: x.AckBy, ResolvedBy: x.ResolvedBy, Event: rota.Event{Service: x.Service, DedupKey: x.DedupKey, Summary: x.Summary,
				Severity: x.Severity, Integration: x.Integration, GroupKey: x.GroupKey, Labels: x.Labels, StartedAt: x.StartedAt}}
			if a.Event.DedupKey == "" {
				a.Event.DedupKey = fmt.Sprintf("line%d", line)
			}
			if a.Event.Severity == "" {
				a.Event.Severity = rota.SeverityCritical
			}
			if x.AckAfter != nil {
				if *x.AckAfter < 0 {
					a.AckAfter = -1
				} else {
					a.AckAfter = time.Duration(*x.AckAfter * float64(time.Second))
				}
			}
			in.Alerts = append(in.Alerts, a)
		case "deploy":
			if x.Deploy == nil {
				return in, nil, fmt.Errorf("line %d: a deploy record needs deploy", line)
			}
			in.Deploys = append(in.Deploys, *x.Deploy)
		case "override":
			if x.Override == nil {
				return in, nil, fmt.Errorf("line %d: an override record needs override", line)
			}
			in.Overrides = append(in.Overrides, *x.Override)
		case "maintenance":
			if x.Maintenance == nil {
				return in, nil, fmt.Errorf("line %d: a maintenance record needs maintenance", line)
			}
			in.Maintenance = append(in.Maintenance, *x.Maintenance)
		case "leave":
			if x.Leave == nil || x.Person == "" {
				return in, nil, fmt.Errorf("line %d: a leave record needs person and leave", line)
			}
			if in.Leave == nil {
				in.Leave = map[string][]rota.Leave{}
			}
			in.Leave[x.Person] = append(in.Leave[x.Person], *x.Leave)
		case "incident":
			if x.Incident == 0 || x.At.IsZero() {
				return in, nil, fmt.Errorf("line %d: an incident record needs incident and at", line)
			}
			rec.Opened = append(rec.Opened, Incident{ID: x.Incident, At: x.At, Service: x.Service, Severity: x.Severity, Deploy: x.Deploy,
				DedupKey: x.DedupKey, Summary: x.Summary})
		case "burn":
			if x.Person == "" || x.Budget == "" || x.At.IsZero() {
				return in, nil, fmt.Errorf("line %d: a burn record needs person, budget and at", line)
			}
			rec.Burns = append(rec.Burns, Burn{Person: x.Person, Team: x.Team, Budget: x.Budget, Window: x.Window, At: x.At})
		case "page":
			p := rota.Page{Person: x.Person, At: x.At, IncidentID: x.Incident, OffHours: x.OffHours, AsAuthor: x.AsAuthor}
			if x.Interruption {
				rec.Interruptions = append(rec.Interruptions, p)
			} else {
				rec.Pages = append(rec.Pages, p)
			}
		default:
			return in, nil, fmt.Errorf("line %d: unknown record type %q (range, alert, deploy, override, leave, maintenance, page, burn, incident)", line, x.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return in, nil, err
	}
	sort.SliceStable(in.Alerts, func(i, j int) bool { return in.Alerts[i].At.Before(in.Alerts[j].At) })
	if len(rec.Pages) == 0 && len(rec.Interruptions) == 0 && len(rec.Burns) == 0 && len(rec.Opened) == 0 {
		return in, nil, nil
	}
	return in, &rec, nil
}
