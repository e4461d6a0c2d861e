// Command httpload is a small closed-loop HTTP load generator for the
// benchmarks in bench/: C workers send GET requests (or POSTs of a body
// template) to loopback URLs until N requests are done or D has passed, and
// it prints requests per second and latency percentiles as JSON. With
// -urls FILE, request i goes to line i (mod the number of lines) of FILE,
// so one run can sweep many URLs (the tiles of a zoom level).
//
// It refuses non-loopback targets: benchmarks here load only this machine.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	URL      string  `json:"url"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Status   map[int]int64
}

func main() {
	target := flag.String("url", "", "URL to load (loopback only); {i} in it is replaced by the request number")
	n := flag.Int64("n", 100000, "requests at most")
	c := flag.Int("c", 16, "concurrent workers")
	d := flag.Duration("d", 10*time.Second, "duration at most")
	body := flag.String("body", "", "POST this body ({i} replaced by the request number) instead of GET")
	urlFile := flag.String("urls", "", "`file` of URLs, one a line, used in turn instead of --url")
	flag.Parse()
	targets := []string{*target}
	if *urlFile != "" {
		b, err := os.ReadFile(*urlFile)
		if err != nil {
			fail(err.Error())
		}
		targets = strings.Fields(string(b))
		if len(targets) == 0 {
			fail("no URLs in " + *urlFile)
		}
		*target = *urlFile
	}
	for _, t := range targets {
		u, err := url.Parse(strings.ReplaceAll(t, "{i}", "0"))
		if err != nil || u.Hostname() == "" {
			fail("want --url http://127.0.0.1:PORT/...")
		}
		if ip := net.ParseIP(u.Hostname()); (ip == nil && u.Hostname() != "localhost") || (ip != nil && !ip.IsLoopback()) {
			fail("refusing a non-loopback target " + u.Hostname())
		}
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *c, MaxConnsPerHost: *c}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var next, errs atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, 1<<16)
	status := map[int]int64{}
	deadline := time.Now().Add(*d)
	start := time.Now()
	var wg sync.WaitGroup
	for range *c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			codes := map[int]int64{}
			for time.Now().Before(deadline) {
				i := next.Add(1)
				if i > *n {
					break
				}
				num := fmt.Sprint(i)
				t0 := time.Now()
				var resp *http.Response
				var err error
				if *body != "" {
					resp, err = client.Post(strings.ReplaceAll(targets[i%int64(len(targets))], "{i}", num), "application/json",
						bytes.NewBufferString(strings.ReplaceAll(*body, "{i}", num)))
				} else {
					resp, err = client.Get(strings.ReplaceAll(targets[i%int64(len(targets))], "{i}", num))
				}
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				local = append(local, time.Since(t0))
				codes[resp.StatusCode]++
			}
			mu.Lock()
			lat = append(lat, local...)
			for k, v := range codes {
				status[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	json.NewEncoder(os.Stdout).Encode(result{URL: *target, Requests: int64(len(lat)), Errors: errs.Load(), Seconds: elapsed,
		RPS: float64(len(lat)) / elapsed, P50ms: pct(0.50), P99ms: pct(0.99), Status: status})
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "httpload:", msg)
	os.Exit(2)
}
