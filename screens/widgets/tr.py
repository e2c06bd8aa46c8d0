"""Widgets whose text is a message id, re-translated whenever the app's language changes.

Screens pass ``N_("English msgid")`` so that pybabel extracts the id; the widget calls
``tr(app.lang, msgid, **kwargs)`` when built (in a screen's compose, where the app is
known) and on every change of ``App.lang``. Built with its text, a widget is laid out
and painted once: set on mount, the text would cost the first screen a second layout.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.types import NoActiveAppError
from textual.widgets import Button, Static

from kiosk.i18n import DEFAULT_LANG, tr


def _lang_of(widget: Any) -> str:
    return getattr(widget.app, "lang", DEFAULT_LANG)


def _lang_now(widget: Any) -> str | None:
    """The app's language while a widget is being built (None outside a running app)."""
    try:
        return _lang_of(widget)
    except NoActiveAppError:
        return None


def button_classes(classes: str | None = None) -> str:
    """``classes``, and the one a Textual Button gives itself when mounted (its style:
    not flat). Given up front, so that adding it applies no stylesheet: each class added
    to a mounted widget applies the whole stylesheet to it again (for the first screen's
    buttons, a tenth of its styling). The Button still sets it; this only makes that a
    no-op."""
    return f"{classes} -style-default" if classes else "-style-default"


def set_text(static: Static, text: str) -> None:
    """Show ``text`` (plain) in ``static``, unless it shows it already: ``update`` would
    lay the screen out again for nothing."""
    content = static.content
    if not (isinstance(content, Content | str) and str(content) == text):
        static.update(Content(text))


class TrLabel(Static):
    """A label that follows the app's language."""

    def __init__(self, msgid: str, *, id: str | None = None, classes: str | None = None, **kw: Any):
        super().__init__("", id=id, classes=classes, markup=False)
        self.msgid = msgid
        self.kwargs = kw
        lang = _lang_now(self)
        if lang is not None:
            self._relabel(lang)

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
        set_text(self, tr(lang, self.msgid, **self.kwargs))


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
        super().__init__(Content(prefix), variant=variant, id=id, classes=button_classes(classes))
        self.msgid = msgid
        self.prefix = prefix
        self.suffix = suffix
        self.kwargs = kw
        lang = _lang_now(self)
        if lang is not None:
            self._relabel(lang)

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
