"""The one error type of the expression language."""

from __future__ import annotations


class ExprError(ValueError):
    """A parse or evaluation error; ``str()`` says what went wrong and where.

    ``pos`` is the 0-based character offset in ``text`` (``None`` when unknown), so a
    form checker can point at the column of a broken ``relevant`` or ``constraint``.
    """

    def __init__(self, message: str, text: str | None = None, pos: int | None = None) -> None:
        self.message = message
        self.text = text
        self.pos = pos
        where = ""
        if pos is not None:
            where = f" at position {pos + 1}"
        if text is not None:
            shown = text if len(text) <= 80 else text[:77] + "..."
            where += f" in {shown!r}"
        super().__init__(message + where)
