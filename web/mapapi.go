package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// areasGeoJSON is the public map layer: every area's polygon with its
// progress, as a GeoJSON FeatureCollection. Counts only, no personal data.
// Coordinates are rounded to 6 decimals (about 10 cm), enough for a map.
func (s *Server) areasGeoJSON(c *gin.Context) {
	areas, err := s.svc.AreasWithGeometry(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	now := s.now()
	fc := geojson.NewFeatureCollection()
	for _, a := range areas {
		if a.Status == pledge.StatusDraft {
			continue
		}
		j := NewAreaJSON(a, now)
		f := geojson.NewFeature(orb.Round(a.Geometry, 1_000_000))
		f.ID = a.Code
		f.Properties = geojson.Properties{
			"code": j.Code, "name": j.Name, "units": j.Units, "pledged_units": j.PledgedUnits,
			"take_up": j.TakeUp, "threshold_percent": j.ThresholdPercent, "threshold_units": j.ThresholdUnits,
			"threshold_met": a.ThresholdMet(), "take_up_band": pledge.TakeUpBand(a), "status": j.Status, "deadline": j.Deadline, "days_left": j.DaysLeft,
		}
		fc.Append(f)
	}
	// Counters move with every pledge: caches must ask again.
	c.Header("Cache-Control", "no-cache")
	c.Header("Content-Type", "application/geo+json")
	c.JSON(http.StatusOK, fc)
}

// nearestAddress answers a click on the map with the nearest address.
func (s *Server) nearestAddress(c *gin.Context) {
	lon, err1 := parseCoord(c.Query("lon"))
	lat, err2 := parseCoord(c.Query("lat"))
	if err1 != nil {
		s.writeError(c, pledge.FieldError("lon", "want a longitude in degrees"))
		return
	}
	if err2 != nil {
		s.writeError(c, pledge.FieldError("lat", "want a latitude in degrees"))
		return
	}
	a, d, err := s.svc.NearestAddress(c.Request.Context(), orb.Point{lon, lat})
	if err != nil {
		s.writeError(c, err)
		return
	}
	j := newAddressesJSON([]pledge.Address{a})[0]
	c.JSON(http.StatusOK, gin.H{"address": j, "distance_m": math.Round(d*10) / 10})
}

func parseCoord(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		err = strconv.ErrSyntax
	}
	return f, err
}
