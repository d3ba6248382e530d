/* naef report.html: draws every chart from its inline JSON specification with the inlined Plotly.js.
   body[data-charts] becomes "rendered" when all charts are drawn, or "failed" (with a console error). */
(function () {
  "use strict";
  var body = document.body;
  var plots = Array.prototype.slice.call(document.querySelectorAll("div.plot[data-spec]"));
  var config = { displaylogo: false, responsive: true };
  body.setAttribute("data-charts", "drawing");
  if (typeof Plotly === "undefined") {
    console.error("naef report: Plotly.js is missing");
    body.setAttribute("data-charts", "failed");
    return;
  }
  var pending = plots.map(function (div) {
    try {
      var spec = JSON.parse(document.getElementById(div.getAttribute("data-spec")).textContent);
      return Plotly.newPlot(div, spec.data, spec.layout, config).then(function () {
        div.setAttribute("data-rendered", "true");
      });
    } catch (e) {
      return Promise.reject(new Error("chart " + div.id + ": " + e));
    }
  });
  Promise.all(pending).then(function () {
    body.setAttribute("data-charts", "rendered");
  }, function (e) {
    console.error("naef report: " + e);
    body.setAttribute("data-charts", "failed");
  });
})();
