package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rotahq/rota/paging/notify/twilio/twiliotest"
)

// TestDiskFullSendsNoSMSTwice: the disk of rotad's SQLite file fills up
// while an SMS is on its way to Twilio. The SMS goes out; its record
// cannot be written; alerts posted meanwhile are refused with 503. The
// send is held, not sent again, past the claim's lease, until the disk
// has room: then it is recorded, and alice had one SMS.
func TestDiskFullSendsNoSMSTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a small filesystem to fill needs root")
	}
	disk := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(disk, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", disk).Run() })

	fake := twiliotest.NewServer(e2eTwilioSID, e2eTwilioToken)
	defer fake.Close()
	// Twilio takes the SMS only when the test says so: by then the disk
	// is full.
	arrived, release := make(chan struct{}, 16), make(chan struct{})
	twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		fake.Config.Handler.ServeHTTP(w, r)
	}))
	defer twilio.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	cfg := strings.NewReplacer("FAKE", twilio.URL, `database = "rota.db"`, fmt.Sprintf("database = %q", filepath.Join(disk, "rota.db"))).Replace(twilioE2EConfig)
	cfgPath := filepath.Join(t.TempDir(), "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfgPath, "KEY="+serviceKey, "WEB_KEY="+webKey, "TWILIO_ACCOUNT_SID="+e2eTwilioSID, "TWILIO_AUTH_TOKEN="+e2eTwilioToken)
	if status, body := d.requestAs(webKey, "POST", "/api/v1/alerts", `{"summary":"web down","severity":"critical","dedup_key":"w"}`); status != 202 {
		t.Fatalf("post: %d %v", status, body)
	}
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no SMS reached Twilio")
	}
	filler := filepath.Join(disk, "filler")
	fill(t, filler)
	close(release)
	held := d.waitLog("sent, but the store cannot record it: held (not sent again) while recording is retried", 20*time.Second)
	heldAt, _ := time.Parse(time.RFC3339Nano, held["time"].(string))

	// Meanwhile alerts are refused, so that their senders keep them.
	for i := range 5 {
		status, body := d.requestAs(serviceKey, "POST", "/api/v1/alerts", fmt.Sprintf(`{"summary":"while full %d","severity":"critical","dedup_key":"f%d"}`, i, i))
		if status != 503 {
			t.Errorf("an alert while the disk is full: %d %v", status, body)
		}
	}
	// Past the claim's lease (10 s), by the daemon's own log (the engine
	// says each round that the store fails), the disk still full.
	d.waitLogAt(heldAt.Add(12*time.Second), 30*time.Second)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// Recorded (by the held send, or, were it lost, by a second one).
	waitSent(t, d, 1, 1)
	n := 0
	for _, r := range fake.Requests() {
		if r.To == "+4915112345003" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("carol had %d SMS for one page", n)
	}
}

// waitLogAt waits for a log line written at or after at, by the daemon's
// clock.
func (d *daemon) waitLogAt(at time.Time, timeout time.Duration) {
	d.t.Helper()
	deadline := time.After(timeout)
	for {
		d.mu.Lock()
		for _, l := range d.logs {
			if s, ok := l["time"].(string); ok {
				if ts, err := time.Parse(time.RFC3339Nano, s); err == nil && !ts.Before(at) {
					d.mu.Unlock()
					return
				}
			}
		}
		d.mu.Unlock()
		select {
		case <-d.added:
		case <-d.done:
			d.t.Fatalf("rotad exited while waiting for a line at %s", at)
		case <-deadline:
			d.t.Fatalf("no log line at or after %s within %s", at.Format(time.RFC3339Nano), timeout)
		}
	}
}

// fill writes path until the filesystem has no room left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}
