"""Pages of the portal's HTML lists: one window ``[offset, offset + limit)`` over a list of ``total`` items, and the
links to the previous and next windows.

The query parameters are validated by FastAPI (``ge``/``le`` on :data:`HtmlOffset` and :func:`html_limit`), so a
bad value (text, a negative number, a page larger than :data:`MAX_HTML_PAGE`) answers a 422 page with one line
naming the parameter; an offset past the end answers a 400 page (:class:`PageWindow.check`). Never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request

from naef.web.config import ApiError

__all__ = ["MAX_HTML_PAGE", "HtmlOffset", "PageLinks", "PageWindow", "html_limit"]

MAX_HTML_PAGE = 200
"""Most rows an HTML list shows at once (the JSON API allows 500, ``naef.web.api.MAX_PAGE``): a page of 200
entries is about 100 kB of HTML."""

HtmlOffset = Annotated[int | None, Query(ge=0, le=2**62, description="Items to skip.")]


def html_limit(description: str) -> Any:
    """A ``limit`` query parameter of an HTML list: 1..:data:`MAX_HTML_PAGE`."""
    return Query(ge=1, le=MAX_HTML_PAGE, description=f"{description} per page (at most {MAX_HTML_PAGE}).")


@dataclass(frozen=True)
class PageLinks:
    """A window and the URLs of the windows before and after it (None where there is none)."""

    window: PageWindow
    prev: str | None
    next: str | None


@dataclass(frozen=True)
class PageWindow:
    """Items ``[offset, offset + limit)`` of ``total``; ``param`` prefixes its query parameters (``""`` gives
    ``offset``/``limit``, ``"checkpoints_"`` gives ``checkpoints_offset``/``checkpoints_limit``)."""

    total: int
    offset: int
    limit: int
    param: str = ""

    @classmethod
    def check(cls, *, total: int, offset: int, limit: int, param: str = "", what: str = "items") -> PageWindow:
        """The window, or ApiError 400 when ``offset`` is past the end (``offset ≥ total`` with ``total > 0``)."""
        if offset > 0 and offset >= total:
            raise ApiError(
                400, "invalid", f"{param}offset: {offset} is past the end of the list ({total} {what})"
            )
        return cls(total=total, offset=offset, limit=limit, param=param)

    @property
    def stop(self) -> int:
        """One past the last item shown."""
        return min(self.total, self.offset + self.limit)

    @property
    def prev_offset(self) -> int | None:
        """Offset of the previous window (None on the first)."""
        return max(0, self.offset - self.limit) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        """Offset of the next window (None on the last)."""
        return self.stop if self.stop < self.total else None

    def url(self, request: Request, offset: int) -> str:
        """This page's URL with the window moved to ``offset`` (other query parameters kept)."""
        mine = (f"{self.param}offset", f"{self.param}limit")
        query = {k: v for k, v in request.query_params.items() if k not in mine}
        if self.param == "":
            query.pop("start", None)  # the ledger page's older name for offset
        query[f"{self.param}offset"] = str(offset)
        query[f"{self.param}limit"] = str(self.limit)
        return f"{request.url.path}?{urlencode(query)}"

    def links(self, request: Request) -> PageLinks:
        """The window with the previous and next windows' URLs."""
        prev, nxt = self.prev_offset, self.next_offset
        return PageLinks(
            self,
            None if prev is None else self.url(request, prev),
            None if nxt is None else self.url(request, nxt),
        )
