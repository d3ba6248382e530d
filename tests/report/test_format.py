"""Numbers for people and units from names."""

from __future__ import annotations

import math

import pytest

from naef.format import lookup, pct, pct_se, times, unit_of, usd_auto, usd_bn, usd_m, usd_per_bbl, value_json


def test_money_and_shares() -> None:
    assert usd_bn(75e9) == "USD 75.00 bn"
    assert usd_bn(1_234.5e9) == "USD 1,234.50 bn"
    assert usd_bn(-2.345e9, unit=False) == "-2.35"
    assert usd_m(562.5e6) == "USD 562.5 m"
    assert usd_auto(4.25e6) == "USD 4.2 m"
    assert usd_auto(3.5e9) == "USD 3.50 bn"
    assert usd_auto(950.0) == "USD 950"
    assert pct(0.29333) == "29.33 %"
    assert pct_se(0.29333, 0.0263) == "29.33 % ± 2.63 %"
    assert pct_se(0.29333, None) == "29.33 %"
    assert times(1.6554) == "1.66×"
    assert usd_per_bbl(38.4933) == "USD 38.49/bbl"
    for f in (usd_bn, usd_m, usd_auto, pct, times, usd_per_bbl):
        assert f(None) == "—"
        assert f(math.nan) == "—"
    with pytest.raises(TypeError):
        usd_bn("75")


@pytest.mark.parametrize(("name", "unit"), [
    ("collections_usd", "US$"), ("interest_paid_usd_A1", "US$"), ("to_mdf_usd_p50", "US$"),
    ("benchmark_usd_per_bbl_p5", "US$/bbl"), ("gas_price_usd_per_mmbtu", "US$/MMBtu"), ("production_bpd", "bbl/d"),
    ("gas_production_mmcfd", "MMcf/d"), ("production_boe_per_day_p95", "boe/d"), ("dscr", "×"), ("dscr_p50", "×"),
    ("min_dscr_p5", "×"), ("dscr_paths", "paths"), ("period_start", "date"), ("legal_final_date", "date"),
    ("period_days", "days"), ("wal_years", "years"), ("first_production_year", "calendar year"),
    ("coupon_rate", "fraction/year"), ("investor_yield", "fraction/year"), ("pd", "probability"),
    ("expected_loss", "share of size"), ("implied_rating_pd", "Moody's scale"), ("event_of_default", "0/1"),
    ("periods_per_year", "periods/year"), ("issuance_pct", "fraction"), ("jobs", "jobs"), ("description", "—"),
    ("job_years_p50", "job-years"), ("eirr", "fraction/year"), ("bcr", "×"),
])
def test_units(name: str, unit: str) -> None:
    assert unit_of(name) == unit


def test_lookup_and_values() -> None:
    doc = {"a": {"b": [{"c": 1.5}, {"c": None}]}, "x": "y"}
    assert lookup(doc, "a.b[0].c") == 1.5
    assert lookup(doc, "a.b[1].c") is None
    for bad in ("a.b[2].c", "a.z", "x.y", "a[0]"):
        with pytest.raises(KeyError):
            lookup(doc, bad)
    assert value_json(0.1 + 0.2) == "0.30000000000000004"
    assert value_json(math.nan) == "null"
    assert value_json("A1") == '"A1"'


def test_no_negative_zero_anywhere() -> None:
    """A value that rounds to zero reads "0.00", never "-0.00" (issue 17: a minimum DSCR of "−0.00")."""
    import naef.format as f

    assert times(-0.001) == "0.00×"
    assert times(-1e-12, 3) == "0.000×"
    assert times(-0.006) == "-0.01×"  # a real negative keeps its sign
    assert usd_bn(-1e6) == "USD 0.00 bn"
    assert usd_m(-40.0) == "USD 0.0 m"
    assert pct(-1e-7) == "0.00 %"
    assert f.plain(-0.0) == "0.00"
    assert f.plain(-0.004, "{:.2f}") == "0.00"
    assert f.number(-0.004) == "0.00"
    assert f.years(-0.001) == "0.00"
    assert f.usd(-0.004) == "0.00"
    assert f.rate(-0.0) == "0 %"
    assert f.scaled(1e9, "USD bn")(-1e5) == "0.000 USD bn"
    assert f.sig4(-1e-9) == "-1e-09"  # four significant digits of a tiny number are not zero


def test_the_other_formats_against_hand_written_cases() -> None:
    from decimal import Decimal

    import naef.format as f

    assert f.bn(43.30149e9) == "43.30"
    assert f.usd(1234567.891) == "1,234,567.89"
    assert f.usd(Decimal("150000000.005")) == "150,000,000.00"  # Decimal: banker's rounding, exact digits
    assert f.usd(Decimal("0.125")) == "0.12"
    assert f.number(1234.5678) == "1,234.57"
    assert f.number(1234.5678, 0) == "1,235"
    assert f.rate(0.07) == "7 %"
    assert f.rate(0.0525) == "5.25 %"
    assert f.years(6.254) == "6.25"
    assert f.integer(12345) == "12,345"
    assert f.sig4(0.345149) == "0.3451"
    assert f.text(None) == "—"
    assert f.text("Aa2") == "Aa2"
    assert f.suffixed(pct, " ± 1.00 %")(0.25) == "25.00 % ± 1.00 %"
    assert f.suffixed(pct, " ± 1.00 %")(None) == "—"
    assert f.scaled(1e9, "USD bn")(2.5e9) == "2.500 USD bn"
    assert f.period_name(4) == "quarter"
    assert f.period_name(12) == "month"
    assert f.period_name(3) == "period"
    for g in (f.bn, f.usd, f.number, f.rate, f.years, f.integer, f.sig4):
        assert g(None) == "—"
        assert g(math.nan) == "—"
