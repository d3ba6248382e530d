"""Studies: what a user asks of a scenario — a deterministic run (:mod:`~naef.studies.run`), a Monte Carlo
(:mod:`~naef.studies.monte_carlo`), a sizing (:mod:`~naef.studies.size`), a stress replay
(:mod:`~naef.studies.stress`), a sensitivity analysis (:mod:`~naef.studies.sensitivity`) — each a function of a
validated :class:`~naef.scenario.models.Scenario` and one :class:`~naef.studies.settings.RunSettings`, returning a
typed result that knows its summary, its tables and its files.

The CLI's commands and the web app are thin adapters over these functions; ``naef`` re-exports them lazily
(``naef.monte_carlo``, ``naef.size``, ...), and this package imports none of its modules until asked.
"""
