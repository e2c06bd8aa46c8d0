"""The frame every kiosk screen shares: language bar on top, status bar at the bottom."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen

from screens.widgets.langbar import LangBar
from screens.widgets.statusbar import StatusBar

if TYPE_CHECKING:
    from screens.app import KioskApp


class LangAware:
    """Follows the app's language: ``apply_lang`` runs on mount and on every switch.

    For texts that are not message ids (form labels, answers, dynamic summaries).
    """

    app: KioskApp

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self.apply_lang, init=True)  # type: ignore[attr-defined]

    def apply_lang(self, lang: str) -> None:
        """Re-render texts that depend on the language (override as needed)."""

    @property
    def kiosk(self) -> KioskApp:
        return cast("KioskApp", self.app)

    @property
    def lang(self) -> str:
        return self.kiosk.lang


class KioskScreen(LangAware, Screen[object]):
    """A full screen: subclasses yield their content from ``body()``."""

    def compose(self) -> ComposeResult:
        yield LangBar()
        yield from self.body()
        yield StatusBar()

    def body(self) -> ComposeResult:
        yield from ()


class KioskModal(LangAware, ModalScreen[object]):
    """A dialog over the current screen, following the app's language too."""
