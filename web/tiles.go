package web

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
)

// DefaultVectorTilesAbove is how many addresses an installation may have
// before the residents' map switches from one GeoJSON document of every
// area to vector tiles: a municipality's few thousand addresses and their
// areas are one small download; a country's are not.
const DefaultVectorTilesAbove = 5000

// mvtType is the media type of a Mapbox Vector Tile.
const mvtType = "application/vnd.mapbox-vector-tile"

func (s *Server) tileRoutes(r *gin.Engine) {
	r.GET("/tiles/:layer/:z/:x/:y", s.tile)
}

// tile answers GET /tiles/{layer}/{z}/{x}/{y}.mvt: 200 with the tile, 204
// for an empty one, 304 when If-None-Match names its ETag; 404 for an
// unknown layer, 400 for a tile outside the grid. Public counts only, so
// any origin may read them (GIS tools, other maps).
func (s *Server) tile(c *gin.Context) {
	y, ok := strings.CutSuffix(c.Param("y"), ".mvt")
	if !ok {
		s.writeError(c, pledge.Errorf(pledge.ENOTFOUND, "tiles are at /tiles/{layer}/{z}/{x}/{y}.mvt"))
		return
	}
	t, err := s.svc.Tile(c.Request.Context(), c.Param("layer"), tileNumber(c.Param("z")), tileNumber(c.Param("x")), tileNumber(y))
	if err != nil {
		s.writeError(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("ETag", t.ETag)
	if t.MaxAge > 0 {
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(math.Ceil(t.MaxAge.Seconds()))))
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case etagMatches(c.GetHeader("If-None-Match"), t.ETag):
		c.Status(http.StatusNotModified)
	case len(t.Data) == 0:
		c.Status(http.StatusNoContent)
	default:
		c.Data(http.StatusOK, mvtType, t.Data)
	}
}

// tileNumber parses a tile coordinate; anything that is not a small
// non-negative integer becomes -1, which Service.Tile rejects as EINVALID.
func tileNumber(s string) int {
	if s == "" || len(s) > 7 || (len(s) > 1 && s[0] == '0') {
		return -1
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return -1
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// etagMatches is If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || v == etag {
			return true
		}
	}
	return false
}

// vectorTileMap switches the page's map to vector tiles when the public
// areas hold more than Config.VectorTilesAbove addresses, with the bound
// of the areas for its first view. addresses is that count.
func (s *Server) vectorTileMap(ctx context.Context, m *mapView, addresses int) error {
	if s.cfg.VectorTilesAbove < 0 || addresses <= s.cfg.VectorTilesAbove {
		return nil
	}
	b, ok, err := s.svc.PublicAreasBound(ctx)
	if err != nil {
		return err
	}
	m.VectorTiles = true
	if ok {
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
		m.Bounds = f(b.Min[0]) + "," + f(b.Min[1]) + "," + f(b.Max[0]) + "," + f(b.Max[1])
	}
	return nil
}

// publicAddresses counts the addresses in areas that are not drafts.
func publicAddresses(areas []pledge.Area) int {
	n := 0
	for _, a := range areas {
		if a.Status != pledge.StatusDraft {
			n += a.Addresses
		}
	}
	return n
}
