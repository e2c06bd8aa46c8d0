"""Text columns for the command line, aligned by what a terminal shows, not by len().

A terminal gives a combining mark (the accent of a decomposed "ǵ" or "й") no cell of
its own and an East Asian wide or fullwidth character two, so padding by ``len``
misaligns every column after such a cell. Translated cells differ in width per
language, and ids differ in length per form: each column is as wide as its widest cell.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def cell_width(text: str) -> int:
    """The terminal cells ``text`` takes: combining marks and other zero-width
    characters none, wide and fullwidth characters two, the rest one."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf", "Cc"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` cells (never cut)."""
    return text + " " * max(0, width - cell_width(text))


def aligned(rows: Sequence[Sequence[str]], gap: str = "  ") -> list[str]:
    """One line per row, every column but the last padded to its widest cell."""
    if not rows:
        return []
    columns = max(len(row) for row in rows)
    widths = [
        max((cell_width(row[i]) for row in rows if i < len(row)), default=0) for i in range(columns)
    ]
    lines = []
    for row in rows:
        cells = [pad(cell, widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        lines.append(gap.join(cells).rstrip())
    return lines
