/* The risk page's run form, with JavaScript: start the run through the API, show its progress, then open the
 * page of the finished run (whose charts are drawn by charts.js). Without JavaScript the form posts to /runs. */
"use strict";

(() => {
  const form = document.getElementById("run-form");
  if (!form) return;
  const status = document.getElementById("run-status");
  const bar = document.getElementById("run-progress");
  const button = document.getElementById("run-submit");

  function say(text) { status.textContent = text; }

  async function poll(id) {
    const r = await fetch(`/api/runs/${encodeURIComponent(id)}`);
    const s = await r.json();
    if (!r.ok) { say(s.error ? s.error.message : `HTTP ${r.status}`); button.disabled = false; return; }
    bar.value = s.progress;
    if (s.state === "done") { say("Done."); window.location.assign(`/risk?run=${encodeURIComponent(id)}`); return; }
    if (s.state === "failed") { say(`Failed: ${s.error}`); button.disabled = false; return; }
    say(`${s.state}: ${s.paths_done} of ${s.paths_total} paths`);
    setTimeout(() => { poll(id); }, 400);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const paths = parseInt(form.elements.paths.value, 10);
    const seed = parseInt(form.elements.seed.value, 10);
    const body = { paths, seed, scenario: form.elements.scenario.value };
    button.disabled = true;
    bar.classList.remove("hidden");
    bar.value = 0;
    say("Starting…");
    try {
      const r = await fetch("/api/runs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const s = await r.json();
      if (!r.ok) { say(s.error ? s.error.message : `HTTP ${r.status}`); button.disabled = false; return; }
      poll(s.id);
    } catch (e) {
      say(`Could not start the run (${e.message}).`);
      button.disabled = false;
    }
  });
})();
