"""Reading Date,Price histories: monthly averages (checked against EIA's own monthly series), clear one-line
errors naming file and line, log-returns for the bootstrap, and the shipped stress episodes re-derived from
the EIA files."""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from naef.scenario.history import (
    historical_returns,
    load_historical_returns,
    log_prices,
    parse_monthly_prices,
    parse_price_table,
    read_monthly_prices,
)
from naef.scenario.price_models import GBM, BlockBootstrap, PriceModelError, parse_price_model
from tests import data_paths

EIA = data_paths.EIA


def test_monthly_file_is_read_as_is() -> None:
    prices = read_monthly_prices(EIA / "brent-monthly.csv")
    assert len(prices.months) == 471
    assert (prices.first_month, prices.last_month) == ("1987-05", "2026-07")
    assert prices.prices_usd_per_bbl[0] == 18.58  # first data row: 1987-05-15,18.58
    assert prices.lines[0] == (2, 2)
    assert prices.where(0).endswith("brent-monthly.csv:2")


def test_daily_file_averages_to_eias_monthly_series() -> None:
    """EIA's monthly spot price is the average of the month's daily prices; the reader does the same."""
    daily = read_monthly_prices(EIA / "wti-daily.csv")
    monthly = read_monthly_prices(EIA / "wti-monthly.csv")
    d = dict(zip(daily.months, daily.prices_usd_per_bbl, strict=True))
    m = dict(zip(monthly.months, monthly.prices_usd_per_bbl, strict=True))
    # April 2020 holds the negative day (-36.98 on 2020-04-20); EIA's monthly figure is 16.55
    assert d["2020-04"] == pytest.approx(16.55, abs=0.005)
    common = sorted(set(d) & set(m))
    assert len(common) == len(m)
    diffs = np.array([abs(d[k] - m[k]) for k in common])
    # equal up to rounding to cents in 95 % of months; the rest differ by EIA revisions of single days
    assert np.mean(diffs < 0.0051) > 0.93
    assert diffs.max() < 0.5
    i = daily.months.index("2020-04")
    first, last = daily.lines[i]
    assert last - first + 1 == 21  # 21 trading days averaged
    assert log_prices(daily)[i] == pytest.approx(math.log(d["2020-04"]))


def test_header_case_bom_crlf_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(
        "\ufeffdate , PRICE\r\n2001-01-31,25.5\r\n\r\n2001-02-28,26.5\r\n2001-03,27\r\n\r\n".encode()
    )
    prices = read_monthly_prices(path)
    assert prices.months == ("2001-01", "2001-02", "2001-03")
    np.testing.assert_array_equal(prices.prices_usd_per_bbl, [25.5, 26.5, 27.0])
    assert prices.lines == ((2, 2), (4, 4), (5, 5))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"^f\.csv: empty file"),
        ("\n \n", r"^f\.csv: empty file"),
        ("Date,Price\n", r"^f\.csv: no price rows after the header$"),
        ("Day,Value\n2000-01-15,20\n", r"^f\.csv:1: expected the header 'Date,Price'"),
        ("Date,Price\n2000-01-15,20,1\n", r"^f\.csv:2: expected 2 fields"),
        ("Date,Price\n2000-01-15\n", r"^f\.csv:2: expected 2 fields"),
        (
            "Date,Price\n2000-01-15,20\n15/02/2000,21\n",
            r"^f\.csv:3: bad date '15/02/2000' \(expected YYYY-MM-DD or YYYY-MM\)$",
        ),
        ("Date,Price\n2000-13-15,20\n", r"^f\.csv:2: bad date '2000-13-15'"),
        ("Date,Price\n2000-01-15,n/a\n", r"^f\.csv:2: bad price 'n/a' \(expected a number\)$"),
        ("Date,Price\n2000-01-15,nan\n", r"^f\.csv:2: bad price 'nan'"),
        ("Date,Price\n2000-01-15,inf\n", r"^f\.csv:2: bad price 'inf'"),
        (
            "Date,Price\n2000-02-15,20\n2000-01-15,21\n",
            r"^f\.csv:3: date 2000-01-15 is not after .* 2000-02-15",
        ),
        ("Date,Price\n2000-01-15,20\n2000-01-15,21\n", r"^f\.csv:3: date 2000-01-15 is not after"),
        ("Date,Price\n2000-01-15,20\n2000-03-15,21\n", r"^f\.csv:3: month 2000-02 is missing"),
        ("Date,Price\n1999-12-15,20\n2000-02-15,21\n", r"^f\.csv:3: month 2000-01 is missing"),
    ],
)
def test_malformed_csv_gives_one_line_naming_file_and_line(text: str, message: str) -> None:
    with pytest.raises(PriceModelError, match=message) as info:
        parse_monthly_prices(text, source="f.csv")
    assert "\n" not in str(info.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(PriceModelError, match=r"missing\.csv: cannot read the price history"):
        read_monthly_prices(tmp_path / "missing.csv")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"Date,Price\n\xff\xfe\x00\x01\n")
    with pytest.raises(PriceModelError, match=r"bin\.csv: not UTF-8 text"):
        read_monthly_prices(binary)


def test_year_boundary_is_consecutive() -> None:
    prices = parse_monthly_prices("Date,Price\n1999-11-15,20\n1999-12-15,21\n2000-01-15,22\n", source="f")
    assert prices.months == ("1999-11", "1999-12", "2000-01")


def test_non_positive_prices_are_refused_for_log_models_naming_the_rows() -> None:
    monthly = parse_monthly_prices(
        "Date,Price\n2000-01-15,20\n2000-02-15,-3.5\n2000-03-15,22\n", source="m.csv"
    )
    with pytest.raises(PriceModelError, match=r"^m\.csv:3: price -3\.5 US\$/bbl for 2000-02 is not positive"):
        log_prices(monthly)
    with pytest.raises(PriceModelError, match=r"^m\.csv:3:"):
        historical_returns(monthly)
    daily = parse_monthly_prices(
        "Date,Price\n2000-01-14,20\n2000-02-01,5\n2000-02-02,-36.98\n2000-02-03,1\n", source="d.csv"
    )
    with pytest.raises(PriceModelError, match=r"^d\.csv:lines 3-5: price -10\.3267 US\$/bbl for 2000-02"):
        log_prices(daily)


def test_historical_returns_are_consecutive_log_differences() -> None:
    prices = read_monthly_prices(EIA / "brent-monthly.csv")
    hist = historical_returns(prices)
    assert len(hist.log_returns) == 470
    assert (hist.first_month, hist.last_month) == ("1987-05", "2026-07")
    assert hist.log_returns[0] == pytest.approx(math.log(18.86 / 18.58), rel=1e-12)
    assert sum(hist.log_returns) == pytest.approx(math.log(83.76 / 18.58), rel=1e-9)
    with pytest.raises(PriceModelError, match="at least 2 months"):
        historical_returns(parse_monthly_prices("Date,Price\n2000-01-15,20\n", source="one.csv"))


@given(
    start_year=st.integers(1950, 2090),
    start_month=st.integers(1, 12),
    prices=st.lists(st.floats(0.01, 1000.0), min_size=1, max_size=40),
)
def test_round_trip_of_monthly_rows(start_year: int, start_month: int, prices: list[float]) -> None:
    rows, months = [], []
    for i, p in enumerate(prices):
        k = start_year * 12 + start_month - 1 + i
        months.append(f"{k // 12:04d}-{k % 12 + 1:02d}")
        rows.append(f"{months[-1]}-15,{p!r}")
    parsed = parse_monthly_prices("Date,Price\n" + "\n".join(rows), source="h")
    assert parsed.months == tuple(months)
    np.testing.assert_array_equal(parsed.prices_usd_per_bbl, prices)
    np.testing.assert_allclose(log_prices(parsed), np.log(prices), rtol=1e-15)


def test_bootstrap_from_the_brent_history_end_to_end() -> None:
    hist = load_historical_returns(EIA / "brent-monthly.csv")
    model = parse_price_model({"model": "bootstrap", "block_months": 12, "history": hist.model_dump()})
    assert isinstance(model, BlockBootstrap)
    t = np.arange(1, 41) / 4.0
    prices = model.simulate(
        spot_usd_per_bbl=80.0, times_years=t, n_paths=20_000, rng=np.random.default_rng(6)
    )
    total = np.log(prices[:, -1] / 80.0)
    expected = 120 * float(np.mean(hist.log_returns))
    assert abs(total.mean() - expected) < 4 * total.std(ddof=1) / math.sqrt(total.size)
    # volatility of a quarter's log-return is Brent's (about 0.34 a year, so ~0.17 a quarter)
    quarterly = np.diff(np.log(prices), axis=1).std()
    assert 0.12 < quarterly < 0.22


def test_price_table_reads_history_csv_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "hist.csv").write_text("Date,Price\n2000-01-15,20\n2000-02-15,22\n2000-03-15,21\n")
    model = parse_price_table(
        {"model": "bootstrap", "history_csv": "hist.csv", "block_months": 2, "scheme": "circular"},
        base_dir=tmp_path,
    )
    assert isinstance(model, BlockBootstrap)
    assert model.history.log_returns == pytest.approx((math.log(22 / 20), math.log(21 / 22)))
    assert model.history.source == str(tmp_path / "hist.csv")
    assert isinstance(parse_price_table({"model": "gbm", "sigma": 0.3}, base_dir=tmp_path), GBM)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"model": "bootstrap"}, r"^price\.history_csv: required key is missing$"),
        ({"model": "bootstrap", "history_csv": ""}, r"^price\.history_csv: must be the path"),
        ({"model": "bootstrap", "history_csv": "nope.csv"}, r"nope\.csv: cannot read the price history"),
        (
            {"model": "bootstrap", "history_csv": "h.csv", "block_months": 0},
            r"^price\.block_months: must be >= 1$",
        ),
        ({"model": "bootstrap", "history_csv": "h.csv", "history": []}, r"^price\.history: unknown key"),
        ({"model": "gbm", "sigma": -0.1}, r"^price\.sigma: must be > 0$"),
    ],
)
def test_price_table_errors_name_the_key(tmp_path: Path, table: dict[str, object], message: str) -> None:
    (tmp_path / "h.csv").write_text("Date,Price\n2000-01-15,20\n2000-02-15,22\n")
    with pytest.raises(PriceModelError, match=message):
        parse_price_table(table, base_dir=tmp_path)


# ----------------------------------------------------------------------------------------------------
# shipped stress episodes


def quarterly_means(path: Path) -> dict[str, float]:
    prices = read_monthly_prices(path)
    groups: dict[str, list[float]] = {}
    for month, p in zip(prices.months, prices.prices_usd_per_bbl, strict=True):
        year, mm = int(month[:4]), int(month[5:])
        groups.setdefault(f"{year}Q{(mm - 1) // 3 + 1}", []).append(float(p))
    return {q: sum(v) / 3 for q, v in groups.items() if len(v) == 3}


def test_stress_episodes_are_the_eia_quarterly_averages() -> None:
    data = tomllib.loads(resources.files("naef").joinpath("data/stress_episodes.toml").read_text("utf-8"))
    assert "eia.gov" in data["meta"]["source_url"]
    episodes = {e["name"]: e for e in data["episode"]}
    assert {"collapse_2008", "slump_2014", "crash_2020"} <= set(episodes)
    brent = quarterly_means(EIA / "brent-monthly.csv")
    wti = quarterly_means(EIA / "wti-monthly.csv")
    for name, ep in episodes.items():
        quarters = ep["quarters"]
        assert len(quarters) == len(ep["brent_usd_per_bbl"]) == len(ep["wti_usd_per_bbl"]) >= 8, name
        index = [int(q[:4]) * 4 + int(q[5]) - 1 for q in quarters]
        assert np.all(np.diff(index) == 1), name  # consecutive quarters
        np.testing.assert_allclose(ep["brent_usd_per_bbl"], [brent[q] for q in quarters], atol=0.0051)
        np.testing.assert_allclose(ep["wti_usd_per_bbl"], [wti[q] for q in quarters], atol=0.0051)
    # the episodes are what they claim: deep falls from their first quarter
    assert (
        min(episodes["collapse_2008"]["brent_usd_per_bbl"])
        / episodes["collapse_2008"]["brent_usd_per_bbl"][0]
        < 0.4
    )
    assert (
        min(episodes["slump_2014"]["brent_usd_per_bbl"]) / episodes["slump_2014"]["brent_usd_per_bbl"][0]
        < 0.35
    )
    assert min(episodes["crash_2020"]["wti_usd_per_bbl"]) / episodes["crash_2020"]["wti_usd_per_bbl"][0] < 0.5
