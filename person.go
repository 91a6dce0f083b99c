package rota

import (
	"fmt"
	"strings"
	"time"
)

// Channel is a way to reach a person: a contact method's type, and the
// channel a notification goes over.
type Channel string

// Contact method types.
const (
	ContactSMS     Channel = "sms"
	ContactVoice   Channel = "voice"
	ContactWebhook Channel = "webhook"
	ContactSlack   Channel = "slack"
	ContactEmail   Channel = "email"
	// ContactTeams posts to a Microsoft Teams Workflows webhook.
	ContactTeams Channel = "teams"
)

// ContactTypes lists the contact method types in the order they are documented.
var ContactTypes = []Channel{ContactSMS, ContactVoice, ContactWebhook, ContactSlack, ContactEmail, ContactTeams}

// UpdatesByDefault reports whether a contact method of type c is told
// what becomes of an incident it was notified of, unless it says
// otherwise: chat and webhooks are, SMS and email are not, and a call
// never is.
func UpdatesByDefault(c Channel) bool {
	return c == ContactSlack || c == ContactTeams || c == ContactWebhook
}

// Person is someone who can be paged.
type Person struct {
	Name     string
	FullName string
	Location *time.Location
	// Hours are the person's business hours in Location; a person without
	// their own inherits their first team's.
	Hours    BusinessHours
	Contacts []ContactMethod
	// GitHub logins and commit emails identify the person as a deploy's
	// author or merger; both compare case-insensitively.
	GitHub []string
	Emails []string
	// PTO is leave from the configuration; PTOCalendar is an iCal URL
	// whose busy and out-of-office events are leave too.
	PTO         []Leave
	PTOCalendar string
	// OIDCSubject is the person's subject at the identity provider, for
	// providers whose tokens carry no verified email.
	OIDCSubject string
}

// Display returns the full name when there is one, the short name otherwise.
func (p *Person) Display() string {
	if p.FullName != "" {
		return p.FullName
	}
	return p.Name
}

// Contact method of a person: where and how to reach them, and how long after
// the page starts this method is used.
type ContactMethod struct {
	Type    Channel
	Address string
	// Delay after the first notification of a page before this method is
	// tried, for rules such as "SMS at once, voice after 2 minutes".
	Delay time.Duration
	// Updates is whether this method is told what becomes of an incident
	// it was notified of (UpdatesByDefault unless configured).
	Updates bool
}

func (c ContactMethod) String() string { return string(c.Type) + ":" + c.Address }

// BusinessHours are working days and a daily window of local wall-clock time.
type BusinessHours struct {
	Days  [7]bool // indexed by time.Weekday
	Start Clock
	End   Clock
	// Holidays are local dates (midnight in the person's zone, as
	// "2006-01-02") that are not business days.
	Holidays []string
}

// DefaultBusinessHours are Monday to Friday, 09:00 to 17:00.
func DefaultBusinessHours() BusinessHours {
	var h BusinessHours
	for d := time.Monday; d <= time.Friday; d++ {
		h.Days[d] = true
	}
	h.Start = Clock(9 * 60)
	h.End = Clock(17 * 60)
	return h
}

// IsZero reports whether no working day is set.
func (h BusinessHours) IsZero() bool { return h.Days == [7]bool{} }

// Contains reports whether the local wall-clock time of t in loc falls in
// business hours: a working day that is no holiday, at or after Start and
// before End.
func (h BusinessHours) Contains(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	if !h.Days[lt.Weekday()] {
		return false
	}
	if len(h.Holidays) > 0 {
		d := lt.Format("2006-01-02")
		for _, hd := range h.Holidays {
			if hd == d {
				return false
			}
		}
	}
	c := Clock(lt.Hour()*60 + lt.Minute())
	return c >= h.Start && c < h.End
}

// String renders the hours as "mon-fri 09:00-17:00".
func (h BusinessHours) String() string {
	var days []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		if h.Days[d] {
			days = append(days, strings.ToLower(d.String()[:3]))
		}
	}
	return strings.Join(days, ",") + " " + h.Start.String() + "-" + h.End.String()
}

// Clock is a local wall-clock time as minutes after midnight.
type Clock int

// ParseClock reads "HH:MM" in 24-hour time; "24:00" is the end of the day.
func ParseClock(s string) (Clock, error) {
	var hh, mm int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("invalid time of day %q (want HH:MM, as in \"09:00\")", s)
	}
	if _, err := fmt.Sscanf(s, "%2d:%2d", &hh, &mm); err != nil {
		return 0, fmt.Errorf("invalid time of day %q (want HH:MM, as in \"09:00\")", s)
	}
	if hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("invalid time of day %q: out of range", s)
	}
	return Clock(hh*60 + mm), nil
}

// Hour returns the hour part.
func (c Clock) Hour() int { return int(c) / 60 }

// Minute returns the minute part.
func (c Clock) Minute() int { return int(c) % 60 }

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour(), c.Minute()) }

// ParseWeekday reads a day name in English, full or abbreviated to three
// letters, in any case.
func ParseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		full := strings.ToLower(d.String())
		if s == full || s == full[:3] {
			return d, true
		}
	}
	return 0, false
}

// ValidE164 reports whether s is a phone number in E.164 form: a plus sign,
// a country code that does not start with 0, and 8 to 15 digits in all.
func ValidE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Leave is time a person is away and must not be scheduled: [Start, End).
type Leave struct {
	Start, End time.Time
	// Source is "config" or the calendar it came from; Summary its title.
	Source  string
	Summary string
}
