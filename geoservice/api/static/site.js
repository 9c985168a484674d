/* The HTML pages' one script: the 中文/EN switch (remembered), filter forms that build the same URLs
 * an API client uses, and the small Leaflet maps (payload from pagemap.py). Loaded in <head> so
 * that the language is set before the page is drawn. */
(function () {
  'use strict';
  var KEY = 'geoservice.lang';
  var root = document.documentElement;

  function storedLang() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function initialLang() {
    var lang = storedLang();
    if (lang === 'zh' || lang === 'en') return lang;
    return /^zh/i.test(navigator.language || '') ? 'zh' : 'en';
  }

  function showLang(lang) {
    root.setAttribute('data-lang', lang);
    root.lang = lang === 'zh' ? 'zh-CN' : 'en';
    var options = document.querySelectorAll('option[data-zh]');
    for (var i = 0; i < options.length; i++) options[i].textContent = options[i].getAttribute('data-' + lang);
    var inputs = document.querySelectorAll('[data-ph-zh]');
    for (var n = 0; n < inputs.length; n++) inputs[n].placeholder = inputs[n].getAttribute('data-ph-' + lang);
    var maps = document.querySelectorAll('.page-map');
    for (var j = 0; j < maps.length; j++) if (maps[j]._relabel) maps[j]._relabel();
  }
  root.setAttribute('data-lang', initialLang());

  /* A filter form: GET its action with the filled fields only (an empty `sector=` would be a 400),
   * in the order of the form; show the same query as the API answers it (JSON, no f=html). */
  function query(form, withFormat) {
    var params = new URLSearchParams();
    var fields = form.querySelectorAll('[name]');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i], value = f.value.trim();
      if (value !== '' && (withFormat || f.name !== 'f')) params.append(f.name, value);
    }
    var text = params.toString();
    return form.getAttribute('action') + (text ? '?' + text : '');
  }
  function wireForm(form) {
    var next = form.nextElementSibling, shown = next && next.classList.contains('api-url') ? next.querySelector('a') : null;
    function update() {
      if (!shown) return;
      var url = new URL(query(form, false), location.href).href;
      shown.href = url; shown.textContent = url;
    }
    form.addEventListener('input', update);
    form.addEventListener('change', update);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      location.href = query(form, true);
    });
    update();
  }

  /* The small map: the boundaries as ground, then the page's features in their kind colours. */
  function drawMap(el) {
    var data = JSON.parse(el.nextElementSibling.textContent);
    var map = L.map(el, {scrollWheelZoom: false, zoomSnap: 0.25});
    el._leaflet = map;
    var ground = L.geoJSON(data.ground, {
      style: function (f) {
        var city = f.properties.level !== 'district';
        return {color: city ? '#868e96' : '#adb5bd', weight: city ? 1.2 : 0.7, fillColor: '#f4f1ea', fillOpacity: 1};
      },
      interactive: false
    });
    var layer = L.geoJSON(data.features, {
      style: function (f) {
        var p = f.properties;
        return {color: p.colour, weight: 2, fillOpacity: p.fill_opacity, dashArray: p.border === 'dashed' ? '6 4' : (p.border === 'dotted' ? '2 4' : null)};
      },
      pointToLayer: function (f, latlng) {
        var p = f.properties, hollow = p.symbol === 'hollow';
        return L.circleMarker(latlng, {radius: 7, color: p.colour, weight: 2, fillColor: hollow ? '#fff' : p.colour,
          fillOpacity: 0.9, dashArray: p.border === 'dashed' ? '4 3' : (p.border === 'dotted' ? '1 3' : null)});
      },
      onEachFeature: function (f, l) {
        l.on('click', function () { if (f.properties.href && f.properties.href !== location.href) location.href = f.properties.href; });
      }
    });
    var origin = data.origin ? L.latLng(data.origin[1], data.origin[0]) : null;
    var bounds = data.features.length ? layer.getBounds() : ground.getBounds();
    if (origin) bounds = bounds.isValid() ? bounds.extend(origin) : L.latLngBounds(origin, origin);
    /* the view first: Leaflet clips lines against it when they are added */
    if (bounds.isValid()) map.fitBounds(bounds, {padding: [24, 24], maxZoom: 10});
    else map.setView([35, 110], 4);
    ground.addTo(map);
    layer.addTo(map);
    if (origin) {
      L.circleMarker(origin, {radius: 6, color: '#000', weight: 2, fillColor: '#ffd43b', fillOpacity: 1}).addTo(map);
    }
    function relabel() {
      var lang = root.getAttribute('data-lang') === 'en' ? 'name_en' : 'name_zh';
      layer.eachLayer(function (l) { l.unbindTooltip(); l.bindTooltip(l.feature.properties[lang], {sticky: true}); });
    }
    el._relabel = relabel;
    relabel();
  }

  document.addEventListener('DOMContentLoaded', function () {
    var buttons = document.querySelectorAll('[data-set-lang]');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener('click', function () {
        var lang = this.getAttribute('data-set-lang');
        try { localStorage.setItem(KEY, lang); } catch (e) { /* private mode: not remembered */ }
        showLang(lang);
      });
    }
    var forms = document.querySelectorAll('form.filters');
    for (var j = 0; j < forms.length; j++) wireForm(forms[j]);
    if (window.L) {
      var maps = document.querySelectorAll('.page-map');
      for (var k = 0; k < maps.length; k++) drawMap(maps[k]);
    }
    showLang(root.getAttribute('data-lang'));
    root.setAttribute('data-page-ready', '');
  });
})();
