// Package policy makes rota's decisions as pure functions of values and
// now: which people an escalation step pages and when the next runs, and
// (as later work lands) deploy-author routing, urgency and business hours,
// and human-SLO accounting.
package policy
