// Package rota holds the vocabulary of the on-call daemon: people, teams,
// rotations, overrides, shifts, services and escalation policies as plain
// values, their validation, and the error codes every other package uses.
//
// It imports nothing of ours. The packages below it (scheduler, policy,
// paging, store, api) speak in these types; cmd/rotad wires them together.
package rota
