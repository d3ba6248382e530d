"""The portal's comparison of the runs it holds (issue 17, item 1): ``GET /api/compare`` and ``GET /compare``.

Checked: two finished runs of different shipped scenarios on the same seed give the same document as the study
(``naef.studies.compare.headline`` of each run's summary), with the scenarios' differing key paths and common random
numbers; the page is naef compare's compare.html; too few, unknown or repeated ids are one JSON error (400/404).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

import naef
from naef.scenario import load_scenario
from naef.studies.compare import differences, headline
from naef.web import create_app
from tests.web.conftest import web_config


def _run(client: TestClient, scenario: str, seed: int) -> dict[str, Any]:
    r = client.post("/api/runs", json={"paths": 200, "seed": seed, "scenario": scenario})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = client.get(f"/api/runs/{run_id}").json()
        if status["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert status["state"] == "done", status
    return {"id": run_id, "result": client.get(f"/api/runs/{run_id}/result").json()}


def test_the_portal_compares_its_runs(tmp_path: Path) -> None:
    text = (Path(naef.__file__).parent / "scenario" / "scenarios" / "baseline.toml").read_text("utf-8")
    at = text.index("coupon_rate", text.index('name = "A1"'))
    mine = tmp_path / "mine.toml"
    mine.write_text(text[:at] + "coupon_rate = 0.0725" + text[text.index("\n", at):], encoding="utf-8")
    with TestClient(create_app(web_config(None, scenario=str(mine)))) as client:
        other = "mine"
        a, b = _run(client, "baseline", 5), _run(client, other, 5)
        r = client.get(f"/api/compare?runs={a['id']},{b['id']}")
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["common_random_numbers"] is True
        want = differences([load_scenario("baseline"), load_scenario(mine)])
        assert [d["key"] for d in want] == ["tranches[0].coupon_rate"]
        assert [d["key"] for d in doc["differences"]] == [d["key"] for d in want]
        for got, run in zip(doc["results"], (a, b), strict=True):
            res = run["result"]
            ref = headline(res["monte_carlo"], res["deterministic"])
            assert got["tranches"] == ref["tranches"]
            assert got["mdf"] == ref["mdf"]
        page = client.get(f"/compare?runs={a['id']},{b['id']}")
        assert page.status_code == 200
        assert "Headline results side by side" in page.text
        assert "chart-compare-to-mdf-usd" in page.text
        for query, status in ((a["id"], 400), (f"{a['id']},nope", 404), (f"{a['id']},{a['id']}", 400)):
            r = client.get(f"/api/compare?runs={query}")
            assert r.status_code == status, (query, r.text)
            assert set(r.json()) == {"error"}
        c = _run(client, "baseline", 6)
        doc = client.get(f"/api/compare?runs={a['id']},{c['id']}").json()
        assert doc["common_random_numbers"] is False
        assert doc["differences"] == []
