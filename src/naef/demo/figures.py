"""The figures the ledger demo records: issuances and quarters of collections and waterfall payments.

:func:`baseline_figures` takes them from the deterministic run of the shipped baseline scenario
(``naef.engine.simulate``); :func:`illustrative_figures` gives fixed illustrative numbers that need no engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

__all__ = ["DemoFigures", "Issuance", "Payment", "Quarter", "baseline_figures", "illustrative_figures", "usd"]

_CENT = Decimal("0.01")


def usd(value: float | Decimal) -> Decimal:
    """An amount rounded to the cent (the ledger's money precision)."""
    return Decimal(str(value)).quantize(_CENT)


@dataclass(frozen=True)
class Issuance:
    """One tranche of NAEF securities sold."""

    tranche: str
    amount_usd: Decimal
    coupon_rate: Decimal
    issue_date: date
    maturity_date: date


@dataclass(frozen=True)
class Payment:
    """One waterfall payment in a quarter."""

    step: str
    payee: str
    amount_usd: Decimal
    tranche: str | None = None


@dataclass(frozen=True)
class Quarter:
    """One quarter: revenue collected and the waterfall payments made from it."""

    period: str
    end: date
    collections_usd: Decimal
    payments: tuple[Payment, ...] = ()


@dataclass(frozen=True)
class DemoFigures:
    """What the demo records about NAEF's cash: issuances, quarters, and where the figures come from."""

    issuances: tuple[Issuance, ...]
    quarters: tuple[Quarter, ...]
    source: str


def _quarter_label(start: date) -> str:
    return f"{start.year}Q{(start.month - 1) // 3 + 1}"


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def illustrative_figures(*, years: int = 5, start_year: int = 2027) -> DemoFigures:
    """Fixed, illustrative figures (no engine): one USD 10 bn tranche at 6.25 %, collections growing from
    USD 400 M to about USD 900 M a quarter, interest, level principal from year 3, the residual to the MDF.

    These numbers are ILLUSTRATIVE, chosen only to exercise the ledger; they are not a forecast.
    """
    size = Decimal("10000000000.00")
    coupon = Decimal("0.0625")
    issue = date(start_year, 1, 1)
    quarters: list[Quarter] = []
    outstanding = size
    for q in range(years * 4):
        start = date(start_year + q // 4, 3 * (q % 4) + 1, 1)
        end = _add_years(start, 0) + timedelta(days=92)
        end = end.replace(day=1) - timedelta(days=1)
        collections = usd(400_000_000 + 25_000_000 * q)
        interest = (outstanding * coupon / 4).quantize(_CENT)
        principal = usd(250_000_000) if q >= 8 else Decimal("0.00")
        outstanding -= principal
        fees = usd(1_250_000)
        residual = collections - fees - interest - principal
        payments = [
            Payment("fees", "NAEF trustee and paying agent", fees),
            Payment("interest", "holders of tranche A", interest, "A"),
        ]
        if principal:
            payments.append(Payment("principal", "holders of tranche A", principal, "A"))
        payments.append(Payment("mdf_residual", "Mexican Development Fund", max(residual, Decimal("0.00"))))
        quarters.append(
            Quarter(_quarter_label(start), end, collections, tuple(p for p in payments if p.amount_usd))
        )
    return DemoFigures(
        issuances=(Issuance("A", size, coupon, issue, _add_years(issue, 15)),),
        quarters=tuple(quarters),
        source="illustrative figures (naef.demo.illustrative_figures): not a forecast",
    )


def baseline_figures(*, years: int = 5) -> DemoFigures:
    """Figures of the first ``years`` of the shipped baseline scenario's deterministic run (``naef.engine``).

    Per quarter: ``collections_usd``; payments ``fees_usd``, ``interest_paid_usd_<T>`` and
    ``principal_paid_usd_<T>`` for each tranche T, ``dsra_deposit_usd`` and ``to_mdf_usd`` (zero amounts are
    left out). Issuances: the tranches whose issue year falls in the window (size, coupon, 1 January of the
    issue year, maturity).
    """
    from naef.engine.simulate import simulate
    from naef.scenario.load import load_scenario

    # the demo's ledger holds the scheduled payments of the lock-up years: the baseline with its trapped cash held
    # (triggers.trap_sweep = false) rather than swept to prepay the seniors, so the ledger shows the schedule
    base = load_scenario("baseline")
    scenario = base.model_copy(update={"triggers": base.triggers.model_copy(update={"trap_sweep": False})})
    result = simulate(scenario)
    table = result.table
    n = min(years * 4, len(table))
    tranches = [t.name for t in scenario.tranches]
    quarters: list[Quarter] = []
    for i in range(n):
        row = table.iloc[i]
        start = date.fromisoformat(str(row["period_start"])[:10])
        end = start + timedelta(days=int(row["period_days"]) - 1)
        payments: list[Payment] = [Payment("fees", "NAEF trustee and paying agent", usd(row["fees_usd"]))]
        for t in tranches:
            payments.append(
                Payment("interest", f"holders of tranche {t}", usd(row[f"interest_paid_usd_{t}"]), t)
            )
        for t in tranches:
            payments.append(
                Payment("principal", f"holders of tranche {t}", usd(row[f"principal_paid_usd_{t}"]), t)
            )
        payments.append(
            Payment("dsra_deposit", "debt-service reserve account", usd(row["dsra_deposit_usd"]))
        )
        payments.append(Payment("mdf_residual", "Mexican Development Fund", usd(row["to_mdf_usd"])))
        quarters.append(
            Quarter(
                _quarter_label(start),
                end,
                usd(row["collections_usd"]),
                tuple(p for p in payments if p.amount_usd > 0),
            )
        )
    first = quarters[0].end.year if quarters else scenario.scenario.start.year
    last = quarters[-1].end.year if quarters else first
    issuances = tuple(
        Issuance(
            t.name,
            usd(t.size_usd),
            Decimal(str(t.coupon_rate)),
            date(t.issue_year, 1, 1),
            _add_years(date(t.issue_year, 1, 1), t.maturity_years),
        )
        for t in scenario.tranches
        if first <= t.issue_year <= last
    )
    return DemoFigures(
        issuances, tuple(quarters), source="baseline scenario, deterministic run (naef.engine)"
    )

