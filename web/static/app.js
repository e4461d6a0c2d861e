// kommunity residents' pages: autocomplete, map and price. Plain script, no
// build step. Every text comes from the page's message catalogue
// (#messages); the pages work without this script, only less comfortably.
(function () {
  'use strict';

  var msgEl = document.getElementById('messages');
  var M = msgEl ? JSON.parse(msgEl.textContent) : {};

  // fmt fills %s placeholders in order.
  function fmt(s) {
    var args = Array.prototype.slice.call(arguments, 1), i = 0;
    return String(s || '').replace(/%s/g, function () { return i < args.length ? String(args[i++]) : ''; });
  }

  function int(n) {
    var s = String(Math.abs(Math.trunc(n))), out = '';
    for (var i = 0; i < s.length; i++) {
      if (i > 0 && (s.length - i) % 3 === 0) out += M['num.thousands'];
      out += s[i];
    }
    return (n < 0 ? '-' : '') + out;
  }

  // money formats øre like the server's Locale.Money: whole kroner when
  // whole ("4.250 kr.", "DKK 4,250"), else with two decimals.
  function money(ore) {
    var neg = ore < 0; ore = Math.abs(Math.round(ore));
    var s = int(Math.floor(ore / 100)), frac = ore % 100;
    if (frac) s += M['num.decimal'] + (frac < 10 ? '0' : '') + frac;
    return fmt(M['num.money'], (neg ? '-' : '') + s);
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  function addressURL(id) { return '/address?id=' + encodeURIComponent(id); }

  // --- Address search with autocomplete (WAI-ARIA combobox with listbox).
  function setupSearch() {
    var input = document.getElementById('q'), list = document.getElementById('q-list');
    if (!input || !list) return;
    var status = document.getElementById('q-status');
    var items = [], active = -1, timer = null, ctrl = null;

    function close() {
      list.hidden = true; list.textContent = ''; items = []; active = -1;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
    }
    function highlight(i) {
      if (active >= 0 && items[active]) items[active].el.classList.remove('active');
      active = i;
      if (i < 0) { input.removeAttribute('aria-activedescendant'); return; }
      items[i].el.classList.add('active');
      items[i].el.setAttribute('aria-selected', 'true');
      input.setAttribute('aria-activedescendant', items[i].el.id);
      items[i].el.scrollIntoView({ block: 'nearest' });
    }
    function choose(i) { if (items[i]) window.location.href = addressURL(items[i].id); }
    function show(addresses, q) {
      // Keep the highlighted address when a later answer lists it again,
      // so a keypress made while typing is not lost.
      var keep = active >= 0 && items[active] ? items[active].id : null;
      list.textContent = ''; items = []; active = -1;
      list.setAttribute('data-q', q);
      if (!addresses.length) {
        list.appendChild(el('li', { 'class': 'none', role: 'option', 'aria-disabled': 'true', id: 'q-none' }, M['search.none']));
        if (status) status.textContent = M['search.none'];
      } else if (status) {
        status.textContent = '';
      }
      addresses.forEach(function (a, i) {
        var li = el('li', { role: 'option', id: 'q-opt-' + i, 'aria-selected': 'false', 'data-id': a.address_id });
        li.appendChild(el('span', { 'class': 'text' }, a.text));
        li.appendChild(el('span', { 'class': 'muted' }, fmt(M['address.pledged_of'], int(a.pledged_units), int(a.units))));
        li.addEventListener('mousedown', function (ev) { ev.preventDefault(); choose(i); });
        list.appendChild(li);
        items.push({ id: a.address_id, el: li });
        if (a.address_id === keep) highlight(i);
      });
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    }
    function lookup() {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      if (ctrl) ctrl.abort();
      ctrl = new AbortController();
      fetch('/api/addresses?limit=8&q=' + encodeURIComponent(q), { signal: ctrl.signal, headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : { addresses: [] }; })
        .then(function (d) { if (input.value.trim() === q) show(d.addresses || [], q); })
        .catch(function () { /* aborted or offline: the form still submits */ });
    }
    input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(lookup, 120); });
    input.addEventListener('keydown', function (ev) {
      if (ev.key === 'ArrowDown' && items.length) {
        ev.preventDefault();
        if (active >= 0) items[active].el.setAttribute('aria-selected', 'false');
        highlight((active + 1) % items.length);
      } else if (ev.key === 'ArrowUp' && items.length) {
        ev.preventDefault();
        if (active >= 0) items[active].el.setAttribute('aria-selected', 'false');
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (ev.key === 'Enter' && active >= 0) {
        ev.preventDefault(); choose(active);
      } else if (ev.key === 'Escape') {
        close();
      }
    });
    // Enter on a highlighted suggestion opens it instead of the search page
    // (some input methods send the submit even when keydown was handled).
    if (input.form) {
      input.form.addEventListener('submit', function (ev) {
        if (active >= 0 && items[active]) { ev.preventDefault(); choose(active); }
      });
    }
    input.addEventListener('blur', function () { setTimeout(close, 150); });
  }

  // --- Map: areas coloured by take-up against the threshold; a click finds
  // the nearest address. Works without tiles: the areas are vector layers.
  var bandColours = ['#e07a5f', '#f2cc8f', '#81b29a', '#2a7f62'];
  function bandOf(p) {
    if (typeof p.take_up_band === 'number') return p.take_up_band;
    if (p.threshold_met) return 3;
    if (!p.threshold_percent) return 0;
    var r = p.take_up * 100 / p.threshold_percent;
    return r >= 2 / 3 ? 2 : r >= 1 / 3 ? 1 : 0;
  }
  function percent(f) {
    var s = String(Math.round(f * 1000) / 10).replace('.', M['num.decimal']);
    return M['num.thousands'] === '.' ? s + ' %' : s + '%';
  }

  function canDraw2D() {
    try { return !!document.createElement('canvas').getContext('2d'); } catch (e) { return false; }
  }

  // The small installation's layer: every area in one GeoJSON document,
  // with a tooltip each.
  function areaGeoJSON(map, box, hasPoint) {
    fetch('/api/areas.geojson', { headers: { Accept: 'application/geo+json' } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (fc) {
        var layer = L.geoJSON(fc, {
          style: function (f) {
            return { color: '#3d405b', weight: 1.5, fillColor: bandColours[bandOf(f.properties)], fillOpacity: 0.7 };
          },
          onEachFeature: function (f, l) {
            l.bindTooltip(fmt(M['map.area_tooltip'], f.properties.name, percent(f.properties.take_up)), { sticky: true });
          }
        }).addTo(map);
        if (!hasPoint && layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false });
        box.setAttribute('data-layer', 'geojson');
        box.setAttribute('data-loaded', 'true');
      })
      .catch(function () { box.setAttribute('data-loaded', 'failed'); });
  }

  // The large installation's layers: areas (and, from zoom 13, addresses)
  // from the server's vector tiles, drawn by protomaps-leaflet on a 2-D
  // canvas (no WebGL). A click selects the area under it from the tile's
  // own data. Returns { select(latlng) }.
  function areaTiles(map, box, hasPoint) {
    var P = window.protomapsL, selected = null;
    var b = (box.getAttribute('data-bounds') || '').split(',').map(parseFloat);
    if (!hasPoint && b.length === 4 && !b.some(isNaN)) {
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [8, 8], animate: false });
    }
    var isSelected = function (f) { return !!f && selected !== null && f.props.code === selected; };
    var areas = P.leafletLayer({
      url: '/tiles/areas/{z}/{x}/{y}.mvt', levelDiff: 0, maxDataZoom: 16, attribution: '',
      paintRules: [
        { dataLayer: 'areas', symbolizer: new P.PolygonSymbolizer({
          fill: function (z, f) { return bandColours[f && f.props.take_up_band] || bandColours[0]; }, opacity: 0.7 }) },
        { dataLayer: 'areas', symbolizer: new P.LineSymbolizer({
          color: function (z, f) { return isSelected(f) ? '#1d3557' : '#3d405b'; },
          width: function (z, f) { return isSelected(f) ? 4 : 1.5; } }) }
      ],
      labelRules: []
    });
    areas.on('load', function () {
      box.setAttribute('data-layer', 'tiles');
      box.setAttribute('data-loaded', 'true');
    });
    areas.on('tileerror', function () { box.setAttribute('data-loaded', 'failed'); });
    areas.addTo(map);
    // Address points only where they can be told apart; the server sends
    // nothing below zoom 13 either.
    P.leafletLayer({
      url: '/tiles/addresses/{z}/{x}/{y}.mvt', levelDiff: 0, maxDataZoom: 16, minZoom: 13, attribution: '',
      paintRules: [{ dataLayer: 'addresses', symbolizer: new P.CircleSymbolizer({
        radius: 3, fill: function (z, f) { return f && f.props.pledged_units > 0 ? '#2a7f62' : '#ffffff'; },
        stroke: '#1d3557', width: 1 }) }],
      labelRules: []
    }).addTo(map);

    var info = document.getElementById('selected-area');
    return {
      select: function (ll) {
        var picked = areas.queryTileFeaturesDebug(ll.lng, ll.lat).get('') || [];
        var hit = null;
        picked.forEach(function (p) { if (p.layerName === 'areas' && !hit) hit = p.feature.props; });
        selected = hit ? hit.code : null;
        box.setAttribute('data-selected', selected || '');
        if (info) {
          info.hidden = !hit;
          info.textContent = hit ? fmt(M['map.area_tooltip'], hit.name, percent(hit.units ? hit.pledged_units / hit.units : 0)) : '';
        }
        document.querySelectorAll('.area.selected').forEach(function (e) { e.classList.remove('selected'); });
        var item = hit && document.getElementById('area-' + hit.code);
        if (item) item.classList.add('selected');
        areas.rerenderTiles();
      }
    };
  }

  function setupMap() {
    var box = document.getElementById('map');
    if (!box) return;
    if (!window.L) { box.classList.add('failed'); box.textContent = M['map.failed']; return; }
    var map = L.map(box, { scrollWheelZoom: false, zoomSnap: 0.25 });
    var tiles = box.getAttribute('data-tiles');
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: box.getAttribute('data-attribution') || '' }).addTo(map);
    }
    var lon = parseFloat(box.getAttribute('data-lon')), lat = parseFloat(box.getAttribute('data-lat'));
    var hasPoint = !isNaN(lon) && !isNaN(lat);
    if (hasPoint) {
      map.setView([lat, lon], 16);
      L.circleMarker([lat, lon], { radius: 8, color: '#1d3557', weight: 3, fillColor: '#ffffff', fillOpacity: 1, interactive: false }).addTo(map);
    } else {
      map.setView([56, 10.5], 7);
    }
    var vt = null;
    if (box.getAttribute('data-vector-tiles') === 'true' && window.protomapsL && canDraw2D()) {
      vt = areaTiles(map, box, hasPoint);
    } else {
      areaGeoJSON(map, box, hasPoint);
    }

    var out = document.getElementById('nearest'), marker = null;
    map.on('click', function (ev) {
      if (vt) vt.select(ev.latlng);
      if (out) out.textContent = M['map.loading'];
      fetch('/api/addresses/nearest?lon=' + ev.latlng.lng.toFixed(6) + '&lat=' + ev.latlng.lat.toFixed(6))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (!out) return;
          out.textContent = '';
          if (!d) { out.textContent = M['map.none_near']; return; }
          var a = d.address;
          out.appendChild(el('span', {}, M['map.nearest'] + ' '));
          out.appendChild(el('a', { href: addressURL(a.address_id), id: 'nearest-link' }, a.text));
          out.appendChild(el('span', { 'class': 'muted' }, ' (' + fmt(M['address.pledged_of'], int(a.pledged_units), int(a.units)) + ')'));
          if (marker) map.removeLayer(marker);
          marker = L.circleMarker([a.lat, a.lon], { radius: 7, color: '#1d3557', weight: 2, fillColor: '#f1faee', fillOpacity: 1 })
            .addTo(map).bindPopup(el('a', { href: addressURL(a.address_id) }, a.text)).openPopup();
        })
        .catch(function () { if (out) out.textContent = M['map.none_near']; });
    });
  }

  // priceCurve draws the household share against take-up as a small SVG
  // line, from the threshold to 100 %, with its two ends labelled.
  function priceCurve(points, kr) {
    if (points.length < 2) return null;
    var ns = 'http://www.w3.org/2000/svg';
    var xs = points.map(function (p) { return p.take_up_percent; });
    var ys = points.map(function (p) { return p.household_share; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y1 = Math.max.apply(null, ys);
    if (!(x1 > x0) || !(y1 > 0)) return null;
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 100 40');
    svg.setAttribute('class', 'price-curve');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', fmt(M['price.curve'], kr(ys[xs.indexOf(x0)]), percent(x0 / 100), kr(ys[xs.indexOf(x1)])));
    var line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', points.map(function (p) {
      return ((p.take_up_percent - x0) / (x1 - x0) * 96 + 2).toFixed(2) + ',' + (38 - p.household_share / y1 * 34).toFixed(2);
    }).join(' '));
    svg.appendChild(line);
    var fig = el('figure', { 'class': 'price-curve-box' });
    fig.appendChild(svg);
    fig.appendChild(el('figcaption', { 'class': 'hint' }, fmt(M['price.curve'], kr(ys[xs.indexOf(x0)]), percent(x0 / 100), kr(ys[xs.indexOf(x1)]))));
    return fig;
  }

  // --- Price per household, from the cost model when it exists. Until
  // then the endpoint answers 404 and nothing is shown.
  function setupPrice() {
    var seen = {};
    document.querySelectorAll('[data-cost-area]').forEach(function (box) {
      var code = box.getAttribute('data-cost-area');
      if (!seen[code]) {
        seen[code] = fetch('/api/areas/' + encodeURIComponent(code) + '/cost/curve', { headers: { Accept: 'application/json' } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .catch(function () { return null; });
      }
      seen[code].then(function (d) {
        if (!d) return;
        box.textContent = '';
        // Estimates in whole kroner: øre would claim a precision they lack.
        var kr = function (ore) { return money(Math.round(ore / 100) * 100); };
        // Below the threshold the price at the threshold is the headline:
        // what a household would pay if the area is built at all. The
        // price at today's few pledges would only frighten neighbours off.
        var thr = (d.points || []).filter(function (p) { return p.threshold; })[0];
        var pledged = d.current ? d.current.pledged_units : 0;
        if (thr && pledged < d.threshold_units) {
          box.appendChild(el('p', { 'class': 'price-threshold' }, fmt(M['price.at_threshold'], percent(thr.take_up_percent / 100), kr(thr.household_share))));
        } else if (d.current && typeof d.current.household_share === 'number') {
          box.appendChild(el('p', { 'class': 'price-now' }, fmt(M['price.now'], kr(d.current.household_share))));
        }
        var curve = priceCurve(d.points || [], kr);
        if (curve) box.appendChild(curve);
        (d.if_more_join || []).slice(0, 2).forEach(function (m) {
          if (typeof m.household_share !== 'number' || !(m.more_households > 0)) return;
          var key = m.more_households === 1 ? 'price.more.one' : 'price.more.other';
          box.appendChild(el('p', { 'class': 'price-more' }, fmt(M[key], int(m.more_households), kr(m.household_share))));
        });
        box.hidden = !box.firstChild;
      });
    });
  }

  // After a failed post, put the keyboard on the first field to fix.
  function focusFirstError() {
    var bad = document.querySelector('[aria-invalid="true"]') || document.getElementById('form-error');
    if (bad) bad.focus();
  }

  // --- Providers' map of tenders: each listed area's outline from the
  // OGC API (one feature each, so a national installation sends only the
  // areas in the list), coloured by whether its tender is open; a click
  // opens the area's tender page. Works without base-map tiles.
  function setupTenderMap() {
    var box = document.getElementById('tender-map');
    if (!box) return;
    if (!window.L) { box.classList.add('failed'); box.textContent = M['map.failed']; return; }
    var map = L.map(box, { scrollWheelZoom: false, zoomSnap: 0.25 }).setView([56, 10.5], 7);
    var tiles = box.getAttribute('data-tiles');
    if (tiles) L.tileLayer(tiles, { maxZoom: 19, attribution: box.getAttribute('data-attribution') || '' }).addTo(map);
    var codes = (box.getAttribute('data-codes') || '').split(',').filter(Boolean);
    var rows = {};
    document.querySelectorAll('#tenders tr[data-code]').forEach(function (tr) { rows[tr.getAttribute('data-code')] = tr.getAttribute('data-status'); });
    var group = L.featureGroup().addTo(map), drawn = 0;
    Promise.all(codes.map(function (code) {
      return fetch('/ogc/collections/areas/items/' + encodeURIComponent(code), { headers: { Accept: 'application/geo+json' } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (f) {
          var open = rows[code] === 'tender_open';
          L.geoJSON(f, { style: { color: '#1d3557', weight: 2, fillColor: open ? '#2a7f62' : '#f2cc8f', fillOpacity: 0.6 } })
            .bindTooltip(f.properties.name + ' (' + code + ')', { sticky: true })
            .on('click', function () { window.location.href = '/provider/areas/' + encodeURIComponent(code); })
            .addTo(group);
          drawn++;
        });
    })).then(function () {
      if (drawn && group.getBounds().isValid()) map.fitBounds(group.getBounds(), { padding: [8, 8], animate: false });
      box.setAttribute('data-drawn', String(drawn));
      box.setAttribute('data-loaded', 'true');
    }).catch(function () { box.setAttribute('data-loaded', 'failed'); });
  }

  // --- The coordinator's map of an area's addresses, coloured by whether
  // they have pledged (counts from the public API; the names are in the
  // list below the map, never on it).
  function setupAreaMap() {
    var box = document.getElementById('area-map');
    if (!box) return;
    if (!window.L) { box.classList.add('failed'); box.textContent = M['map.failed']; return; }
    var code = box.getAttribute('data-area');
    var map = L.map(box, { scrollWheelZoom: false, zoomSnap: 0.25 }).setView([56, 10.5], 7);
    var tiles = box.getAttribute('data-tiles');
    if (tiles) L.tileLayer(tiles, { maxZoom: 19, attribution: box.getAttribute('data-attribution') || '' }).addTo(map);
    var area = fetch('/ogc/collections/areas/items/' + encodeURIComponent(code), { headers: { Accept: 'application/geo+json' } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (f) {
        var layer = L.geoJSON(f, { style: { color: '#1d3557', weight: 2, fillOpacity: 0.05 }, interactive: false }).addTo(map);
        if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false });
      });
    var json = function (path) {
      return fetch(path, { headers: { Accept: 'application/json' } }).then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
    };
    // Walk outcomes and open challenges colour the addresses that have
    // not pledged; either list may be out of reach (then it is left out).
    var optional = function (p) { return p.catch(function () { return null; }); };
    var base = '/api/areas/' + encodeURIComponent(code);
    var addrs = Promise.all([json(base + '/addresses?limit=100000'), optional(json(base + '/walks/outcomes')), optional(json(base + '/challenges'))])
      .then(function (res) {
        var outcome = {}, challenged = {}, n = 0;
        ((res[1] || {}).outcomes || []).forEach(function (o) { outcome[o.address_id] = o.do_not_knock ? 'do_not_knock' : o.outcome; });
        ((res[2] || {}).challenges || []).forEach(function (c) { if (c.status === 'open') challenged[c.address_id] = true; });
        var styles = { pledged: '#2a7f62', challenged: '#7b2cbf', do_not_knock: '#212529', not_home: '#f4a261', open: '#ffffff' };
        res[0].addresses.forEach(function (a) {
          var st = a.pledged_units > 0 ? 'pledged' : challenged[a.address_id] ? 'challenged' :
            outcome[a.address_id] === 'do_not_knock' ? 'do_not_knock' : outcome[a.address_id] === 'not_home' ? 'not_home' : 'open';
          L.circleMarker([a.lat, a.lon], { radius: 4, weight: 1, color: '#1d3557', fillOpacity: 1,
            fillColor: styles[st], className: 'addr-' + st.replace(/_/g, '-') })
            .bindTooltip(a.text + ' (' + fmt(M['address.pledged_of'], int(a.pledged_units), int(a.units)) + ')').addTo(map);
          n++;
        });
        box.setAttribute('data-drawn', String(n));
      });
    Promise.all([area, addrs]).then(function () { box.setAttribute('data-loaded', 'true'); })
      .catch(function () { box.setAttribute('data-loaded', 'failed'); });
  }

  // --- The settings page's POP: the area's outline, a marker at the POP,
  // and a click that moves it and fills in the longitude and latitude.
  function setupPOPMap() {
    var box = document.getElementById('pop-map');
    if (!box) return;
    if (!window.L) { box.classList.add('failed'); box.textContent = M['map.failed']; return; }
    var code = box.getAttribute('data-area');
    var lonIn = document.getElementById('c-pop-lon'), latIn = document.getElementById('c-pop-lat');
    var map = L.map(box, { scrollWheelZoom: false, zoomSnap: 0.25 }).setView([56, 10.5], 7);
    var tiles = box.getAttribute('data-tiles');
    if (tiles) L.tileLayer(tiles, { maxZoom: 19, attribution: box.getAttribute('data-attribution') || '' }).addTo(map);
    var marker = null;
    function place(lat, lon) {
      if (marker) marker.setLatLng([lat, lon]);
      else marker = L.circleMarker([lat, lon], { radius: 8, color: '#c81e2d', weight: 3, fillColor: '#fff', fillOpacity: 1, className: 'pop-marker' }).addTo(map);
    }
    var lon0 = parseFloat(lonIn.value), lat0 = parseFloat(latIn.value);
    if (!isNaN(lon0) && !isNaN(lat0)) place(lat0, lon0);
    fetch('/ogc/collections/areas/items/' + encodeURIComponent(code), { headers: { Accept: 'application/geo+json' } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (f) {
        var layer = L.geoJSON(f, { style: { color: '#1d3557', weight: 2, fillOpacity: 0.05 }, interactive: false }).addTo(map);
        if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false });
        box.setAttribute('data-loaded', 'true');
      })
      .catch(function () { box.setAttribute('data-loaded', 'failed'); });
    map.on('click', function (ev) {
      lonIn.value = ev.latlng.lng.toFixed(6);
      latIn.value = ev.latlng.lat.toFixed(6);
      place(ev.latlng.lat, ev.latlng.lng);
    });
  }

  // --- Imports: the upload with a progress bar, then the preview's map.
  function setupImport() {
    var form = document.getElementById('import-form');
    var bar = document.getElementById('upload-progress');
    if (form && bar && window.XMLHttpRequest && window.FormData) {
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var xhr = new XMLHttpRequest();
        xhr.open('POST', form.action);
        bar.hidden = false;
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(e.loaded * 100 / e.total); };
        xhr.onload = function () {
          // The answer is the preview page: show it as the browser would.
          document.open(); document.write(xhr.responseText); document.close();
          history.replaceState(null, '', form.action);
        };
        xhr.onerror = function () { form.submit(); };
        xhr.send(new FormData(form));
      });
    }
    var box = document.getElementById('import-map');
    if (!box || !window.L) return;
    var map = L.map(box, { scrollWheelZoom: false, zoomSnap: 0.25 }).setView([56, 10.5], 7);
    var tiles = box.getAttribute('data-tiles');
    if (tiles) L.tileLayer(tiles, { maxZoom: 19, attribution: box.getAttribute('data-attribution') || '' }).addTo(map);
    try {
      var layer = L.geoJSON(JSON.parse(box.getAttribute('data-geojson') || '{}'), {
        style: { color: '#1d3557', weight: 2, fillOpacity: 0.1 },
        pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 3, weight: 1, color: '#1d3557', fillColor: '#2a7f62', fillOpacity: 1 }); }
      }).addTo(map);
      if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false });
      box.setAttribute('data-loaded', 'true');
    } catch (e) { box.setAttribute('data-loaded', 'failed'); }
  }

  setupSearch();
  setupMap();
  setupImport();
  setupPOPMap();
  setupTenderMap();
  setupAreaMap();
  setupPrice();
  focusFirstError();
  // Without a configured public URL the server writes the manage link as a
  // path (it never trusts the request's Host header); the resident needs
  // the whole link to keep, so show it with this page's own origin.
  var link = document.getElementById('manage-link');
  if (link && link.textContent.charAt(0) === '/') {
    link.textContent = window.location.origin + link.textContent;
  }
})();
