// The walk-list page's map: every stop of the area's latest walks,
// coloured by its last outcome, the walks' legs (dashed where a volunteer
// drives), and a popup per stop whose buttons record an outcome through
// the API. Plain script, no build step; the page works without it (the
// form with codes records the same outcomes).
(function () {
  'use strict';
  var box = document.getElementById('walk-map');
  if (!box) return;
  var msgEl = document.getElementById('messages');
  var M = msgEl ? JSON.parse(msgEl.textContent) : {};
  var status = document.getElementById('walk-map-status');
  var outcomes = ['visited', 'not_home', 'declined', 'pledged_paper', 'do_not_knock'];
  // The same colours as the legend's dots in app.css.
  var colours = { visited: '#2a9d8f', not_home: '#e9c46a', declined: '#8d99ae', pledged_paper: '#1d3557', do_not_knock: '#d62828', none: '#ffffff' };
  var api = box.getAttribute('data-api');

  function fmt(s) {
    var args = Array.prototype.slice.call(arguments, 1), i = 0;
    return String(s || '').replace(/%s/g, function () { return i < args.length ? String(args[i++]) : ''; });
  }
  function fail() { box.classList.add('failed'); box.textContent = M['walks.map.failed']; box.setAttribute('data-loaded', 'failed'); }
  if (!window.L) { fail(); return; }

  var map = L.map(box, { scrollWheelZoom: false, zoomSnap: 0.25 });
  var tiles = box.getAttribute('data-tiles');
  if (tiles) L.tileLayer(tiles, { maxZoom: 19, attribution: box.getAttribute('data-attribution') || '' }).addTo(map);

  function style(stop) {
    var o = stop.do_not_knock ? 'do_not_knock' : (stop.outcome || 'none');
    return { radius: 7, color: '#1d3557', weight: 2, fillColor: colours[o], fillOpacity: 1 };
  }

  function record(stop, marker, outcome) {
    fetch(api + '/walks/outcomes', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify({ code: stop.code, outcome: outcome })
    }).then(function (r) {
      return r.json().then(function (d) { if (!r.ok) throw new Error((d.error && d.error.message) || r.status); return d; });
    }).then(function (d) {
      stop.outcome = d.outcome; stop.do_not_knock = d.do_not_knock;
      marker.setStyle(style(stop));
      marker.getElement() && marker.getElement().setAttribute('data-outcome', stop.do_not_knock ? 'do_not_knock' : stop.outcome);
      if (status) status.textContent = fmt(M['walks.map.saved'], stop.code, M['walks.outcome.' + d.outcome]);
      map.closePopup();
    }).catch(function (e) { if (status) status.textContent = String(e.message || e); });
  }

  function popup(stop, marker) {
    var div = document.createElement('div');
    div.className = 'walk-popup';
    var h = document.createElement('p');
    var code = document.createElement('strong');
    code.textContent = stop.code;
    h.appendChild(code);
    h.appendChild(document.createTextNode(' ' + stop.text));
    div.appendChild(h);
    outcomes.forEach(function (o) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'outcome-button';
      b.setAttribute('data-outcome', o);
      b.textContent = M['walks.outcome.' + o];
      b.addEventListener('click', function () { record(stop, marker, o); });
      div.appendChild(b);
    });
    return div;
  }

  fetch(api + '/walks', { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (d) {
      var walks = d.walks || [], bounds = [];
      walks.forEach(function (w) { w.stops.forEach(function (s) { bounds.push([s.lat, s.lon]); }); });
      // The view first: Leaflet draws (and gives elements to) layers
      // only on a map with a view.
      if (bounds.length) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
      else map.setView([56, 10.5], 7);
      walks.forEach(function (w) {
        for (var i = 1; i < w.stops.length; i++) {
          var a = w.stops[i - 1], b = w.stops[i];
          L.polyline([[a.lat, a.lon], [b.lat, b.lon]], b.drive ?
            { color: '#e76f51', weight: 3, dashArray: '6 6', interactive: false } :
            { color: '#1d3557', weight: 2, opacity: 0.7, interactive: false }).addTo(map);
        }
        w.stops.forEach(function (s) {
          var m = L.circleMarker([s.lat, s.lon], style(s)).addTo(map);
          // Leaflet sets a string tooltip as HTML; address texts come
          // from imported files, so they go in as text.
          var tip = document.createElement('span');
          tip.textContent = s.code + ' ' + s.text;
          m.bindTooltip(tip);
          m.bindPopup(function () { return popup(s, m); });
          var e = m.getElement();
          if (e) {
            e.setAttribute('data-code', s.code);
            e.setAttribute('data-outcome', s.do_not_knock ? 'do_not_knock' : (s.outcome || 'none'));
          }
        });
      });
      box.setAttribute('data-loaded', 'true');
    })
    .catch(fail);
}());
