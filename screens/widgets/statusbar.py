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

from kiosk.i18n import N_, ntr, tr
from screens.widgets.tr import set_text

# The sound indicator: three states a person can tell apart (on, muted, no device),
# plus no speech engine at all and the moment before the speech service has checked.
_SOUND: dict[str, tuple[str, str]] = {
    "ok": ("♪", N_("Sound on")),
    "muted": ("✕", N_("Muted (F2)")),
    "no-audio": ("⚠", N_("No audio device")),
    "no-engine": ("⚠", N_("No voice")),
    "checking": ("♪", ""),
}


class StatusBar(Horizontal):
    """One row at the bottom of every screen."""

    DEFAULT_CSS = """
    StatusBar {
        dock: bottom;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    StatusBar > Static { width: auto; height: 1; padding: 0 1; text-wrap: nowrap; }
    /* The connection and sync texts share what the sound indicator and the operator's
       name leave (60 columns: not all of it fits), ending in "…": the sound indicator
       is never cut (issue 14). */
    StatusBar > #sb-net { width: 1fr; min-width: 4; max-width: 30; text-overflow: ellipsis; }
    StatusBar > #sb-sync { width: 2fr; min-width: 4; text-overflow: ellipsis; }
    StatusBar > #sb-operator { max-width: 22; text-overflow: ellipsis; }
    StatusBar > #sb-net.-online { color: $text-success; }
    StatusBar > #sb-net.-offline { color: $text-warning; }
    StatusBar > #sb-sync.-error { color: $text-error; }
    StatusBar > #sb-sync.-rejected { color: $text-warning; }
    """

    def compose(self) -> ComposeResult:
        # Built showing the app's state, so the first paint needs no second layout.
        state = self._state()
        yield self._part("sb-net", state)
        yield self._part("sb-sync", state)
        yield self._part("sb-operator", state)
        yield self._part("sb-speech", state)

    @staticmethod
    def _part(name: str, state: dict[str, tuple[str, dict[str, bool]]]) -> Static:
        text, classes = state[name]
        on = " ".join(class_name for class_name, is_on in classes.items() if is_on)
        return Static(Content(text), id=name, markup=False, classes=on)

    def on_mount(self) -> None:
        watched = ("lang", "online", "sync_state", "queued", "rejected", "speech_status")
        for name in (*watched, "operator_name"):
            self.watch(self.app, name, self._refresh_all, init=False)
        self._refresh_all()

    def on_click(self, event: Click) -> None:
        """Touching the sound indicator mutes or unmutes (as F2 does)."""
        if event.widget is not None and event.widget.id == "sb-speech":
            event.stop()
            # KioskApp's action: importing the app here would make an import cycle.
            self.app.action_toggle_mute()  # type: ignore[attr-defined]  # KioskApp's action

    def _refresh_all(self, _value: object = None) -> None:
        for name, (text, classes) in self._state().items():
            static = self.query_one(f"#{name}", Static)
            set_text(static, text)
            for class_name, on in classes.items():
                static.set_class(on, class_name)

    def _state(self) -> dict[str, tuple[str, dict[str, bool]]]:
        """Each part's text and classes, from the app's reactives."""
        app = self.app
        lang: str = getattr(app, "lang", "uz_Latn")
        online = getattr(app, "online", None)
        if online is None:
            net = "◌ " + tr(lang, "Not connected to a portal")
        elif online:
            net = "● " + tr(lang, "Online")
        else:
            net = "○ " + tr(lang, "Offline")

        state = getattr(app, "sync_state", "idle")
        queued = int(getattr(app, "queued", 0))
        rejected = int(getattr(app, "rejected", 0))
        if state == "syncing":
            text = "⇅ " + tr(lang, "Sending…")
        elif state == "error":
            text = "⚠ " + tr(lang, "Sync failed")
        else:
            # Not "All sent" while a rejected item waits for an operator.
            text = "✓ " + tr(lang, "All sent") if queued == 0 and rejected == 0 else ""
        if queued:
            waiting = ntr(lang, "{n} waiting", "{n} waiting", queued)
            text = f"{text}  {waiting}".strip()
        if rejected and getattr(app, "mode", "citizen") == "operator":
            # Operators act on it (the rejected-items view); a citizen is not worried
            # by other people's refusals, but is not told "All sent" either.
            refused = ntr(lang, "{n} rejected", "{n} rejected", rejected)
            text = f"{text}  ⚠ {refused}".strip()

        operator = getattr(app, "operator_name", None)
        speech = getattr(app, "speech_status", "ok")
        mark, msgid = _SOUND.get(speech, _SOUND["ok"])
        icon = f"{mark} {tr(lang, msgid)}" if msgid else mark
        return {
            "sb-net": (net, {"-online": online is True, "-offline": online is False}),
            "sb-sync": (text, {"-error": state == "error", "-rejected": rejected > 0}),
            "sb-operator": (tr(lang, "Operator: {name}", name=operator) if operator else "", {}),
            "sb-speech": (icon, {}),
        }
