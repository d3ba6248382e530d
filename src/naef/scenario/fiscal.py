"""Duties PEMEX pays on the value of the added production.

Presets (each with its source). The 2025 regime is the *Derecho Petrolero para el Bienestar* (DPB), which from
1 January 2025 replaced PEMEX's Derecho de Utilidad Compartida, Derecho de Extracción and Derecho de Exploración:
a single rate on the value of the extracted hydrocarbons (Mexican export price × volume) with no cost deductions.

* oil (and associated gas/condensate): 30 % — SHCP, presidential press conference of 13 Nov 2024 (reported by
  Energía a Debate, "Pemex pagará solamente Derecho para el Bienestar", Nov 2024); Ley de Ingresos de la
  Federación 2025, Transitorio Trigésimo (DOF 19 Dec 2024); Ley de Ingresos sobre Hidrocarburos, Título Tercero,
  as reformed DOF 18 Mar 2025.
* non-associated gas: 11.6264 % — LIF 2025, Transitorio Trigésimo (quoted by the Chamber of Deputies' Energy
  Commission, Crónica, 26 Feb 2025).

The law lets the rate move with the fiscal region and the oil price (IMCO reports 26–33 % for oil and 10–13 % for
gas); naef's preset uses the headline flat rates. Use ``regime = "custom"`` for other rates.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PRESETS", "FiscalPreset", "duty_rates"]


@dataclass(frozen=True)
class FiscalPreset:
    """A duty on the value of production: one rate for oil, one for non-associated gas."""

    oil_rate_on_value: float
    gas_rate_on_value: float
    source: str


PRESETS: dict[str, FiscalPreset] = {
    "mx_dpb_2025": FiscalPreset(
        oil_rate_on_value=0.30,
        gas_rate_on_value=0.116264,
        source=(
            "Derecho Petrolero para el Bienestar: LIF 2025 Transitorio Trigésimo (DOF 19-12-2024); LISH Título "
            "Tercero as reformed DOF 18-03-2025; headline rates 30 % oil, 11.6264 % non-associated gas"
        ),
    ),
    "mx_duc_2024": FiscalPreset(
        oil_rate_on_value=0.30,
        gas_rate_on_value=0.30,
        source=(
            "Derecho de Utilidad Compartida for 2024 at 30 % (LISH art. 39 as reformed Oct 2023), applied here to "
            "value without the capped cost deductions the DUC allowed: an upper bound of that duty"
        ),
    ),
}


def duty_rates(*, regime: str, rate_on_value: float | None, gas_rate_on_value: float | None) -> tuple[float, float]:
    """Rates (oil, non-associated gas) on the value of production for a preset or a custom regime."""
    if regime == "custom":
        assert rate_on_value is not None
        return rate_on_value, rate_on_value if gas_rate_on_value is None else gas_rate_on_value
    preset = PRESETS[regime]
    return preset.oil_rate_on_value, preset.gas_rate_on_value
