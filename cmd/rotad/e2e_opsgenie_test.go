package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAlertmanagerOpsgenieConfigs: a real Prometheus Alertmanager whose
// opsgenie_configs point at rota (its api_url changed, the integration key
// as api_key, nothing else) opens an incident for a firing group, with
// its priority as the severity, and closes it when the group resolves.
func TestAlertmanagerOpsgenieConfigs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs rotad and Alertmanager")
	}
	am, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if am, err = exec.LookPath("alertmanager"); err != nil {
			t.Skip("no Alertmanager (apt-get install prometheus-alertmanager; make test does)")
		}
	}
	_, cfgPath, env := pagingSetup(t)
	d := startDaemon(t, cfgPath, env...)

	dir := t.TempDir()
	amConfig := fmt.Sprintf(`route:
  receiver: rota
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: rota
    opsgenie_configs:
      - api_url: http://%s/
        api_key: %s
        priority: P1
        send_resolved: true
`, d.addr, serviceKey)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(amConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(am, "--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitHTTP(t, "http://"+addr+"/-/ready", &logs)

	post := func(endsAt string) {
		t.Helper()
		body := fmt.Sprintf(`[{"labels":{"alertname":"HighErrorRate","service":"payments-api","severity":"critical"},"annotations":{"summary":"5xx above 2%%"},"startsAt":%q%s}]`,
			time.Now().UTC().Add(-time.Minute).Format(time.RFC3339), endsAt)
		res, err := http.Post("http://"+addr+"/api/v2/alerts", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("Alertmanager took the alert with %d", res.StatusCode)
		}
	}
	post("")
	var inc map[string]any
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, list := d.request("GET", "/api/v1/incidents", "")
		if incs, _ := list["incidents"].([]any); len(incs) == 1 {
			inc = incs[0].(map[string]any)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager's opsgenie_configs opened no incident; its log:\n%s\nrotad's:\n%s", logs.String(), d.dump())
		}
	}
	if inc["service"] != "payments-api" || inc["severity"] != "critical" || !strings.Contains(fmt.Sprint(inc["summary"]), "HighErrorRate") {
		t.Errorf("incident: %v", inc)
	}
	// The group resolves: Alertmanager closes it by alias.
	post(fmt.Sprintf(`,"endsAt":%q`, time.Now().UTC().Add(-time.Second).Format(time.RFC3339)))
	id := int64(inc["id"].(float64))
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, got := d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
		if got["status"] == "resolved" {
			if by := fmt.Sprint(got["resolved_by"]); !strings.Contains(by, "opsgenie") {
				t.Errorf("resolved by %q", by)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the resolved group did not resolve the incident: %v; Alertmanager's log:\n%s", got["status"], logs.String())
		}
	}
}

// freeAddr is a free loopback address.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitHTTP waits for url to answer 200.
func waitHTTP(t *testing.T, url string, logs *bytes.Buffer) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered 200:\n%s", url, logs.String())
		}
	}
}
