"""The credit of the swap's counterparties: the originator (``[originator]``: PEMEX's rating, the uplift a
future-flow deal may take over it, what its default does) and the sovereign (``[sovereign]``: the country
ceiling), on Moody's scale (:data:`MOODYS_SCALE`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from naef.scenario.section_base import SectionModel

__all__ = ["MOODYS_SCALE", "MoodysRating", "Originator", "Sovereign"]


#: Moody's long-term rating scale, best first, down to B3 (the rows of the idealized tables in
#: ``naef/data/ratings``); ``naef.analysis.ratings`` reads its tables against this scale
MOODYS_SCALE: tuple[str, ...] = (
    "Aaa", "Aa1", "Aa2", "Aa3", "A1", "A2", "A3", "Baa1", "Baa2", "Baa3",
    "Ba1", "Ba2", "Ba3", "B1", "B2", "B3",
)  # fmt: skip


def _moodys(value: str) -> str:
    if value not in MOODYS_SCALE:
        raise ValueError(f"unknown rating {value!r} (Moody's scale, Aaa to B3: {', '.join(MOODYS_SCALE)})")
    return value


MoodysRating = Annotated[str, Field(min_length=1, max_length=8)]


class Originator(SectionModel):
    """``[originator]``: the company whose export receivables are pledged and whose fields the NAEF funds.

    In a Monte Carlo run the originator defaults with the hazard of its rating's idealized cumulative default
    rates (``naef.engine.originator``); from the period of its default on, the pledged export receivables stop
    (``exports_stop_on_default``) and the funded fields produce ``operating_continuity`` of their volumes. A
    tranche's implied rating is at most the originator's rating plus ``max_uplift_notches`` (and at most the
    sovereign's country ceiling): future-flow criteria rate above the originator only by a few notches.

    Defaults and sources:

    * ``rating = "B1"``: Moody's upgraded Petróleos Mexicanos to B1 (stable) from B3 on 8 Sep 2025
      (Expansión, "Moody's sube calificación de Pemex", 2025-09-08, https://expansion.mx/economia/2025/09/08/
      moodys-sube-calificacion-pemex-mayor-compromiso-gobierno), the latest action found for 2026.
    * ``max_uplift_notches = 2``: Fitch rated the PEMEX Finance Ltd. future-flow notes (Maya crude receivables
      from designated US, Canadian and Aruban buyers) 'A+' while PEMEX's local-currency IDR was 'A-', two
      notches, under its *Future Flow Securitization Rating Criteria* (19 Jun 2012), for a programme of about
      1 % of PEMEX's debt with DSCRs of 77-193x (Fitch, "Fitch Affirms PEMEX Finance Ltd's Ratings at 'A'",
      Jan 2013; "Fitch Upgrades PEMEX Finance Ltd.'s Ratings to 'A+'", 2013; "Fitch Affirms PEMEX Finance Ltd. at
      'A+'", 2015). Moody's gave the same notes no uplift ("capped by the rating on Pemex, as the originator of
      the future receivables", Moody's, 25 Jun 2014 and 1 Apr 2016, as reported by Prospect News); S&P rated
      them from three building blocks, the corporate performance assessment of PEMEX among them (S&P, "Rating
      Lowered On Pemex Finance Ltd. Notes Series 1998-A", 20 Dec 2017).
    * ``operating_continuity = 0.65``: ILLUSTRATIVE, from the one recent default of a national oil company,
      PDVSA (missed coupons from Nov 2017): Venezuela's crude output by OPEC's secondary sources fell from
      1.863 million bbl/d in Oct 2017 to 1.235 million bbl/d in Aug 2018 (0.66; OPEC Monthly Oil Market Reports,
      as reported by Reuters and latam-energy.com); US sanctions weighed on it too, so it is a severe case.
    * ``exports_stop_on_default = true``: a defaulted originator's export receivables are assumed lost to the
      notes (its creditors, or the state, take them), the conservative reading of a true sale.
    """

    name: Annotated[str, Field(min_length=1, max_length=100)] = "PEMEX"
    rating: MoodysRating = "B1"
    max_uplift_notches: Annotated[int, Field(ge=0, le=10)] = 2
    exports_stop_on_default: bool = True
    operating_continuity: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.65
    source: str = ""

    _rating_known = field_validator("rating")(_moodys)


class Sovereign(SectionModel):
    """``[sovereign]``: the originator's country, whose country ceiling caps every tranche's implied rating.

    Defaults and sources:

    * ``rating = "Baa2"``: Moody's rating of Mexico, Baa2 since 8 Jul 2022, affirmed with a negative outlook on
      14 Nov 2024 (Bloomberg, "Mexico's Credit Outlook Cut by Moody's on Constitutional Overhaul",
      2024-11-14); S&P BBB and Fitch BBB- (affirmed Apr 2025).
    * ``country_ceiling = "A3"``: ILLUSTRATIVE, the sovereign's rating plus two notches. Moody's placed Mexico's
      country ceilings three notches above the sovereign in Dec 2012 ("Moody's Changes Mexico's Local Currency
      Country Ceiling", 21 Dec 2012: A1 over Baa1), and Fitch's Country Ceiling for Mexico was 'A' over a
      'BBB+' sovereign in 2015 (two notches; "Fitch Affirms PEMEX Finance Ltd. at 'A+'", 2015); the smaller of
      the two published gaps is taken. Give the agency's current ceiling for real work.
    """

    name: Annotated[str, Field(min_length=1, max_length=100)] = "Mexico"
    rating: MoodysRating = "Baa2"
    country_ceiling: MoodysRating = "A3"
    source: str = ""

    _ratings_known = field_validator("rating", "country_ceiling")(_moodys)
