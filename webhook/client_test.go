package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kommunity/kommunity/webhook"
)

// A chain of redirects longer than MaxRedirects is cut off, each hop
// counted; a slow endpoint times out; a long answer is cut to 200 bytes.
func TestClientLimits(t *testing.T) {
	var hops atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/loop"):
			hops.Add(1)
			http.Redirect(w, r, srv.URL+"/loop", http.StatusTemporaryRedirect)
		case r.URL.Path == "/slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		case r.URL.Path == "/long":
			w.Write([]byte(strings.Repeat("x", 5000)))
		case r.URL.Path == "/ftp":
			http.Redirect(w, r, "ftp://files.example/", http.StatusFound)
		}
	}))
	defer srv.Close()
	c := &webhook.Client{AllowPrivate: true, Timeout: 500 * time.Millisecond, MaxRedirects: 2}
	ctx := context.Background()
	if r := c.Post(ctx, srv.URL+"/loop", nil, []byte(`{}`)); r.Class != "redirect" || hops.Load() != 3 || r.Err == nil || strings.Contains(r.Err.Error(), srv.URL) {
		t.Errorf("redirect loop: class %q after %d hops: %v", r.Class, hops.Load(), r.Err)
	}
	if r := c.Post(ctx, srv.URL+"/ftp", nil, []byte(`{}`)); r.Class != "redirect" {
		t.Errorf("redirect to ftp: class %q: %v", r.Class, r.Err)
	}
	start := time.Now()
	if r := c.Post(ctx, srv.URL+"/slow", nil, []byte(`{}`)); r.Class != "timeout" || time.Since(start) > 1500*time.Millisecond || strings.Contains(r.Err.Error(), srv.URL) {
		t.Errorf("slow endpoint: class %q after %v: %v", r.Class, time.Since(start), r.Err)
	}
	if r := c.Post(ctx, srv.URL+"/long", nil, []byte(`{}`)); r.Class != "" || r.StatusCode != 200 || r.Excerpt != strings.Repeat("x", 200) {
		t.Errorf("long answer: class %q, status %d, excerpt of %d bytes", r.Class, r.StatusCode, len(r.Excerpt))
	}
	if r := (&webhook.Client{}).Post(ctx, srv.URL+"/long", nil, []byte(`{}`)); r.Class != "refused" || r.StatusCode != 0 {
		t.Errorf("default client to loopback: class %q, status %d", r.Class, r.StatusCode)
	}
}
