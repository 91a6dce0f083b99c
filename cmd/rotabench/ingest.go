package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/rotahq/rota/store/pgtest"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const benchKey = "rotabench-integration-key-0123456789"

// benchIngest posts distinct alerts to a real rotad, as fast as the
// clients go (--rate 0) or at a fixed rate, and measures the 202s, the
// notifications reaching a webhook receiver, and how late the second
// escalation step fires.
//
// With --group window (the default) the alerts of a service group into
// incidents, as they do by default; --group off makes each alert an
// incident of its own, and --services spreads them over services, each
// paging its own people, so that per-person storm control (one message
// per person per second here) does not hold them: what is measured then
// is how fast a new incident reaches an idle person.
func benchIngest(args []string) error {
	fs := newFlags("ingest")
	rotad := fs.String("rotad", "bin/rotad", "the rotad binary")
	duration := fs.Duration("duration", 10*time.Second, "how long to post alerts")
	concurrency := fs.Int("concurrency", 32, "concurrent clients")
	rate := fs.Int("rate", 0, "alerts per second, open loop; 0 posts as fast as the clients go")
	stepDelay := fs.Duration("step-delay", time.Hour, "delay before the second escalation step")
	group := fs.String("group", "window", `how alerts group into incidents: "window" or "off"`)
	services := fs.Int("services", 1, "services (each with its own two people) the alerts are spread over")
	updates := fs.Bool("updates", false, "webhooks take status updates too (an escalation tells the first person where it went): more messages per incident")
	postgres := fs.Bool("postgres", false, "run on PostgreSQL (a private cluster this command starts; Debian's postgresql) instead of SQLite")
	daemons := fs.Int("daemons", 1, "rotad processes on the one database, posted to round-robin (more than one needs --postgres)")
	top := fs.Int("statements", 0, "with --postgres, list this many statements run most often, with their calls per incident")
	fs.Parse(args)
	if *daemons < 1 || *daemons > 1 && !*postgres {
		return fmt.Errorf("--daemons above 1 needs --postgres")
	}
	if *services < 1 || *services > 2000 {
		return fmt.Errorf("--services is from 1 to 2000")
	}
	if *duration > 5*time.Minute {
		return fmt.Errorf("--duration is at most 5m")
	}

	rec, err := newReceiver()
	if err != nil {
		return err
	}
	defer rec.close()
	var env []string
	for i := 0; i < *services; i++ {
		env = append(env, fmt.Sprintf("ROTABENCH_KEY_%d=%s-%d", i, benchKey, i))
	}
	db := ""
	var cluster *pgtest.Cluster
	if *postgres {
		c, err := pgtest.StartDurable()
		if err != nil {
			return fmt.Errorf("start PostgreSQL: %w", err)
		}
		defer c.Stop()
		db, cluster = c.URL("rota"), c
	}
	var urls, metrics []string
	var d *daemon
	for i := 0; i < *daemons; i++ {
		di, err := startDaemonDB(*rotad, ingestConfig(rec.url, *stepDelay, *services, *group, *updates), db, env...)
		if err != nil {
			return err
		}
		defer di.stop()
		urls = append(urls, "http://"+di.addr+"/api/v1/alerts")
		metrics = append(metrics, "http://"+di.addr+"/metrics")
		if d == nil {
			d = di
		}
	}

	var commits0, rollbacks0 int64
	if cluster != nil {
		// Count only what the load makes, not the daemons' start.
		if err := cluster.ResetStatements(context.Background()); err != nil {
			return fmt.Errorf("pg_stat_statements: %w", err)
		}
		if commits0, rollbacks0, err = cluster.Transactions(context.Background()); err != nil {
			return fmt.Errorf("pg_stat_database: %w", err)
		}
	}
	var seq atomic.Int64
	var mu sync.Mutex
	sentAt := map[int64]time.Time{} // incident id -> when its first alert's post was sent
	post := func(client *http.Client) (time.Duration, error) {
		n := seq.Add(1)
		body := fmt.Sprintf(`{"summary":"bench alert %d","severity":"critical","dedup_key":"bench-%d","source":"rotabench"}`, n, n)
		req, _ := http.NewRequest("POST", urls[n%int64(len(urls))], strings.NewReader(body))
		req.Header.Set("Authorization", fmt.Sprintf("Bearer %s-%d", benchKey, n%int64(*services)))
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		var out struct {
			IncidentID int64  `json:"incident_id"`
			Outcome    string `json:"outcome"`
		}
		err = json.NewDecoder(res.Body).Decode(&out)
		lat := time.Since(t0)
		if res.StatusCode != http.StatusAccepted {
			return lat, fmt.Errorf("status %d", res.StatusCode)
		}
		if out.Outcome == "created" {
			mu.Lock()
			sentAt[out.IncidentID] = t0
			mu.Unlock()
		}
		return lat, err
	}

	var res result
	if *rate == 0 {
		res = driveFunc(*concurrency, *duration, post)
	} else {
		res = driveRate(*concurrency, *rate, *duration, post)
	}
	mode := "as fast as the clients go"
	if *rate > 0 {
		mode = fmt.Sprintf("open loop at %d alerts/s", *rate)
	}
	store := "SQLite, synchronous=FULL"
	if *postgres {
		store = fmt.Sprintf("PostgreSQL (a private cluster on this machine, fsync on), %d daemon(s) round-robin", *daemons)
	}
	fmt.Printf("POST /api/v1/alerts, distinct alerts, %s, %d clients, grouping %s, %d service(s), %s, loopback, rotad and the load generator sharing this machine\n",
		mode, *concurrency, *group, *services, store)
	res.report("ingest")

	// Wait for the first notifications (and the second step, if it falls
	// due within a minute) to arrive.
	want := len(sentAt)
	fmt.Printf("%d alerts made %d incidents\n", res.requests-res.errors, want)
	waitUntil(func() bool { return rec.count("first") >= want }, 30*time.Second)
	if *stepDelay < time.Minute {
		waitUntil(func() bool { return rec.count("second") >= want }, *stepDelay+30*time.Second)
	}
	first := rec.latencies("first", sentAt, 0)
	fmt.Printf("post sent -> first notification at the receiver: %s (%d of %d incidents)\n", percentiles(first), len(first), want)
	if h, err := scrapeHistogram("http://"+d.addr+"/metrics", "rota_first_notification_seconds"); err == nil {
		fmt.Printf("server side, alert created -> notifier called (rota_first_notification_seconds): %s\n", h)
	}
	if *stepDelay < time.Minute {
		late := rec.latencies("second", sentAt, *stepDelay)
		fmt.Printf("step 2 lateness (arrival - (post + %s)): %s (%d of %d incidents)\n", *stepDelay, percentiles(late), len(late), want)
	}
	if cluster != nil && want > 0 {
		// Statements per incident: everything the daemons ran for the
		// load (intake, steps, outbox, accounting), once its first
		// notifications are out.
		calls, txc, err := cluster.Statements(context.Background())
		if err != nil {
			return fmt.Errorf("pg_stat_statements: %w", err)
		}
		fmt.Printf("PostgreSQL statements: %d, %.1f per incident (%.1f of them BEGIN, COMMIT, SAVEPOINT or RELEASE); deadlocks in the server's log: %d\n",
			calls, float64(calls)/float64(want), float64(txc)/float64(want), strings.Count(cluster.Log(), "deadlock detected"))
		if commits, rollbacks, err := cluster.Transactions(context.Background()); err == nil {
			fmt.Printf("PostgreSQL transactions: %.2f commits and %.2f rollbacks per incident\n",
				float64(commits-commits0)/float64(want), float64(rollbacks-rollbacks0)/float64(want))
		}
		var conflicts, reruns, groups, writes float64
		for _, u := range metrics {
			conflicts += scrapeCounter(u, "rota_store_conflicts_total")
			reruns += scrapeCounter(u, "rota_store_lock_reruns_total")
			groups += scrapeCounter(u, "rota_store_write_groups_total")
			writes += scrapeCounter(u, "rota_store_writes_total")
		}
		if groups > 0 {
			fmt.Printf("write groups: %.2f per incident, %.1f writes each (all the run, start included)\n", groups/float64(want), writes/groups)
		}
		fmt.Printf("write groups run again after a conflict: %.0f; writes run again for a lock out of order: %.0f\n", conflicts, reruns)
		if log := cluster.Log(); strings.Contains(log, "deadlock detected") {
			// What deadlocked, from the server's own report of the first.
			lines := strings.Split(log, "\n")
			for i, l := range lines {
				if strings.Contains(l, "deadlock detected") {
					for _, d := range lines[i:min(i+8, len(lines))] {
						fmt.Printf("  %s\n", d)
					}
					break
				}
			}
		}
		if *top > 0 {
			qs, ns, err := cluster.TopStatements(context.Background(), *top)
			if err != nil {
				return fmt.Errorf("pg_stat_statements: %w", err)
			}
			for i, q := range qs {
				fmt.Printf("  %5.2f  %s\n", float64(ns[i])/float64(want), strings.Join(strings.Fields(q), " "))
			}
		}
	}
	return nil
}

// receiver is the webhook endpoint notifications are sent to.
type receiver struct {
	srv  *http.Server
	url  string
	mu   sync.Mutex
	seen map[string]map[int64]time.Time // first or second -> incident -> first arrival
}

func newReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String(), seen: map[string]map[int64]time.Time{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		now := time.Now()
		var body struct {
			Incidents []struct {
				ID int64 `json:"id"`
			} `json:"incidents"`
		}
		json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(&body)
		// Each service pages its first person (first-N), then its second.
		role := strings.TrimPrefix(req.URL.Path, "/")
		role, _, _ = strings.Cut(role, "-")
		r.mu.Lock()
		m := r.seen[role]
		if m == nil {
			m = map[int64]time.Time{}
			r.seen[role] = m
		}
		for _, a := range body.Incidents {
			if _, ok := m[a.ID]; !ok {
				m[a.ID] = now
			}
		}
		r.mu.Unlock()
	})}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) close() { r.srv.Close() }

func (r *receiver) count(person string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen[person])
}

// latencies returns, per alert that reached person, arrival - (sent + offset).
func (r *receiver) latencies(person string, sent map[int64]time.Time, offset time.Duration) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for id, at := range r.seen[person] {
		if t0, ok := sent[id]; ok {
			out = append(out, at.Sub(t0.Add(offset)))
		}
	}
	return out
}

func waitUntil(cond func() bool, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	p := func(q float64) time.Duration {
		return ds[min(len(ds)-1, int(q*float64(len(ds))))].Round(10 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", p(.5), p(.9), p(.99), ds[len(ds)-1].Round(10*time.Microsecond))
}

// scrapeCounter reads a counter from /metrics (0 if absent).
func scrapeCounter(url, name string) float64 {
	res, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			fmt.Sscanf(v, "%g", &f)
			return f
		}
	}
	return 0
}

// scrapeHistogram reads a histogram's buckets from /metrics and estimates
// its median and 99th percentile as the upper bound of their buckets.
func scrapeHistogram(url, name string) (string, error) {
	res, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	type bucket struct {
		le    string
		count float64
	}
	var buckets []bucket
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, name+"_bucket{") {
			continue
		}
		le := line[strings.Index(line, `le="`)+4:]
		le = le[:strings.Index(le, `"`)]
		var c float64
		fmt.Sscanf(line[strings.LastIndex(line, " ")+1:], "%g", &c)
		buckets = append(buckets, bucket{le, c})
	}
	if len(buckets) == 0 || buckets[len(buckets)-1].count == 0 {
		return "", fmt.Errorf("no samples")
	}
	total := buckets[len(buckets)-1].count
	at := func(q float64) string {
		for _, bk := range buckets {
			if bk.count >= q*total {
				return "≤ " + bk.le + "s"
			}
		}
		return "?"
	}
	return fmt.Sprintf("p50 %s  p99 %s  (%0.f samples)", at(.5), at(.99), total), nil
}

func ingestConfig(receiverURL string, stepDelay time.Duration, services int, group string, updates bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[log]\nformat = \"json\"\nlevel = \"info\"\n\n[paging]\nrate_limit = \"1s\"\n\n")
	var members []string
	for i := 0; i < services; i++ {
		for _, role := range []string{"first", "second"} {
			fmt.Fprintf(&b, "[[people]]\nname = \"%[1]s-%[2]d\"\ntimezone = \"UTC\"\ncontacts = [{ type = \"webhook\", address = \"%[3]s/%[1]s-%[2]d\", updates = %[4]t }]\n", role, i, receiverURL, updates)
			members = append(members, fmt.Sprintf("%q", fmt.Sprintf("%s-%d", role, i)))
		}
	}
	fmt.Fprintf(&b, "\n[[teams]]\nname = \"bench\"\nmembers = [%s]\nmanagers = [\"second-0\"]\ntimezone = \"UTC\"\n\n", strings.Join(members, ", "))
	for i := 0; i < services; i++ {
		fmt.Fprintf(&b, `[[escalation_policies]]
name = "p%[1]d"
  [[escalation_policies.steps]]
  targets = ["person:first-%[1]d"]
  delay = "%[2]s"
  [[escalation_policies.steps]]
  targets = ["person:second-%[1]d"]
  delay = "1h"

[[services]]
name = "s%[1]d"
team = "bench"
escalation_policy = "p%[1]d"
integration_keys = [{ env = "ROTABENCH_KEY_%[1]d" }]
group = %[3]q

`, i, stepDelay, group)
	}
	return b.String()
}
