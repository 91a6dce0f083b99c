//go:build !race

package replay_test

// raceDetector is whether the tests run with -race.
const raceDetector = false
