"""``naef size``: the largest tranche or programme at a target implied rating."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from naef.commands.common import (
    ChunkSizeOption,
    PathsOption,
    SchedulerOption,
    SeedOption,
    SetOption,
    WorkersOption,
    console,
    load_with_sets,
    num,
    print_table,
    progress_bar,
    usd_bn,
    write_sets,
)
from naef.commands.reporting import PdfOption, add_deterministic_report
from naef.commands.run_folder import RunFolder
from naef.studies.settings import DEFAULT_CHUNK_SIZE, DEFAULT_PATHS, DEFAULT_SEED, RunSettings

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``size`` to ``app``."""

    @app.command()
    def size(
        scenario: Annotated[str, typer.Argument(help="Scenario TOML file, or a shipped scenario's name.")] = "baseline",
        target_rating: Annotated[
            str, typer.Option("--target-rating", help="Moody's rating to reach at least, e.g. A2 or Baa3.")
        ] = "Baa3",
        tranche: Annotated[
            str | None, typer.Option("--tranche", help="Size this tranche (default: the whole programme, pro rata).")
        ] = None,
        basis: Annotated[
            str, typer.Option("--basis", help="'el' (expected loss at the WAL), 'pd' (default probability at the "
                                              "legal final) or 'both' (default: the smaller size binds).")
        ] = "both",
        paths: PathsOption = DEFAULT_PATHS,
        seed: SeedOption = DEFAULT_SEED,
        chunk_size: ChunkSizeOption = DEFAULT_CHUNK_SIZE,
        workers: WorkersOption = None,
        scheduler: SchedulerOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
        out: Annotated[
            Path | None, typer.Option("--out", help="Write size.json, report.html and results.xlsx here.")
        ] = None,
        pdf: PdfOption = False,
        sets: SetOption = None,
    ) -> None:
        """Find the largest size whose implied rating is at least --target-rating.

        Every size is run on the same Monte Carlo paths (common random numbers), so the search is monotone; the
        JSON lists every evaluation (scale, size_usd, pd, expected_loss, implied_rating, passes).
        """
        from naef.studies.size import SIZE_UNITS
        from naef.studies.size import size as size_study

        settings = RunSettings(seed=seed, paths=paths, chunk_size=chunk_size, workers=workers, scheduler=scheduler)
        sc = load_with_sets(scenario, sets)
        folder = RunFolder("size", sc.scenario.name, out) if out is not None else None
        with progress_bar(SIZE_UNITS, description="sizes", quiet=quiet or as_json) as advance:
            study = size_study(sc, settings, target_rating=target_rating, tranche=tranche, basis=basis,
                               progress=advance, progress_total=advance.set_total)
        result = study.result
        if folder is not None:
            files = study.files()
            add_deterministic_report(files, scenario=sc, pdf=pdf, sizing=study.summary)
            write_sets(folder, files, sc, sets, seed=seed, paths=paths)
        if as_json:
            from naef.studies.common import json_text

            typer.echo(json_text(study.summary), nl=False)
            return
        what = f"tranche {tranche}" if tranche else "the programme (all tranches pro rata)"
        cap = result.cap
        if cap is not None:
            console.print(
                f"Rating cap {cap.cap}: {cap.originator} {cap.originator_rating} + "
                f"{cap.uplift_notches} notches = {cap.originator_plus_uplift}, {cap.country}'s country "
                f"ceiling {cap.country_ceiling} (the lower binds; no implied rating is above it).",
                highlight=False)
        shown = result
        if result.binding == "cap":
            console.print(f"[bold]Binding: the rating cap[/] — no size of {what} reaches {target_rating}, since "
                          f"the cap {None if cap is None else cap.cap} is below it.", highlight=False)
            if result.structural is None:
                return
            shown = result.structural
            console.print("What the structure alone would support (structural ratings, before the cap):",
                          highlight=False)
        parts = [shown] if shown.el is None or shown.pd is None else [shown.el, shown.pd]
        for part in parts:
            best = part.best
            if best is None:
                console.print(f"No size of {what} reaches {target_rating} on the {part.basis.upper()} basis (down "
                              "to 1/1024 of it).", highlight=False)
                continue
            console.print(
                f"Largest size of {what} rated at least {target_rating} ({part.basis.upper()} basis, {paths:,} "
                f"paths, seed {seed}): [bold]USD {usd_bn(best.size_usd)} bn[/] (× {best.scale:.4f}), PD "
                f"{best.pd:.2%} ± {best.pd_se:.2%}, EL {best.expected_loss:.3%} ± {best.expected_loss_se:.3%}, "
                f"{'structural' if shown is not result else 'implied'} {best.implied_rating}", highlight=False,
            )
        if shown.binding is not None:
            size_txt = "no size" if shown.best is None else f"USD {usd_bn(shown.best.size_usd)} bn"
            label = "structure's binding" if shown is not result else "binding"
            console.print(f"[bold]The {label} basis: {shown.binding.upper()}[/] ({size_txt}; the smaller of the "
                          "two sizes).", highlight=False)
        title = "Evaluations (in the order made)" + (
            f", {shown.binding.upper()} basis" if shown.binding is not None else "") + (
            ", structural ratings" if shown is not result else "")
        t = Table(title=title, show_edge=False)
        for col in ("scale", "size (USD bn)", "PD", "EL", "rating", "passes"):
            t.add_column(col, justify="right")
        for e in shown.evaluations:
            t.add_row(num(e.scale, "{:.4f}"), usd_bn(e.size_usd), f"{e.pd:.2%}", f"{e.expected_loss:.3%}",
                      e.implied_rating, "yes" if e.passes else "no")
        print_table(t, console)
