package scheduler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	"github.com/rotahq/rota"
)

// FeedEvent is one shift in a calendar feed.
type FeedEvent struct {
	UID         string
	Rotation    string
	Person      string
	Summary     string
	Description string
	URL         string
	Start, End  time.Time
	// Sequence and Modified change when the event does; the store keeps
	// them across renders.
	Sequence int
	Modified time.Time
}

// Hash identifies the event's content, to tell when it changed.
func (e FeedEvent) Hash() string {
	h := sha256.Sum256([]byte(strings.Join([]string{e.Summary, e.Description, e.URL,
		e.Start.UTC().Format(time.RFC3339), e.End.UTC().Format(time.RFC3339)}, "\x00")))
	return hex.EncodeToString(h[:16])
}

// FeedOptions shape feed events.
type FeedOptions struct {
	// BaseURL links each event to its rotation, when set.
	BaseURL string
}

// RotationFeed returns the final shifts of rotation overlapping [from,
// to) as feed events.
func (r *Roster) RotationFeed(rotation string, from, to time.Time, opts FeedOptions) []FeedEvent {
	tl := r.timelines[rotation]
	if tl == nil {
		return nil
	}
	return r.feedEvents(r.org.Rotation(rotation), tl, from, to, "", opts)
}

// PersonFeed returns person's shifts on every rotation overlapping [from,
// to), in order of start.
func (r *Roster) PersonFeed(person string, from, to time.Time, opts FeedOptions) []FeedEvent {
	var out []FeedEvent
	for _, rot := range r.org.Rotations {
		if !r.Pages(rot.Name) {
			continue // a schedule's layer, or a schedule nothing pages
		}
		out = append(out, r.feedEvents(rot, r.timelines[rot.Name], from, to, person, opts)...)
	}
	sortEvents(out)
	return out
}

func sortEvents(es []FeedEvent) {
	sort.SliceStable(es, func(i, j int) bool {
		return es[i].Start.Before(es[j].Start) || es[i].Start.Equal(es[j].Start) && es[i].Rotation < es[j].Rotation
	})
}

func (r *Roster) feedEvents(rot *rota.Rotation, tl *Timeline, from, to time.Time, only string, opts FeedOptions) []FeedEvent {
	// One shift on either side, to say who hands over to whom.
	shifts := tl.Shifts(from.Add(-time.Nanosecond), to.Add(time.Nanosecond))
	policies := r.policiesOf(rot.Name)
	var out []FeedEvent
	for i, sh := range shifts {
		if !sh.End.After(from) || !sh.Start.Before(to) || (only != "" && sh.Person != only) {
			continue
		}
		var prev, next string
		if i > 0 && shifts[i-1].End.Equal(sh.Start) {
			prev = shifts[i-1].Person
		} else if p, ok := tl.At(sh.Start.Add(-time.Nanosecond)); ok && p.End.Equal(sh.Start) {
			prev = p.Person
		}
		if i+1 < len(shifts) && shifts[i+1].Start.Equal(sh.End) {
			next = shifts[i+1].Person
		} else if n, ok := tl.At(sh.End); ok {
			next = n.Person
		}
		e := r.feedEvent(rot, sh, prev, next, policies, opts)
		if only == "" {
			// A rotation's calendar is everyone's shifts: each says whose.
			who := r.display(sh.Person)
			if rest, ok := strings.CutPrefix(e.Summary, "On call: "); ok {
				e.Summary = who + " on call: " + rest
			} else if rest, ok := strings.CutPrefix(e.Summary, "Shadowing "); ok {
				e.Summary = who + " shadowing " + rest
			}
		}
		out = append(out, e)
	}
	return out
}

func (r *Roster) feedEvent(rot *rota.Rotation, sh rota.Shift, prev, next string, policies []string, opts FeedOptions) FeedEvent {
	e := FeedEvent{Rotation: rot.Name, Person: sh.Person, Start: sh.Start, End: sh.End,
		UID: feedUID(rot.Name, sh.Person, sh.Start), Summary: "On call: " + rot.Name}
	if rot.ShadowOf != "" {
		e.Summary = "Shadowing " + rot.ShadowOf
	}
	var d []string
	who := r.display(sh.Person)
	switch {
	case sh.IsOverride():
		e.Summary += " (override)"
		d = append(d, fmt.Sprintf("%s covers %s by override #%d.", who, rot.Name, sh.OverrideID))
	case sh.CoveringFor != "":
		e.Summary += " (covering)"
		d = append(d, fmt.Sprintf("%s is on call for %s, covering for %s, who is on leave.", who, rot.Name, r.display(sh.CoveringFor)))
	case rot.ShadowOf != "":
		d = append(d, fmt.Sprintf("%s shadows %s: copies of its pages, no acknowledging, no page counted.", who, rot.ShadowOf))
	default:
		d = append(d, fmt.Sprintf("%s is on call for %s.", who, rot.Name))
	}
	loc := rot.Location
	d = append(d, fmt.Sprintf("From %s to %s (%s).", sh.Start.In(loc).Format("Mon 2 Jan 15:04 MST"), sh.End.In(loc).Format("Mon 2 Jan 15:04 MST"), loc))
	// A shift that goes on in the same person's next (a layer's seam, a
	// daily rotation of one) hands over to nobody.
	if prev != "" && prev != sh.Person {
		d = append(d, fmt.Sprintf("Takes over from %s.", r.display(prev)))
	}
	if next != "" && next != sh.Person {
		d = append(d, fmt.Sprintf("Hands over to %s.", r.display(next)))
	}
	if len(policies) > 0 {
		d = append(d, "Escalation policies: "+strings.Join(policies, ", ")+".")
	}
	if opts.BaseURL != "" {
		e.URL = opts.BaseURL + "/rotations/" + rot.Name // the web page, not token-gated JSON
		d = append(d, "Rotation: "+e.URL)
	}
	e.Description = strings.Join(d, "\n")
	return e
}

func (r *Roster) display(name string) string {
	if p := r.org.Person(name); p != nil {
		return p.Display()
	}
	return name
}

// Pages reports whether a rotation's shifts are ones that page their
// person, for the calendars and lists of a person's shifts: not a
// schedule's layer (the schedule pages, with the layers' final result)
// unless a policy pages the layer itself, and not a schedule no policy
// pages. A plain rotation is kept whether or not a policy names it yet,
// and so are shadow rotations (their learners get copies).
func (r *Roster) Pages(rotation string) bool {
	rot := r.org.Rotation(rotation)
	if rot == nil {
		return false
	}
	if len(r.policiesOf(rotation)) > 0 {
		return true
	}
	if rot.IsSchedule() {
		return false
	}
	for _, s := range r.org.Rotations {
		if s.IsSchedule() && slices.Contains(s.Layers, rotation) {
			return false
		}
	}
	return true
}

// policiesOf names the escalation policies with a step paging rotation.
func (r *Roster) policiesOf(rotation string) []string {
	var out []string
	for _, p := range r.org.Policies {
		for i, s := range p.Steps {
			for _, t := range s.Targets {
				if t.Kind == rota.TargetRotation && t.Name == rotation {
					out = append(out, fmt.Sprintf("%s (step %d)", p.Name, i+1))
				}
			}
		}
	}
	return out
}

// feedUID is stable for a rotation, person and start, so that calendar
// clients update an event rather than duplicate it.
func feedUID(rotation, person string, start time.Time) string {
	h := sha256.Sum256([]byte(rotation + "\x00" + person + "\x00" + strconv.FormatInt(start.Unix(), 10)))
	return hex.EncodeToString(h[:12]) + "@rota"
}

// EncodeICal writes events as an RFC 5545 calendar: CRLF line ends, lines
// folded at 75 octets, times in UTC (so no VTIMEZONE is needed), each
// event transparent: being on call does not make anyone busy. DTSTAMP is
// the event's last modification, so an event's text depends on its
// content alone and encoded events are reused while unchanged.
func EncodeICal(w io.Writer, name string, events []FeedEvent) error {
	// The calendar's own lines are written here (go-ical will not encode
	// a calendar without events); each event comes from go-ical.
	var buf bytes.Buffer
	buf.Write(fold([]byte("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//rota//rotad//EN\nCALSCALE:GREGORIAN\nMETHOD:PUBLISH\n" +
		"X-WR-CALNAME:" + escapeText(name) + "\nX-PUBLISHED-TTL:PT1H\n")))
	for _, e := range events {
		b, err := encodeEvent(e)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	buf.WriteString("END:VCALENDAR\r\n")
	_, err := w.Write(buf.Bytes())
	return err
}

// escapeText escapes a TEXT value (RFC 5545 3.3.11).
func escapeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`, "\r", "").Replace(s)
}

// encoded caches events' text by UID, valid while the content hash,
// sequence and modification time are the same.
var encoded sync.Map

type encodedEvent struct {
	key  string
	text []byte
}

// encodeEvent returns the folded BEGIN:VEVENT...END:VEVENT text of e.
func encodeEvent(e FeedEvent) ([]byte, error) {
	key := fmt.Sprintf("%s/%d/%d", e.Hash(), e.Sequence, e.Modified.Unix())
	if c, ok := encoded.Load(e.UID); ok && c.(encodedEvent).key == key {
		return c.(encodedEvent).text, nil
	}
	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, e.UID)
	ev.Props.SetDateTime(ical.PropDateTimeStamp, e.Modified.UTC().Truncate(time.Second))
	ev.Props.SetDateTime(ical.PropDateTimeStart, e.Start.UTC())
	ev.Props.SetDateTime(ical.PropDateTimeEnd, e.End.UTC())
	ev.Props.SetText(ical.PropSummary, e.Summary)
	ev.Props.SetText(ical.PropDescription, e.Description)
	ev.Props.SetText(ical.PropTransparency, "TRANSPARENT")
	seq := ical.NewProp(ical.PropSequence)
	seq.SetValueType(ical.ValueInt)
	seq.Value = strconv.Itoa(e.Sequence)
	ev.Props.Set(seq)
	ev.Props.SetDateTime(ical.PropLastModified, e.Modified.UTC().Truncate(time.Second))
	if e.URL != "" {
		u := ical.NewProp(ical.PropURL)
		u.SetValueType(ical.ValueURI)
		u.Value = e.URL
		ev.Props.Set(u)
	}
	// go-ical encodes whole calendars: encode one holding just this event
	// and keep the event's lines.
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropProductID, "-//rota//rotad//EN")
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Children = append(cal.Children, ev.Component)
	b, err := encode(cal)
	if err != nil {
		return nil, err
	}
	i := bytes.Index(b, []byte("BEGIN:VEVENT\r\n"))
	j := bytes.LastIndex(b, []byte("END:VEVENT\r\n"))
	if i < 0 || j < 0 {
		return nil, fmt.Errorf("encode event %s: no VEVENT in %q", e.UID, b)
	}
	text := b[i : j+len("END:VEVENT\r\n")]
	encoded.Store(e.UID, encodedEvent{key: key, text: text})
	return text, nil
}

// encode runs go-ical's encoder and folds its lines.
func encode(cal *ical.Calendar) ([]byte, error) {
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("encode calendar: %w", err)
	}
	return fold(buf.Bytes()), nil
}

// fold ends every line with CRLF and folds lines longer than 75 octets,
// continuing them with a space, never splitting a UTF-8 character
// (RFC 5545 3.1). go-ical does not fold.
func fold(b []byte) []byte {
	var out bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n") {
		limit := 75
		for len(line) > limit {
			cut := limit
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			out.WriteString(line[:cut])
			out.WriteString("\r\n ")
			line = line[cut:]
			limit = 74 // the leading space counts
		}
		out.WriteString(line)
		out.WriteString("\r\n")
	}
	return out.Bytes()
}
