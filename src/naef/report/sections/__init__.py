"""The sections of ``report.html``, one module each, in the order the report shows them: ``key_figures``,
``swap``, ``sources_and_uses``, ``fan_charts``, ``tranche_risk``, ``hedge``, ``sizing``, ``stress``,
``sensitivity``, ``portfolio``, ``scenario``. Each has ``build(...)`` returning a
:class:`naef.report.blocks.Section` (or ``None`` when it has nothing to show); ``common`` holds what they share and
``naef.format`` every number format. ``naef.report.html`` assembles them into the page."""
