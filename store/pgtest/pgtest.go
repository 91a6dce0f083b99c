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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// opts are the server's options, to start it again with.
	opts string
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

// Restart restarts the server, cutting every session (a fast shutdown).
func (c *Cluster) Restart() error {
	if err := c.StopServer(); err != nil {
		return err
	}
	return c.StartServer()
}

// StopServer stops the server (a fast shutdown); StartServer starts it
// again on the same port and data.
func (c *Cluster) StopServer() error {
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// StartServer starts a server StopServer stopped.
func (c *Cluster) StartServer() error {
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-o", c.opts, "-l", filepath.Join(c.Dir, "log"), "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	return nil
}

// Pause stops every process of the server with SIGSTOP: connections stay
// open and nothing answers, as when a database hangs. Resume sends
// SIGCONT.
func (c *Cluster) Pause() error { return c.signalAll(syscall.SIGSTOP) }

// Resume continues a paused server.
func (c *Cluster) Resume() error { return c.signalAll(syscall.SIGCONT) }

// signalAll signals the postmaster and its children.
func (c *Cluster) signalAll(sig syscall.Signal) error {
	b, err := os.ReadFile(filepath.Join(c.Dir, "data", "postmaster.pid"))
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return fmt.Errorf("postmaster.pid: %w", err)
	}
	pids := []int{pm}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: the command may hold spaces.
		rest := string(st)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(pm) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && pid == pm {
			return err
		}
	}
	return nil
}

// Log is the server's log so far.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "log"))
	return string(b)
}

// ResetStatements starts counting statements afresh (pg_stat_statements,
// on a cluster from StartDurable).
func (c *Cluster) ResetStatements(ctx context.Context) error {
	if _, err := c.admin.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return err
	}
	_, err := c.admin.ExecContext(ctx, "SELECT pg_stat_statements_reset()")
	return err
}

// Statements counts the statements run in database rota since
// ResetStatements, its own queries aside: calls, and those that began,
// committed or rolled back a transaction or savepoint.
func (c *Cluster) Statements(ctx context.Context) (calls, txControl int64, err error) {
	err = c.admin.QueryRowContext(ctx, `SELECT COALESCE(SUM(calls), 0),
		COALESCE(SUM(calls) FILTER (WHERE query ~* '^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)'), 0)
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'rota')
		AND query NOT ILIKE '%pg_stat_statements%'`).Scan(&calls, &txControl)
	return calls, txControl, err
}

// Transactions counts the transactions database rota committed and rolled
// back since the cluster started (the statistics lag by up to a second).
func (c *Cluster) Transactions(ctx context.Context) (commits, rollbacks int64, err error) {
	err = c.admin.QueryRowContext(ctx, "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = 'rota'").Scan(&commits, &rollbacks)
	return commits, rollbacks, err
}

// TopStatements are the n statements run most often in database rota
// since ResetStatements, with their calls.
func (c *Cluster) TopStatements(ctx context.Context, n int) ([]string, []int64, error) {
	rows, err := c.admin.QueryContext(ctx, `SELECT query, calls FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'rota') AND query NOT ILIKE '%pg_stat_statements%'
		ORDER BY calls DESC LIMIT $1`, n)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var qs []string
	var calls []int64
	for rows.Next() {
		var q string
		var n int64
		if err := rows.Scan(&q, &n); err != nil {
			return nil, nil, err
		}
		qs, calls = append(qs, q), append(calls, n)
	}
	return qs, calls, rows.Err()
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
	if durable {
		// Benchmarks count the statements rota sends (Statements).
		opts += " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
	} else {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	c.opts = opts
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
