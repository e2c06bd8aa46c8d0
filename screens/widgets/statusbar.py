"""The always-visible bottom bar: connectivity, sync state, queue, speech, operator.

It only reads reactives of the app (``online``, ``sync_state``, ``queued``,
``speech_status``, ``operator_name``, ``lang``); the workers that find those facts
live in the app.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.events import Click
from textual.widgets import Static

from kiosk.i18n import ntr, tr


class StatusBar(Horizontal):
    """One row at the bottom of every screen."""

    DEFAULT_CSS = """
    StatusBar {
        dock: bottom;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    StatusBar > Static { width: auto; padding: 0 1; }
    StatusBar > #sb-net.-online { color: $text-success; }
    StatusBar > #sb-net.-offline { color: $text-warning; }
    StatusBar > #sb-sync.-error { color: $text-error; }
    StatusBar > #sb-spacer { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="sb-net", markup=False)
        yield Static(id="sb-sync", markup=False)
        yield Static(id="sb-spacer")
        yield Static(id="sb-operator", markup=False)
        yield Static(id="sb-speech", markup=False)

    def on_mount(self) -> None:
        for name in ("lang", "online", "sync_state", "queued", "speech_status", "operator_name"):
            self.watch(self.app, name, self._refresh_all, init=False)
        self._refresh_all()

    def on_click(self, event: Click) -> None:
        """Touching the sound indicator mutes or unmutes (as F2 does)."""
        if event.widget is not None and event.widget.id == "sb-speech":
            event.stop()
            # KioskApp's action: importing the app here would make an import cycle.
            self.app.action_toggle_mute()  # type: ignore[attr-defined]  # KioskApp's action

    def _refresh_all(self, _value: object = None) -> None:
        app = self.app
        lang: str = getattr(app, "lang", "uz_Latn")
        online = getattr(app, "online", None)
        net = self.query_one("#sb-net", Static)
        if online is None:
            net.update(Content("◌ " + tr(lang, "Not connected to a portal")))
        elif online:
            net.update(Content("● " + tr(lang, "Online")))
        else:
            net.update(Content("○ " + tr(lang, "Offline")))
        net.set_class(online is True, "-online")
        net.set_class(online is False, "-offline")

        state = getattr(app, "sync_state", "idle")
        queued = int(getattr(app, "queued", 0))
        sync = self.query_one("#sb-sync", Static)
        if state == "syncing":
            text = "⇅ " + tr(lang, "Sending…")
        elif state == "error":
            text = "⚠ " + tr(lang, "Sync failed")
        else:
            text = "✓ " + tr(lang, "All sent") if queued == 0 else ""
        if queued:
            waiting = ntr(lang, "{n} waiting", "{n} waiting", queued)
            text = f"{text}  {waiting}".strip()
        sync.update(Content(text))
        sync.set_class(state == "error", "-error")

        operator = getattr(app, "operator_name", None)
        self.query_one("#sb-operator", Static).update(
            Content(tr(lang, "Operator: {name}", name=operator) if operator else "")
        )
        speech = getattr(app, "speech_status", "ok")
        icon = "♪ " + tr(lang, "Sound on") if speech == "ok" else "✕ " + tr(lang, "Sound off")
        self.query_one("#sb-speech", Static).update(Content(icon))
