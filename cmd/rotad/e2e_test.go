package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rotahq/rota/clocktest"
)

// The end-to-end tests build rotad and run it as a real process on a free
// loopback port with a database in a temporary directory.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func rotadBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rotad-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "rotad")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

const e2eToken = "e2e-admin-token-0123456789"

const e2eConfig = `
[server]
listen = "127.0.0.1:0"
database = "rota.db"

[log]
format = "json"
level = "debug"

[[people]]
name = "alice"
timezone = "Europe/Berlin"
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
[[people]]
name = "chloe"
timezone = "Europe/Berlin"
[[people]]
name = "dana"
timezone = "Europe/Berlin"
contacts = [{ type = "email", address = "dana@example.com" }]

[[teams]]
name = "payments"
members = ["alice", "bruno", "chloe"]
managers = ["dana"]
timezone = "Europe/Berlin"

[[rotations]]
name = "primary"
team = "payments"
members = ["MEMBERS"]
start = 2026-01-06
`

func writeConfig(t *testing.T, path, members string) {
	t.Helper()
	body := strings.Replace(e2eConfig, `"MEMBERS"`, members, 1)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

type daemon struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string

	mu    sync.Mutex
	logs  []map[string]any
	added chan struct{}
	// done closes when the process has exited; waitErr is then its result.
	done    chan struct{}
	waitErr error
}

func startDaemon(t *testing.T, cfgPath string, env ...string) *daemon {
	t.Helper()
	return startDaemonWith(t, cfgPath, nil, env...)
}

// startDaemonWith starts rotad serve with extra flags.
func startDaemonWith(t *testing.T, cfgPath string, flags []string, env ...string) *daemon {
	t.Helper()
	cmd := exec.Command(rotadBinary(t), append([]string{"serve", "--config", cfgPath}, flags...)...)
	base := append(os.Environ(), "ROTA_ADMIN_TOKEN="+e2eToken)
	if clocktest.Pinned() {
		// The daemon reads the run's clock (an entry in env overrides it).
		base = append(base, clocktest.DaemonEnv(clocktest.Now()))
	}
	cmd.Env = append(base, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, cmd: cmd, added: make(chan struct{}, 1), done: make(chan struct{})}
	go d.read(stderr)
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-d.done
	})
	started := d.waitLog("rotad started", 60*time.Second)
	d.addr = started["addr"].(string)
	return d
}

func (d *daemon) read(r io.Reader) {
	defer close(d.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			m = map[string]any{"msg": "unparsed", "line": sc.Text()}
		}
		d.mu.Lock()
		d.logs = append(d.logs, m)
		d.mu.Unlock()
		select {
		case d.added <- struct{}{}:
		default:
		}
	}
	d.waitErr = d.cmd.Wait()
}

// waitLog waits for a log line with message msg that was not seen before.
func (d *daemon) waitLog(msg string, timeout time.Duration) map[string]any {
	d.t.Helper()
	deadline := time.After(timeout)
	seen := 0
	for {
		d.mu.Lock()
		for ; seen < len(d.logs); seen++ {
			if d.logs[seen]["msg"] == msg && d.logs[seen]["seen"] == nil {
				d.logs[seen]["seen"] = true
				m := d.logs[seen]
				d.mu.Unlock()
				return m
			}
		}
		d.mu.Unlock()
		select {
		case <-d.added:
		case <-d.done:
			d.t.Fatalf("rotad exited while waiting for %q; logs:\n%s", msg, d.dump())
		case <-deadline:
			d.t.Fatalf("no %q in the logs after %s:\n%s", msg, timeout, d.dump())
		}
	}
}

func (d *daemon) dump() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	for _, l := range d.logs {
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func (d *daemon) request(method, path, body string) (int, map[string]any) {
	d.t.Helper()
	return d.requestAs(e2eToken, method, path, body)
}

func (d *daemon) requestAs(token, method, path, body string) (int, map[string]any) {
	d.t.Helper()
	req, err := http.NewRequest(method, "http://"+d.addr+path, strings.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	return res.StatusCode, m
}

func (d *daemon) onCallAt(at string) (person string, override bool) {
	d.t.Helper()
	status, m := d.request("GET", "/api/v1/oncall?at="+at, "")
	if status != 200 {
		d.t.Fatalf("oncall: %d %v", status, m)
	}
	s := m["oncall"].([]any)[0].(map[string]any)
	return s["person"].(string), s["override"].(bool)
}

func (d *daemon) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatal(err)
	}
}

func TestDaemonEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	writeConfig(t, cfgPath, `"alice", "bruno", "chloe"`)
	d := startDaemon(t, cfgPath)

	if status, _ := d.request("GET", "/readyz", ""); status != 200 {
		t.Fatalf("readyz: %d", status)
	}
	// 2026-03-11 is week 9 of the rotation: alice.
	const at = "2026-03-11T14:00:00Z"
	if p, _ := d.onCallAt(at); p != "alice" {
		t.Fatalf("on call before the override: %s", p)
	}
	status, created := d.request("POST", "/api/v1/rotations/primary/overrides",
		`{"person":"chloe","start":"2026-03-11T13:00:00Z","end":"2026-03-11T18:00:00Z","reason":"e2e"}`)
	if status != 201 {
		t.Fatalf("create override: %d %v", status, created)
	}
	if p, ov := d.onCallAt(at); p != "chloe" || !ov {
		t.Fatalf("on call with the override: %s %v", p, ov)
	}

	// A valid change, reloaded on SIGHUP: bruno leads the rotation now.
	writeConfig(t, cfgPath, `"bruno", "alice", "chloe"`)
	d.signal(syscall.SIGHUP)
	d.waitLog("config reloaded", 30*time.Second)
	if p, _ := d.onCallAt("2026-03-11T08:00:00Z"); p != "bruno" {
		t.Fatalf("after a valid reload: %s, want bruno", p)
	}
	if p, _ := d.onCallAt(at); p != "chloe" {
		t.Fatalf("the override did not survive the reload: %s", p)
	}

	// An invalid file is rejected with its problems; the old one serves.
	writeConfig(t, cfgPath, `"bruno", "zed"`)
	d.signal(syscall.SIGHUP)
	rejected := d.waitLog("config reload rejected", 30*time.Second)
	if !strings.Contains(rejected["problem"].(string), `unknown person "zed"`) {
		t.Errorf("rejection does not name the problem: %v", rejected)
	}
	d.waitLog("config reload failed: still running the previous configuration", 30*time.Second)
	if p, _ := d.onCallAt("2026-03-11T08:00:00Z"); p != "bruno" {
		t.Fatalf("after an invalid reload: %s, want bruno (the previous configuration)", p)
	}

	// SIGTERM stops it gracefully, with exit status 0.
	d.signal(syscall.SIGTERM)
	d.waitLog("rotad stopped", 30*time.Second)
	<-d.done
	if d.waitErr != nil {
		t.Fatalf("rotad exited with %v", d.waitErr)
	}

	// Restarted on the same database, the override is still there.
	writeConfig(t, cfgPath, `"bruno", "alice", "chloe"`)
	d2 := startDaemon(t, cfgPath)
	if p, ov := d2.onCallAt(at); p != "chloe" || !ov {
		t.Fatalf("after a restart: %s %v, want the override", p, ov)
	}
	status, list := d2.request("GET", "/api/v1/rotations/primary/overrides?from=2026-01-01T00:00:00Z", "")
	if status != 200 || len(list["overrides"].([]any)) != 1 {
		t.Fatalf("overrides after restart: %d %v", status, list)
	}
}

func TestServeRefusesInvalidConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	writeConfig(t, cfgPath, `"alice", "zed"`)
	out, err := exec.Command(rotadBinary(t), "serve", "--config", cfgPath).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	want := cfgPath + `:33: rotations[0].members[1]: unknown person "zed"`
	if !strings.Contains(string(out), want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "rota.db")); !os.IsNotExist(err) {
		t.Errorf("an invalid configuration created the database")
	}
}

// escalationStopped checks from incident id's state, rather than by
// waiting past its next step's due time, that its escalation stopped: no
// step is due, and it has no notification but those of kinds allowed.
// It returns the incident.
func (d *daemon) escalationStopped(id int64, allowed func(n map[string]any) bool) map[string]any {
	d.t.Helper()
	status, inc := d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
	if status != 200 {
		d.t.Fatalf("incident %d: %d %v", id, status, inc)
	}
	if esc, _ := inc["escalation"].(map[string]any); esc["due_at"] != nil {
		d.t.Errorf("incident %d: a step is still due: %v", id, esc)
	}
	ns, _ := inc["notifications"].([]any)
	for _, n := range ns {
		if n := n.(map[string]any); !allowed(n) {
			d.t.Errorf("incident %d has a notification it should not: %v", id, n)
		}
	}
	return inc
}
