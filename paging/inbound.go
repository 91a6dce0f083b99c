package paging

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
)

// PersonByPhone returns the person with an SMS or voice contact at
// number, or nil.
func PersonByPhone(org *rota.Org, number string) *rota.Person {
	for _, p := range org.People {
		for _, c := range p.Contacts {
			if (c.Type == rota.ContactSMS || c.Type == rota.ContactVoice) && c.Address == number {
				return p
			}
		}
	}
	return nil
}

// HandleSMS answers an SMS reply from a phone number and returns the text
// to send back. known is false when no person owns the number: such
// replies change nothing and get no answer.
//
// A reply is acted on once, by its message SID (sid): the same request
// replayed later, validly signed as it is, gets no answer and changes
// nothing, so it cannot acknowledge what pages the person by then.
func (e *Engine) HandleSMS(ctx context.Context, from, body, sid string) (answer string, known bool, err error) {
	p := PersonByPhone(e.book.Roster().Org(), from)
	if p == nil {
		e.log.Warn("sms from an unknown number refused", "from", from)
		return "", false, nil
	}
	if sid != "" {
		first, err := e.store.FirstInbound(ctx, "sms:"+sid)
		if err != nil {
			return "", true, err
		}
		if !first {
			e.log.Warn("sms replayed: ignored", "person", p.Name, "sid", sid)
			return "", true, nil
		}
	}
	actor := rota.Actor{Person: p.Name, Via: rota.ViaSMS, Role: e.book.Roster().Org().RoleOf(p.Name, nil)}
	r := ParseReply(body)
	switch r.Command {
	case ReplyHelp, ReplyUnknown:
		return e.help(ctx, p.Name, r.Command == ReplyUnknown)
	case ReplyAckAll:
		alerts, err := e.store.IncidentsPaging(ctx, p.Name)
		if err != nil {
			return "", true, err
		}
		var done, refused []string
		for _, a := range alerts {
			if a.Status != rota.StatusTriggered {
				continue
			}
			res, err := e.Act(ctx, Act{Actor: actor, Action: rota.ActionAcknowledge, Incident: a.ID})
			switch {
			case rota.ErrorCode(err) == rota.EFORBIDDEN:
				refused = append(refused, fmt.Sprintf("#%d", a.ID)) // shadowing it: the on-call acts
			case rota.ErrorCode(err) == rota.ECONFLICT:
				// Resolved since it was listed.
			case err != nil:
				return "", true, err
			case res.Changed:
				done = append(done, fmt.Sprintf("#%d", a.ID))
			}
		}
		var b strings.Builder
		if len(done) == 0 {
			b.WriteString("Nothing acknowledged.")
		} else {
			fmt.Fprintf(&b, "Acknowledged %d: %s.", len(done), strings.Join(done, ", "))
		}
		if len(refused) > 0 {
			fmt.Fprintf(&b, " Refused %s: you are shadowing, the on-call acts.", strings.Join(refused, ", "))
		} else if len(done) == 0 {
			b.WriteString(" No incident paging you is unacknowledged.")
		}
		return truncate(b.String(), 160), true, nil
	}

	action := rota.ActionAcknowledge
	switch r.Command {
	case ReplyResolve:
		action = rota.ActionResolve
	case ReplyEscalate:
		action = rota.ActionEscalate
	}
	var a rota.Incident
	if r.Code > 0 {
		a, err = e.store.IncidentByCode(ctx, p.Name, r.Code)
		if rota.ErrorCode(err) == rota.ENOTFOUND {
			ans, _, herr := e.help(ctx, p.Name, false)
			return truncate(fmt.Sprintf("No incident has code %d. %s", r.Code, ans), 320), true, herr
		}
		if err != nil {
			return "", true, err
		}
	} else {
		alerts, err := e.store.IncidentsPaging(ctx, p.Name)
		if err != nil {
			return "", true, err
		}
		for _, x := range alerts {
			if x.Status == rota.StatusTriggered || action != rota.ActionAcknowledge {
				a = x
				break
			}
		}
		if a.ID == 0 {
			return fmt.Sprintf("Nothing to %s: no open incident is paging you.", action), true, nil
		}
	}
	// Act refuses first, then says what it found: someone refused does
	// not learn who acted.
	res, err := e.Act(ctx, Act{Actor: actor, Action: action, Incident: a.ID})
	switch {
	case rota.ErrorCode(err) == rota.EFORBIDDEN:
		return truncate("Refused: "+rota.ErrorMessage(err)+".", 160), true, nil
	case rota.ErrorCode(err) == rota.ECONFLICT:
		return fmt.Sprintf("#%d is already resolved (by %s).", a.ID, res.Incident.ResolvedBy), true, nil
	case err != nil:
		return "", true, err
	case !res.Changed:
		return fmt.Sprintf("#%d is already acknowledged (by %s).", a.ID, res.Incident.AckedBy), true, nil
	}
	if action == rota.ActionEscalate {
		return truncate(fmt.Sprintf("Escalated #%d %s: the next step is paged now.", a.ID, a.Service), 160), true, nil
	}
	return truncate(fmt.Sprintf("%s #%d %s: %s", strings.ToUpper(action.PastTense()[:1])+action.PastTense()[1:], a.ID, a.Service, a.Summary), 160), true, nil
}

// help lists the person's open alerts with their reply codes.
func (e *Engine) help(ctx context.Context, person string, unknown bool) (string, bool, error) {
	alerts, err := e.store.IncidentsPaging(ctx, person)
	if err != nil {
		return "", true, err
	}
	var b strings.Builder
	if unknown {
		b.WriteString("Sorry, I did not understand. ")
	}
	if len(alerts) == 0 {
		b.WriteString("No open alert is paging you.")
		return b.String(), true, nil
	}
	ids := make([]int64, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	codes, err := e.store.ReplyCodes(ctx, person, ids)
	if err != nil {
		return "", true, err
	}
	c := codes[alerts[0].ID]
	fmt.Fprintf(&b, "Reply %da to ack, %dc to resolve, %de to escalate, aa to ack all. Open:", c, c, c)
	for _, a := range alerts {
		fmt.Fprintf(&b, " (%d) %s %s: %s;", codes[a.ID], a.Status, a.Service, a.Summary)
	}
	return truncate(strings.TrimSuffix(b.String(), ";"), 320), true, nil
}

// HandleKeypress answers a key pressed during the call of notification
// id with what the call says next: 4 acknowledges, 5 escalates to the
// next step at once, 6 resolves, * (or any other key) repeats the
// message. The provider that placed the call renders the speech.
func (e *Engine) HandleKeypress(ctx context.Context, id int64, digits, callSID string) (notify.Speech, error) {
	bye := func(s string) (notify.Speech, error) { return notify.Speech{Sentences: []string{s}}, nil }
	n, err := e.store.Notification(ctx, id)
	if err != nil {
		return notify.Speech{}, err
	}
	if callSID != "" && n.ExternalID != "" && callSID != n.ExternalID {
		return notify.Speech{}, rota.Errorf(rota.EFORBIDDEN, "call %s is not notification %d's", callSID, id)
	}
	var action rota.Action
	switch digits {
	case KeyAck:
		action = rota.ActionAcknowledge
	case KeyEscalate:
		action = rota.ActionEscalate
	case KeyResolve:
		action = rota.ActionResolve
	}
	if callSID != "" && action != "" {
		// A key press that acts is taken once per call: a replay of it
		// changes nothing.
		first, err := e.store.FirstInbound(ctx, "call:"+callSID+":"+digits)
		if err != nil {
			return notify.Speech{}, err
		}
		if !first {
			e.log.Warn("key press replayed: ignored", "notification", id, "call", callSID)
			return bye("This was already answered. Goodbye.")
		}
	}
	a, err := e.store.Incident(ctx, n.IncidentID)
	if err != nil {
		return notify.Speech{}, err
	}
	actor := rota.Actor{Person: n.Person, Via: rota.ViaVoice, Role: e.book.Roster().Org().RoleOf(n.Person, nil)}
	if action == "" {
		if a.Status == rota.StatusResolved {
			return bye(fmt.Sprintf("This alert was already resolved by %s. Goodbye.", notify.Spoken(a.ResolvedBy)))
		}
		// "*" or any other key: say it all again.
		return notify.Speech{Sentences: notify.CallScript([]rota.Incident{a}, e.now(), n.Reason),
			Gather: fmt.Sprintf("%s/twilio/voice?n=%d", e.opts.PublicURL, id)}, nil
	}
	res, err := e.Act(ctx, Act{Actor: actor, Action: action, Incident: a.ID})
	switch {
	case rota.ErrorCode(err) == rota.EFORBIDDEN:
		return bye("Refused: " + notify.Spoken(rota.ErrorMessage(err)) + ". Goodbye.")
	case rota.ErrorCode(err) == rota.ECONFLICT:
		return bye(fmt.Sprintf("This alert was already resolved by %s. Goodbye.", notify.Spoken(res.Incident.ResolvedBy)))
	case err != nil:
		return notify.Speech{}, err
	case !res.Changed:
		return bye("This alert was already acknowledged. Goodbye.")
	}
	if action == rota.ActionEscalate {
		return bye("Escalated: the next step is paged now. Goodbye.")
	}
	return bye(fmt.Sprintf("Alert %s. Thank you. Goodbye.", action.PastTense()))
}

// statusWait bounds how long a status report waits for the send it
// reports on to be recorded.
const statusWait = 5 * time.Second

// HandleStatus records a provider's status callback for notification id. A
// failed message or call fails over to the person's next contact method.
func (e *Engine) HandleStatus(ctx context.Context, r rota.ProviderReport) error {
	n, err := e.store.Notification(ctx, r.NotificationID)
	if err != nil {
		return err
	}
	// Twilio may report on a message before the engine has recorded
	// sending it (the report races the API call's answer). Wait for the
	// send to be recorded, well within the 15 seconds Twilio waits.
	for deadline := time.Now().Add(statusWait); n.Status == rota.NotifyPending && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if n, err = e.store.Notification(ctx, r.NotificationID); err != nil {
			return err
		}
	}
	var failover *rota.Notification
	var events []rota.IncidentEvent
	if r.Failed && n.Status == rota.NotifySent {
		now := e.now()
		msg := fmt.Sprintf("%s to %s %s", n.Channel, n.Person, r.Status)
		if r.Error != "" {
			msg += " (" + r.Error + ")"
		}
		// A page fails over while its incident is triggered; a notice
		// always (it outlives its incident).
		if a, err := e.store.Incident(ctx, n.IncidentID); err == nil && (a.Status == rota.StatusTriggered || n.Kind == rota.KindNotice) {
			if failover = e.nextContact(n); failover != nil {
				msg += "; trying " + string(failover.Channel) + " at once"
			}
		}
		events = []rota.IncidentEvent{{IncidentID: n.IncidentID, At: now, Kind: rota.EventNotifyFailed, Actor: n.Person, Message: msg}}
		e.metrics.notifications.WithLabelValues(string(n.Channel), rota.DeliveryUndelivered).Inc()
		e.log.Warn("notification undelivered", "notification", n.ID, "alert", n.IncidentID, "person", n.Person, "channel", n.Channel, "status", r.Status, "error", r.Error)
	}
	r.Gap = interruptionGap(e.book.Roster().Org(), n.Person)
	if _, err := e.store.RecordProviderReport(ctx, r, failover, events); err != nil {
		return err
	}
	if failover != nil {
		e.Wake()
	}
	return nil
}

// Tell sends a person a message that is not a page (a swap, a reminder)
// through their first contact method for text (not a call), at once and once:
// best effort, outside the outbox. It returns the channel used, or an
// error when the person has no such contact or the send failed.
func (e *Engine) Tell(ctx context.Context, person, text string) (string, error) {
	p := e.book.Roster().Org().Person(person)
	if p == nil {
		return "", rota.Errorf(rota.ENOTFOUND, "no person named %q", person)
	}
	for _, c := range p.Contacts {
		if c.Type == rota.ContactVoice {
			continue // text, not a call
		}
		n := e.opts.Notifiers.For(c.Type)
		sctx, cancel := context.WithTimeout(ctx, e.sendTimeout(c.Type))
		_, err := n.Notify(sctx, notify.Message{Kind: notify.KindNotice, Person: person, Channel: c.Type, Address: c.Address, Text: text, Now: e.now()})
		cancel()
		if err != nil {
			e.log.Warn("message not delivered", "person", person, "channel", c.Type, "err", err)
			return string(c.Type), err
		}
		return string(c.Type), nil
	}
	return "", rota.Errorf(rota.ENOTFOUND, "%s has no contact method for text (only calls)", person)
}
