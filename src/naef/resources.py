"""The data files shipped inside the package (``naef/data/``), found with :mod:`importlib.resources`.

Every run-time file naef reads by default lives in the package (so a wheel installed anywhere works): the
idealized rating tables, the default uncertainty classes, the MDF pipeline, the BODS 0.4 schemas, the EIA price
histories. ``data/README.md`` gives each file's source, version and licence.

A shipped file that is missing or unreadable means a broken install; that is one line naming the file and the
installed version (:class:`DataFileError`, exit 2 on the command line), never a traceback.

This module is a leaf: it imports nothing of naef but :mod:`naef.errors`, so the ledger can use it without
loading the engine.
"""

from __future__ import annotations

from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from importlib.resources.abc import Traversable
from pathlib import Path

from naef.errors import NaefError

__all__ = [
    "SHIPPED_HISTORIES",
    "DataFileError",
    "broken_install",
    "data_dir",
    "data_path",
    "read_data_text",
    "read_package_text",
    "resolve_history",
]

#: Price histories shipped in ``naef/data/eia/`` (U.S. EIA spot prices, FOB, US$/bbl; public domain), by name.
#: Daily files hold one row per trading day; monthly files hold EIA's monthly averages (dated the 15th).
SHIPPED_HISTORIES: dict[str, str] = {
    "brent-daily": "eia/brent-daily.csv",
    "brent-monthly": "eia/brent-monthly.csv",
    "wti-daily": "eia/wti-daily.csv",
    "wti-monthly": "eia/wti-monthly.csv",
}


class DataFileError(NaefError):
    """A file shipped with naef is missing or unreadable (a broken install)."""


def _files(package: str) -> Traversable:
    """The package's folder (one seam: tests point it at a copy with a file removed, as a broken install)."""
    return resources.files(package)


def _naef_version() -> str:
    try:
        return version("naef")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "unknown"


def _broken_file(relative: str, reason: str) -> DataFileError:
    return DataFileError(
        f"naef {_naef_version()}: shipped data file naef/{relative} {reason} (a broken install: reinstall naef)"
    )


def _broken(relative: str, reason: str) -> DataFileError:
    return _broken_file(f"data/{relative}", reason)


def data_dir(*parts: str) -> Path:
    """The folder ``naef/data/<parts>`` as a file-system path (the package is installed unzipped, as pip does)."""
    relative = "/".join(parts)
    folder = Path(str(_files("naef").joinpath("data", *parts)))
    if not folder.is_dir():
        raise _broken(relative + "/", "is missing")
    return folder


def data_path(*parts: str) -> Path:
    """The file ``naef/data/<parts>`` as a path; :class:`DataFileError` if it is not there."""
    relative = "/".join(parts)
    path = Path(str(_files("naef").joinpath("data", *parts)))
    if not path.is_file():
        raise _broken(relative, "is missing")
    return path


def read_data_text(*parts: str) -> str:
    """The text (UTF-8) of ``naef/data/<parts>``; :class:`DataFileError` if missing or unreadable."""
    relative = "/".join(parts)
    try:
        return _files("naef").joinpath("data", *parts).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _broken(relative, "is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _broken(relative, f"cannot be read ({type(exc).__name__}: {exc})") from None


def read_package_text(package: str, *parts: str) -> str:
    """The text (UTF-8) of a file shipped in another folder of the package (e.g. ``naef.scenario``'s
    ``scenarios/baseline.toml``); :class:`DataFileError` if missing or unreadable."""
    relative = "/".join([*package.split(".")[1:], *parts])
    try:
        return _files(package).joinpath(*parts).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _broken_file(relative, "is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _broken_file(relative, f"cannot be read ({type(exc).__name__}: {exc})") from None


def broken_install(relative: str, reason: str) -> DataFileError:
    """The one-line error for a file of the package (``relative`` to ``naef/``) that is missing or corrupt."""
    return _broken_file(relative, reason)


def resolve_history(name_or_path: str | Path) -> Path:
    """A price history given by the name of a shipped series (``brent-daily``, ``brent-monthly``, ``wti-daily``,
    ``wti-monthly``) or by a path. A name wins only when no file of that name exists in the current folder. A
    path that does not exist and looks like a name (no folder, no suffix) is refused naming the shipped series."""
    text = str(name_or_path)
    if text in SHIPPED_HISTORIES and not Path(text).exists():
        return data_path(*SHIPPED_HISTORIES[text].split("/"))
    path = Path(name_or_path)
    if not path.exists() and path.parent == Path(".") and not path.suffix:
        raise DataFileError(
            f"{text}: no such file and not a shipped series (shipped: {', '.join(SHIPPED_HISTORIES)})"
        )
    return path


def history_source(name_or_path: str) -> str | None:
    """A stable name for a shipped series (``naef:brent-monthly``), so that a scenario's content hash does not
    depend on where naef is installed; ``None`` for a user's file."""
    return f"naef:{name_or_path}" if name_or_path in SHIPPED_HISTORIES else None
