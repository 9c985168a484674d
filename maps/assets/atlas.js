/* geoservice atlas: draws the plan features of one page from the JSON block the builder wrote,
 * and adds the sector filter, language switch, search, legend and the side panel of unsited
 * elements. Plain ES5 on Leaflet; firm layers use Leaflet.VectorGrid, and the overview puts
 * point markers into Leaflet.markercluster groups (each loaded by the page only when used). */
(function () {
  'use strict';
  var Atlas = window.Atlas = {};

  function el(tag, cls, html) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (html !== undefined) { e.innerHTML = html; }
    return e;
  }

  function esc(s) {
    return String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }

  function bi(zh, en) {
    return zh === en ? esc(zh) : '<span class="zh">' + esc(zh) + '</span><span class="en">' + esc(en) + '</span>';
  }

  function ui(cfg, key) { var t = cfg.ui[key] || {zh: key, en: key}; return bi(t.zh, t.en); }

  function dash(border) { return border === 'dashed' ? '8 6' : (border === 'dotted' ? '2 5' : null); }

  function kb(n) { return Math.round(n / 1024).toLocaleString() + ' KB'; }

  /* ---- drawing ---------------------------------------------------------------------- */

  function classes(p, extra) {
    return 'atlas-feature plan-' + p.plan + ' kind-' + p.kind + ' prec-' + p.precision + (extra ? ' ' + extra : '');
  }

  function pointLayer(f, latlng, cfg) {
    var p = f.properties, k = cfg.kinds[p.kind], prec = cfg.precision[p.precision] || {};
    var size = prec.size || 22;
    var html = '<div class="sym sym-' + (prec.symbol || 'solid') + ' border-' + (prec.border || 'solid') +
      '" style="--c:' + k.colour + ';opacity:' + (prec.opacity || 1) + '">' + bi(k.icon_zh, k.icon_en) + '</div>';
    return L.marker(latlng, {
      icon: L.divIcon({className: classes(p, 'atlas-pt'), html: html, iconSize: [size, size]}),
      riseOnHover: true, keyboard: true, zIndexOffset: 100 - (k.order || 0)
    });
  }

  function arrowHead(map, a, b, colour, p) {
    var pa = map.project(a, 0), pb = map.project(b, 0);
    var angle = Math.atan2(pb.y - pa.y, pb.x - pa.x) * 180 / Math.PI;
    var mid = L.latLng(a.lat + (b.lat - a.lat) * 0.55, a.lng + (b.lng - a.lng) * 0.55);
    var svg = '<svg viewBox="0 0 20 20" width="22" height="22" style="transform:rotate(' + angle.toFixed(1) +
      'deg)"><path d="M2 3 L18 10 L2 17 L6 10 Z" fill="' + colour + '" stroke="#fff" stroke-width="1.2"/></svg>';
    return L.marker(mid, {interactive: false, keyboard: false,
      icon: L.divIcon({className: 'atlas-arrow plan-' + p.plan, html: svg, iconSize: [22, 22]})});
  }

  function pathStyle(p, cfg) {
    var k = cfg.kinds[p.kind], prec = cfg.precision[p.precision] || {};
    var border = p.basis === 'host_districts' ? cfg.host_districts_border : prec.border;
    var line = p.kind === 'chain' || p.kind === 'chain_link';
    var fillOpacity = k.fill_opacity === undefined ? 0.15 : k.fill_opacity;
    return {
      color: k.colour, weight: k.weight || (line ? 3 : 2), opacity: line ? 0.9 : 0.85,
      dashArray: dash(border), fill: !line && fillOpacity > 0, fillColor: k.colour, fillOpacity: fillOpacity,
      className: classes(p)
    };
  }

  function featureLayer(f, cfg, map) {
    var p = f.properties;
    if (f.geometry.type === 'Point') { return pointLayer(f, L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]), cfg); }
    var shape = L.GeoJSON.geometryToLayer(f, {style: function () { return pathStyle(p, cfg); }});
    shape.setStyle(pathStyle(p, cfg));
    if (p.kind !== 'chain_link' || f.geometry.type !== 'LineString') { return shape; }
    var c = f.geometry.coordinates, parts = [shape];
    for (var i = 1; i < c.length; i++) {
      parts.push(arrowHead(map, L.latLng(c[i - 1][1], c[i - 1][0]), L.latLng(c[i][1], c[i][0]), cfg.kinds[p.kind].colour, p));
    }
    return L.featureGroup(parts);
  }

  function markElement(layer, id) {
    var mark = function (l) {
      var e = l.getElement ? l.getElement() : null;
      if (e && e.classList.contains('atlas-feature')) { e.setAttribute('data-id', id); }
    };
    layer.on('add', function () {
      if (layer.eachLayer) { layer.eachLayer(mark); } else { mark(layer); }
    });
  }

  function drawBoundaries(cfg, groups, map) {
    var bs = cfg.boundary_styles, tileless = cfg.basemap.tileless;
    if (tileless) { map.getContainer().style.background = bs.water; }
    var levels = ['province', 'city', 'district'];
    levels.forEach(function (level) {
      var group = groups[level];
      if (!group) { return; }
      var style = bs[level];
      L.geoJSON(cfg.boundaries, {
        filter: function (f) { return f.properties.level === level; },
        interactive: false,
        style: function () {
          return {color: style.colour, weight: style.weight, dashArray: style.dash || null, opacity: 0.9,
            fill: tileless && level !== 'district', fillColor: bs.land, fillOpacity: level === 'province' ? 1 : 0,
            className: 'atlas-boundary level-' + level};
        }
      }).addTo(group);
    });
  }

  /* ---- firm layers (vector tiles of the service) ----------------------------------------- */

  function listOf(value) {  // tiles carry lists as JSON text
    if (Array.isArray(value)) { return value; }
    try { var v = JSON.parse(value); return Array.isArray(v) ? v : []; } catch (e) { return []; }
  }

  function ringsContain(rings, x, y) {  // even-odd rule over a polygon's rings (holes included)
    var inside = false;
    rings.forEach(function (ring) {
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
        if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
      }
    });
    return inside;
  }

  function polygonContains(geometry, latlng) {
    var polys = geometry.type === 'Polygon' ? [geometry.coordinates] : (geometry.type === 'MultiPolygon' ? geometry.coordinates : []);
    return polys.some(function (rings) { return ringsContain(rings, latlng.lng, latlng.lat); });
  }

  function firmPopup(p, latlng, layer, cfg) {
    var firms = cfg.firms, html = '<div class="atlas-popup atlas-firm">';
    var zh = p.name_zh || p.name || p.id, en = p.name_en || p.name || p.id;
    html += '<h3>' + bi(String(zh), String(en)) + '</h3><div class="sub">' + bi(firms.label.zh, firms.label.en) + ' · ' + esc(layer.title) + '</div>';
    var chips = listOf(p.sectors).map(function (code) {
      var s = firms.sectors[code] || {zh: code, en: code, colour: '#495057'};
      return '<span class="chip" style="--c:' + s.colour + '">' + bi(s.zh, s.en) + '</span>';
    });
    if (chips.length) { html += '<div>' + chips.join(' ') + '</div>'; }
    if (p.synthetic === true || p.synthetic === 'true') { html += '<p class="warn">' + esc(p.location_source || 'SYNTHETIC') + '</p>'; }
    var zones = cfg.features.features.filter(function (f) {
      return f.geometry && layer.zones[f.id] !== undefined && polygonContains(f.geometry, latlng);
    });
    if (zones.length) {
      html += '<h4>' + ui(cfg, 'firms_in_zone') + '</h4><ul class="zones">';
      zones.forEach(function (f) {
        html += '<li>' + bi(f.properties.name_zh, f.properties.name_en) + ': <b>' + layer.zones[f.id].toLocaleString() + '</b></li>';
      });
      html += '</ul>';
    }
    return html + '</div>';
  }

  function firmStyle(cfg, state) {
    var firms = cfg.firms, covers = {};
    cfg.sectors.forEach(function (s) { covers[s.code] = s.covers; });
    return function (props) {
      var codes = listOf(props.sectors);
      if (state.sector) {
        var wanted = covers[state.sector] || [state.sector];
        if (!codes.some(function (c) { return wanted.indexOf(c) >= 0; })) { return []; }  // [] draws nothing
      }
      var colour = (firms.sectors[codes[0]] || {colour: '#495057'}).colour;
      return {radius: firms.radius, fill: true, fillColor: colour, fillOpacity: 0.85, color: '#ffffff', weight: 0.6, opacity: 0.9};
    };
  }

  /* VectorGrid 1.3's canvas tiles hand a click on to Leaflet 1.9 in a way that breaks on points
   * (L.DomEvent.fakeStop is gone; a point feature has no LatLng): fire it on the feature
   * ourselves, with the LatLng of the mouse, and stop it there; a click on no feature goes to
   * the map. */
  function patchCanvasTileClicks() {
    L.Canvas.Tile.include({_onClick: function (e) {
      var point = this._map.mouseEventToLayerPoint(e).subtract(this.getOffset()), hit = null;
      for (var id in this._layers) {
        var l = this._layers[id];
        if (l.options.interactive && l._containsPoint(point) && !this._map._draggableMoved(l)) { hit = l; }
      }
      if (hit) {
        L.DomEvent.stop(e);
        hit.fire(e.type, {latlng: this._map.mouseEventToLatLng(e), originalEvent: e}, true);
      } else {
        this._map._fireDOMEvent(e, e.type);  // as Leaflet's own canvas does: the map gets the click
      }
    }});
  }

  /* Firms are drawn above the plan polygons (a pane between overlays, 400, and markers, 600), so
   * their canvas tiles take the clicks: a click on a firm opens the firm; any other click reaches
   * the map, which opens the topmost plan polygon under it, as a click on the polygon would. */
  function openPolygonAt(state, map, latlng) {
    var hit = null;
    state.records.forEach(function (r) {
      if (r.layer.setStyle && map.hasLayer(r.layer) && polygonContains(r.geometry, latlng)) { hit = r; }
    });
    if (hit) { hit.layer.openPopup(latlng); }
  }

  function drawFirms(cfg, groups, map, state) {
    if (!cfg.firms.layers.length) { return; }
    patchCanvasTileClicks();
    map.createPane('atlas-firms').style.zIndex = 450;
    map.on('click', function (e) { if (state.firmGrids.length) { openPolygonAt(state, map, e.latlng); } });
    cfg.firms.layers.forEach(function (layer) {
      var group = groups[layer.id];
      if (!group) { return; }
      fetch(layer.tilejson, {headers: {Accept: 'application/json'}}).then(function (r) {
        if (!r.ok) { throw new Error(layer.tilejson + ': HTTP ' + r.status); }
        return r.json();
      }).then(function (tj) {
        var styles = {};
        styles[tj.vector_layers[0].id] = firmStyle(cfg, state);
        var grid = L.vectorGrid.protobuf(tj.tiles[0], {
          rendererFactory: L.canvas.tile, interactive: true, vectorTileLayerStyles: styles, pane: 'atlas-firms',
          minZoom: Math.max(cfg.firms.min_zoom, tj.minzoom), maxNativeZoom: Math.min(tj.maxzoom, 18), maxZoom: 22,
          attribution: esc(layer.title)
        });
        grid.on('click', function (e) {
          L.popup({maxWidth: 320, className: 'atlas-popup-wrap'}).setLatLng(e.latlng)
            .setContent(firmPopup(e.layer.properties, e.latlng, layer, cfg)).openOn(map);
        });
        group.addLayer(grid);
        state.firmGrids.push(grid);
      }).catch(function (err) {
        if (window.console) { console.warn('firm layer ' + layer.id + ' not drawn: ' + err.message); }
      });
    });
  }

  /* ---- filtering ----------------------------------------------------------------------- */

  function makeFilter(state, cfg) {
    var covers = {};
    cfg.sectors.forEach(function (s) { covers[s.code] = s.covers; });
    return function (p) {
      if (state.kinds[p.kind] === false) { return false; }
      if (!state.sector) { return true; }
      var wanted = covers[state.sector] || [state.sector];
      for (var i = 0; i < p.sectors.length; i++) { if (wanted.indexOf(p.sectors[i]) >= 0) { return true; } }
      return false;
    };
  }

  /* ---- controls ------------------------------------------------------------------------ */

  function sectorLabel(s, lang) {
    var name = lang === 'en' ? s.name_en : (lang === 'zh' ? s.name_zh : s.name_zh + ' · ' + s.name_en);
    return name + ' (' + s.count + ')';
  }

  function toolbar(state, cfg) {
    var box = el('div', 'atlas-toolbar leaflet-bar');
    box.appendChild(el('div', 'atlas-title', bi(cfg.title.zh, cfg.title.en)));
    var row = el('div', 'atlas-row');
    var input = el('input', 'atlas-search');
    input.type = 'search';
    input.setAttribute('aria-label', 'search');
    row.appendChild(input);
    var langs = el('div', 'atlas-lang');
    [['zh', '中文'], ['en', 'EN'], ['both', '中/EN']].forEach(function (l) {
      var b = el('button', 'lang-' + l[0], l[1]);
      b.type = 'button';
      b.setAttribute('data-lang', l[0]);
      b.onclick = function () { Atlas.setLang(l[0]); };
      langs.appendChild(b);
    });
    row.appendChild(langs);
    box.appendChild(row);
    var results = el('ul', 'atlas-results');
    box.appendChild(results);
    var sel = el('select', 'atlas-sector');
    sel.setAttribute('aria-label', 'sector');
    box.appendChild(sel);
    state.dom.search = input;
    state.dom.results = results;
    state.dom.sector = sel;
    sel.onchange = function () { Atlas.setSector(sel.value); };
    input.oninput = function () { Atlas.search(input.value); };
    input.onkeydown = function (e) {
      if (e.key === 'Enter' && state.matches.length) { Atlas.open(state.matches[0].id); }
    };
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  }

  function fillSectors(state, cfg) {
    var sel = state.dom.sector, lang = state.lang;
    sel.innerHTML = '';
    var all = el('option', '', esc(cfg.ui.sector_all[lang === 'en' ? 'en' : 'zh']) + (lang === 'both' ? ' · ' + esc(cfg.ui.sector_all.en) : ''));
    all.value = '';
    sel.appendChild(all);
    cfg.sectors.forEach(function (s) {
      var o = el('option', '', esc(sectorLabel(s, lang)));
      o.value = s.code;
      o.style.color = s.colour;
      sel.appendChild(o);
    });
    sel.value = state.sector;
    state.dom.search.placeholder = lang === 'en' ? cfg.ui.search_placeholder.en : cfg.ui.search_placeholder.zh + (lang === 'both' ? ' / ' + cfg.ui.search_placeholder.en : '');
  }

  function legend(cfg, state) {
    var box = el('div', 'atlas-legend');
    var html = '<h4 class="lg-head">' + ui(cfg, 'legend_title') + '</h4><ul class="lg-kinds">';
    var drawn = {};
    state.records.forEach(function (r) { drawn[r.props.kind] = true; });
    Object.keys(cfg.kinds).forEach(function (code) {
      if (!drawn[code]) { return; }
      var k = cfg.kinds[code];
      var line = code === 'chain' || code === 'chain_link';
      var area = k.fill_opacity !== undefined && !line;
      var sym = line ? '<i class="lg-line" style="--c:' + k.colour + '"></i>'
        : (area ? '<i class="lg-area' + (k.fill_opacity > 0 ? '' : ' outline') + '" style="--c:' + k.colour + '"></i>'
          : '<i class="sym sym-solid border-solid lg-pt" style="--c:' + k.colour + '">' + bi(k.icon_zh, k.icon_en) + '</i>');
      html += '<li>' + sym + bi(k.name_zh, k.name_en) + '</li>';
    });
    html += '</ul><ul class="lg-prec">';
    ['surveyed', 'approximate', 'district_centroid'].forEach(function (code) {
      var p = cfg.precision[code];
      if (!p) { return; }
      html += '<li><i class="sym sym-' + p.symbol + ' border-' + p.border + ' lg-pt" style="--c:#495057;opacity:' +
        (p.opacity || 1) + '"></i>' + bi(p.label_zh, p.label_en) + '</li>';
    });
    if (drawn.chain_link) { html += '<li><i class="lg-arrow">➤</i>' + ui(cfg, 'flows') + '</li>'; }
    html += '</ul>';
    if (cfg.firms.layers.length) {
      var from = cfg.ui.firms_from_zoom;
      html += '<ul class="lg-firms"><li title="' + esc(from.zh + ' / ' + from.en + ' ' + cfg.firms.min_zoom) + '">' +
        '<i class="dot" style="--c:#868e96"></i>' + bi(cfg.firms.label.zh, cfg.firms.label.en) +
        '<small class="z">≥ z' + cfg.firms.min_zoom + '</small></li></ul>';
    } else if (cfg.firms.hidden) {
      html += '<ul class="lg-firms"><li>' + bi(cfg.firms.label.zh, cfg.firms.label.en) + ': ' + ui(cfg, 'firms_datum') + '</li></ul>';
    }
    html += '<div class="atlas-size">' + ui(cfg, 'page_size') + ': ' + kb(cfg.page.bytes) +
      ' (+ ' + kb(cfg.page.assets_bytes) + ' ' + ui(cfg, 'shared_assets') + ')</div>';
    box.innerHTML = html;
    box.firstChild.onclick = function () { box.classList.toggle('folded'); };
    if (window.innerWidth < 700) { box.classList.add('folded'); }
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  }

  function panel(cfg, state) {
    var box = el('div', 'atlas-panel');
    var head = el('button', 'atlas-panel-head');
    head.type = 'button';
    var list = el('ol', 'atlas-unsited');
    head.onclick = function () { box.classList.toggle('closed'); };
    box.appendChild(head);
    box.appendChild(list);
    state.dom.panelHead = head;
    state.dom.unsited = list;
    state.unsited.forEach(function (f) {
      var p = f.properties, k = cfg.kinds[p.kind] || {colour: '#495057'};
      var li = el('li', 'plan-' + p.plan + ' kind-' + p.kind);
      li.setAttribute('data-id', p.id);
      var title = el('a', 'item', '<i class="dot" style="--c:' + k.colour + '"></i>' + bi(p.name_zh, p.name_en));
      title.href = '#';
      title.onclick = function (e) { e.preventDefault(); li.classList.toggle('open'); };
      li.appendChild(title);
      li.appendChild(el('div', 'detail', p.popup));
      list.appendChild(li);
      f.li = li;
    });
    // many entries or a narrow screen: start folded so the panel does not hide the map
    if (window.innerWidth < 700 || state.unsited.length > 30) { box.classList.add('closed'); }
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  }

  function control(position, node) {
    var C = L.Control.extend({onAdd: function () { return node; }});
    return new C({position: position});
  }

  /* ---- the page ------------------------------------------------------------------------ */

  Atlas.init = function (map, cfg, groups) {
    var state = {lang: cfg.lang, sector: '', kinds: {}, records: [], unsited: [], matches: [], dom: {}, firmGrids: []};
    Atlas.map = map;
    Atlas.cfg = cfg;
    Atlas.state = state;
    Atlas.groups = groups;
    var filter = makeFilter(state, cfg);
    Atlas.visible = filter;
    document.body.classList.add('atlas-lang-' + state.lang);

    drawBoundaries(cfg, groups.boundaries, map);
    cfg.features.features.forEach(function (f) {
      var p = f.properties;
      if (!f.geometry) { state.unsited.push(f); return; }
      var layer = featureLayer(f, cfg, map);
      var line = p.kind === 'chain' || p.kind === 'chain_link';
      layer.bindPopup(p.popup, {maxWidth: 380, minWidth: 260, maxHeight: 360, autoPanPadding: [20, 20], className: 'atlas-popup-wrap'});
      layer.bindTooltip(bi(p.name_zh, p.name_en), {sticky: !!layer.setStyle && !line, direction: 'top', className: 'atlas-tip'});
      markElement(layer, p.id);
      var cluster = layer.getLatLng && (groups.clusters || {})[p.plan];  // the overview clusters its point markers
      var rec = {id: p.id, props: p, layer: layer, geometry: f.geometry, plan: groups.plans[p.plan],
        group: cluster || groups.plans[p.plan]};
      state.records.push(rec);
      rec.group.addLayer(layer);
    });
    drawFirms(cfg, groups.firms || {}, map, state);
    Object.keys(groups.kinds).forEach(function (k) { state.kinds[k] = map.hasLayer(groups.kinds[k]); });
    map.on('overlayadd overlayremove', function (e) {
      Object.keys(groups.kinds).forEach(function (k) {
        if (groups.kinds[k] === e.layer) { state.kinds[k] = e.type === 'overlayadd'; Atlas.apply(); }
      });
      Object.keys(groups.plans).forEach(function (k) { if (groups.plans[k] === e.layer) { Atlas.apply(); } });
    });

    control('topleft', toolbar(state, cfg)).addTo(map);
    L.control.zoom({position: 'topleft', zoomInTitle: '放大 Zoom in', zoomOutTitle: '缩小 Zoom out'}).addTo(map);
    if (state.unsited.length) { control('topright', panel(cfg, state)).addTo(map); }
    control('bottomright', legend(cfg, state)).addTo(map);
    fillSectors(state, cfg);
    Atlas.apply();
    // fit once now and again when the page has finished loading (styles and fonts can change
    // the container's size after this script ran), unless the user has moved the map meanwhile
    var moved = false;
    function fit() {
      map.invalidateSize(false);
      var wide = map.getSize().x > 900;
      map.fitBounds(cfg.bounds, {animate: false, paddingTopLeft: wide ? [340, 30] : [20, 20],
        paddingBottomRight: wide ? [280, 30] : [20, 20]});
    }
    fit();
    map.once('dragstart zoomstart', function () { moved = true; });
    function ready() {
      if (!moved) { fit(); }
      document.documentElement.setAttribute('data-atlas-ready', '1');
    }
    if (document.readyState === 'complete') { ready(); } else { window.addEventListener('load', ready); }
  };

  Atlas.apply = function () {
    var state = Atlas.state, cfg = Atlas.cfg;
    state.records.forEach(function (r) {
      var on = Atlas.visible(r.props), has = r.group.hasLayer(r.layer);
      if (on && !has) { r.group.addLayer(r.layer); } else if (!on && has) { r.group.removeLayer(r.layer); }
    });
    var shown = 0;
    state.unsited.forEach(function (f) {
      var on = Atlas.visible(f.properties) && Atlas.map.hasLayer(Atlas.groups.plans[f.properties.plan]);
      f.li.style.display = on ? '' : 'none';
      shown += on ? 1 : 0;
    });
    if (state.dom.panelHead) {
      state.dom.panelHead.innerHTML = ui(cfg, 'unsited_title') + ' <b class="n">' + shown + '</b>';
    }
    state.firmGrids.forEach(function (grid) { grid.redraw(); });  // the sector filter applies to firms too
  };

  Atlas.setSector = function (code) {
    Atlas.state.sector = code || '';
    Atlas.state.dom.sector.value = Atlas.state.sector;
    Atlas.apply();
  };

  Atlas.setLang = function (lang) {
    var state = Atlas.state;
    document.body.classList.remove('atlas-lang-' + state.lang);
    state.lang = lang;
    document.body.classList.add('atlas-lang-' + lang);
    document.documentElement.lang = lang === 'en' ? 'en' : 'zh';
    fillSectors(state, Atlas.cfg);
  };

  Atlas.search = function (text) {
    var state = Atlas.state, q = String(text || '').trim().toLowerCase(), out = state.dom.results;
    out.innerHTML = '';
    state.matches = [];
    if (!q) { return []; }
    var all = state.records.map(function (r) { return r.props; }).concat(state.unsited.map(function (f) { return f.properties; }));
    all.forEach(function (p) {
      if (state.matches.length < 10 && (p.name_zh.toLowerCase().indexOf(q) >= 0 || p.name_en.toLowerCase().indexOf(q) >= 0)) {
        state.matches.push(p);
      }
    });
    state.matches.forEach(function (p) {
      var li = el('li', '', bi(p.name_zh, p.name_en));
      li.onclick = function () { Atlas.open(p.id); };
      out.appendChild(li);
    });
    return state.matches.map(function (p) { return p.id; });
  };

  Atlas.open = function (id) {
    var state = Atlas.state, map = Atlas.map;
    state.dom.results.innerHTML = '';
    for (var i = 0; i < state.records.length; i++) {
      var r = state.records[i];
      if (r.id !== id) { continue; }
      if (!r.group.hasLayer(r.layer)) { Atlas.setSector(''); state.kinds[r.props.kind] = true; Atlas.apply(); }
      if (!map.hasLayer(r.plan)) { map.addLayer(r.plan); }
      if (r.group.zoomToShowLayer) {  // a marker inside a cluster: open the cluster first
        r.group.zoomToShowLayer(r.layer, function () { r.layer.openPopup(); });
        return true;
      }
      if (r.layer.getLatLng) { map.setView(r.layer.getLatLng(), Math.max(map.getZoom(), 11)); } else { map.fitBounds(r.layer.getBounds(), {maxZoom: 11}); }
      r.layer.openPopup();
      return true;
    }
    for (var j = 0; j < state.unsited.length; j++) {
      var f = state.unsited[j];
      if (f.properties.id !== id) { continue; }
      f.li.parentNode.parentNode.classList.remove('closed');
      f.li.classList.add('open');
      f.li.scrollIntoView({block: 'nearest'});
      return true;
    }
    return false;
  };

  /* What is drawn now: plan → kind → number of features on the map, a marker inside a cluster
   * counting as drawn (tests and curious users). */
  Atlas.counts = function () {
    var out = {};
    Atlas.state.records.forEach(function (r) {
      if (!Atlas.map.hasLayer(r.plan) || !r.group.hasLayer(r.layer)) { return; }
      out[r.props.plan] = out[r.props.plan] || {};
      out[r.props.plan][r.props.kind] = (out[r.props.plan][r.props.kind] || 0) + 1;
    });
    return out;
  };

  /* How many markers are drawn as part of a cluster icon now (in view, not on their own). */
  Atlas.clustered = function () {
    return Atlas.state.records.filter(function (r) {
      if (!r.group.getVisibleParent || !r.group.hasLayer(r.layer)) { return false; }
      var shown = r.group.getVisibleParent(r.layer);
      return shown !== null && shown !== r.layer;
    }).length;
  };
}());
