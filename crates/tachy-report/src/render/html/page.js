// tachy report: draws the interactive flamegraphs from their JSON data, counts its own
// failures into body[data-errors] and, when done, writes the number of charts drawn (static
// SVG charts and flamegraphs) into body[data-rendered]. Data from the report only ever
// reaches the page through textContent, title and style values, never as markup.
(function () {
  'use strict';
  var body = document.body;
  var ROW = 18;

  function failed(err) {
    body.dataset.errors = String((Number(body.dataset.errors) || 0) + 1);
    if (window.console && console.error) {
      console.error('tachy report:', err);
    }
  }

  function formatValue(v, unit) {
    if (unit === 'bytes') {
      var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      var i = 0;
      var x = v;
      while (x >= 1024 && i < units.length - 1) {
        x /= 1024;
        i++;
      }
      return (i === 0 ? String(x) : x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)) + ' ' + units[i];
    }
    return v.toLocaleString('en-US') + (v === 1 ? ' sample' : ' samples');
  }

  function percent(part, whole) {
    if (!(whole > 0)) {
      return '0%';
    }
    var p = (100 * part) / whole;
    return (p !== 0 && p < 1 ? p.toFixed(2) : p.toFixed(1)) + '%';
  }

  function hash(s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return h >>> 0;
  }

  function colour(name, unit) {
    var h = hash(name);
    if (unit === 'bytes') {
      return 'hsl(' + (190 + (h % 50)) + ',55%,' + (60 + ((h >>> 8) % 16)) + '%)';
    }
    return 'hsl(' + (8 + (h % 42)) + ',85%,' + (58 + ((h >>> 8) % 14)) + '%)';
  }

  // One flamegraph inside `root` (a .flamegraph element): every lookup is scoped to it, so
  // several flamegraphs on one page never interfere.
  function Flamegraph(root) {
    var src = document.getElementById(root.dataset.src);
    if (!src) {
      throw new Error('flamegraph data missing for ' + root.id);
    }
    var data = JSON.parse(src.textContent);
    var canvas = root.querySelector('.fg-canvas');
    var search = root.querySelector('.fg-search');
    var reset = root.querySelector('.fg-reset');
    var status = root.querySelector('.fg-status');
    var raw = data.nodes;
    if (!canvas || !search || !reset || !status || !raw || raw.length === 0) {
      throw new Error('malformed flamegraph ' + root.id);
    }
    var unit = data.unit;
    var total = raw[0][2];
    var nodes = new Array(raw.length);
    var cursor = [0];
    var parents = [];
    var maxDepth = 0;
    var frag = document.createDocumentFragment();
    for (var i = 0; i < raw.length; i++) {
      var r = raw[i];
      var d = r[1];
      var name = String(data.names[r[0]]);
      var tip = String(data.tips[r[0]] || '');
      var x = cursor[d] || 0;
      cursor[d] = x + r[2];
      cursor[d + 1] = x;
      parents[d] = i;
      if (d > maxDepth) {
        maxDepth = d;
      }
      var el = document.createElement('div');
      el.className = 'fg-node';
      el.style.top = d * ROW + 'px';
      el.style.backgroundColor = i === 0 ? '#c9ccd1' : colour(name, unit);
      el.textContent = name;
      el.title = name + (tip ? '\n' + tip : '') + '\n' + formatValue(r[2], unit) + ' (' + percent(r[2], total) + ')';
      el.dataset.i = String(i);
      frag.appendChild(el);
      nodes[i] = { name: name, lname: name.toLowerCase(), d: d, x: x, v: r[2], parent: d > 0 ? parents[d - 1] : -1, el: el };
    }
    canvas.textContent = '';
    canvas.style.height = (maxDepth + 1) * ROW + 'px';
    canvas.appendChild(frag);

    var zoomed = 0;
    var term = '';

    function layout(zi) {
      var z = nodes[zi];
      for (var i = 0; i < nodes.length; i++) {
        var n = nodes[i];
        var s = n.el.style;
        var inside = n.d >= z.d && n.x >= z.x && n.x + n.v <= z.x + z.v;
        var ancestor = n.d < z.d && n.x <= z.x && n.x + n.v >= z.x + z.v;
        if (inside && n.v / z.v >= 0.0005) {
          s.display = '';
          s.left = (100 * (n.x - z.x)) / z.v + '%';
          s.width = (100 * n.v) / z.v + '%';
          n.el.classList.remove('fg-ancestor');
        } else if (ancestor) {
          s.display = '';
          s.left = '0%';
          s.width = '100%';
          n.el.classList.add('fg-ancestor');
        } else {
          s.display = 'none';
        }
      }
      zoomed = zi;
      show();
    }

    function find(text) {
      term = text.trim().toLowerCase();
      var matched = 0;
      var hits = 0;
      var block = -1;
      for (var i = 0; i < nodes.length; i++) {
        var n = nodes[i];
        var hit = term !== '' && i > 0 && n.lname.indexOf(term) >= 0;
        n.el.classList.toggle('fg-match', hit);
        if (hit) {
          hits++;
        }
        if (block >= 0 && n.d > block) {
          continue;
        }
        block = -1;
        if (hit) {
          matched += n.v;
          block = n.d;
        }
      }
      show(matched, hits);
    }

    function show(matched, hits) {
      if (term !== '') {
        if (matched === undefined) {
          find(search.value);
          return;
        }
        status.textContent =
          'Matched: ' + percent(matched, total) + ' (' + formatValue(matched, unit) + ', ' + hits + (hits === 1 ? ' frame)' : ' frames)');
      } else if (zoomed !== 0) {
        var z = nodes[zoomed];
        status.textContent = 'Zoomed to ' + z.name + ': ' + percent(z.v, total) + ' of ' + formatValue(total, unit);
      } else {
        status.textContent = 'Total: ' + formatValue(total, unit);
      }
    }

    canvas.addEventListener('click', function (e) {
      var el = e.target.closest ? e.target.closest('.fg-node') : null;
      if (el) {
        layout(Number(el.dataset.i));
      }
    });
    search.addEventListener('input', function () {
      find(search.value);
    });
    reset.addEventListener('click', function () {
      search.value = '';
      term = '';
      find('');
      layout(0);
    });
    layout(0);
    find(search.value || '');
    return { nodes: nodes, canvas: canvas, search: search, reset: reset, status: status };
  }

  // Drives one flamegraph through the user interface: a search, a zoom, a reset. Runs only
  // when the page is opened with #tachy-selftest (scripts/browser-test); returns a problem
  // or ''.
  function selfTest(fg) {
    var target = fg.nodes[fg.nodes.length - 1];
    fg.search.value = target.name;
    fg.search.dispatchEvent(new Event('input'));
    if (fg.status.textContent.indexOf('Matched: ') !== 0) {
      return 'search status: ' + fg.status.textContent;
    }
    if (!target.el.classList.contains('fg-match')) {
      return 'search did not highlight ' + target.name;
    }
    fg.reset.click();
    target.el.click();
    if (fg.status.textContent.indexOf('Zoomed to ') !== 0 || target.el.style.width !== '100%') {
      return 'zoom status: ' + fg.status.textContent + ', width ' + target.el.style.width;
    }
    if (fg.nodes[0].el.style.width !== '100%' || !fg.nodes[0].el.classList.contains('fg-ancestor')) {
      return 'the root is not shown as an ancestor when zoomed';
    }
    fg.reset.click();
    if (fg.status.textContent.indexOf('Total: ') !== 0 || fg.search.value !== '') {
      return 'reset status: ' + fg.status.textContent;
    }
    return '';
  }

  var drawn = 0;
  var graphs = [];
  var roots = document.querySelectorAll('.flamegraph');
  for (var k = 0; k < roots.length; k++) {
    try {
      graphs.push(Flamegraph(roots[k]));
      roots[k].classList.add('fg-ready');
      drawn++;
    } catch (err) {
      failed(err);
    }
  }
  if (location.hash === '#tachy-selftest') {
    var problems = [];
    for (var g = 0; g < graphs.length; g++) {
      try {
        var problem = selfTest(graphs[g]);
        if (problem) {
          problems.push(problem);
        }
      } catch (err) {
        problems.push(String(err));
      }
    }
    body.dataset.selftest = problems.length ? 'failed: ' + problems.join('; ') : 'ok ' + graphs.length;
  }
  drawn += document.querySelectorAll('svg.chart').length;
  body.dataset.rendered = String(drawn);
})();
