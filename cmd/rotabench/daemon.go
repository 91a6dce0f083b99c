package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// daemon is a rotad process started for a benchmark.
type daemon struct {
	cmd  *exec.Cmd
	addr string
	dir  string
}

// startDaemon writes config into a temporary directory and runs rotad on it,
// on a free loopback port, until stop.
func startDaemon(rotad, config string, env ...string) (*daemon, error) {
	return startDaemonDB(rotad, config, "", env...)
}

// startDaemonDB is startDaemon on database db (a postgres:// URL), or on
// an SQLite file of its own when db is empty.
func startDaemonDB(rotad, config, db string, env ...string) (*daemon, error) {
	dir, err := os.MkdirTemp("", "rotabench")
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		return nil, err
	}
	args := []string{"serve", "--config", cfgPath, "--listen", "127.0.0.1:0"}
	if db != "" {
		args = append(args, "--db", db)
	}
	cmd := exec.Command(rotad, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", rotad, err)
	}
	addr := make(chan string, 1)
	exited := make(chan []string, 1)
	go func() {
		var last []string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "rotad started" {
				addr <- m["addr"].(string)
			}
			if os.Getenv("ROTABENCH_VERBOSE") != "" {
				fmt.Fprintln(os.Stderr, sc.Text())
			}
			last = append(last, sc.Text())
			if len(last) > 5 {
				last = last[1:]
			}
		}
		exited <- last
	}()
	d := &daemon{cmd: cmd, dir: dir}
	select {
	case d.addr = <-addr:
	case last := <-exited:
		d.stop()
		return nil, fmt.Errorf("rotad exited before it started:\n%s", strings.Join(last, "\n"))
	case <-time.After(30 * time.Second):
		d.stop()
		return nil, fmt.Errorf("rotad did not start within 30s")
	}
	res, err := http.Get("http://" + d.addr + "/readyz")
	if err != nil || res.StatusCode != 200 {
		d.stop()
		return nil, fmt.Errorf("rotad not ready: %v", err)
	}
	res.Body.Close()
	return d, nil
}

func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
	}
	os.RemoveAll(d.dir)
}
