/*
 * Draws the ledger's charts with Apache ECharts (vendored: static/vendor/echarts/).
 *
 * A chart is an element with data-chart="<id of a JSON block>". The block is
 * <script type="application/json" id="..."> holding
 *   {"type": "bar" | "line" | "pie", "categories": [...], "series": [{"name": ..., "values": [...]}],
 *    "horizontal": bool, "stacked": bool}
 * and data-unit="fen" (amounts, shown in yuan) or "count". Nothing here is inline in a page and
 * nothing is evaluated from strings, so a strict Content-Security-Policy (script-src 'self')
 * holds. Every chart has its figures in a table or list next to it; the chart itself is
 * decoration for sighted readers (aria-hidden), so a failure here hides nothing.
 */
(function () {
  "use strict";

  var PALETTE = ["#9b1c1c", "#0b5cad", "#1f7a3a", "#9a6700", "#6b4fbb", "#00838f", "#c2410c", "#5f6b7a"];

  function formatter(unit, locale) {
    if (unit !== "fen") {
      return function (value) { return String(value); };
    }
    var number = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return function (value) { return "¥" + number.format(Number(value) / 100); };
  }

  function compactFormatter(unit, locale) {
    if (unit !== "fen") {
      return function (value) { return String(value); };
    }
    var number = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
    return function (value) { return number.format(Number(value) / 100); };
  }

  function optionFor(spec, unit, locale) {
    var full = formatter(unit, locale);
    var compact = compactFormatter(unit, locale);
    var series = spec.series || [];
    var base = {
      color: PALETTE,
      animation: false,
      tooltip: { trigger: spec.type === "pie" ? "item" : "axis", valueFormatter: full },
      legend: { show: series.length > 1 || spec.type === "pie", bottom: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 16, bottom: 40, containLabel: true }
    };
    if (spec.type === "pie") {
      base.series = [{
        type: "pie", name: series.length ? series[0].name : "", radius: ["35%", "65%"], top: 0, bottom: 30,
        label: { formatter: "{b}: {d}%" },
        data: (spec.categories || []).map(function (name, index) {
          return { name: name, value: series.length ? series[0].values[index] : 0 };
        })
      }];
      return base;
    }
    var categoryAxis = { type: "category", data: spec.categories || [], axisLabel: { hideOverlap: true } };
    var valueAxis = { type: "value", axisLabel: { formatter: compact } };
    if (unit !== "fen") { valueAxis.minInterval = 1; }
    if (spec.horizontal) {
      categoryAxis.inverse = true;
      categoryAxis.axisLabel = { interval: 0, width: 120, overflow: "truncate" };
      base.xAxis = valueAxis;
      base.yAxis = categoryAxis;
    } else {
      base.xAxis = categoryAxis;
      base.yAxis = valueAxis;
    }
    base.series = series.map(function (one) {
      var drawn = { type: spec.type === "line" ? "line" : "bar", name: one.name, data: one.values };
      if (spec.stacked) { drawn.stack = "all"; }
      if (spec.type === "line") { drawn.step = "end"; drawn.showSymbol = (one.values || []).length < 40; }
      return drawn;
    });
    return base;
  }

  function draw(element, locale) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source) { return null; }
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      return null;
    }
    if (!spec.categories || spec.categories.length === 0) { return null; }
    if (spec.horizontal) {
      // one bar every 28 px, so that long lists of villages stay readable
      element.style.height = Math.max(220, spec.categories.length * 28 + 60) + "px";
    }
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(optionFor(spec, element.getAttribute("data-unit") || "fen", locale));
    element.classList.add("chart-drawn");
    return chart;
  }

  function start() {
    if (!window.echarts) { return; }
    var locale = document.documentElement.lang || "zh-CN";
    var charts = [];
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (element) {
      var chart = draw(element, locale);
      if (chart) { charts.push(chart); }
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
