/* Interactive charts (M9): draws every chart element of the page with Apache ECharts.
 *
 * A chart element (core/chart.html) is <div data-wm-chart="ID" data-echarts="URL">: ID is
 * the <script type="application/json"> the view's spec was embedded in with json_script
 * (core/charts.py describes the spec), URL the ECharts file of the npm package, loaded the
 * first time a page has a chart. Charts are drawn when the page loads and whenever htmx
 * swaps content in (htmx:load), follow their element's size (the window, the layout),
 * and are redrawn at the paper's width for printing (SVG, so they print sharp).
 *
 * No text here: titles, names, units and the figures' texts all come from the spec
 * (translated by the view), and the tooltip shows the same texts as the table beside it.
 */
(function () {
  "use strict";

  var drawn = []; // {element, chart}
  var loading = null;
  var observer =
    "ResizeObserver" in window
      ? new ResizeObserver(function (entries) {
          entries.forEach(function (entry) {
            var chart = window.echarts && window.echarts.getInstanceByDom(entry.target);
            if (chart) chart.resize();
          });
        })
      : null;

  function loadECharts(url) {
    if (window.echarts) return Promise.resolve();
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = url;
        script.onload = resolve;
        script.onerror = function () {
          loading = null;
          reject(new Error("ECharts did not load from " + url));
        };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function cssColor(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function escape(text) {
    return window.echarts.format.encodeHTML(String(text));
  }

  /* A round number at or above value (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 times a power of ten),
   * so an axis stretched to show a limit line still ends on a round label. */
  function niceCeil(value) {
    if (value <= 0) return 0;
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= value - 1e-9) return steps[i] * power;
    }
    return 10 * power;
  }

  /* The value axes, left then right: each reaches past the limit lines drawn on it. */
  function valueAxes(spec) {
    return spec.axes.map(function (axis, index) {
      var limits = spec.series
        .filter(function (s) { return s.type !== "table" && s.axis === index && s.limit !== null; })
        .map(function (s) { return s.limit; });
      var max = axis.max;
      if (max === null && limits.length) {
        var highest = Math.max.apply(null, limits);
        max = function (extent) {
          return extent.max > highest * 1.1 ? null : niceCeil(highest * 1.2);
        };
      }
      return {
        type: "value",
        name: axis.name,
        position: index === 0 ? "left" : "right",
        min: axis.min === null ? undefined : axis.min,
        max: max === null ? undefined : max,
        splitLine: { show: index === 0 },
      };
    });
  }

  /* The series ECharts draws (not the table's own columns), in the spec's order. */
  function plotted(spec) {
    var danger = cssColor("--bs-danger", "#dc3545");
    var series = [];
    spec.series.forEach(function (s) {
      if (s.type === "table") return;
      var item = {
        name: s.name,
        type: s.type,
        yAxisIndex: s.axis,
        data: s.values.map(function (value) {
          if (s.limit !== null && value !== null && value > s.limit) {
            return { value: value, itemStyle: { color: danger } };
          }
          return value;
        }),
      };
      if (s.stack) item.stack = s.stack;
      if (s.type === "line") {
        item.symbolSize = 6;
        item.connectNulls = false;
        item.z = 3;
      } else {
        item.barMaxWidth = 28;
      }
      if (s.limit !== null) {
        item.markLine = {
          silent: true,
          symbol: "none",
          lineStyle: { type: "dashed", color: danger },
          label: { formatter: s.limit_label || String(s.limit), position: "insideEndTop", color: danger },
          data: [{ yAxis: s.limit }],
        };
      }
      series.push(item);
    });
    return series;
  }

  /* The tooltip is the table row: the category, then every series' text and unit. */
  function tooltip(spec) {
    return function (params) {
      var list = Array.isArray(params) ? params : [params];
      if (!list.length) return "";
      var index = list[0].dataIndex;
      var row = spec.rows[index];
      var markers = {};
      list.forEach(function (p) { markers[p.seriesIndex] = p.marker; });
      var lines = ["<strong>" + escape(row.category) + "</strong>"];
      var drawnIndex = 0;
      spec.series.forEach(function (s, n) {
        var marker = s.type === "table" ? "" : markers[drawnIndex++] || "";
        lines.push(
          marker + escape(s.name) + ": <strong>" + escape(row.cells[n]) + "</strong>" +
            (s.unit && s.values[index] !== null ? " " + escape(s.unit) : "")
        );
      });
      return lines.join("<br>");
    };
  }

  function option(spec) {
    var text = cssColor("--bs-body-color", "#212529");
    return {
      animation: !window.matchMedia("print").matches,
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      color: [
        cssColor("--bs-primary", "#0d6efd"),
        cssColor("--bs-teal", "#20c997"),
        cssColor("--bs-orange", "#fd7e14"),
        cssColor("--bs-purple", "#6f42c1"),
        cssColor("--bs-cyan", "#0dcaf0"),
        cssColor("--bs-pink", "#d63384"),
        cssColor("--bs-gray-600", "#6c757d"),
      ],
      legend: { top: 0, type: "scroll", textStyle: { color: text } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true, formatter: tooltip(spec) },
      grid: {
        top: 36,
        left: 8,
        right: 8,
        bottom: spec.zoom ? 40 : 8,
        outerBoundsMode: "same", // the axis labels and names inside the element
        outerBoundsContain: "all",
      },
      xAxis: {
        type: "category",
        data: spec.rows.map(function (row) { return row.category; }),
        axisTick: { alignWithLabel: true },
      },
      yAxis: valueAxes(spec),
      dataZoom: spec.zoom
        ? [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }]
        : [],
      series: plotted(spec),
    };
  }

  function draw(element) {
    if (window.echarts.getInstanceByDom(element)) return;
    var data = document.getElementById(element.getAttribute("data-wm-chart"));
    if (!data) return;
    var spec = JSON.parse(data.textContent);
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option(spec));
    drawn.push({ element: element, chart: chart });
    if (observer) observer.observe(element);
    element.setAttribute("data-wm-chart-drawn", "");
  }

  /* Charts whose element htmx swapped out are let go. */
  function forget() {
    drawn = drawn.filter(function (item) {
      if (item.element.isConnected) return true;
      if (observer) observer.unobserve(item.element);
      item.chart.dispose();
      return false;
    });
  }

  function drawAll(root) {
    forget();
    var elements = [];
    if (root.matches && root.matches("[data-wm-chart]")) elements.push(root);
    if (root.querySelectorAll) {
      elements.push.apply(elements, root.querySelectorAll("[data-wm-chart]"));
    }
    if (!elements.length) return;
    loadECharts(elements[0].getAttribute("data-echarts"))
      .then(function () { elements.forEach(draw); })
      .catch(function (error) { console.error(error); }); // the tables still show the figures
  }

  function resizeAll() {
    forget();
    drawn.forEach(function (item) { item.chart.resize(); });
  }

  if (!observer) window.addEventListener("resize", resizeAll);
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
  window.matchMedia("print").addEventListener("change", resizeAll);
  document.addEventListener("htmx:load", function (event) { drawAll(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
})();
