package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/pledge"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
)

// Imports by upload: the file is kept on the server, read with the same
// readers and rules as `kommunity import`, and previewed (counts, errors
// as FILE:LINE: field, a map); nothing is stored until the admin applies
// it, and then it applies whole or not at all.

// MaxUploadBytes bounds an uploaded import file (a national DAWA address
// file is about 300 MB).
const MaxUploadBytes = 1 << 30

// uploadTTL is how long an upload waits to be applied.
const uploadTTL = time.Hour

// importJob is an upload waiting for its preview to be applied.
type importJob struct {
	Kind     string `json:"kind"` // areas, addresses or roads
	Name     string `json:"name"` // the file's name, for errors
	Format   string `json:"format"`
	CRS      string `json:"crs"`
	IDProp   string `json:"id_prop"`
	NameProp string `json:"name_prop"`
	UserID   int64  `json:"user_id"`
}

// importView is the import page.
type importView struct {
	Job      *importJob
	ID       string
	Read     int
	Counts   []importCount
	Errors   []string
	More     int    // errors not listed
	Map      string // GeoJSON of what would be imported, for the preview map
	Applied  string // the summary after applying
	CanApply bool
}

type importCount struct {
	Label string
	N     int
}

var uploadID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (s *Server) uploadDir() (string, error) {
	dir := filepath.Join(os.TempDir(), "kommunity-uploads")
	return dir, os.MkdirAll(dir, 0o700)
}

// importPage: GET /admin/import.
func (s *Server) importPage(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	if err := s.svc.Can(c.Request.Context(), pledge.ActionImport, ""); err != nil {
		s.renderReason(c, err)
		return
	}
	p, _ := s.accountPage(c, "import.title")
	p.Import = &importView{}
	s.render(c, http.StatusOK, "admin_import", p)
}

// postImport: POST /admin/import (multipart: kind, file, options): keeps
// the file and shows its preview.
func (s *Server) postImport(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	ctx := c.Request.Context()
	if err := s.svc.Can(ctx, pledge.ActionImport, ""); err != nil {
		s.renderReason(c, err)
		return
	}
	p, l := s.accountPage(c, "import.title")
	p.Import = &importView{}
	f := c.Request.PostForm
	job := importJob{Kind: f.Get("kind"), Format: f.Get("format"), CRS: strings.TrimSpace(f.Get("crs")),
		IDProp: strings.TrimSpace(f.Get("id_prop")), NameProp: strings.TrimSpace(f.Get("name_prop")), UserID: pledge.UserFrom(ctx).ID}
	fh, err := c.FormFile("file")
	switch {
	case job.Kind != "areas" && job.Kind != "addresses" && job.Kind != "roads":
		s.formFail(c, l, p, "admin_import", pledge.FieldError("kind", "import areas, addresses or roads"))
		return
	case err != nil:
		s.formFail(c, l, p, "admin_import", pledge.FieldError("file", "choose a file"))
		return
	}
	job.Name = filepath.Base(strings.ReplaceAll(fh.Filename, `\`, "/"))
	dir, err := s.uploadDir()
	if err != nil {
		s.renderError(c, err)
		return
	}
	s.sweepUploads(dir)
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	src, err := fh.Open()
	if err != nil {
		s.renderError(c, err)
		return
	}
	dst, err := os.OpenFile(filepath.Join(dir, id), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err == nil {
		_, err = io.Copy(dst, src)
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
	}
	src.Close()
	if err == nil {
		var meta []byte
		meta, _ = json.Marshal(job)
		err = os.WriteFile(filepath.Join(dir, id+".json"), meta, 0o600)
	}
	if err != nil {
		s.renderError(c, err)
		return
	}
	p.Import.ID, p.Import.Job = id, &job
	s.withMap(p)
	if err := s.preview(c, l, p.Import, filepath.Join(dir, id)); err != nil {
		s.removeUpload(dir, id)
		s.formFail(c, l, p, "admin_import", err)
		return
	}
	if !p.Import.CanApply {
		s.removeUpload(dir, id)
	}
	s.render(c, http.StatusOK, "admin_import", p)
}

// preview reads the kept file and fills v with what the import would do.
func (s *Server) preview(c *gin.Context, l *Locale, v *importView, path string) error {
	ctx := c.Request.Context()
	job := v.Job
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	crs, err := jobCRS(job)
	if err != nil {
		return err
	}
	switch job.Kind {
	case "areas":
		feats, _, err := geo.ReadAreas(file, job.Name, geo.AreaReadOptions{IDProp: job.IDProp, NameProp: job.NameProp, CRS: crs})
		if err != nil {
			return s.listErrors(l, v, err)
		}
		pv, err := s.svc.PreviewAreas(ctx, feats)
		if err != nil {
			return err
		}
		v.Read = pv.Read
		v.Counts = []importCount{{l.T("import.read"), pv.Read}, {l.T("import.created"), len(pv.Created)}, {l.T("import.updated"), len(pv.Updated)}}
		fc := geojson.NewFeatureCollection()
		for _, f := range feats {
			g := geojson.NewFeature(f.Polygon)
			g.Properties = geojson.Properties{"code": f.Code, "name": f.Name}
			fc.Append(g)
		}
		b, _ := json.Marshal(fc)
		v.Map, v.CanApply = string(b), pv.Read > 0
	case "addresses":
		rd, err := geo.NewAddressReader(file, job.Name, geo.AddressReadOptions{Format: job.Format, CRS: crs})
		if err != nil {
			return s.listErrors(l, v, err)
		}
		pv, err := s.svc.PreviewAddresses(ctx, rd, pledge.AddressImportOptions{File: job.Name})
		if err != nil {
			return s.listErrors(l, v, err)
		}
		v.Read = pv.Read
		v.Counts = []importCount{{l.T("import.read"), pv.Read}, {l.T("import.valid"), pv.Valid}, {l.T("import.unassigned"), pv.Unassigned},
			{l.T("import.rejected"), len(pv.Rejected)}}
		if len(pv.Rejected) > 0 {
			s.listErrors(l, v, pv.Rejected)
		}
		fc := geojson.NewFeatureCollection()
		for _, pt := range pv.Sample {
			fc.Append(geojson.NewFeature(pt))
		}
		b, _ := json.Marshal(fc)
		v.Map, v.CanApply = string(b), pv.Valid > 0 && len(pv.Rejected) == 0
	case "roads":
		lines, err := geo.ReadRoads(file, job.Name)
		if err != nil {
			return s.listErrors(l, v, err)
		}
		km := 0.0
		fc := geojson.NewFeatureCollection()
		for i, ln := range lines {
			km += orbgeo.Length(ln) / 1000
			if i < pledge.MaxPreviewPoints {
				fc.Append(geojson.NewFeature(ln))
			}
		}
		v.Read = len(lines)
		v.Counts = []importCount{{l.T("import.lines"), len(lines)}, {l.T("import.km"), int(km + 0.5)}}
		b, _ := json.Marshal(fc)
		v.Map, v.CanApply = string(b), len(lines) > 0
	}
	return nil
}

// listErrors puts the file's errors (FILE:LINE: field: reason) on the
// page; the import cannot be applied. It returns nil for input errors,
// which the page shows, and err otherwise.
func (s *Server) listErrors(l *Locale, v *importView, err error) error {
	var ies geo.InputErrors
	var ie *geo.InputError
	switch {
	case errors.As(err, &ies):
	case errors.As(err, &ie):
		ies = geo.InputErrors{ie}
	default:
		return err
	}
	for i, e := range ies {
		if i == 50 {
			v.More = len(ies) - 50
			break
		}
		v.Errors = append(v.Errors, e.Error())
	}
	v.CanApply = false
	return nil
}

func jobCRS(job *importJob) (*geo.CRS, error) {
	if job.CRS == "" {
		return nil, nil
	}
	crs, err := geo.ParseCRS(job.CRS)
	if err != nil {
		return nil, pledge.FieldError("crs", "%s", err.Error())
	}
	return crs, nil
}

// postApplyImport: POST /admin/import/{id}/apply runs the previewed
// import, all or nothing, and shows its summary.
func (s *Server) postApplyImport(c *gin.Context) {
	if !s.requireUser(c) {
		return
	}
	ctx := c.Request.Context()
	if err := s.svc.Can(ctx, pledge.ActionImport, ""); err != nil {
		s.renderReason(c, err)
		return
	}
	id := c.Param("id")
	dir, err := s.uploadDir()
	if err != nil || !uploadID.MatchString(id) {
		s.renderError(c, notFound, "import.expired")
		return
	}
	meta, err := os.ReadFile(filepath.Join(dir, id+".json"))
	var job importJob
	if err != nil || json.Unmarshal(meta, &job) != nil || job.UserID != pledge.UserFrom(ctx).ID {
		s.renderError(c, notFound, "import.expired")
		return
	}
	defer s.removeUpload(dir, id)
	p, l := s.accountPage(c, "import.title")
	p.Import = &importView{Job: &job}
	file, err := os.Open(filepath.Join(dir, id))
	if err != nil {
		s.renderError(c, notFound, "import.expired")
		return
	}
	defer file.Close()
	crs, err := jobCRS(&job)
	if err != nil {
		s.formFail(c, l, p, "admin_import", err)
		return
	}
	// A large import outlives the request timeout: it runs to its end on
	// its own context, as the CLI's would.
	ictx := pledge.WithUser(context.WithoutCancel(ctx), pledge.UserFrom(ctx))
	var summary string
	switch job.Kind {
	case "areas":
		feats, _, rerr := geo.ReadAreas(file, job.Name, geo.AreaReadOptions{IDProp: job.IDProp, NameProp: job.NameProp, CRS: crs})
		err = rerr
		if err == nil {
			var res pledge.AreaImportResult
			if res, err = s.svc.ImportAreas(ictx, feats, pledge.AreaImport{}); err == nil {
				summary = l.T("import.done.areas", res.Read, res.Created, res.Updated, res.Reassigned)
			}
		}
	case "addresses":
		rd, rerr := geo.NewAddressReader(file, job.Name, geo.AddressReadOptions{Format: job.Format, CRS: crs})
		err = rerr
		if err == nil {
			var res pledge.AddressImportResult
			if res, err = s.svc.ImportAddresses(ictx, rd, pledge.AddressImportOptions{File: job.Name}); err == nil {
				summary = l.T("import.done.addresses", res.Read, res.Imported, res.Updated, res.Unchanged, res.Unassigned)
			}
		}
	case "roads":
		lines, rerr := geo.ReadRoads(file, job.Name)
		err = rerr
		if err == nil {
			var n int
			if n, err = s.svc.ImportRoads(ictx, lines); err == nil {
				summary = l.T("import.done.roads", len(lines), n)
			}
		}
	}
	if err != nil {
		if lerr := s.listErrors(l, p.Import, err); lerr == nil {
			p.FormError = l.T("import.nothing_changed")
			s.render(c, http.StatusBadRequest, "admin_import", p)
			return
		}
		s.formFail(c, l, p, "admin_import", err)
		return
	}
	p.Import.Applied = summary
	s.render(c, http.StatusOK, "admin_import", p)
}

func (s *Server) removeUpload(dir, id string) {
	os.Remove(filepath.Join(dir, id))
	os.Remove(filepath.Join(dir, id+".json"))
}

// sweepUploads removes uploads older than uploadTTL.
func (s *Server) sweepUploads(dir string) {
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > uploadTTL {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
