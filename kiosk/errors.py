"""One base for errors the kiosk shows to people rather than crashing on."""

from __future__ import annotations

from kiosk.i18n import tr


class TranslatableError(Exception):
    """Carries an English msgid and its arguments; `message(lang)` says it in any language.

    `str()` is the English text, for logs and developers.
    """

    def __init__(self, msgid: str, /, **kwargs: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.kwargs = kwargs

    def message(self, lang: str) -> str:
        return tr(lang, self.msgid, **self.kwargs)

    # The sync layer's name for the same thing.
    text = message

    def __str__(self) -> str:
        return self.message("en")
