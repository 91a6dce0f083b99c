package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTokenCommandAndDevSignIn, on a real rotad: a token made with
// rotad token create acts as its person against the running daemon and
// stops when revoked; with --dev-sign-in a browser on this machine signs
// in to the web UI as a person, and every step is in the audit log.
func TestTokenCommandAndDevSignIn(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	writeConfig(t, cfgPath, `"alice", "bruno", "chloe"`)
	d := startDaemonWith(t, cfgPath, []string{"--dev-sign-in"})
	if d.waitLog("DEVELOPMENT SIGN-IN IS ON: anyone on this machine can sign in as anyone, without an identity provider. Never use it for real on-call.", 10*time.Second) == nil {
		t.Fatal("no loud warning")
	}

	out, errOut, code := runCLI(t, "token", "create", "alice", "--config", cfgPath, "--name", "e2e script")
	if code != 0 {
		t.Fatalf("token create: exit %d %s", code, errOut)
	}
	secret := ""
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "rota_pat_") {
			secret = f
		}
	}
	if secret == "" {
		t.Fatalf("no token in %q", out)
	}
	if status, me := d.requestAs(secret, "GET", "/api/v1/me", ""); status != 200 || me["actor"] != "alice (token)" {
		t.Errorf("me with the CLI's token: %d %v", status, me)
	}
	if status, _ := d.requestAs("", "GET", "/api/v1/oncall", ""); status != 401 {
		t.Errorf("anonymous read: %d", status)
	}
	out, _, _ = runCLI(t, "token", "list", "--config", cfgPath)
	if !strings.Contains(out, "e2e script") || strings.Contains(out, secret) {
		t.Errorf("list: %s", out)
	}
	if _, errOut, code := runCLI(t, "token", "revoke", "1", "--config", cfgPath); code != 0 {
		t.Fatalf("revoke: %d %s", code, errOut)
	}
	if status, _ := d.requestAs(secret, "GET", "/api/v1/me", ""); status != 401 {
		t.Errorf("revoked token: %d", status)
	}
	if _, _, code := runCLI(t, "token", "create", "nobody", "--config", cfgPath); code != 2 {
		t.Errorf("token for an unknown person: exit %d", code)
	}

	// The development sign-in, as a browser on this machine would.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	base := "http://" + d.addr
	res, err := browser.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, res)
	if res.Request.URL.Path != "/signin" || !strings.Contains(page, "Development sign-in") {
		t.Fatalf("/ did not lead to the sign-in page: %s\n%s", res.Request.URL, page)
	}
	res, err = browser.PostForm(base+"/auth/dev", url.Values{"person": {"bruno"}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	page = readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "<h1>Now</h1>") || !strings.Contains(page, "bruno") {
		t.Fatalf("after signing in: %d %s", res.StatusCode, page)
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Error("the page has no CSP")
	}
	d.waitLog("DEVELOPMENT SIGN-IN: signed in without an identity provider", 10*time.Second)
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitLog("config reloaded", 10*time.Second)
	status, log := d.request("GET", "/api/v1/audit", "")
	for _, want := range []string{"action:sign-in", "detail:dev sign-in", "action:token.revoke", "action:token.create", "action:config.reload"} {
		if status != 200 || !strings.Contains(anyString(log), want) {
			t.Errorf("audit lacks %q: %d %v", want, status, log)
		}
	}
}

// TestDevSignInOnlyOnLoopback: the development sign-in refuses to start
// on an address other machines reach.
func TestDevSignInOnlyOnLoopback(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	writeConfig(t, cfgPath, `"alice", "bruno", "chloe"`)
	cmd := exec.Command(rotadBinary(t), "serve", "--config", cfgPath, "--dev-sign-in", "--listen", "0.0.0.0:0")
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "only on a loopback listen address") {
		t.Errorf("exit %v: %s", err, out)
	}
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func anyString(v any) string { return fmt.Sprint(v) }
