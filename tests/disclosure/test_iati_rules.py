"""An equivalent of the IATI 2.03 Standard Ruleset (IATI-Rulesets, ``rulesets/standard.json``), written from its
rules, run on every IATI export of the demo ledgers (issue 20: "a test that runs the IATI rulesets for 2.03 or an
equivalent check written from them").

Rules checked (the ruleset's names in brackets):

* the activity identifier starts with the reporting organisation's identifier [startswith], and that identifier
  has an approved registration-agency prefix (the IATI Validator's organisation-identifier rule);
* sector percentages sum to 100 per vocabulary, recipient-country and -region percentages to 100 [sum];
* a start date is not after an end date: activity dates (actual/planned), budget and result periods
  [date_order]; a budget period is at most a year long [time_limit];
* every value has a value date [atleast_one] and the activity's default currency or its own [one_or_more];
* a transaction is dated and has exactly one type [atleast_one];
* no actual date (activity-date type 2 or 4, transaction date) after the data's own date (the
  ``last-updated-datetime`` the file states) nor after today [date_now]: the export is published as of today and
  the demo's future-dated payments are planned disbursements (``test_publication_date.py``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from naef.disclosure import export_bundle, iati
from naef.disclosure.orgid import approved_prefixes


@pytest.fixture(scope="module", params=["demo", "illustrative"])
def activities(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[etree._Element]:
    url = request.getfixturevalue(f"{request.param}_url")
    folder = export_bundle(url, "iati", tmp_path_factory.mktemp("rules") / "b").folder
    root = etree.fromstring((Path(folder) / iati.FILE).read_bytes())
    found = root.findall("iati-activity")
    assert found
    return found


def _attr(el: etree._Element, child: str, name: str = "iso-date") -> str | None:
    found = el.find(child)
    return None if found is None else found.get(name)


def _d(text: str | None) -> date:
    assert text, "missing date"
    return date.fromisoformat(text[:10])


def test_identifiers(activities: list[etree._Element]) -> None:
    for a in activities:
        ref = _attr(a, "reporting-org", "ref")
        assert ref
        assert str(a.findtext("iati-identifier")).startswith(f"{ref}-")
        assert any(ref.startswith(f"{p}-") for p in approved_prefixes()), ref


def test_percentages_sum_to_100(activities: list[etree._Element]) -> None:
    for a in activities:
        by_vocabulary: dict[str, Decimal] = defaultdict(Decimal)
        for s in a.iterfind("sector"):
            by_vocabulary[s.get("vocabulary", "1")] += Decimal(s.get("percentage", "100"))
        assert all(total == 100 for total in by_vocabulary.values()), dict(by_vocabulary)
        places = [Decimal(c.get("percentage", "100")) for c in [*a.iterfind("recipient-country"),
                                                                 *a.iterfind("recipient-region")]]
        assert sum(places) == 100


def test_dates_in_order_and_budgets_at_most_a_year(activities: list[etree._Element]) -> None:
    for a in activities:
        dates = {d.get("type"): _d(d.get("iso-date")) for d in a.iterfind("activity-date")}
        for start, end in (("1", "3"), ("2", "4")):
            if start in dates and end in dates:
                assert dates[start] <= dates[end]
        for period in [*a.iterfind("budget"), *a.iterfind("result/indicator/period")]:
            first = _d(_attr(period, "period-start"))
            last = _d(_attr(period, "period-end"))
            assert first <= last
            if period.tag == "budget":
                assert (last - first).days <= 366


def test_values_and_transactions(activities: list[etree._Element]) -> None:
    for a in activities:
        for v in a.iter("value"):
            assert v.get("value-date")
            assert v.get("currency") or a.get("default-currency")
        for t in a.iterfind("transaction"):
            assert len(t.findall("transaction-type")) == 1
            assert t.find("transaction-date") is not None


def test_no_actual_date_after_the_data(activities: list[etree._Element]) -> None:
    today = datetime.now(UTC).date()  # the export is published as of today: the IATI Validator's date_now rule
    for a in activities:
        updated = _d(a.get("last-updated-datetime"))
        assert updated <= today
        actual = [_d(d.get("iso-date")) for d in a.iterfind("activity-date") if d.get("type") in ("2", "4")]
        actual += [_d(_attr(t, "transaction-date")) for t in a.iterfind("transaction")]
        assert all(d <= updated for d in actual), (a.findtext("iati-identifier"), updated)
