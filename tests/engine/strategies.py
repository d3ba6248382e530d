"""Hypothesis strategies: random *valid* scenarios, small enough to run the pure-Python oracle quickly."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from naef.scenario.models import Scenario


@st.composite
def scenario_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A scenario as the dict TOML would give, with randomly chosen but valid values."""
    year0 = draw(st.integers(2025, 2030))
    month = draw(st.sampled_from([1, 4, 7, 10]))
    years = draw(st.integers(6, 14))
    ppy = draw(st.sampled_from([1, 4, 4, 12]))
    end_year = year0 + years
    money = st.floats(0.0, 2.0e9, allow_nan=False)

    def deck(lo: float, hi: float) -> list[list[float]]:
        xs = sorted(draw(st.sets(st.integers(year0 - 1, end_year), min_size=1, max_size=3)))
        return [[float(x), draw(st.floats(lo, hi, allow_nan=False))] for x in xs]

    fields = []
    has_gas = False
    for i in range(draw(st.integers(1, 3))):
        product = draw(st.sampled_from(["oil", "oil", "gas"]))
        model = draw(st.sampled_from(["exponential", "hyperbolic", "harmonic"]))
        decline: dict[str, Any] = {"model": model, "di": draw(st.floats(0.0, 0.8, allow_nan=False))}
        if model == "hyperbolic":
            decline["b"] = draw(st.floats(0.05, 1.5, allow_nan=False))
        f: dict[str, Any] = {
            "name": f"F{i}",
            "product": product,
            "capex_usd": draw(st.lists(money, min_size=1, max_size=min(4, years))),
            "first_production_year": draw(st.integers(year0 + 1, year0 + 4)),
            "decline": decline,
            "shut_in": draw(st.booleans()),
        }
        if product == "oil":
            f |= {
                "initial_rate_bpd": draw(st.floats(1e3, 3e5)),
                "reserves_mmbbl": draw(st.floats(1.0, 2000.0)),
                "opex_usd_per_bbl": draw(st.floats(0.0, 40.0)),
            }
        else:
            has_gas = True
            f |= {
                "initial_rate_mmcfd": draw(st.floats(10.0, 800.0)),
                "reserves_bcf": draw(st.floats(10.0, 2000.0)),
                "opex_usd_per_mcf": draw(st.floats(0.0, 3.0)),
            }
        fields.append(f)

    tranches = []
    for i in range(draw(st.integers(1, 4))):
        issue_year = draw(st.integers(year0, year0 + 2))
        room = years - (issue_year - year0)
        maturity = draw(st.integers(1, min(room, 12)))
        amort = draw(st.sampled_from(["bullet", "level", "straight", "sculpted"]))
        grace = draw(st.integers(0, maturity - 1))
        t: dict[str, Any] = {
            "name": f"T{i}",
            "size_usd": draw(st.floats(1e8, 2e10)),
            "coupon_rate": draw(st.floats(0.0, 0.15)),
            "amortization": amort,
            "issue_year": issue_year,
            "maturity_years": maturity,
            "grace_years": grace,
            "seniority": draw(st.integers(1, 3)),
        }
        if amort == "sculpted":
            t["target_dscr"] = draw(st.floats(1.05, 2.5))
        if draw(st.booleans()):
            t["legal_final_years"] = maturity + draw(st.integers(0, room - maturity))
        tranches.append(t)

    exports = draw(st.booleans())
    data: dict[str, Any] = {
        "scenario": {
            "name": "random",
            "start": dt.date(year0, month, 1),
            "years": years,
            "periods_per_year": ppy,
        },
        "price": {"deck": deck(0.0, 130.0), "differential_usd_per_bbl": draw(st.floats(-15.0, 5.0))},
        "fields": fields,
        "tranches": tranches,
        "fees": {
            "issuance_pct": draw(st.floats(0.0, 0.03)),
            "trustee_usd_per_year": draw(st.floats(0.0, 5e7)),
        },
        "reserve": {"dsra_target_periods": draw(st.integers(0, 4)),
                    "reinvestment_rate": draw(st.sampled_from([0.0, -0.05, 0.03, 0.5]))},
        "triggers": {
            "cash_trap_dscr": draw(st.floats(0.0, 2.0)),
            "lookback_periods": draw(st.integers(1, 4)),
            "distributions_before_first_repayment": draw(st.booleans()),
            "default_grace_periods": draw(st.integers(0, 3)),
            "default_interest_margin": draw(st.sampled_from([0.0, 0.01, 0.05])),
            "trap_sweep": draw(st.booleans()),
            "release_periods": draw(st.integers(1, 4)),
        },
        "uncertainty": {"fields": draw(st.booleans()), "originator": draw(st.booleans())},
        # a poor originator defaults on some of a handful of paths: its effect is exercised
        "originator": {"rating": draw(st.sampled_from(["Aaa", "Baa2", "B1", "B3"])),
                       "operating_continuity": draw(st.sampled_from([0.0, 0.65, 1.0])),
                       "exports_stop_on_default": draw(st.booleans())},
        "fiscal": draw(
            st.sampled_from(
                [
                    {"regime": "mx_dpb_2025"},
                    {"regime": "custom", "rate_on_value": 0.2, "gas_rate_on_value": 0.1},
                ]
            )
        ),
    }
    if exports and draw(st.booleans()):
        data["collateral"] = {
            "source": "incremental_plus_exports",
            "pledged_exports_bpd": draw(st.floats(1e3, 2e5)),
        }
    elif exports:  # a profile by year: steps inside the horizon
        first = draw(st.integers(year0, year0 + years - 1))
        data["collateral"] = {
            "source": "incremental_plus_exports",
            "pledged_exports_profile": [[first, draw(st.floats(1e3, 2e5))],
                                        [first + 1, draw(st.floats(1e3, 2e5))]][: 1 if first + 1 >= year0 + years
                                                                                 else 2],
        }
    if has_gas:
        data["gas_price"] = {"deck": deck(0.0, 12.0)}
    model = draw(st.sampled_from(["none", "gbm", "ou"]))
    if model == "gbm":
        data["price"]["stochastic"] = {"model": "gbm", "mu": draw(st.floats(-0.05, 0.05)),
                                       "sigma": draw(st.floats(0.05, 0.6))}
    elif model == "ou":
        data["price"]["stochastic"] = {"model": "ou", "kappa": draw(st.floats(0.0, 1.5)),
                                       "long_run_usd_per_bbl": draw(st.floats(20.0, 120.0)),
                                       "sigma": draw(st.floats(0.05, 0.6))}
    if draw(st.booleans()):
        data["price"]["stochastic_differential"] = {
            "model": "ou", "initial_usd_per_bbl": -8.0, "long_run_usd_per_bbl": draw(st.floats(-12.0, -2.0)),
            "kappa": draw(st.floats(0.1, 2.0)), "sigma_usd_per_bbl": draw(st.floats(0.5, 5.0)),
            "rho": draw(st.floats(-0.9, 0.9)) if model != "none" else 0.0,
        }
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["put", "collar"]))
        hedge: dict[str, Any] = {
            "kind": kind, "share_of_expected_production": draw(st.floats(0.05, 1.0)),
            "put_strike_usd_per_bbl": draw(st.floats(20.0, 90.0)), "first_year": year0 + 1,
            "last_year": year0 + draw(st.integers(1, 4)), "premium": draw(st.sampled_from(["proceeds", "collections"])),
        }
        if kind == "collar":
            hedge["call_strike_usd_per_bbl"] = hedge["put_strike_usd_per_bbl"] + draw(st.floats(0.0, 60.0))
        data["hedges"] = [hedge]
    return data


def scenarios() -> st.SearchStrategy[Scenario]:
    """Random valid scenarios (dicts that fail validation are rejected, which should be rare)."""

    def build(d: dict[str, Any]) -> Scenario | None:
        try:
            return Scenario.model_validate(d)
        except Exception:
            return None

    return scenario_dicts().map(build).filter(lambda s: s is not None)  # type: ignore[return-value]
