"""A small reader of report.html (the standard library's HTMLParser): marked figures, tags and their attributes,
sections, charts with their captions, inline scripts and styles."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Figure:
    source: str
    key: str
    value: str
    text: str = ""


@dataclass
class Page:
    figures: list[Figure] = field(default_factory=list)
    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)  # (plot div id, caption)
    scripts: list[tuple[dict[str, str | None], str]] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    def by_source(self, source: str) -> list[Figure]:
        return [f for f in self.figures if f.source == source]

    def keys(self, source: str) -> set[str]:
        return {f.key for f in self.by_source(source)}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._figure: Figure | None = None
        self._figure_tag = ""
        self._plot: str | None = None
        self._caption: list[str] | None = None
        self._script: tuple[dict[str, str | None], list[str]] | None = None
        self._style: list[str] | None = None
        self._code: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.page.tags.append((tag, a))
        if "data-figure" in a:
            self._figure = Figure(a.get("data-source") or "", a["data-figure"] or "", a.get("data-value") or "")
            self._figure_tag = tag
        if tag == "section" and a.get("id"):
            self.page.sections.append(a["id"] or "")
        if tag == "div" and "plot" in (a.get("class") or "").split():
            self._plot = a.get("id")
        if tag == "figcaption":
            self._caption = []
        if tag == "script":
            self._script = (a, [])
        if tag == "style":
            self._style = []
        if tag == "pre":
            self._code = []

    def handle_endtag(self, tag: str) -> None:
        if self._figure is not None and tag == self._figure_tag:
            self._figure.text = self._figure.text.strip()
            self.page.figures.append(self._figure)
            self._figure = None
        if tag == "figcaption" and self._caption is not None:
            self.page.charts.append((self._plot or "", "".join(self._caption).strip()))
            self._caption = None
            self._plot = None
        if tag == "script" and self._script is not None:
            self.page.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None
        if tag == "style" and self._style is not None:
            self.page.styles.append("".join(self._style))
            self._style = None
        if tag == "pre" and self._code is not None:
            self.page.codes.append("".join(self._code))
            self._code = None

    def handle_data(self, data: str) -> None:
        if self._figure is not None:
            self._figure.text += data
        if self._caption is not None:
            self._caption.append(data)
        if self._script is not None:
            self._script[1].append(data)
        if self._style is not None:
            self._style.append(data)
        if self._code is not None:
            self._code.append(data)


def read(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page
