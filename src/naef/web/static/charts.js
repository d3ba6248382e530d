/* The portal's charts (Plotly, served by this server). Data come from the page's <script type="application/json">
 * blocks; every chart has the same numbers in a table next to it for readers without JavaScript. */
"use strict";

(() => {
  if (typeof Plotly === "undefined") return;
  const config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };
  const data = (id) => {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  };
  const drawn = (div) => { div.dataset.drawn = "1"; };

  // the swap's diagram: the figure naef.report.figures.sankey_chart built from naef.analysis.flows, drawn as
  // report.html draws it (same nodes, amounts, names and colours)
  const sankeyDiv = document.getElementById("sankey");
  const s = data("sankey-data");
  if (sankeyDiv && s && s.figure) {
    Plotly.newPlot(sankeyDiv, s.figure.data, s.figure.layout, config).then(() => drawn(sankeyDiv));
  }

  const fan = data("fan-data");
  if (fan) {
    const x = fan.percentiles.period_start;
    for (const v of fan.variables) {
      const div = document.getElementById(`fan-${v.column}`);
      if (!div) continue;
      const y = (q) => (fan.percentiles[`${v.column}_p${q}`] || []).map((val) => (val === null ? null : val * v.scale));
      const band = (lo, hi, color, name) => [
        { x, y: y(lo), type: "scatter", mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
        { x, y: y(hi), type: "scatter", mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: color, name },
      ];
      const traces = [
        ...band(5, 95, "rgba(11,93,140,0.18)", "P5–P95"),
        ...band(25, 75, "rgba(11,93,140,0.38)", "P25–P75"),
        { x, y: y(50), type: "scatter", mode: "lines", line: { color: "#0b5d8c", width: 2 }, name: "median" },
      ];
      Plotly.newPlot(div, traces, {
        // no title inside the plot, where the toolbar would cover it: the page heads each chart in HTML
        margin: { l: 56, r: 12, t: 36, b: 40 },
        yaxis: { title: { text: v.unit }, rangemode: "tozero" },
        legend: { orientation: "h", y: -0.18 },
        height: 380,
      }, config).then(() => drawn(div));
    }
  }

  const mdf = data("mdf-data");
  if (mdf) {
    const bars = (divId, groups) => {
      const div = document.getElementById(divId);
      if (!div) return;
      const keys = Object.keys(groups);
      const m = (k, f) => parseFloat(groups[k][f]) / 1e6;
      Plotly.newPlot(div, [
        { type: "bar", name: "proposed", x: keys, y: keys.map((k) => m(k, "proposed_usd")), marker: { color: "#9cc3dc" } },
        { type: "bar", name: "disbursed", x: keys, y: keys.map((k) => m(k, "disbursed_usd")), marker: { color: "#0b5d8c" } },
      ], { barmode: "group", margin: { l: 56, r: 12, t: 12, b: 60 }, yaxis: { title: { text: "USD m" } }, height: 340 },
      config).then(() => drawn(div));
    };
    bars("mdf-sector", mdf.by_sector);
    bars("mdf-state", mdf.by_state);
  }
})();
