package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rotahq/rota/paging/notify/twilio/twiliotest"
)

const (
	benchTwilioSID   = "AC00000000000000000000000000000bbb"
	benchTwilioToken = "0123456789abcdef0123456789abcdef"
)

// benchTwilio posts n alerts at once, each paging a different person by
// SMS through a fake Twilio on loopback, and reports when each SMS request
// reached it, measured from the moment its alert was posted.
func benchTwilio(args []string) error {
	fs := newFlags("twilio")
	rotad := fs.String("rotad", "bin/rotad", "the rotad binary")
	n := fs.Int("alerts", 100, "simultaneous alerts, each paging another person")
	rounds := fs.Int("rounds", 5, "how many times to repeat the burst (a minute apart would be needed for the same people, so each round pages new people)")
	fs.Parse(args)
	if *n*(*rounds) > 5000 {
		return fmt.Errorf("at most 5000 alerts in all")
	}
	fake := twiliotest.NewServer(benchTwilioSID, benchTwilioToken)
	defer fake.Close()
	people := *n * *rounds
	env := []string{"TWILIO_ACCOUNT_SID=" + benchTwilioSID, "TWILIO_AUTH_TOKEN=" + benchTwilioToken}
	for i := 0; i < people; i++ {
		env = append(env, fmt.Sprintf("KEY_%d=bench-key-%04d-0123456789abcdef", i, i))
	}
	d, err := startDaemon(*rotad, twilioConfig(fake.URL, people), env...)
	if err != nil {
		return err
	}
	defer d.stop()
	client := newClient(*n)
	var lat []time.Duration
	for round := 0; round < *rounds; round++ {
		posted := make([]time.Time, *n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, *n)
		for i := 0; i < *n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				p := round**n + i
				<-start
				req, _ := http.NewRequest("POST", "http://"+d.addr+"/api/v1/alerts", strings.NewReader(`{"summary":"bench","severity":"critical"}`))
				req.Header.Set("Authorization", fmt.Sprintf("Bearer bench-key-%04d-0123456789abcdef", p))
				posted[i] = time.Now()
				res, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				res.Body.Close()
				if res.StatusCode != http.StatusAccepted {
					errs <- fmt.Errorf("status %d", res.StatusCode)
				}
			}(i)
		}
		before := len(fake.Requests())
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			return err
		}
		reqs := fake.Wait(before+*n, 10*time.Second)
		for _, r := range reqs[before:] {
			var p int
			fmt.Sscanf(r.To, "+1555%07d", &p)
			lat = append(lat, r.At.Sub(posted[p-round**n]))
		}
	}
	within := 0
	for _, l := range lat {
		if l <= time.Second {
			within++
		}
	}
	fmt.Printf("%d rounds of %d simultaneous alerts, each paging another person by SMS through a fake Twilio on loopback\n", *rounds, *n)
	fmt.Printf("post sent -> SMS request at Twilio: %s; %d of %d within 1s\n", percentiles(lat), within, people)
	return nil
}

func twilioConfig(fakeURL string, people int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `[server]
public_url = "https://rota.example.com"
[log]
format = "json"
level = "info"
[twilio]
account_sid = { env = "TWILIO_ACCOUNT_SID" }
auth_token = { env = "TWILIO_AUTH_TOKEN" }
from = "+15005550006"
api_url = %q
`, fakeURL)
	var members []string
	for i := 0; i < people; i++ {
		fmt.Fprintf(&b, "[[people]]\nname = \"p%d\"\ntimezone = \"UTC\"\ncontacts = [{ type = \"sms\", address = \"+1555%07d\" }]\n", i, i)
		members = append(members, fmt.Sprintf("%q", fmt.Sprintf("p%d", i)))
	}
	fmt.Fprintf(&b, "[[teams]]\nname = \"bench\"\nmembers = [%s]\ntimezone = \"UTC\"\n", strings.Join(members, ", "))
	for i := 0; i < people; i++ {
		fmt.Fprintf(&b, "[[escalation_policies]]\nname = \"p%d\"\nsteps = [{ targets = [\"person:p%d\"], delay = \"1h\" }]\n", i, i)
		fmt.Fprintf(&b, "[[services]]\nname = \"s%d\"\nteam = \"bench\"\nescalation_policy = \"p%d\"\nintegration_keys = [{ env = \"KEY_%d\" }]\n", i, i, i)
	}
	return b.String()
}
