// Package scheduler knows who is on call when. Rotations become shifts at
// local wall-clock handoffs (correct across daylight-saving changes),
// overrides are laid on top, and a Roster answers "who is on call at t" and
// "which shifts fall in [from, to)" as pure functions of its values.
//
// Nothing here reads the clock or does I/O: callers pass the instant they
// ask about, and the Book swaps in a new Roster when the configuration or
// the overrides change.
package scheduler
