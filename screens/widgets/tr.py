"""Widgets whose text is a message id, re-translated whenever the app's language changes.

Screens pass ``N_("English msgid")`` so that pybabel extracts the id; the widget calls
``tr(app.lang, msgid, **kwargs)`` on mount and on every change of ``App.lang``.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Button, Static

from kiosk.i18n import DEFAULT_LANG, tr


def _lang_of(widget: Any) -> str:
    return getattr(widget.app, "lang", DEFAULT_LANG)


class TrLabel(Static):
    """A label that follows the app's language."""

    def __init__(self, msgid: str, *, id: str | None = None, classes: str | None = None, **kw: Any):
        super().__init__("", id=id, classes=classes, markup=False)
        self.msgid = msgid
        self.kwargs = kw

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self._relabel, init=True)

    def set_msg(self, msgid: str | None = None, **kw: Any) -> None:
        """Change the message (or only its arguments) and show it."""
        if msgid is not None:
            self.msgid = msgid
        self.kwargs = kw
        if self.is_attached:
            self._relabel(_lang_of(self))

    def _relabel(self, lang: str) -> None:
        self.update(Content(tr(lang, self.msgid, **self.kwargs)))


class TrButton(Button):
    """A button whose label follows the app's language; ``prefix``/``suffix`` are kept as is."""

    def __init__(
        self,
        msgid: str,
        *,
        prefix: str = "",
        suffix: str = "",
        variant: Any = "default",
        id: str | None = None,
        classes: str | None = None,
        **kw: Any,
    ):
        super().__init__(Content(prefix), variant=variant, id=id, classes=classes)
        self.msgid = msgid
        self.prefix = prefix
        self.suffix = suffix
        self.kwargs = kw

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self._relabel, init=True)

    def set_msg(self, msgid: str, **kw: Any) -> None:
        """Change the message id (and its arguments) and show it."""
        self.msgid = msgid
        self.kwargs = kw
        if self.is_attached:
            self._relabel(_lang_of(self))

    def _relabel(self, lang: str) -> None:
        text = tr(lang, self.msgid, **self.kwargs)
        self.label = Content(f"{self.prefix}{text}{self.suffix}")
