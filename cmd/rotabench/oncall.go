package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// benchOnCall measures GET /api/v1/oncall over many rotations.
func benchOnCall(args []string) error {
	fs := newFlags("oncall")
	rotad := fs.String("rotad", "bin/rotad", "the rotad binary")
	rotations := fs.Int("rotations", 200, "rotations in the generated configuration")
	duration := fs.Duration("duration", 10*time.Second, "how long to send requests")
	concurrency := fs.Int("concurrency", 16, "concurrent clients")
	fs.Parse(args)
	if *duration > 5*time.Minute {
		return fmt.Errorf("--duration is at most 5m")
	}

	// Reads need a token (since people sign in): the admin's, as a
	// script's would be.
	const token = "rotabench-admin-token-0123456789"
	d, err := startDaemon(*rotad, onCallConfig(*rotations), "ROTA_ADMIN_TOKEN="+token)
	if err != nil {
		return err
	}
	defer d.stop()
	url := "http://" + d.addr + "/api/v1/oncall"
	get := func() (*http.Request, error) {
		req, err := http.NewRequest("GET", url, nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req, err
	}
	drive(*concurrency, time.Second, get) // warm up
	res := drive(*concurrency, *duration, get)
	fmt.Printf("GET /api/v1/oncall, %d rotations, %d clients, loopback, rotad and the load generator sharing this machine\n", *rotations, *concurrency)
	res.report("oncall")
	return nil
}

// onCallConfig has n rotations of five people each across three zones.
func onCallConfig(n int) string {
	var b strings.Builder
	b.WriteString("[log]\nformat = \"json\"\nlevel = \"info\"\n\n")
	zones := []string{"Europe/Berlin", "America/New_York", "Australia/Sydney"}
	teams := (n + 9) / 10
	for t := 0; t < teams; t++ {
		var members []string
		for p := 0; p < 5; p++ {
			name := fmt.Sprintf("p%d-%d", t, p)
			members = append(members, `"`+name+`"`)
			fmt.Fprintf(&b, "[[people]]\nname = %q\ntimezone = %q\n\n", name, zones[t%3])
		}
		// A manager reachable by email (the log, without [smtp]).
		fmt.Fprintf(&b, "[[people]]\nname = \"m%d\"\ntimezone = %q\ncontacts = [{ type = \"email\", address = \"m%d@example.com\" }]\n\n", t, zones[t%3], t)
		fmt.Fprintf(&b, "[[teams]]\nname = \"t%d\"\nmembers = [%s]\nmanagers = [\"m%d\"]\ntimezone = %q\n\n", t, strings.Join(members, ", "), t, zones[t%3])
	}
	for r := 0; r < n; r++ {
		t := r / 10
		fmt.Fprintf(&b, "[[rotations]]\nname = \"r%d\"\nteam = \"t%d\"\nmembers = [\"p%d-0\", \"p%d-1\", \"p%d-2\", \"p%d-3\", \"p%d-4\"]\nstart = 2026-01-06\nhandoff = \"%s 10:00\"\n\n",
			r, t, t, t, t, t, t, []string{"monday", "tuesday", "wednesday"}[r%3])
	}
	return b.String()
}
