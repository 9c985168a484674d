/* The investor page (/maps/invest): sector picker → ranked candidates highlighted; click → the site
 * report of geoservice's /report in the side panel; isotope reach rings. Data: one JSON block made
 * by geoservice/maps/invest.py. No network but the service's own /report. */
var Invest = (function () {
  'use strict';
  var cfg, map, state = {lang: 'both', key: null, report: null, layers: {}, rings: null, marker: null};
  var FIT = {exact: ['完全匹配', 'exact fit'], narrower: ['细分领域', 'narrower'], broader: ['上位领域', 'broader'],
             none: ['其他产业', 'other sectors']};

  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"]/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function tr(zh, en) { return state.lang === 'zh' ? zh : state.lang === 'en' ? (en || zh) : zh + (en ? ' · ' + en : ''); }
  function km(m) { return (m / 1000).toFixed(1) + ' km'; }
  function money(m) {
    if (!m) return '';
    if (m.value == null) return esc(m.note || '');
    return esc(m.value.toLocaleString() + ' ' + m.unit + (m.per ? ' / ' + m.per : ''));
  }
  function optionLabel(o) { return (o.gbt ? o.gbt + ' ' : '') + o.name_zh + ' · ' + o.name_en; }

  function findOption(text) {
    var t = text.trim().toLowerCase();
    for (var i = 0; i < cfg.sectors.length; i++) {
      var o = cfg.sectors[i];
      if ([optionLabel(o), o.key, o.name_zh, o.name_en].some(function (v) { return String(v).toLowerCase() === t; })) return o;
    }
    return null;
  }

  function side() {
    var s = document.getElementById('invest-side');
    var langs = [['zh', '中文'], ['en', 'English'], ['both', '双语 · Both']].map(function (l) {
      return '<button data-lang="' + l[0] + '" class="' + (state.lang === l[0] ? 'on' : '') + '">' + l[1] + '</button>';
    }).join('');
    var opts = cfg.sectors.map(function (o) { return '<option value="' + esc(optionLabel(o)) + '">'; }).join('');
    var current = state.key ? optionLabel(cfg.sectors.filter(function (o) { return o.key === state.key; })[0]) : '';
    s.innerHTML = '<h1>' + esc(tr(cfg.title.zh, cfg.title.en)) + '</h1><div class="invest-langs">' + langs + '</div>' +
      '<h2>' + tr('产业（中文、英文或国民经济行业分类代码）', 'Sector (Chinese, English or GB/T 4754 code)') + '</h2>' +
      '<input type="text" id="invest-sector" list="invest-sectors" value="' + esc(current) + '" placeholder="' +
      esc(tr('如：放射性药物、C2761', 'e.g. Radiopharmaceuticals, C2761')) + '"><datalist id="invest-sectors">' + opts + '</datalist>' +
      '<div id="invest-list"></div><div id="invest-report"><p class="invest-muted">' +
      tr('点击地图任意位置查看选址报告。', 'Click anywhere on the map for the site report.') + '</p></div><div id="invest-rings"></div>';
    s.querySelectorAll('.invest-langs button').forEach(function (b) {
      b.onclick = function () { state.lang = b.getAttribute('data-lang'); document.documentElement.lang = state.lang === 'en' ? 'en' : 'zh'; side(); };
    });
    var input = document.getElementById('invest-sector');
    input.onchange = function () { choose(input.value); };
    renderList(); renderRings(); renderReport();
  }

  function choose(text) {
    var o = findOption(text);
    if (o && o.key === state.key) return;  // the same sector again (a change event on blur)
    state.key = o ? o.key : null;
    state.unknown = o ? null : text;
    highlight(); renderList(); renderRings();
    if (state.point) report(state.point);
  }

  function renderList() {
    var box = document.getElementById('invest-list');
    if (!box) return;
    if (state.unknown) { box.innerHTML = '<p class="invest-note">' + tr('未知产业：', 'Unknown sector: ') + esc(state.unknown) + '</p>'; return; }
    if (!state.key) { box.innerHTML = ''; return; }
    var rows = cfg.rankings[state.key] || [];
    var byId = {};
    cfg.candidates.features.forEach(function (f) { byId[f.id] = f; });
    box.innerHTML = '<h2>' + tr('候选园区与功能区', 'Candidate zones and parks') + ' (' + rows.length + ')</h2>' +
      (rows.length ? '<ol class="invest-rank">' + rows.map(function (r) {
        var p = byId[r[0]].properties;
        return '<li data-id="' + esc(r[0]) + '"><span class="invest-score">' + r[1].toFixed(1) + '</span>' +
          esc(tr(p.name_zh, p.name_en)) + '<br><span class="invest-fit">' + esc(tr(cfg.kinds[p.kind][0], cfg.kinds[p.kind][1])) +
          ' · ' + esc(tr(FIT[r[2]][0], FIT[r[2]][1])) + '</span></li>';
      }).join('') + '</ol>' : '<p class="invest-muted">' + tr('规划中没有该产业的园区或功能区。', 'No zone or park of the plans is for this sector.') + '</p>');
    box.querySelectorAll('li').forEach(function (li) {
      li.onclick = function () {
        var layer = state.layers[li.getAttribute('data-id')];
        if (layer.getBounds) map.fitBounds(layer.getBounds(), {maxZoom: 11}); else map.setView(layer.getLatLng(), 11);
      };
    });
  }

  function highlight() {
    var rows = cfg.rankings[state.key] || [], score = {};
    rows.forEach(function (r) { score[r[0]] = r[1]; });
    Object.keys(state.layers).forEach(function (id) {
      var on = id in score, layer = state.layers[id];
      var style = on ? {color: '#c0392b', weight: 2, opacity: 0.9, fillColor: '#e67e22', fillOpacity: 0.15 + 0.35 * score[id] / 100}
                     : {opacity: 0, fillOpacity: 0};
      layer.setStyle(style);
      if (on) layer.bringToFront();
      if (on && !layer.getTooltip()) layer.bindTooltip(tipOf(id)); else if (!on) layer.unbindTooltip();
    });
  }

  function tipOf(id) {
    return function () {
      var p = cfg.candidates.features.filter(function (f) { return f.id === id; })[0].properties;
      return esc(tr(p.name_zh, p.name_en));
    };
  }

  function nuclear() {
    return cfg.sectors.some(function (o) { return o.key === state.key && o.nuclear; });
  }

  function renderRings() {
    if (state.rings) state.rings.clearLayers();
    var box = document.getElementById('invest-rings');
    if (!box) return;
    if (!nuclear()) { box.innerHTML = ''; return; }
    var nuclide = state.key.indexOf('iso.') === 0 ? state.key : null;
    var rings = cfg.rings.filter(function (r) { return !nuclide || r.code === nuclide; });
    box.innerHTML = '<h2>' + tr('同位素可达范围（保留50%活度，公路）', 'Isotope reach (50 % activity left, road)') + '</h2>' +
      '<div class="invest-rings">' + (rings.length ? rings.map(function (r, i) {
        return '<label><input type="checkbox" checked data-i="' + i + '"> ' + esc(r.nuclide) + ' — ' + esc(tr(r.site_zh, r.site_en)) +
          ' (' + km(r.radius_m) + (r.capped ? ' · ' + tr('运输时限封顶', 'capped by transport time') : '') + ')</label>';
      }).join('') : '<p class="invest-muted">' + tr('规划未给出该核素生产地的位置。', 'The plans give no site for its production.') + '</p>') + '</div>';
    function draw() {
      state.rings.clearLayers();
      box.querySelectorAll('input').forEach(function (c) {
        if (!c.checked) return;
        var r = rings[+c.getAttribute('data-i')];
        L.circle(r.centre, {radius: r.radius_m, color: '#8e44ad', weight: 1.5, dashArray: '6 4', fill: false})
          .bindTooltip(r.nuclide + ' · ' + tr(r.site_zh, r.site_en)).addTo(state.rings);
      });
    }
    box.querySelectorAll('input').forEach(function (c) { c.onchange = draw; });
    draw();
  }

  function report(latlng) {
    state.point = latlng;
    if (state.marker) state.marker.setLatLng(latlng);
    else state.marker = L.circleMarker(latlng, {radius: 7, color: '#17324d', weight: 3, fillColor: '#fff', fillOpacity: 1}).addTo(map);
    var q = 'point=' + latlng.lng.toFixed(6) + ',' + latlng.lat.toFixed(6) + (cfg.report_crs ? '&crs=' + cfg.report_crs : '') +
            (state.key ? '&sector=' + encodeURIComponent(state.key) : '');
    state.report = {loading: true};
    renderReport();
    fetch(cfg.api_base + '/report?' + q).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (body) { state.report = body; renderReport(); })
      .catch(function () { state.report = {failed: true}; renderReport(); });
  }

  function renderReport() {
    var box = document.getElementById('invest-report'), r = state.report;
    if (!box || !r) return;
    if (r.loading) { box.innerHTML = '<p class="invest-muted">…</p>'; return; }
    if (r.failed) {
      box.innerHTML = '<p class="invest-note">' + tr('选址报告需要运行中的服务（geoservice serve）。',
        'The site report needs the running service (geoservice serve).') + '</p>';
      return;
    }
    var units = ['province', 'city', 'district'].map(function (l) { return r[l] ? tr(r[l].name_zh, r[l].name_en) : null; })
      .filter(Boolean).join(' / ');
    var h = '<h2>' + tr('选址报告', 'Site report') + '</h2><p><b>' + esc(units || tr('规划范围外', 'Outside the plans')) + '</b></p>';
    if (r.message) h += '<p class="invest-note">' + esc(tr(r.message.zh, r.message.en)) + '</p>';
    if (r.covering.length) {
      h += '<h2>' + tr('覆盖该地点的规划要素', 'Plan elements here') + '</h2><ul>' + r.covering.map(function (e) {
        return '<li>' + esc(tr(e.name_zh, e.name_en)) + (e.sector_fit ? ' <span class="invest-fit">' +
          esc(tr(FIT[e.sector_fit][0], FIT[e.sector_fit][1])) + '</span>' : '') + '</li>';
      }).join('') + '</ul>';
    }
    h += '<h2>' + tr('适用政策', 'Support that applies') + ' (' + r.incentives.length + ')</h2>' + r.incentives.map(function (c) {
      var amount = money(c.amount), cap = money(c.cap);
      return '<div class="invest-clause"><b>' + esc(tr(c.title_zh, c.title_en)) + '</b>' +
        (amount ? '<br>' + tr('金额', 'Amount') + ': ' + amount : '') + (cap ? '<br>' + tr('上限', 'Cap') + ': ' + cap : '') +
        (c.sector_match === 'all_sectors' ? '<br><span class="invest-fit">' + tr('适用所有产业', 'all sectors') + '</span>' : '') +
        '<br><span class="invest-muted">' + esc((c.source.doc ? c.source.doc + ' ' : '') + '《' + c.source.title + '》 ' +
        c.source.section + '：“' + c.source.quote + '”') + '</span></div>';
    }).join('');
    if (r.isotopes) {
      h += '<h2>' + tr('可送达的同位素', 'Isotopes reaching the site') + '</h2><ul>' + r.isotopes.filter(function (i) {
        return i.reaching_sites.length; }).map(function (i) {
        return '<li>' + esc(i.nuclide) + ': ' + i.reaching_sites.map(function (s) {
          return esc(tr(s.name_zh, s.name_en)) + ' (' + km(s.distance_m) + ')'; }).join('、') + '</li>';
      }).join('') + '</ul>';
    }
    if (r.caveats.length) {
      h += '<h2>' + tr('说明', 'Caveats') + '</h2><ul>' + r.caveats.map(function (c) {
        return '<li class="invest-muted">' + esc(tr(c.zh, c.en)) + '：' + esc(c.names.slice(0, 6).join('、')) +
          (c.names.length > 6 ? ' …' : '') + '</li>';
      }).join('') + '</ul>';
    }
    box.innerHTML = h;
  }

  function start(config) {
    cfg = config;
    state.lang = cfg.lang || 'both';
    map = L.map('invest-map', {zoomControl: true}).setView([33.0, 112.0], 5);
    cfg.tiles.forEach(function (l) {
      L.tileLayer(l.url, {subdomains: l.subdomains || 'abc', attribution: l.attribution || '', maxZoom: cfg.max_zoom}).addTo(map);
    });
    if (cfg.boundaries) {
      L.geoJSON(cfg.boundaries, {style: function (f) {
        return {color: '#8a9aaa', weight: f.properties.level === 'province' ? 1.5 : 0.6, fillColor: '#f4f1ea', fillOpacity: 1};
      }, interactive: false}).addTo(map);
    }
    var shapes = L.geoJSON(cfg.candidates, {
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 7}); },
      style: function () { return {opacity: 0, fillOpacity: 0}; },
      onEachFeature: function (f, layer) {
        state.layers[f.id] = layer;
      }
    }).addTo(map);
    map.fitBounds(shapes.getBounds(), {padding: [20, 20]});
    state.rings = L.layerGroup().addTo(map);
    map.on('click', function (e) { report(e.latlng); });
    side();
    var first = new URLSearchParams(location.search).get('sector');
    if (first) { document.getElementById('invest-sector').value = first; choose(first); side(); }
    document.documentElement.setAttribute('data-invest-ready', '1');
  }

  return {start: start, choose: function (t) { choose(t); side(); }, report: report};
})();
