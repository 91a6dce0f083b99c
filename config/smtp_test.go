package config

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// adminTokenOnly sets the admin token and nothing else, so that warning
// files are not all about the token.
func adminTokenOnly(name string) (string, bool) {
	if name == DefaultAdminTokenEnv {
		return "an-admin-token-long-enough", true
	}
	return "", false
}

// TestWarningFiles loads each file under testdata/warnings, which must
// load, and compares its warnings with its .golden file.
func TestWarningFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/warnings/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Parse(file, data, "testdata/warnings", adminTokenOnly)
			if err != nil {
				t.Fatalf("does not load:\n%v", err)
			}
			got := Problems(cfg.Warnings).Error()
			if got != "" {
				got += "\n"
			}
			golden := strings.TrimSuffix(file, ".toml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./config -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("warnings differ from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
			for _, w := range cfg.Warnings {
				if w.Line == 0 {
					t.Errorf("warning without a line: %v", w)
				}
			}
		})
	}
}

func TestSMTP(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "smtp-password"), []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(name string) (string, bool) {
		if name == "ROTA_SMTP_PASSWORD" {
			return " from-the-env\n", true
		}
		return "", false
	}
	for _, tc := range []struct {
		name, section string
		want          SMTP
	}{
		{
			name: "defaults",
			section: `host = "smtp.example.com"
from = "rota@example.com"`,
			want: SMTP{Host: "smtp.example.com", Port: 587, Security: "starttls", From: "rota@example.com", Timeout: 10 * time.Second},
		},
		{
			name: "implicit tls, password from the environment",
			section: `host = "smtp.example.com"
security = "tls"
username = "rota@example.com"
password = { env = "ROTA_SMTP_PASSWORD" }
from = "Rota <rota@example.com>"
timeout = "30s"`,
			want: SMTP{Host: "smtp.example.com", Port: 465, Security: "tls", Username: "rota@example.com", Password: "from-the-env", From: "Rota <rota@example.com>", Timeout: 30 * time.Second},
		},
		{
			name: "plain on loopback, password from a file, own port",
			section: `host = "localhost"
port = 2525
security = "none"
username = "rota"
password = { file = "smtp-password" }
from = "rota@example.com"`,
			want: SMTP{Host: "localhost", Port: 2525, Security: "none", Username: "rota", Password: "from-a-file", From: "rota@example.com", Timeout: 10 * time.Second},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("x.toml", []byte("[smtp]\n"+tc.section+"\n"), dir, env)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SMTP == nil || !reflect.DeepEqual(*cfg.SMTP, tc.want) {
				t.Errorf("got %+v, want %+v", cfg.SMTP, tc.want)
			}
		})
	}
	cfg, err := Parse("x.toml", nil, dir, env)
	if err != nil || cfg.SMTP != nil {
		t.Errorf("without [smtp]: %+v, %v", cfg.SMTP, err)
	}
}

// TestSMTPCAFile: a relay with a certificate from a private CA is trusted
// through ca_file (relative to the configuration's directory), read and
// checked when the file loads; a file that holds no certificate, or is
// missing, is a problem with its line.
func TestSMTPCAFile(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	srv.Close()
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), pemCert, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "not.pem"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := "[smtp]\nhost = \"smtp.example.com\"\nfrom = \"rota@example.com\"\n"
	cfg, err := Parse("x.toml", []byte(base+"ca_file = \"ca.pem\"\n"), dir, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP.CAFile != filepath.Join(dir, "ca.pem") || !bytes.Equal(cfg.SMTP.CAs, pemCert) {
		t.Errorf("ca_file read as %q, %d bytes", cfg.SMTP.CAFile, len(cfg.SMTP.CAs))
	}
	for file, want := range map[string]string{
		"not.pem":     "x.toml:4: smtp.ca_file: " + filepath.Join(dir, "not.pem") + " holds no PEM certificate",
		"missing.pem": "x.toml:4: smtp.ca_file: read " + filepath.Join(dir, "missing.pem"),
	} {
		_, err := Parse("x.toml", []byte(base+"ca_file = \""+file+"\"\n"), dir, func(string) (string, bool) { return "", false })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ca_file = %q: %v, want %q", file, err, want)
		}
	}
}

// TestExampleSMTP loads the example with its commented-out [smtp] section
// switched on, so that the documented keys stay valid.
func TestExampleSMTP(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	// The example's ca_file names a file on a server: here, one made now.
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	srv.Close()
	ca := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "# [smtp]":
			in = true
			line = "[smtp]"
		case in && line == "":
			in = false
		case in && strings.HasPrefix(line, "# ca_file = "):
			line = fmt.Sprintf("ca_file = %q", ca)
		case in && strings.HasPrefix(line, "# ") && !strings.HasPrefix(line, "#  "):
			line = strings.TrimPrefix(line, "# ")
		}
		out = append(out, line)
	}
	env := func(name string) (string, bool) {
		if name == "ROTA_SMTP_PASSWORD" {
			return "an-smtp-password", true
		}
		return "", false
	}
	cfg, err := Parse("config.example.toml", []byte(strings.Join(out, "\n")), "..", env)
	if err != nil {
		t.Fatalf("the example's [smtp] does not load:\n%v", err)
	}
	want := SMTP{Host: "smtp.example.com", Port: 587, Security: "starttls", Username: "rota@example.com", Password: "an-smtp-password", From: "Rota <rota@example.com>", Timeout: 10 * time.Second,
		CAFile: ca}
	if cfg.SMTP != nil {
		want.CAs = cfg.SMTP.CAs // checked by TestSMTPCAFile
	}
	if cfg.SMTP == nil || !reflect.DeepEqual(*cfg.SMTP, want) || len(want.CAs) == 0 {
		t.Fatalf("example [smtp]: got %+v, want %+v", cfg.SMTP, want)
	}
	for _, w := range cfg.Warnings {
		if strings.Contains(w.Message, "log notifier") {
			t.Errorf("with [smtp], email managers are still warned about: %v", w)
		}
	}
}
