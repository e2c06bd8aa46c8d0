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


class ExplainedError(ExprError):
    """An ExprError with a translatable reason: ``msgid`` (English, marked with N_) and
    its ``params``; ``say(lang)`` gives it in the user's language. Passed on unchanged
    by the evaluator, so a limit or a refused regex keeps its reason up to the CLI."""

    def __init__(self, msgid: str, prefix: str = "", **params: object) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(prefix + msgid.format(**params))

    def say(self, lang: str) -> str:
        from kiosk.i18n import tr  # the expression language needs i18n only here

        return tr(lang, self.msgid, **self.params)
