// Command pgload is the pledge load generator of bench/pg_bench.sh: it
// sends POST /api/pledges to a kommunity server on this machine, one new
// address per request (so none conflicts; addresses taken from the areas in
// turn, so pledges spread over areas as in a campaign across a
// municipality), with a fixed number of concurrent clients, until it has
// sent -n requests or -d has passed, and prints throughput and latency
// percentiles.
//
// It only talks to loopback addresses: it is a benchmark, not a load tool.
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
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	target := flag.String("url", "", "server base URL, e.g. http://127.0.0.1:8080 (loopback only)")
	clients := flag.Int("c", 32, "concurrent clients")
	maxRequests := flag.Int("n", 50000, "at most this many requests")
	duration := flag.Duration("d", 10*time.Second, "at most this long")
	flag.Parse()
	if err := run(*target, *clients, *maxRequests, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "pgload:", err)
		os.Exit(1)
	}
}

func run(target string, clients, maxRequests int, duration time.Duration) error {
	u, err := url.Parse(target)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("-url %q: want http://127.0.0.1:PORT", target)
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		return fmt.Errorf("-url %q: only loopback addresses", target)
	}
	if clients < 1 || clients > 1024 || maxRequests < 1 || duration <= 0 || duration > 10*time.Minute {
		return fmt.Errorf("want 1 <= -c <= 1024, -n >= 1 and 0 < -d <= 10m")
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	ids, err := addressIDs(client, u.String(), maxRequests)
	if err != nil {
		return err
	}
	var next atomic.Int64
	var created, conflicts, failed atomic.Int64
	latencies := make([][]time.Duration, clients)
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if i >= int64(len(ids)) {
					return
				}
				body, _ := json.Marshal(map[string]any{"address_id": ids[i], "unit": 1, "name": "Bench Beboer",
					"email": fmt.Sprintf("bench%d@example.dk", i), "consent": true})
				t0 := time.Now()
				resp, err := client.Post(u.String()+"/api/pledges", "application/json", bytes.NewReader(body))
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies[w] = append(latencies[w], time.Since(t0))
				switch resp.StatusCode {
				case http.StatusCreated:
					created.Add(1)
				case http.StatusConflict:
					conflicts.Add(1)
				default:
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	fmt.Printf("requests=%d created=%d conflicts=%d failed=%d seconds=%.2f created_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
		len(all), created.Load(), conflicts.Load(), failed.Load(), elapsed.Seconds(), float64(created.Load())/elapsed.Seconds(),
		ms(pct(0.50)), ms(pct(0.99)), ms(pct(1)))
	if failed.Load() > 0 {
		return fmt.Errorf("%d requests failed", failed.Load())
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// addressIDs lists up to n addresses inside areas, taking one from each
// area in turn.
func addressIDs(client *http.Client, base string, n int) ([]string, error) {
	var areas struct {
		Areas []struct {
			Code string `json:"code"`
		} `json:"areas"`
	}
	if err := getJSON(client, base+"/api/areas", &areas); err != nil {
		return nil, err
	}
	per := n/max(1, len(areas.Areas)) + 1
	var perArea [][]string
	for _, a := range areas.Areas {
		var page struct {
			Addresses []struct {
				ID string `json:"address_id"`
			} `json:"addresses"`
		}
		if err := getJSON(client, base+"/api/areas/"+url.PathEscape(a.Code)+"/addresses?limit="+strconv.Itoa(min(per, 10000)), &page); err != nil {
			return nil, err
		}
		ids := make([]string, len(page.Addresses))
		for i, ad := range page.Addresses {
			ids[i] = ad.ID
		}
		perArea = append(perArea, ids)
	}
	var out []string
	for i := 0; len(out) < n; i++ {
		added := false
		for _, ids := range perArea {
			if i < len(ids) && len(out) < n {
				out = append(out, ids[i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no addresses in areas", base)
	}
	return out, nil
}

func getJSON(client *http.Client, u string, v any) error {
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
