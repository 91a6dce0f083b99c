// Package pgtest gives tests a PostgreSQL database of their own: a private
// cluster (Debian's postgresql package, installed by make test-deps) is
// started once per test process in a temporary directory, and each test
// gets a fresh schema in it. Tests run on PostgreSQL when ROTA_TEST_STORE
// is "postgres"; otherwise they use SQLite and never start a cluster.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// Enabled reports whether tests should run on PostgreSQL.
func Enabled() bool { return os.Getenv("ROTA_TEST_STORE") == "postgres" }

var (
	once    sync.Once
	cluster *Cluster
	err     error
	schemas atomic.Int64
)

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	Dir  string
	Port int
	bin  string
	// asUser runs PostgreSQL's programs as this user when the tests run
	// as root (PostgreSQL refuses to run as root).
	asUser string
	admin  *sql.DB
}

// DSN returns the URL of a new, empty schema for t in the process's
// cluster, starting the cluster the first time. When PostgreSQL cannot be
// found, t is skipped saying how to install it (or fails under CI, where
// make test-deps installs it).
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() { cluster, err = Start() })
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL: %v", err)
		}
		t.Skipf("PostgreSQL is not available (%v): apt-get install postgresql (make test-deps does)", err)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), schemas.Add(1))
	if _, err := cluster.admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatal(err)
	}
	// options, not search_path: libpq (pg_dump, psql) takes it too.
	return cluster.URL("rota") + "&options=-csearch_path%3D" + name
}

// URL is the address of database db in the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://rota@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Stop stops the process's cluster, if one was started; TestMain calls it.
func Stop() {
	if cluster != nil {
		cluster.Stop()
	}
}

// binDir finds PostgreSQL's programs: on PATH, or Debian's
// /usr/lib/postgresql/VERSION/bin.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("initdb not found")
}

// Start initialises and starts a cluster in a new temporary directory,
// listening on a free loopback port, with a database named rota owned by
// a role named rota, trusted without a password (only this machine can
// connect). For tests it does not sync to disk; StartDurable does, for
// benchmarks.
func Start() (*Cluster, error) { return start(false) }

// StartDurable is Start with every commit synced to disk, as in
// production: what benchmarks measure.
func StartDurable() (*Cluster, error) { return start(true) }

func start(durable bool) (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "rota-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		c.asUser = "postgres"
	}
	if c.Port, err = freePort(); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run("initdb", "-D", data, "-U", "rota", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c max_connections=300 -c shared_buffers=128MB", c.Port, dir)
	if !durable {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	if out, err := c.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return nil, fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	admin, err := sql.Open("pgx", c.URL("postgres"))
	if err != nil {
		c.Stop()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE rota"); err != nil {
		c.Stop()
		return nil, err
	}
	admin.Close()
	if c.admin, err = sql.Open("pgx", c.URL("rota")); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// Stop stops the server and removes its directory.
func (c *Cluster) Stop() {
	if c.admin != nil {
		c.admin.Close()
	}
	c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.Dir)
}

func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.Dir
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
