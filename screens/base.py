"""The frame every kiosk screen shares: language bar on top, status bar at the bottom."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import events
from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

from screens.widgets.langbar import LangBar
from screens.widgets.statusbar import StatusBar

if TYPE_CHECKING:
    from screens.app import KioskApp

    # The mixins below are only ever mixed into screens: type them as one, so that
    # `self.app`, `self.watch` and the like are checked. At run time they stay plain.
    _ScreenBase = Screen[object]
else:
    _ScreenBase = object


# The rules of every screen after the first (app.tcss has the rest): the screens
# that need them name it as their CSS_PATH, and the app reads it once the first
# screen has been painted, so that neither waits for it.
LATER_CSS = Path(__file__).with_name("later.tcss")


class LangAware(_ScreenBase):
    """Follows the app's language: ``apply_lang`` runs on mount and on every switch.

    For texts that are not message ids (form labels, answers, dynamic summaries).
    """

    def on_mount(self) -> object:
        """Textual runs the ``on_mount`` of every class in the MRO, so a screen's own
        (sync or async: hence ``object``) runs beside this one rather than over it."""
        self.watch(self.app, "lang", self.apply_lang, init=True)
        return None

    def apply_lang(self, lang: str) -> None:
        """Re-render texts that depend on the language (override as needed)."""

    @property
    def kiosk(self) -> KioskApp:
        return cast("KioskApp", self.app)  # every kiosk screen runs in the KioskApp

    @property
    def lang(self) -> str:
        return self.kiosk.lang


# The terminal's size as classes on every screen, for the stylesheets: a kiosk's
# terminal may be as small as 60x20 (narrow and short) and as large as 200x60.
# Under 80 columns four actions take two rows; under 24 rows the spacing goes.
HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-normal"), (120, "-wide")]
VERTICAL_BREAKPOINTS = [(0, "-short"), (24, "-tall")]


class KioskScreen(LangAware, Screen[object]):
    """A full screen: subclasses yield their content from ``body()``."""

    HORIZONTAL_BREAKPOINTS = HORIZONTAL_BREAKPOINTS
    VERTICAL_BREAKPOINTS = VERTICAL_BREAKPOINTS
    # A citizen screen: its top bar has "Call the operator" (the operator's own
    # screens say False).
    CALL_OPERATOR = True

    def compose(self) -> ComposeResult:
        yield LangBar(call=self.CALL_OPERATOR)
        yield from self.body()
        yield StatusBar()

    def body(self) -> ComposeResult:
        yield from ()


class KioskModal(LangAware, ModalScreen[object]):
    """A dialog over the current screen, following the app's language too."""


class KeysInOrder(_ScreenBase):
    """A screen that takes every key itself and acts on each one before the next.

    Textual hands a key to the widget that has the focus when the app reads it, while
    ``Widget.focus()`` only moves the focus later and a step change awaits the store
    thread and a remount. In a burst (a fast typist, a scanner typing a PINFL and
    Enter) the keys after the one that moves on would land in the old box or a widget
    being removed. ``KioskApp`` therefore posts the keys for such a screen to the
    screen itself (after its own priority bindings); ``on_key`` handles each one to
    the end, awaiting any step change and setting the focus synchronously, so the next
    key meets the state the previous one left.

    Subclasses override ``handle_key`` for the keys with a meaning of their own;
    everything else is typed into the focused box or runs the focused widget's binding.
    """

    async def handle_key(self, event: events.Key) -> bool:
        """The screen's own keys; True when handled."""
        return False

    async def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        screen = self
        if self.app.screen is not screen:
            # The key was queued here before another screen came up: it is that one's.
            self.app.post_message(events.Key(event.key, event.character))
            return
        if await self.handle_key(event):
            return
        focused = screen.focused
        if isinstance(focused, Input) and event.is_printable and event.character:
            type_into(focused, event.character)
            return
        active = screen.active_bindings.get(event.key)
        if active is not None and active.enabled and not active.binding.priority:
            await self.app.run_action(active.binding.action, active.node)


def type_into(box: Input, text: str) -> None:
    """Type as the Input itself does (over a selection; restrict and max_length apply)."""
    selection = box.selection
    if selection.is_empty:
        box.insert_text_at_cursor(text)
    else:
        box.replace(text, *selection)
