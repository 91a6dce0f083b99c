// Command rotabench measures a running rotad from the outside: it writes a
// configuration, starts the daemon on a loopback port, drives it with
// concurrent clients for a bounded time, and reports throughput and latency
// percentiles. It only ever talks to the daemon it started, on 127.0.0.1.
//
//	rotabench oncall --rotad bin/rotad [--rotations 200] [--duration 10s] [--concurrency 16]
//	rotabench ingest --rotad bin/rotad [--rate 0|N] [--duration 10s] [--concurrency 32] [--step-delay 2s]
//	rotabench twilio --rotad bin/rotad [--alerts 100] [--rounds 5]
//	rotabench year [--config config.example.toml] [--out year.jsonl] [--seed 1] [--scale 1]
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rotabench oncall [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "oncall":
		err = benchOnCall(os.Args[2:])
	case "ingest":
		err = benchIngest(os.Args[2:])
	case "twilio":
		err = benchTwilio(os.Args[2:])
	case "year":
		err = year(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "rotabench: unknown benchmark %q (have: oncall, ingest, twilio, year)\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rotabench:", err)
		os.Exit(1)
	}
}

func newFlags(name string) *flag.FlagSet {
	return flag.NewFlagSet("rotabench "+name, flag.ExitOnError)
}
