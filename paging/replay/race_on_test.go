//go:build race

package replay_test

// raceDetector is whether the tests run with -race: the race detector
// slows the engine's replay of a year tenfold.
const raceDetector = true
