package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/report"
	"github.com/kommunity/kommunity/web"
)

// tenderServer serves the demo with the tender download wired and
// returns an admin's API token for it.
func tenderServer(t *testing.T) (*web.Server, string) {
	t.Helper()
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	svc, _ := MustOpenDemoService(t, func() time.Time { return now })
	u := mustUser(t, svc, pledge.InviteRequest{Email: "admin@kommune.example", Name: "Ada", Role: pledge.RoleAdmin})
	tok, _, err := svc.CreateAPIToken(pledge.WithUser(context.Background(), pledge.SystemUser()), u.Email, "tender script", nil)
	if err != nil {
		t.Fatal(err)
	}
	return web.NewServer(svc, web.Config{TenderPackage: tenderPackageFor(svc)}, quietLog()), tok
}

// tenderPackageFor is the tender download wired the way cmd wires it.
func tenderPackageFor(svc *pledge.Service) func(ctx context.Context, code, lang string, w io.Writer) error {
	return func(ctx context.Context, code, lang string, w io.Writer) error {
		data, err := svc.TenderData(ctx, code)
		if err != nil {
			return err
		}
		return report.Write(w, report.Tender{TenderData: data, Association: "Bårsted Borgerforening", Now: svc.Now(), Lang: lang})
	}
}

func getTender(h http.Handler, path, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestTenderDownload(t *testing.T) {
	srv, adminToken := tenderServer(t)

	t.Run("OK", func(t *testing.T) {
		w := getTender(srv, "/api/areas/D001/tender.zip", "Bearer "+adminToken)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if got := w.Header().Get("Content-Type"); got != "application/zip" {
			t.Errorf("Content-Type %q", got)
		}
		if got := w.Header().Get("Content-Disposition"); got != `attachment; filename="tender-D001.zip"` {
			t.Errorf("Content-Disposition %q", got)
		}
		zr, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		if len(names) != 7 || names[0] != report.FilePDF || names[5] != report.FileGeoPackage || names[6] != report.FileManifest {
			t.Errorf("files %v", names)
		}
	})
	t.Run("SchemeAnyCase", func(t *testing.T) {
		if w := getTender(srv, "/api/areas/D001/tender.zip?lang=en", "bearer "+adminToken); w.Code != http.StatusOK {
			t.Errorf("status %d: %s", w.Code, w.Body)
		}
	})

	for _, tc := range []struct {
		name, path, auth string
		status           int
		code             string
	}{
		{"ErrNoToken", "/api/areas/D001/tender.zip", "", http.StatusUnauthorized, pledge.EUNAUTHORIZED},
		{"ErrWrongToken", "/api/areas/D001/tender.zip", "Bearer " + adminToken + "x", http.StatusUnauthorized, pledge.EUNAUTHORIZED},
		{"ErrPrefixOfToken", "/api/areas/D001/tender.zip", "Bearer " + adminToken[:10], http.StatusUnauthorized, pledge.EUNAUTHORIZED},
		{"ErrBasicAuth", "/api/areas/D001/tender.zip", "Basic " + adminToken, http.StatusUnauthorized, pledge.EUNAUTHORIZED},
		{"ErrUnknownArea", "/api/areas/NOPE/tender.zip", "Bearer " + adminToken, http.StatusNotFound, pledge.ENOTFOUND},
		{"ErrLanguage", "/api/areas/D001/tender.zip?lang=fr", "Bearer " + adminToken, http.StatusBadRequest, pledge.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := getTender(srv, tc.path, tc.auth)
			checkJSONError(t, w, tc.status, tc.code)
			if tc.status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

// TestTenderDownloadOff: without a packager wired the endpoint does not
// exist.
func TestTenderDownloadOff(t *testing.T) {
	svc, _ := MustOpenDemoService(t, func() time.Time { return time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC) })
	srv := web.NewServer(svc, web.Config{}, quietLog())
	checkJSONError(t, getTender(srv, "/api/areas/D001/tender.zip", ""), http.StatusNotFound, pledge.ENOTFOUND)
}

func checkJSONError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	var body struct {
		Error struct{ Code, Message string }
	}
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != code || body.Error.Message == "" {
		t.Errorf("body %s (%v), want error code %s", w.Body, err, code)
	}
}
