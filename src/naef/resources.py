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
from pathlib import Path

from naef.errors import NaefError

__all__ = [
    "SHIPPED_HISTORIES",
    "DataFileError",
    "data_dir",
    "data_path",
    "read_data_text",
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


def _naef_version() -> str:
    try:
        return version("naef")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "unknown"


def _broken(relative: str, reason: str) -> DataFileError:
    return DataFileError(
        f"naef {_naef_version()}: shipped data file naef/data/{relative} {reason} (a broken install: reinstall naef)"
    )


def data_dir(*parts: str) -> Path:
    """The folder ``naef/data/<parts>`` as a file-system path (the package is installed unzipped, as pip does)."""
    relative = "/".join(parts)
    folder = Path(str(resources.files("naef").joinpath("data", *parts)))
    if not folder.is_dir():
        raise _broken(relative + "/", "is missing")
    return folder


def data_path(*parts: str) -> Path:
    """The file ``naef/data/<parts>`` as a path; :class:`DataFileError` if it is not there."""
    relative = "/".join(parts)
    path = Path(str(resources.files("naef").joinpath("data", *parts)))
    if not path.is_file():
        raise _broken(relative, "is missing")
    return path


def read_data_text(*parts: str) -> str:
    """The text (UTF-8) of ``naef/data/<parts>``; :class:`DataFileError` if missing or unreadable."""
    relative = "/".join(parts)
    try:
        return resources.files("naef").joinpath("data", *parts).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _broken(relative, "is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _broken(relative, f"cannot be read ({type(exc).__name__}: {exc})") from None


def resolve_history(name_or_path: str | Path) -> Path:
    """A price history given by the name of a shipped series (``brent-daily``, ``brent-monthly``, ``wti-daily``,
    ``wti-monthly``) or by a path. A name wins only when no file of that name exists in the current folder."""
    text = str(name_or_path)
    if text in SHIPPED_HISTORIES and not Path(text).exists():
        return data_path(*SHIPPED_HISTORIES[text].split("/"))
    return Path(name_or_path)
