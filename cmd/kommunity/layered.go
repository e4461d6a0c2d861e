package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kommunity/kommunity/geo"
	"github.com/kommunity/kommunity/geo/gpkg"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Layered GIS files, told apart by their extension.
const (
	kindShapefile = "Shapefile"
	kindGPKG      = "GeoPackage"
)

// layeredKind says whether path is a Shapefile or a GeoPackage by its
// extension, or "" for the text formats.
func layeredKind(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".shp":
		return kindShapefile
	case ".gpkg":
		return kindGPKG
	}
	return ""
}

// openLayered opens a Shapefile (the .shp with the .dbf, .prj and .cpg
// beside it) or a GeoPackage layer, with a progress bar on a terminal.
func openLayered(ctx context.Context, path, kind, layer, desc string, stderr io.Writer) (*geo.VectorLayer, func(), error) {
	if kind == kindGPKG {
		l, err := gpkg.OpenLayer(ctx, path, filepath.Base(path), layer)
		if err != nil {
			return nil, nil, err
		}
		if tick := progressCounter(l.Count, desc, stderr); tick != nil {
			next := l.Next
			l.Next = func() (geo.VectorFeature, error) {
				f, err := next()
				tick()
				return f, err
			}
		}
		return l.VectorLayer, func() { l.Close() }, nil
	}
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	base := strings.TrimSuffix(path, filepath.Ext(path))
	// sibling opens the part with extension ext (either case, as Windows
	// tools write both); it returns nil when it is absent.
	sibling := func(ext string) (*os.File, int64, string, error) {
		for _, e := range []string{ext, strings.ToUpper(ext)} {
			f, err := os.Open(base + e)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, 0, "", err
			}
			files = append(files, f)
			st, err := f.Stat()
			if err != nil {
				return nil, 0, "", err
			}
			return f, st.Size(), filepath.Base(base + e), nil
		}
		return nil, 0, filepath.Base(base + ext), nil
	}
	shp, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	files = append(files, shp)
	st, err := shp.Stat()
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	p := geo.ShapefileParts{SHP: progressReader(shp, desc, stderr), SHPName: filepath.Base(path), SHPSize: st.Size()}
	for _, part := range []struct {
		ext  string
		r    *io.Reader
		name *string
		size *int64
	}{{".dbf", &p.DBF, &p.DBFName, &p.DBFSize}, {".prj", &p.PRJ, &p.PRJName, nil}, {".cpg", &p.CPG, &p.CPGName, nil}} {
		f, size, name, err := sibling(part.ext)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		*part.name = name
		if f != nil {
			*part.r = f
		}
		if part.size != nil {
			*part.size = size
		}
	}
	if p.DBF == nil {
		closeAll()
		return nil, nil, geo.InputErrors{{File: p.SHPName, Reason: fmt.Sprintf("no %s beside it: a Shapefile needs its .shp and .dbf", p.DBFName)}}
	}
	l, err := geo.OpenShapefile(p)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return l, closeAll, nil
}

// progressCounter returns a function to call once per feature that moves a
// progress bar of n features, when stderr is a terminal; else nil.
func progressCounter(n int, desc string, stderr io.Writer) func() {
	w, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(w.Fd())) || n <= 0 {
		return nil
	}
	bar := progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return func() { bar.Add(1) }
}
