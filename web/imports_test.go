package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/web"
)

// TestImportByUpload: an admin uploads an address file; a bad row shows
// as FILE:LINE: field and nothing can be applied; a good file shows its
// counts and is applied whole only when the admin presses Import.
func TestImportByUpload(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	svc, _ := MustOpenDemoService(t, func() time.Time { return now })
	srv := web.NewServer(svc, web.Config{PledgeRateLimit: -1}, quietLog())
	admin := mustUser(t, svc, pledge.InviteRequest{Email: "imp@kommune.example", Name: "Im", Role: pledge.RoleAdmin})
	cl := newClient(t, srv, "198.51.100.21")
	if w := cl.postJSON("/api/session", `{"email":"`+admin.Email+`","password":"`+authzPassword+`"}`); w.Code != 200 {
		t.Fatalf("sign in: %d", w.Code)
	}
	ctx := context.Background()
	as, err := svc.AreaAddresses(ctx, "D001", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := as[0].Point
	upload := func(name, body string) *httptest.ResponseRecorder {
		page := cl.get("/admin/import")
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("csrf_token", hidden(page.Body.String()).Get("csrf_token"))
		mw.WriteField("kind", "addresses")
		mw.WriteField("format", "csv")
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write([]byte(body))
		mw.Close()
		req := httptest.NewRequest(http.MethodPost, "/admin/import", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return cl.do(req)
	}
	before, _, _ := svc.Areas(ctx)
	bad := "id,text,lon,lat,units\nx1,Nyvej 1,10.1,55.2,1\nx2,Nyvej 2,ten,55.2,1\n"
	w := upload("nye.csv", bad)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "nye.csv:3") || strings.Contains(w.Body.String(), `id="apply-form"`) {
		t.Fatalf("a bad file: %d %.2000s", w.Code, w.Body)
	}
	good := "id,text,lon,lat,units\n" +
		"x1,Nyvej 1," + ff(p[0]+0.0001) + "," + ff(p[1]) + ",1\n" +
		"x2,Nyvej 2," + ff(p[0]+0.0002) + "," + ff(p[1]) + ",2\n"
	w = upload("nye.csv", good)
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `id="apply-form"`) || !strings.Contains(body, "data-geojson=") {
		t.Fatalf("preview: %d %.2000s", w.Code, body)
	}
	after, _, _ := svc.Areas(ctx)
	if after[0].Addresses != before[0].Addresses {
		t.Fatal("the preview stored something")
	}
	action := regexp.MustCompile(`action="(/admin/import/[0-9a-f]{32}/apply)"`).FindStringSubmatch(body)
	if action == nil {
		t.Fatal("no apply form")
	}
	w = cl.post(action[1], hidden(body))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `id="import-done"`) {
		t.Fatalf("apply: %d %.1000s", w.Code, w.Body)
	}
	if a, err := svc.Address(ctx, "x2"); err != nil || a.Units != 2 || a.AreaCode != "D001" {
		t.Errorf("imported address %+v %v", a, err)
	}
	// The upload is gone: a second apply finds nothing.
	if w := cl.post(action[1], hidden(body)); w.Code != 404 {
		t.Errorf("second apply: %d", w.Code)
	}
}

func ff(f float64) string { return strings.TrimRight(strings.TrimRight(strconvF(f), "0"), ".") }

func strconvF(f float64) string { return strconv.FormatFloat(f, 'f', 7, 64) }
