"""``naef portfolio``'s rejected projects (issue 17, item 4: repeated identical refusals in one line with a count):
a zero budget is one line saying the MDF can count on USD 0, not one line per project; identical reasons share a
row with their count; each project's own reason stays in --json."""

from __future__ import annotations

import json
from pathlib import Path

from naef.commands.portfolio import rejection_groups
from tests.commands.test_portfolio import _pipeline, invoke

ROWS = ("a,A,road,MX-MIC,5e8,2030,1,1.5e8,20,10,", "b,B,road,MX-GUA,5e8,2030,1,1.4e8,20,10,",
        "c,C,education,MX-OAX,1e8,2030,1,3e7,20,10,", "d,D,education,MX-OAX,1e8,2031,3,3e7,20,10,",
        "e,E,education,MX-OAX,1e8,2031,3,3e7,20,10,")
OPTIONS = ("--paths", "50", "--sector-floor", "none", "--migrant-share", "0", "--resolve-seconds", "2")


def test_a_zero_budget_is_one_line(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, *ROWS)
    res = invoke("--pipeline", str(path), "--budget-usd-by-year", "2030:0,2031:0", *OPTIONS)
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert ("The MDF can count on USD 0 in 2030-2031 (the budget given with --budget-usd-by-year): all 5 projects "
            "of the pipeline are rejected") in text
    assert "Rejected projects" not in text
    assert "why it lost" not in text
    # one line, not five: no project's reason is printed
    assert "excluded by" not in text
    assert "too late" not in text
    data = json.loads(invoke("--pipeline", str(path), "--budget-usd-by-year", "2030:0,2031:0", "--json",
                             *OPTIONS).stdout)
    assert sorted(r["id"] for r in data["rejected"]) == ["a", "b", "c", "d", "e"]


def test_identical_refusals_share_a_row_with_their_count(tmp_path: Path) -> None:
    # d and e take three years from 2031: both would be paid for after the budget's last year, for the same reason
    path = _pipeline(tmp_path, *ROWS)
    res = invoke("--pipeline", str(path), "--budget-usd-by-year", "2030:6e8,2031:1e8", *OPTIONS)
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert "2 projects: d, e" in text
    assert text.count("earliest start too late") == 1


def test_rejection_groups_keep_a_lone_reason_whole() -> None:
    rejected = [{"id": "x", "reason": "excluded by the budget: removing it (ENPV per dollar 0.2 if started in 2030)"},
                {"id": "y", "reason": "excluded by the budget: removing it (ENPV per dollar 0.1 if started in 2031)"},
                {"id": "z", "reason": "negative expected NPV: USD -1.0 m (planned NPV USD 2.0 m)"}]
    assert rejection_groups(rejected) == [
        (["x", "y"], "excluded by the budget: removing it"),
        (["z"], "negative expected NPV: USD -1.0 m (planned NPV USD 2.0 m)"),
    ]
