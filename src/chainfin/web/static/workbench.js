/* The bank workbench's charts and chain maps (ECharts, vendored under /static/vendor/echarts).
 *
 * A page writes <div class="chart" data-chart="ID" role="img" aria-label="…"> and, beside it,
 * <script type="application/json" id="ID">{…ECharts option…}</script>: the option is data
 * built on the server (web/charts.py, web/chain_map.py), so no script is inline and the
 * Content-Security-Policy stays "self" only. Every chart has a table of the same figures
 * next to it for people who do not see it.
 *
 * When a chart has finished drawing its area gets data-finished-ms (ms since navigation).
 * Clicking a point whose data carries a same-site "url" opens it (a firm on the chain map
 * opens its page). Charts swapped in by htmx are drawn when they settle. Tooltips render as
 * rich text, not HTML, so no inline style reaches the page.
 */
(function () {
  "use strict";

  function sameSite(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/";
  }

  function draw(root) {
    if (typeof echarts === "undefined" || !root.querySelectorAll) {
      return;
    }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.getAttribute("data-drawn") === "1") {
        return;
      }
      var island = document.getElementById(el.getAttribute("data-chart"));
      if (!island) {
        return;
      }
      var option = JSON.parse(island.textContent);
      if (option.tooltip) {
        option.tooltip.renderMode = "richText";
      }
      var lang = document.documentElement.lang === "en" ? "EN" : "ZH";
      var renderer = el.getAttribute("data-renderer") || "svg";
      var chart = echarts.init(el, null, { renderer: renderer, locale: lang });
      chart.on("click", function (params) {
        var url = params.data && params.data.url;
        if (sameSite(url)) {
          window.location.assign(url);
        }
      });
      chart.on("finished", function () {
        // when the drawing is done, in ms since the page's navigation began (bench/pages.py
        // reads it: the chain map's time to render in the browser)
        if (!el.hasAttribute("data-finished-ms")) {
          el.setAttribute("data-finished-ms", String(Math.round(performance.now())));
        }
      });
      chart.setOption(option);
      el.setAttribute("data-drawn", "1");
      if (window.ResizeObserver) {
        new ResizeObserver(function () {
          chart.resize();
        }).observe(el);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    draw(event.target);
  });
})();
