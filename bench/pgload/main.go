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
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
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
	sameIP := flag.Bool("same-ip", false, "send every client's requests from one address (one rate-limit key) instead of one each")
	flag.Parse()
	if err := run(*target, *clients, *maxRequests, *duration, *sameIP); err != nil {
		fmt.Fprintln(os.Stderr, "pgload:", err)
		os.Exit(1)
	}
}

func run(target string, clients, maxRequests int, duration time.Duration, sameIP bool) error {
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
	client := &http.Client{Timeout: 30 * time.Second}
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
			c := conn{from: clientAddr(w, sameIP)}
			defer c.close()
			var body []byte
			for time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if i >= int64(len(ids)) {
					return
				}
				body = append(body[:0], `{"address_id":`...)
				body = append(body, ids[i]...)
				body = append(body, `,"unit":1,"name":"Bench Beboer","email":"bench`...)
				body = strconv.AppendInt(body, i, 10)
				body = append(body, `@example.dk","consent":true}`...)
				t0 := time.Now()
				status, err := c.post(u.Host, "/api/pledges", body)
				if err != nil {
					failed.Add(1)
					c.close()
					continue
				}
				latencies[w] = append(latencies[w], time.Since(t0))
				switch status {
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
			q, _ := json.Marshal(ad.ID)
			ids[i] = string(q) // JSON-quoted: the request body is built by appending
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

// conn is one client's keep-alive HTTP/1.1 connection. It writes a request
// and reads the status and body of its response with nothing else: the
// load generator shares the machine's cores with the server and the
// database, so the less it costs, the more of them the measurement gets
// (Go's http.Client costs about five times as much per request).
type conn struct {
	from *net.TCPAddr // local address; nil: any
	c    net.Conn
	r    *bufio.Reader
	req  []byte
}

// clientAddr is client w's own loopback address, 127.0.0.2 and on, so that
// the server sees each client as the resident it stands for, with a rate
// limit of its own; nil with same (all clients from one address).
func clientAddr(w int, same bool) *net.TCPAddr {
	if same {
		return nil
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, byte(w/250), byte(2+w%250))}
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// post sends body and returns the response's status code, having read the
// whole response.
func (c *conn) post(host, path string, body []byte) (int, error) {
	if c.c == nil {
		d := net.Dialer{Timeout: 5 * time.Second}
		if c.from != nil {
			d.LocalAddr = c.from
		}
		nc, err := d.Dial("tcp", host)
		if err != nil {
			return 0, err
		}
		c.c, c.r = nc, bufio.NewReaderSize(nc, 16<<10)
	}
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	c.req = append(c.req[:0], "POST "...)
	c.req = append(c.req, path...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, host...)
	c.req = append(c.req, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, body...)
	if _, err := c.c.Write(c.req); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 201 Created\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, keep := -1, true
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("chunked responses are not supported")
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keep = false
		}
	}
	if length < 0 {
		return 0, fmt.Errorf("response without Content-Length")
	}
	if _, err := c.r.Discard(length); err != nil {
		return 0, err
	}
	if !keep {
		c.close()
	}
	return status, nil
}
