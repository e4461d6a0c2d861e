package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
)

// Templates and static files live in the binary, so one file deploys.
//
//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// assetVersion is a hash of every static file. It is appended to static
// URLs, so browsers may cache them for a year and still see a new build.
func assetVersion() string {
	h := sha256.New()
	var names []string
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		b, _ := staticFS.ReadFile(n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// parsePages parses each page template together with the layout and the
// shared parts, one set per page, so every page can define "content".
func parsePages(version string) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"static": func(name string) string { return "/static/" + name + "?v=" + version },
		"add":    func(a, b int) int { return a + b },
		"list":   func(s ...string) []string { return s },
	}
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/_*.html", "templates/"+name)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(name, ".html")] = t
	}
	return pages, nil
}

// serveStatic serves the embedded static files. Versioned URLs are
// immutable; without ?v= a short cache keeps old links working.
func (s *Server) serveStatic() gin.HandlerFunc {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServer(http.FS(sub))
	return func(c *gin.Context) {
		name := path.Clean(c.Param("filepath"))
		if name == "/" || strings.HasSuffix(c.Param("filepath"), "/") {
			s.renderError(c, notFound)
			return
		}
		if _, err := fs.Stat(sub, strings.TrimPrefix(name, "/")); err != nil {
			s.renderError(c, notFound)
			return
		}
		if c.Query("v") != "" {
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Header("Cache-Control", "public, max-age=300")
		}
		c.Header("X-Content-Type-Options", "nosniff")
		req := c.Request.Clone(c.Request.Context())
		req.URL.Path = name
		files.ServeHTTP(c.Writer, req)
	}
}
