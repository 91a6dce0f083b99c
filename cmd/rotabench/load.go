package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// result is what a load run measured.
type result struct {
	requests, errors int
	elapsed          time.Duration
	latencies        []time.Duration
	firstError       string
}

// drive runs concurrency workers, each sending req() back to back over
// keep-alive connections, until duration has passed. It is bounded by
// duration alone and talks only to the URL req builds.
func drive(concurrency int, duration time.Duration, req func() (*http.Request, error)) result {
	return driveFunc(concurrency, duration, func(client *http.Client) (time.Duration, error) {
		rq, err := req()
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		res, err := client.Do(rq)
		if err == nil {
			_, err = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err == nil && res.StatusCode >= 300 {
				err = fmt.Errorf("status %d", res.StatusCode)
			}
		}
		return time.Since(t0), err
	})
}

func newClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency},
	}
}

// driveFunc runs concurrency workers calling do back to back until
// duration has passed; do returns the latency of one request.
func driveFunc(concurrency int, duration time.Duration, do func(*http.Client) (time.Duration, error)) result {
	client := newClient(concurrency)
	var mu sync.Mutex
	var total result
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r result
			for time.Now().Before(deadline) {
				lat, err := do(client)
				r.latencies = append(r.latencies, lat)
				r.requests++
				if err != nil {
					r.errors++
					if r.firstError == "" {
						r.firstError = err.Error()
					}
				}
			}
			mu.Lock()
			total.requests += r.requests
			total.errors += r.errors
			total.latencies = append(total.latencies, r.latencies...)
			if total.firstError == "" {
				total.firstError = r.firstError
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	return total
}

// driveRate sends rate requests per second, open loop (on schedule,
// whether or not earlier ones have answered), through at most concurrency
// workers, until duration has passed.
func driveRate(concurrency, rate int, duration time.Duration, do func(*http.Client) (time.Duration, error)) result {
	client := newClient(concurrency)
	var mu sync.Mutex
	var total result
	work := make(chan struct{}, rate)
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				lat, err := do(client)
				mu.Lock()
				total.requests++
				total.latencies = append(total.latencies, lat)
				if err != nil {
					total.errors++
					if total.firstError == "" {
						total.firstError = err.Error()
					}
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= duration {
			break
		}
		time.Sleep(time.Until(at))
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	total.elapsed = time.Since(start)
	return total
}

func (r result) report(name string) {
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	fmt.Printf("%s: %d requests in %s: %.0f req/s, %d errors\n", name, r.requests, r.elapsed.Round(time.Millisecond),
		float64(r.requests)/r.elapsed.Seconds(), r.errors)
	fmt.Printf("latency p50 %s  p90 %s  p99 %s  max %s\n", pct(0.50), pct(0.90), pct(0.99), pct(1))
	if r.firstError != "" {
		fmt.Printf("first error: %s\n", r.firstError)
	}
}
