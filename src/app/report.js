/* report.js - draws popseg's HTML report from the JSON in #popseg-data
 * (written by src/app/html.c). Plain DOM and SVG: every chart works without
 * any library; the county map needs d3-geo and topojson-client and the
 * us-atlas shapes in #popseg-atlas, embedded when popseg was built with npm.
 *
 * What tests/report/check_dom.py counts, by class: rect.scree-bar (one per
 * fitted component), rect.hm-cell in each heatmap, li.legend-item in the map's
 * legend, path.county.seg (a clustered county present in the atlas) and
 * path.county.neutral (the atlas's other counties), rect.size-bar, .card.
 */
(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var errorBox = document.getElementById('errors');

  function problem(msg) {
    errorBox.hidden = false;
    var p = document.createElement('p');
    p.textContent = msg;
    errorBox.appendChild(p);
  }
  window.addEventListener('error', function (e) { problem('Error: ' + e.message); });

  var D = JSON.parse(document.getElementById('popseg-data').textContent);
  var app = document.getElementById('app');
  var tip = document.getElementById('tooltip');

  // ---------------------------------------------------------------- helpers
  function h(tag, attrs, parent, text) {
    var e = document.createElement(tag);
    for (var a in attrs || {}) e.setAttribute(a, attrs[a]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function s(tag, attrs, parent, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var a in attrs || {}) e.setAttribute(a, attrs[a]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function section(id, title, note) {
    var sec = h('section', { id: id }, app);
    h('h2', {}, sec, title);
    if (note) h('p', { 'class': 'note' }, sec, note);
    return sec;
  }
  function svg(parent, w, hgt, id) {
    var div = h('div', { 'class': 'chart' }, parent);
    var attrs = { width: w, height: hgt, viewBox: '0 0 ' + w + ' ' + hgt };
    if (id) attrs.id = id;
    return s('svg', attrs, div);
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return 'n/a';
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return Math.round(v).toLocaleString('en-US');
    return Number(v.toPrecision(digits || 4)).toString();
  }
  function pct(a, b) { return b > 0 ? (100 * a / b).toFixed(1) + '%' : 'n/a'; }
  var PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1',
                 '#ff9da7', '#9c755f', '#8cd17d', '#499894', '#d37295'];
  function segColour(c) {
    if (c < PALETTE.length) return PALETTE[c];
    return 'hsl(' + ((c * 137.508) % 360).toFixed(0) + ',55%,55%)';
  }
  function segLabel(c) {
    var n = D.segments[c].name;
    return n === 'Segment ' + c ? n : 'Segment ' + c + ': ' + n;
  }
  function showTip(ev, text) {
    tip.hidden = false;
    tip.textContent = '';
    text.split('\n').forEach(function (line, i) {
      var d = h('div', {}, tip, line);
      if (i === 0) d.style.fontWeight = '600';
    });
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + 330 > window.innerWidth) x = ev.clientX - 330;
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function hideTip() { tip.hidden = true; }
  // Hover text from a data-tip attribute (and a <title> for the accessible name).
  function withTip(el, text) {
    el.setAttribute('data-tip', text);
    s('title', {}, el, text);
  }
  function tipHandlers(root) {
    root.addEventListener('mousemove', function (ev) {
      var t = ev.target.closest ? ev.target.closest('[data-tip]') : null;
      if (t) showTip(ev, t.getAttribute('data-tip')); else hideTip();
    });
    root.addEventListener('mouseleave', hideTip);
  }
  // Linear scale [d0, d1] -> [r0, r1].
  function lin(d0, d1, r0, r1) {
    var k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
    return function (v) { return r0 + (v - d0) * k; };
  }
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function yAxis(g, x, y0, y1, max, ticks, fmtTick) {
    var sc = lin(0, max, y0, y1);
    s('line', { x1: x, x2: x, y1: y0, y2: y1, stroke: '#999' }, g);
    for (var i = 0; i <= ticks; i++) {
      var v = max * i / ticks, yy = sc(v);
      s('line', { x1: x - 4, x2: x, y1: yy, y2: yy, stroke: '#999' }, g);
      s('text', { x: x - 6, y: yy + 4, 'text-anchor': 'end' }, g, fmtTick(v));
    }
    return sc;
  }

  // ---------------------------------------------------------------- summary
  var weighted = !!D.weights_name;
  var nRows = D.rows.n_total;
  var totalWeight = 0;
  D.segments.forEach(function (g) { totalWeight += g.weight || 0; });
  (function summary() {
    var sec = section('summary', D.kind === 'predictions' ? 'Predictions' : 'Segmentation');
    var ul = h('ul', { 'class': 'facts' }, sec);
    function fact(k, v) { var li = h('li', {}, ul); h('b', {}, li, k + ': '); li.appendChild(document.createTextNode(v)); }
    fact('Rows', nRows.toLocaleString('en-US'));
    fact('Segments', D.k);
    fact('Components kept', D.K);
    fact('Features', D.features.length);
    if (weighted) fact('Weighted by', D.weights_name + ' (' + fmt(totalWeight) + ' in all)');
    if (D.kind === 'predictions') {
      fact('Model', D.model);
      fact('Matched the model\'s rows by id', D.predict.matched.toLocaleString('en-US'));
      fact('Changed segment', D.predict.changed.toLocaleString('en-US'));
      fact('New ids', D.predict.n_new);
    }
  })();

  // ---------------------------------------------------------------- sizes and pen portraits
  (function sizes() {
    var sec = section('sizes', 'Segments', 'Rows per segment' + (weighted ? ' (left) and ' +
      D.weights_name + ' (right)' : '') + '. ' + (D.index ? 'Each pen portrait names the ' +
      'features with the highest index (>= 120) and the lowest (<= 80), where the index is 100 x ' +
      'the segment\'s mean / the overall mean (' + (D.mean_kind || 'rows') + ')' +
      (D.kind === 'predictions' ? ', in the model\'s data.' : '.') : ''));
    var W = 900, rowH = 24, left = 300, H = D.k * rowH + 30;
    var g = svg(sec, W, H, 'sizes-chart');
    var maxN = Math.max.apply(null, D.segments.map(function (x) { return x.size; }));
    var maxW = weighted ? Math.max.apply(null, D.segments.map(function (x) { return x.weight || 0; })) : 0;
    var half = weighted ? (W - left - 20) / 2 : W - left - 20;
    var xn = lin(0, maxN || 1, 0, half - 70), xw = lin(0, maxW || 1, 0, half - 70);
    D.segments.forEach(function (seg, c) {
      var y = 10 + c * rowH;
      s('text', { x: left - 8, y: y + 15, 'text-anchor': 'end' }, g, segLabel(c).slice(0, 48));
      var r = s('rect', { 'class': 'size-bar', x: left, y: y + 3, width: Math.max(1, xn(seg.size)),
        height: rowH - 6, fill: segColour(c), 'data-seg': c }, g);
      withTip(r, segLabel(c) + '\n' + seg.size + ' rows (' + pct(seg.size, nRows) + ')');
      s('text', { x: left + xn(seg.size) + 4, y: y + 15 }, g, seg.size + ' (' + pct(seg.size, nRows) + ')');
      if (weighted) {
        var x0 = left + half + 10;
        var r2 = s('rect', { 'class': 'weight-bar', x: x0, y: y + 3, width: Math.max(1, xw(seg.weight)),
          height: rowH - 6, fill: segColour(c), opacity: 0.7 }, g);
        withTip(r2, segLabel(c) + '\n' + fmt(seg.weight) + ' ' + D.weights_name + ' (' + pct(seg.weight, totalWeight) + ')');
        s('text', { x: x0 + xw(seg.weight) + 4, y: y + 15 }, g, fmt(seg.weight) + ' (' + pct(seg.weight, totalWeight) + ')');
      }
    });
    tipHandlers(g);
    var cards = h('div', { 'class': 'cards' }, sec);
    D.segments.forEach(function (seg, c) {
      var card = h('div', { 'class': 'card', 'data-seg': c }, cards);
      card.style.borderLeftColor = segColour(c);
      h('h3', {}, card, segLabel(c));
      var size = seg.size + ' rows (' + pct(seg.size, nRows) + ')';
      if (weighted) size += ', ' + fmt(seg.weight) + ' ' + D.weights_name + ' (' + pct(seg.weight, totalWeight) + ')';
      h('p', {}, card, 'Size: ' + size);
      if (seg.highs !== null) h('p', {}, card, 'Highest index: ' + seg.highs);
      if (seg.lows !== null) h('p', {}, card, 'Lowest index: ' + seg.lows);
      if (seg.examples.length) h('p', {}, card, 'Nearest its centre: ' + seg.examples.join('; '));
      if (D.sub) {
        var parts = [];
        D.sub.parent.forEach(function (p, j) {
          if (p !== c) return;
          var t = D.sub.codes[j];
          if (D.sub.sizes) t += ' (' + D.sub.sizes[j] + ' rows' + (weighted && D.sub.weights ? ', ' + fmt(D.sub.weights[j]) : '') + ')';
          parts.push(t);
        });
        h('p', { 'class': 'subs' }, card, 'Sub-segments: ' + parts.join(', '));
      }
    });
  })();

  // ---------------------------------------------------------------- the county map
  var atlasEl = document.getElementById('popseg-atlas');
  var mapState = null; // {features, path, byId}
  function fips(id) { var t = String(id); while (t.length < 5) t = '0' + t; return t; }
  function loadAtlas() {
    if (mapState !== null) return mapState;
    mapState = false;
    if (!D.map.available || !atlasEl || typeof topojson === 'undefined' || typeof d3 === 'undefined' ||
        !d3.geoAlbersUsa) return mapState;
    var us = JSON.parse(atlasEl.textContent);
    var counties = topojson.feature(us, us.objects.counties).features;
    var projection = d3.geoAlbersUsa().scale(1070).translate([480, 250]);
    var path = d3.geoPath(projection);
    var drawn = [], byId = {};
    counties.forEach(function (f) {
      var d = path(f);
      if (!d) return; // outside the projection (Puerto Rico, the island areas)
      drawn.push({ id: f.id, name: f.properties && f.properties.name, d: d });
      byId[f.id] = true;
    });
    var states = topojson.mesh(us, us.objects.states, function (a, b) { return a !== b; });
    mapState = { drawn: drawn, byId: byId, atlasIds: counties.map(function (f) { return f.id; }),
                 stateBorders: path(states) };
    return mapState;
  }
  // rowsOf: id -> row index among the drawn rows.
  var rowOf = {};
  D.rows.ids.forEach(function (id, i) { rowOf[fips(id)] = i; });
  function countyData() {
    var m = loadAtlas();
    if (!m) return null;
    var atlas = {};
    m.atlasIds.forEach(function (id) { atlas[id] = true; });
    var matched = 0;
    D.rows.ids.forEach(function (id) { if (atlas[fips(id)]) matched++; });
    // Not county data (synthetic rows, tracts): no map, the charts stay.
    if (matched < 0.5 * D.rows.ids.length) return { notCounties: true };
    return m;
  }
  function rowTip(i) {
    var c = D.rows.seg[i];
    var t = D.rows.names[i] + ' (' + fips(D.rows.ids[i]) + ')\n' + segLabel(c);
    if (D.rows.sub && D.sub) t += ' / ' + D.sub.codes[D.rows.sub[i]];
    t += '\ndistance to its centre: ' + fmt(D.rows.dist[i], 3);
    t += '\npc1 = ' + fmt(D.rows.pc1[i], 3) + ', pc2 = ' + fmt(D.rows.pc2[i], 3);
    if (D.rows.weight) t += '\n' + D.weights_name + ': ' + fmt(D.rows.weight[i]);
    if (D.rows.key && D.rows.key.length)
      t += '\n' + D.rows.key_names.map(function (nm, q) { return nm + ' ' + fmt(D.rows.key[i][q]); }).join(', ');
    if (D.rows.old) t += '\nin the model\'s data: ' + (D.rows.old[i] < 0 ? 'new' : 'segment ' + D.rows.old[i]);
    return t;
  }
  // colour(i) of a drawn row, or null for the neutral colour.
  function drawMap(sec, svgId, colour, cls, legendItems, note) {
    var m = countyData();
    if (!m) {
      h('p', { id: svgId + '-missing', 'class': 'note' }, sec, 'No map: ' + (D.map.missing ||
        'the map\'s libraries did not load') + '.');
      return;
    }
    if (m.notCounties) {
      h('p', { id: svgId + '-missing', 'class': 'note' }, sec, 'No map: the row ids are not US ' +
        'county FIPS codes.');
      return;
    }
    if (D.rows.stride > 1) h('p', { 'class': 'note' }, sec, 'Every ' + D.rows.stride + 'th row is drawn.');
    var ul = h('ul', { 'class': 'legend', id: svgId + '-legend' }, sec);
    legendItems.forEach(function (it) {
      var li = h('li', { 'class': 'legend-item' }, ul);
      var sw = h('span', { 'class': 'swatch' }, li);
      sw.style.background = it.colour;
      li.appendChild(document.createTextNode(it.label));
    });
    var g = svg(sec, 960, 500, svgId);
    var shown = {};
    m.drawn.forEach(function (f) {
      var i = rowOf[f.id];
      var p = s('path', { d: f.d, 'data-id': f.id }, g);
      if (i === undefined) {
        p.setAttribute('class', 'county neutral');
        withTip(p, (f.name || f.id) + ' (' + f.id + ')\nnot in the results');
        return;
      }
      shown[f.id] = true;
      var col = colour(i);
      p.setAttribute('class', 'county ' + (col === null ? 'neutral' : cls));
      if (col !== null) { p.setAttribute('fill', col); p.setAttribute('data-seg', D.rows.seg[i]); }
      withTip(p, rowTip(i));
    });
    s('path', { 'class': 'state-border', d: m.stateBorders }, g);
    tipHandlers(g);
    var missing = [];
    D.rows.ids.forEach(function (id, i) { if (!shown[fips(id)]) missing.push(D.rows.names[i] + ' (' + fips(id) + ')'); });
    if (note) h('p', { 'class': 'note' }, sec, note);
    if (missing.length) {
      h('p', { 'class': 'note' }, sec, missing.length + ' row(s) have no shape on this map (not in ' +
        'the atlas, or outside its projection, as Puerto Rico):');
      h('p', { 'class': 'unmatched', id: svgId + '-unmatched' }, sec, missing.join(', '));
    }
  }
  (function segmentMap() {
    var sec = section('map', 'Map of the segments', 'Counties coloured by segment; grey: in the atlas but not ' +
      'in the results (dropped for a missing value). Hover for details.');
    drawMap(sec, 'map-svg', function (i) { return segColour(D.rows.seg[i]); }, 'seg',
      D.segments.map(function (g, c) { return { colour: segColour(c), label: segLabel(c) }; }));
  })();

  // ---------------------------------------------------------------- predictions: transitions
  if (D.predict) (function transitions() {
    var sec = section('transitions', 'Transitions', 'Rows matched by id: their segment in the model\'s ' +
      'data (rows) and now (columns). The diagonal stayed; ' + D.predict.changed + ' of ' +
      D.predict.matched + ' changed.');
    var T = D.predict.transition, k = D.k, cell = Math.max(28, Math.min(56, 560 / k)), left = 120, top = 40;
    var g = svg(sec, left + k * cell + 20, top + k * cell + 20, 'transition-chart');
    var max = 0;
    T.forEach(function (r, i) { r.forEach(function (v, j) { if (i !== j && v > max) max = v; }); });
    s('text', { x: left, y: 14 }, g, 'now \u2192');
    for (var i = 0; i < k; i++) {
      s('text', { x: left - 6, y: top + i * cell + cell / 2 + 4, 'text-anchor': 'end' }, g, 'was ' + i);
      s('text', { x: left + i * cell + cell / 2, y: top - 6, 'text-anchor': 'middle' }, g, String(i));
      for (var j = 0; j < k; j++) {
        var v = T[i][j];
        var a = i === j ? 0.15 : max > 0 ? 0.1 + 0.9 * v / max : 0.1;
        var r = s('rect', { 'class': 'hm-cell', x: left + j * cell, y: top + i * cell, width: cell - 1,
          height: cell - 1, fill: i === j ? '#888' : '#d62728', 'fill-opacity': v ? a : 0.03 }, g);
        withTip(r, 'from segment ' + i + ' to ' + j + '\n' + v + ' rows');
        if (v) s('text', { x: left + j * cell + cell / 2, y: top + i * cell + cell / 2 + 4, 'text-anchor': 'middle' }, g, String(v));
      }
    }
    tipHandlers(g);
    if (D.rows.old) {
      var sec2 = section('map-changed-section', 'Counties that changed segment',
        'Coloured by their segment now; grey: the same segment as in the model\'s data, new, or not in the data.');
      drawMap(sec2, 'map-changed', function (i) {
        var o = D.rows.old[i];
        return o >= 0 && o !== D.rows.seg[i] ? segColour(D.rows.seg[i]) : null;
      }, 'changed', D.segments.map(function (g, c) { return { colour: segColour(c), label: 'now ' + segLabel(c) }; }));
    }
  })();

  // ---------------------------------------------------------------- scree
  if (D.evr) (function scree() {
    var P = D.evr.length, K = D.K;
    var sec = section('scree', 'Explained variance', 'Share of the variance of each fitted component ' +
      '(bars) and the cumulative share (line); the first ' + K + ' are kept.');
    var W = Math.max(600, Math.min(1100, 60 + P * 24)), H = 300, left = 50, bottom = 40, top = 10;
    var g = svg(sec, W, H, 'scree-chart');
    var bw = (W - left - 20) / P;
    var y = yAxis(g, left, H - bottom, top, 1, 5, function (v) { return (100 * v).toFixed(0) + '%'; });
    var cum = 0, pts = [];
    D.evr.forEach(function (v, j) {
      cum += v;
      var r = s('rect', { 'class': 'scree-bar', x: left + j * bw + 1, y: y(v), width: Math.max(1, bw - 2),
        height: Math.max(0, y(0) - y(v)), fill: j < K ? '#4e79a7' : '#bab0ac' }, g);
      withTip(r, 'component ' + (j + 1) + '\n' + (100 * v).toFixed(2) + '% of the variance, ' +
        (100 * cum).toFixed(2) + '% cumulative');
      pts.push((left + j * bw + bw / 2).toFixed(1) + ',' + y(cum).toFixed(1));
      if (P <= 40 || j % Math.ceil(P / 40) === 0)
        s('text', { x: left + j * bw + bw / 2, y: H - bottom + 14, 'text-anchor': 'middle' }, g, String(j + 1));
    });
    s('polyline', { 'class': 'cumulative', points: pts.join(' '), fill: 'none', stroke: '#e15759', 'stroke-width': 2 }, g);
    var xc = left + K * bw;
    s('line', { 'class': 'cut', x1: xc, x2: xc, y1: top, y2: H - bottom, stroke: '#333', 'stroke-dasharray': '4 3' }, g);
    s('text', { x: xc + 4, y: top + 12 }, g, 'K = ' + K);
    s('text', { x: left + (W - left) / 2, y: H - 6, 'text-anchor': 'middle' }, g, 'component');
    tipHandlers(g);
  })();

  // ---------------------------------------------------------------- component makeup
  if (D.components) (function makeup() {
    var sec = section('makeup', 'Component makeup', 'The 10 features with the largest weight in a kept ' +
      'component (signs are relative: a component can be flipped as a whole).');
    var label = h('label', {}, sec, 'Component: ');
    var sel = h('select', { id: 'component-select' }, label);
    for (var j = 0; j < D.K; j++) h('option', { value: j }, sel, 'pc' + (j + 1) + (D.evr ? ' (' + (100 * D.evr[j]).toFixed(1) + '%)' : ''));
    var W = 700, rowH = 24, left = 160, H = 10 * rowH + 30;
    var g = svg(sec, W, H, 'makeup-chart');
    function draw(j) {
      while (g.firstChild) g.removeChild(g.firstChild);
      var w = D.components[j].map(function (v, f) { return { f: f, v: v }; });
      w.sort(function (a, b) { return Math.abs(b.v) - Math.abs(a.v) || a.f - b.f; });
      w = w.slice(0, 10);
      var max = Math.max.apply(null, w.map(function (x) { return Math.abs(x.v); })) || 1;
      var mid = left + (W - left - 20) / 2, x = lin(0, max, 0, (W - left - 20) / 2 - 10);
      s('line', { x1: mid, x2: mid, y1: 5, y2: H - 20, stroke: '#999' }, g);
      w.forEach(function (it, i) {
        var y0 = 10 + i * rowH, len = x(Math.abs(it.v));
        s('text', { x: left - 8, y: y0 + 15, 'text-anchor': 'end' }, g, D.features[it.f]);
        var r = s('rect', { 'class': 'makeup-bar', x: it.v >= 0 ? mid : mid - len, y: y0 + 3, width: Math.max(1, len),
          height: rowH - 6, fill: it.v >= 0 ? '#4e79a7' : '#e15759' }, g);
        withTip(r, D.features[it.f] + '\nweight ' + it.v.toFixed(4) + ' in pc' + (j + 1));
      });
    }
    sel.addEventListener('change', function () { draw(+sel.value); });
    draw(0);
    tipHandlers(g);
  })();

  // ---------------------------------------------------------------- heatmaps
  function heatmap(sec, id, rows, cols, value, colour, tipText, rowLabel, colLabel) {
    var cell = Math.max(14, Math.min(40, 900 / cols.length)), left = 230, top = 90;
    var g = svg(sec, left + cols.length * cell + 20, top + rows.length * cell + 10, id);
    cols.forEach(function (cn, j) {
      s('text', { transform: 'translate(' + (left + j * cell + cell / 2 + 4) + ',' + (top - 6) + ') rotate(-60)' }, g, colLabel(cn, j));
    });
    rows.forEach(function (rn, i) {
      s('text', { x: left - 6, y: top + i * cell + cell / 2 + 4, 'text-anchor': 'end' }, g, rowLabel(rn, i).slice(0, 40));
      cols.forEach(function (cn, j) {
        var v = value(i, j);
        var r = s('rect', { 'class': 'hm-cell', x: left + j * cell, y: top + i * cell, width: cell - 1,
          height: cell - 1, fill: colour(v) }, g);
        withTip(r, tipText(i, j, v));
      });
    });
    tipHandlers(g);
    return g;
  }
  function diverging(t) { // t in [-1, 1] -> blue .. white .. red
    t = Math.max(-1, Math.min(1, t));
    var a = Math.abs(t), c = t < 0 ? [33, 102, 172] : [178, 24, 43];
    return 'rgb(' + c.map(function (x) { return Math.round(255 + (x - 255) * a); }).join(',') + ')';
  }
  if (D.centroids) (function centroidHeat() {
    var sec = section('heat-centroids', 'Centroids', 'Each segment\'s centre in component space (blue low, red high).');
    var max = 0;
    D.centroids.forEach(function (r) { r.forEach(function (v) { max = Math.max(max, Math.abs(v)); }); });
    var comps = []; for (var j = 0; j < D.K; j++) comps.push('pc' + (j + 1));
    heatmap(sec, 'heat-centroids-chart', D.segments, comps, function (i, j) { return D.centroids[i][j]; },
      function (v) { return diverging(max ? v / max : 0); },
      function (i, j, v) { return segLabel(i) + '\n' + comps[j] + ' = ' + v.toFixed(4) + ' (overall mean 0)'; },
      function (r, i) { return segLabel(i); }, function (c) { return c; });
  })();
  if (D.index) (function indexHeat() {
    var sec = section('heat-index', 'Index scores', (D.kind === 'predictions' ? 'The model\'s: ' : '') +
      '100 x the segment\'s mean / the overall mean, in ' +
      'original units (' + (D.mean_kind || 'rows') + '): red above average (>= 120 high), blue below ' +
      '(<= 80 low); grey where the overall mean is 0.');
    heatmap(sec, 'heat-index-chart', D.segments, D.features, function (i, j) { return D.index[i][j]; },
      function (v) { return v === null ? '#eee' : diverging(Math.log(Math.max(v, 1) / 100) / Math.log(4)); },
      function (i, j, v) {
        return segLabel(i) + '\n' + D.features[j] + ': index ' + (v === null ? 'n/a' : Math.round(v)) +
          '\nsegment mean ' + fmt(D.means[i][j]) + ', overall ' + fmt(D.overall[j]);
      },
      function (r, i) { return segLabel(i); }, function (f) { return f; });
  })();

  // ---------------------------------------------------------------- scatter
  (function scatter() {
    var n = D.rows.ids.length;
    var sec = section('scatter', 'The first two components', (D.rows.stride > 1 ? 'A sample of ' + n +
      ' of ' + nRows + ' rows (every ' + D.rows.stride + 'th), ' : 'All ' + n + ' rows, ') + 'coloured by segment.');
    var W = 760, H = 520, m = 40;
    var g = svg(sec, W, H, 'scatter-chart');
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (var i = 0; i < n; i++) {
      x0 = Math.min(x0, D.rows.pc1[i]); x1 = Math.max(x1, D.rows.pc1[i]);
      y0 = Math.min(y0, D.rows.pc2[i]); y1 = Math.max(y1, D.rows.pc2[i]);
    }
    var x = lin(x0, x1, m, W - 10), y = lin(y0, y1, H - m, 10);
    s('line', { x1: m, x2: W - 10, y1: H - m, y2: H - m, stroke: '#999' }, g);
    s('line', { x1: m, x2: m, y1: 10, y2: H - m, stroke: '#999' }, g);
    s('text', { x: W / 2, y: H - 10, 'text-anchor': 'middle' }, g, 'pc1');
    s('text', { x: 12, y: H / 2, transform: 'rotate(-90 12 ' + H / 2 + ')', 'text-anchor': 'middle' }, g, 'pc2');
    var frag = document.createDocumentFragment();
    for (i = 0; i < n; i++) {
      var c = s('circle', { 'class': 'pt', cx: x(D.rows.pc1[i]).toFixed(1), cy: y(D.rows.pc2[i]).toFixed(1),
        r: n > 5000 ? 1.5 : 2.5, fill: segColour(D.rows.seg[i]), 'fill-opacity': 0.75 }, null);
      if (n <= 5000) c.setAttribute('data-tip', rowTip(i));
      frag.appendChild(c);
    }
    g.appendChild(frag);
    tipHandlers(g);
  })();

  // ---------------------------------------------------------------- sweep
  if (D.sweep) (function sweep() {
    var sec = section('sweep', 'Choosing k', 'Inertia (elbow) and mean silhouette of each k swept; ' +
      'the suggested k = ' + D.sweep.suggested + ' is marked.');
    function line(id, vals, label) {
      var W = 520, H = 260, left = 60, bottom = 36, top = 10;
      var g = svg(sec, W, H, id);
      var ks = D.sweep.k, finite = vals.filter(function (v) { return v !== null; });
      var lo = Math.min.apply(null, finite.concat([0])), hi = Math.max.apply(null, finite);
      var x = lin(ks[0], ks[ks.length - 1], left, W - 20), y = lin(lo, hi, H - bottom, top);
      s('line', { x1: left, x2: W - 20, y1: H - bottom, y2: H - bottom, stroke: '#999' }, g);
      s('line', { x1: left, x2: left, y1: top, y2: H - bottom, stroke: '#999' }, g);
      s('text', { x: left - 6, y: top + 8, 'text-anchor': 'end' }, g, fmt(hi, 3));
      s('text', { x: left - 6, y: H - bottom, 'text-anchor': 'end' }, g, fmt(lo, 3));
      s('text', { x: (left + W) / 2, y: H - 4, 'text-anchor': 'middle' }, g, 'k (' + label + ')');
      var pts = [];
      ks.forEach(function (k, i) {
        if (vals[i] === null) return;
        pts.push(x(k).toFixed(1) + ',' + y(vals[i]).toFixed(1));
        s('text', { x: x(k), y: H - bottom + 14, 'text-anchor': 'middle' }, g, String(k));
      });
      s('polyline', { points: pts.join(' '), fill: 'none', stroke: '#4e79a7', 'stroke-width': 2 }, g);
      ks.forEach(function (k, i) {
        if (vals[i] === null) return;
        var sug = k === D.sweep.suggested;
        var c = s('circle', { 'class': 'sweep-pt' + (sug ? ' suggested' : ''), cx: x(k), cy: y(vals[i]),
          r: sug ? 6 : 3.5, fill: sug ? '#e15759' : '#4e79a7' }, g);
        withTip(c, 'k = ' + k + (sug ? ' (suggested)' : '') + '\n' + label + ' ' + fmt(vals[i], 5));
      });
      tipHandlers(g);
    }
    line('elbow-chart', D.sweep.inertia, 'inertia');
    line('silhouette-chart', D.sweep.silhouette, 'silhouette');
  })();
  document.body.setAttribute('data-rendered', '1');
})();
