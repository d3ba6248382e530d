"""Reference classes of MDF projects: the outturn/forecast distributions of costs and benefits by class of project
(Flyvbjerg et al. 2003 and 2005; Mott MacDonald 2002; illustrative classes marked as such), and whether a class's
spending builds public *physical* capital.

Its own module so that :mod:`naef.mdf.pipeline` (which validates the ``reference_class`` column) and
:mod:`naef.mdf.appraisal` (which uses the distributions) import it without importing each other in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NON_PHYSICAL_CLASSES", "REFERENCE_CLASSES", "ReferenceClass"]


@dataclass(frozen=True)
class ReferenceClass:
    """Outturn/estimate distributions of a class of projects: cost multiplier m (mean 1 + overrun_mean, standard
    deviation overrun_sd) and benefit ratio k = actual/forecast benefits (mean benefit_ratio_mean, standard deviation
    benefit_ratio_sd), each log-normal with those two moments."""

    name: str
    overrun_mean: float
    overrun_sd: float
    benefit_ratio_mean: float
    benefit_ratio_sd: float
    cost_source: str
    benefit_source: str
    cost_illustrative: bool
    benefit_illustrative: bool
    #: True when the spending builds public *physical* capital (the Bom–Ligthart elasticity's input); False for
    #: human-capital programmes and for money lent to firms
    physical_capital: bool = True


_FLYVBJERG_2003 = ("Flyvbjerg, Skamris Holm & Buhl (2003), 'How common and how large are cost overruns in transport "
                   "infrastructure projects?', Transport Reviews 23(1): 71-88 (258 projects, 20 nations)")
_FLYVBJERG_2005 = ("Flyvbjerg, Skamris Holm & Buhl (2005), 'How (in)accurate are demand forecasts in public works "
                   "projects? The case of transportation', J. American Planning Association 71(2): 131-146 "
                   "(210 projects, 14 nations)")
_MOTT_2002 = ("Mott MacDonald (2002), Review of Large Public Procurement in the UK, for HM Treasury (Green Book "
              "supplementary guidance on optimism bias), Table 15: upper-bound capital-expenditure optimism bias of "
              "24 % for standard buildings")

#: Reference classes (keys are the values the pipeline's ``reference_class`` column may take).
REFERENCE_CLASSES: dict[str, ReferenceClass] = {
    "road": ReferenceClass(
        "road", 0.204, 0.299, 1.0, 0.297,
        f"{_FLYVBJERG_2003}: roads, mean cost escalation 20.4 % (SD 29.9)",
        f"{_FLYVBJERG_2005}: for half of all road projects actual traffic differs from the forecast by more than "
        "±20 %, and on average road traffic was under- rather than over-estimated (World Bank PPP reference "
        "guide summary). Used: no bias (mean ratio 1.0) and the SD of a normal whose median absolute error is "
        "20 % (0.20 / 0.6745 = 0.297)",
        False, False),
    "railway": ReferenceClass(
        "railway", 0.447, 0.384, 1.0 / 2.06, 0.28,
        f"{_FLYVBJERG_2003}: rail, mean cost escalation 44.7 % (SD 38.4)",
        f"{_FLYVBJERG_2005}: rail passenger forecasts overestimated by 106 % on average, so the mean ratio "
        "actual/forecast is 1 / 2.06 = 0.485; the SD 0.28 is ILLUSTRATIVE",
        False, True),
    "railway_freight": ReferenceClass(
        "railway_freight", 0.447, 0.384, 1.0, 0.297,
        f"{_FLYVBJERG_2003}: rail, mean cost escalation 44.7 % (SD 38.4)",
        "ILLUSTRATIVE proxy: Flyvbjerg et al. (2005) measured passenger forecasts for rail; for freight lines the "
        "road traffic-forecast errors (no bias, SD 0.297) are used",
        False, True),
    "fixed_link": ReferenceClass(
        "fixed_link", 0.338, 0.624, 1.0, 0.297,
        f"{_FLYVBJERG_2003}: fixed links (bridges and tunnels), mean cost escalation 33.8 % (SD 62.4)",
        "as roads (Flyvbjerg et al. 2005, road traffic forecasts)", False, False),
    "seaport": ReferenceClass(
        "seaport", 0.338, 0.624, 1.0, 0.297,
        f"ILLUSTRATIVE proxy: no port reference class was found; uses the fixed-link class of {_FLYVBJERG_2003} "
        "(mean 33.8 %, SD 62.4) as the nearest published class of large civil works",
        "ILLUSTRATIVE proxy: the road traffic-forecast errors of Flyvbjerg et al. (2005)", True, True),
    "airport": ReferenceClass(
        "airport", 0.338, 0.624, 1.0, 0.297,
        f"ILLUSTRATIVE proxy: no airport reference class was found; uses the fixed-link class of {_FLYVBJERG_2003} "
        "(mean 33.8 %, SD 62.4)",
        "ILLUSTRATIVE proxy: the road traffic-forecast errors of Flyvbjerg et al. (2005)", True, True),
    "education": ReferenceClass(
        "education", 0.24, 0.20, 1.0, 0.25,
        f"{_MOTT_2002}, used as the mean (prudent); the SD 0.20 is ILLUSTRATIVE",
        "ILLUSTRATIVE: no published distribution of outturn/forecast education benefits was found", True, True),
    "human_capital": ReferenceClass(
        "human_capital", 0.0, 0.10, 1.0, 0.25,
        "ILLUSTRATIVE: a scholarship or exchange programme is not built; its cost is the stipends of a fixed "
        "number of student-years (no construction overrun class applies), so no mean overrun and a 10 % SD for "
        "fees and exchange-rate drift",
        "ILLUSTRATIVE: no published distribution of outturn/forecast education benefits was found", True, True,
        physical_capital=False),
    "small_enterprise": ReferenceClass(
        "small_enterprise", 0.0, 0.0, 0.85, 0.25,
        "a credit or guarantee fund's cost is its size: no construction overrun",
        "ILLUSTRATIVE: benefits 15 % below plan on average (losses and credit that would have been granted anyway)",
        True, True, physical_capital=False),
}

#: Classes whose spending does not build public physical capital (human-capital programmes, money lent to firms)
NON_PHYSICAL_CLASSES: frozenset[str] = frozenset(k for k, v in REFERENCE_CLASSES.items() if not v.physical_capital)
