"""KioskApp: the Textual application, its modes, background workers and kiosk safety.

The app owns the cross-screen state (language, current visit, operator, connectivity)
as reactives that screens and the status bar watch, and knows every screen by name
(``new_screen``), so that screens open one another without importing one another.
Database work goes through ``StoreThread``; the connectivity probe and the sync run in
thread workers and report back by messages, so the event loop never waits on disk,
network or speech.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button

from kiosk import languages
from kiosk.config import KioskConfig, Mode
from kiosk.errors import TranslatableError
from kiosk.i18n import DEFAULT_LANG, LANGS
from screens.backend import StoreThread
from screens.base import KeysInOrder
from screens.clock import Clock, SystemClock
from screens.messages import Connectivity, QueueChanged, StatusesPulled, SyncFinished
from screens.names import SCREEN_TYPES, ScreenName
from screens.startup import open_speech, portal_url, read_later_css, until_idle
from screens.themes import CONTRAST_THEME, CONTRAST_THEME_DEF, DEFAULT_THEME, KIOSK_THEME

if TYPE_CHECKING:
    from kiosk.store import StoreError
    from screens.visit import Visit

logger = logging.getLogger(__name__)


class KioskApp(App[int]):
    """The kiosk. ``mode`` is ``citizen`` (self-service, locked down) or ``operator``."""

    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q", "request_exit", show=False, priority=True),
        Binding("ctrl+c", "request_exit", show=False, priority=True, system=True),
        Binding("f2", "toggle_mute", show=False, priority=True),
        Binding("f3", "toggle_contrast", show=False, priority=True),
        Binding("f5", "next_lang", show=False, priority=True),
        Binding("f1", "call_operator", show=False, priority=True),
    ]

    SCREEN_TYPES: ClassVar[dict[ScreenName, str]] = SCREEN_TYPES

    lang: reactive[str] = reactive(DEFAULT_LANG)
    online: reactive[bool | None] = reactive(None)
    sync_state: reactive[str] = reactive("idle")
    queued: reactive[int] = reactive(0)
    # Rejected items no operator has settled (kiosk/rejected.py): never "All sent" then.
    rejected: reactive[int] = reactive(0)
    # "checking" until the speech service has probed its engine and audio device; then
    # what ``speech_state`` says: "ok", "muted", "no-audio" or "no-engine".
    speech_status: reactive[str] = reactive("checking")
    operator_name: reactive[str | None] = reactive(None)

    def __init__(
        self, config: KioskConfig, *, speech: Any = None, clock: Clock | None = None
    ) -> None:
        """``speech`` and ``clock`` stand in for the real ones in tests."""
        # Read by App.__init__ to add (or not) the ctrl+p palette binding.
        self.ENABLE_COMMAND_PALETTE = config.mode == "operator"  # type: ignore[misc]  # Textual reads this per instance, before App.__init__
        super().__init__()
        self.config = config
        self.data_dir = config.data_dir
        self.mode: Mode = config.mode
        self.clock: Clock = clock or SystemClock()
        # Every failed store call is told to store_failed (shown and spoken there).
        self.db = StoreThread(self.data_dir, on_failure=self.store_failed)
        self.last_store_failure: StoreError | None = None
        self._store_failure_at = float("-inf")
        self.speech = speech
        self.idle_timeout = config.idle_timeout
        self.idle_warning = config.warning_seconds
        self.probe_interval = config.probe_interval
        # The background status pull (status_tick): when the last one (or a sync) ended.
        self.status_interval = config.status_interval
        self._statuses_pulled_at = self.clock.monotonic()
        self._status_pulling = False
        self.visit: Visit | None = None
        self.last_sync_error: str | None = None
        # Set once the store and catalog are ready, expired drafts purged (tests wait on it).
        self.ready = asyncio.Event()
        self.operator: Any = None  # kiosk.operators record of the logged-in operator
        self.last_activity = self.clock.monotonic()
        self.home_lang = config.lang
        self.set_reactive(KioskApp.lang, self.home_lang)
        self.register_theme(KIOSK_THEME)
        self.register_theme(CONTRAST_THEME_DEF)
        self._set_first_theme(CONTRAST_THEME if config.high_contrast else DEFAULT_THEME)
        if not config.animations:
            self.animation_level = "none"

    def _set_first_theme(self, name: str) -> None:
        """The theme before the stylesheet is first parsed, without Textual's watcher.

        Setting ``theme`` runs a watcher that parses every stylesheet again (a tenth of
        a second at start-up, for nothing: the first parse reads this theme's
        variables). This does the rest of what the watcher does: the app's classes and
        the ANSI colour filter.
        """
        self.set_reactive(App.theme, name)
        # App.__init__ gave the stylesheet the default theme's variables.
        self.stylesheet.set_variables(self.get_css_variables())
        dark = self.current_theme.dark
        self.update_classes(
            {f"-theme-{name}": True, "-dark-mode": dark, "-light-mode": not dark}, update=False
        )
        self._refresh_truecolor_filter(self.ansi_theme)

    # ----- start-up and shutdown -------------------------------------------------

    def run(self, *args: Any, **kwargs: Any) -> int | None:
        """Run the kiosk, as the process's one app (tests use ``run_test``).

        Every object alive now (the modules imported, the app) lives as long as the
        process: frozen out of the garbage collector, a full collection no longer walks
        them. Without this, the first full collection falls on the first screen's paint
        and holds the event loop for about 10 ms; later ones cost as much, each time.
        """
        gc.freeze()
        return super().run(*args, **kwargs)

    async def on_mount(self) -> None:
        # The first screen comes first; the store, catalog and speech warm up behind
        # it (start-up budget: within 1.3x of a bare Textual app).
        if self.mode == "operator":
            await self.push_screen(self.new_screen("operator_login", purpose="login"))
        else:
            await self.push_screen(self.new_screen("start"))
        self.run_worker(self._warm_up(), group="startup")

    async def _warm_up(self) -> None:
        # Once the first screen has been painted and has settled (the terminal's size
        # arrives after the mount and lays it out again): importing the store thread's
        # modules meanwhile would take the CPU and the GIL from that paint.
        await until_idle()
        try:
            # Inside the try: a stylesheet that does not parse fails the warm-up
            # loudly, never leaves everything waiting on `ready`.
            read_later_css(self)
            # The store and catalog modules take a few hundred milliseconds to import:
            # on the store thread, so that the loop keeps answering keys meanwhile.
            await self.db.load_modules()
            from kiosk.catalog import Catalog
            from kiosk.store import StoreError

            # A storage failure (read-only file, full disk) has been shown already;
            # the kiosk still comes up, showing what it can read.
            with contextlib.suppress(StoreError):
                await self.db.catalog(Catalog.ensure_bundled)
            await self.refresh_queue()
            await self.purge_drafts()  # no draft is offered: it opens with its code only
        finally:
            self.ready.set()
        if self.speech is None:
            self._start_speech()
        else:
            self.refresh_speech_status()
        self.set_interval(self.SPEECH_CHECK_INTERVAL, self.refresh_speech_status, name="speech")
        if self.mode == "citizen":
            self.set_interval(1.0, self.check_idle_timeout, name="idle")
        if self.probe_interval:
            self.probe()
            self.set_interval(self.probe_interval, self.probe, name="probe")

    async def purge_drafts(self) -> None:
        """Expired drafts deleted (kiosk/drafts.py): at start and at the idle wipe."""
        from kiosk.store import Store, StoreError

        with contextlib.suppress(StoreError):  # reported; the kiosk goes on
            await self.db.call(Store.purge_drafts, self.clock.now())

    async def on_unmount(self) -> None:
        if self.speech is not None and hasattr(self.speech, "close"):
            try:
                self.speech.close()
            except Exception:  # shutting down; nothing to report to but the log
                logger.exception("speech: close failed")
        self.db.close()

    @work(thread=True, group="speech")
    def _start_speech(self) -> None:
        """The speech service spawns its engine process: keep that off the loop."""
        service = open_speech(self.config)
        if service is None:
            self.call_from_thread(setattr, self, "speech_status", "no-engine")
            return
        self.speech = service
        # The engine and audio checks run on the service's own thread: the status bar
        # shows their result, not the optimistic "ok" of a service still checking.
        service.wait_ready()
        self.call_from_thread(self._speech_ready)

    def _speech_ready(self) -> None:
        self.refresh_speech_status()
        # The first screen appeared before the voice was ready: greet now.
        intro = getattr(self.screen, "speak_intro", None)
        if callable(intro):
            intro()

    # ----- storage failures ------------------------------------------------------------

    STORE_FAILURE_REPEAT = 30.0  # seconds before the same failure is announced again

    def store_failed(self, exc: StoreError) -> None:
        """A store call failed (full disk, read-only database...): say so, never crash.

        Called by the StoreThread for every failed call, on the event loop, before the
        caller sees the StoreError. The same failure repeating (a draft save on every
        keystroke) is announced once, not on every key.
        """
        now = self.clock.monotonic()
        last = self.last_store_failure
        repeated = (
            last is not None
            and (last.msgid, last.kwargs) == (exc.msgid, exc.kwargs)
            and now - self._store_failure_at < self.STORE_FAILURE_REPEAT
        )
        self.last_store_failure = exc
        self._store_failure_at = now
        if repeated:
            return
        message = exc.message(self.lang)
        self.notify(message, severity="error", timeout=15)
        self.say(message)

    # ----- speech -----------------------------------------------------------------

    SPEECH_CHECK_INTERVAL = 2.0  # seconds: a playback failing (no device) shows this soon

    def speech_state(self) -> str:
        """What the sound indicator shows: the person's choice (muted) first, then the
        speech service's own state ("no-audio" when its player cannot play, "no-engine").

        The service puts its faults before muting (nothing would be heard either way);
        the indicator puts muting first, so F2 visibly changes it even with no device.
        """
        speech = self.speech
        if speech is None:
            return "checking" if self.speech_status == "checking" else "no-engine"
        if bool(getattr(speech, "muted", False)):
            return "muted"
        status = str(getattr(speech, "status", "ok"))
        return status if status in ("ok", "no-audio", "no-engine") else "ok"

    def refresh_speech_status(self) -> None:
        """Read the speech service's state into ``speech_status`` (a cheap read: the
        service polls its player; called after each prompt and every few seconds)."""
        try:
            self.speech_status = self.speech_state()
        except Exception:  # a broken speaker must not stop the citizen
            logger.exception("speech: status failed")
            self.speech_status = "no-engine"

    def say(self, text: str, kind: str = "text", *, private: bool = False) -> None:
        """Speak in the current language; silently nothing when speech is unavailable.

        ``private=True`` for any text holding a citizen's answers (or their tracking
        code): its audio is never cached and is deleted after playback, on ``stop``
        (the idle wipe, going home) and on exit.
        """
        if not text or self.speech is None:
            return
        try:
            if private:
                self.speech.speak(text, self.lang, kind=kind, private=True)
            else:
                self.speech.speak(text, self.lang, kind=kind)
            self.refresh_speech_status()
        except Exception:  # a broken speaker must not stop the citizen
            logger.exception("speech: speak failed")
            self.speech_status = "no-engine"

    def prewarm(self, items: list[tuple[str, str]]) -> None:
        """Let the speech service synthesise prompts ahead (first word sooner)."""
        if self.speech is None or not hasattr(self.speech, "prewarm"):
            return
        try:
            self.speech.prewarm([(text, lang) for text, lang in items if text])
        except Exception:  # a cache miss later is the only cost
            logger.exception("speech: prewarm failed")

    def action_toggle_mute(self) -> None:
        if self.speech is None:
            return
        muted = not bool(getattr(self.speech, "muted", False))
        try:
            self.speech.muted = muted
            if muted:
                self.speech.stop()
        except Exception:  # the status below says what the speech service is doing
            logger.exception("speech: mute failed")
        self.refresh_speech_status()

    # ----- calling the operator ----------------------------------------------------

    def action_call_operator(self) -> None:
        """ "Call the operator" (every citizen screen's top bar, or F1): recorded for the
        operator's dashboard first, then shown and spoken in the citizen's language."""
        if self._showing("help_called") or not getattr(self.screen, "CALL_OPERATOR", False):
            return  # said already, or an operator's own screen
        self.run_worker(self._call_operator(), group="help", exclusive=True)

    async def _call_operator(self) -> None:
        from kiosk.store import Store, StoreError

        screen = type(self.screen).__name__.removesuffix("Screen").lower()
        try:
            await self.db.call(Store.call_operator, screen, self.lang)
        except StoreError:
            return  # shown and spoken by store_failed: no "help is coming" then
        if not self._showing("help_called"):
            await self.push_screen(self.new_screen("help_called"))

    def action_set_lang(self, lang: str) -> None:
        if lang in LANGS:
            self.lang = lang

    def action_next_lang(self) -> None:
        """F5: the next citizen language of kiosk.languages, round and back to the first."""
        offered = languages.citizen_codes()
        now = offered.index(self.lang) if self.lang in offered else -1
        self.lang = offered[(now + 1) % len(offered)]

    def action_toggle_contrast(self) -> None:
        self.theme = DEFAULT_THEME if self.theme == CONTRAST_THEME else CONTRAST_THEME

    # ----- navigation ---------------------------------------------------------------

    HOME_DEPTH = 2  # Textual's default screen, then the mode's home screen

    @classmethod
    def screen_type(cls, name: ScreenName) -> Callable[..., Screen[object]]:
        """The class named ``SCREEN_TYPES[name]``, its module imported on first use."""
        module, _, attr = cls.SCREEN_TYPES[name].partition(":")
        screen_class: Callable[..., Screen[object]] = getattr(import_module(module), attr)
        return screen_class

    def new_screen(self, name: ScreenName, *args: object, **kwargs: object) -> Screen[object]:
        """A new screen of ``SCREEN_TYPES[name]``, for push_screen or switch_screen."""
        return self.screen_type(name)(*args, **kwargs)

    def _showing(self, name: ScreenName) -> bool:
        """Whether the current screen is a ``name`` screen (imports nothing new)."""
        module, _, attr = self.SCREEN_TYPES[name].partition(":")
        loaded = sys.modules.get(module)
        screen_class = getattr(loaded, attr, None) if loaded is not None else None
        return screen_class is not None and isinstance(self.screen, screen_class)

    async def start_visit(self, visit: Visit) -> None:
        """A citizen starts (or resumes) an application: its questions come up."""
        self.visit = visit
        visit.prepare_key()  # scrypt in a worker thread, ready by the first answer
        await self.push_screen(self.new_screen("question"))

    def request_home(self, *, discard: bool = True) -> None:
        """go_home for screens: a screen must not await its own removal (deadlock)."""
        self.run_worker(self.go_home(discard=discard), group="navigation", exclusive=True)

    async def go_home(self, *, discard: bool = True) -> None:
        """Back to the mode's home screen; the visit's draft is dropped unless kept."""
        visit = self.visit
        self.visit = None
        if visit is not None and visit.draft_id and discard and not visit.keep_draft:
            from kiosk.store import Store, StoreError

            # Going home must never fail: an undeletable draft stays (and was reported).
            with contextlib.suppress(StoreError):
                await self.db.call(Store.delete_draft, visit.draft_id)
        if self.speech is not None:
            try:
                self.speech.stop()
            except Exception:  # going home must never fail
                logger.exception("speech: stop failed")
        while len(self.screen_stack) > self.HOME_DEPTH:
            await self.pop_screen()
        if self.mode == "citizen":
            self.lang = self.home_lang  # the next citizen starts from the greeting
        self.touch()

    # ----- kiosk safety ------------------------------------------------------------

    def touch(self) -> None:
        """Somebody is using the kiosk: restart the idle countdown."""
        self.last_activity = self.clock.monotonic()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.touch()
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and self.screen_stack
            and isinstance(screen := self.screen, KeysInOrder)
        ):
            # Not to the focused widget (the focus may be about to move): to the
            # screen, which handles each key to the end before the next one.
            self.app_focus = True
            active = screen.active_bindings.get(event.key)
            if active is not None and active.enabled and active.binding.priority:
                await self.run_action(active.binding.action, active.node)
            else:
                screen.post_message(event)
            return
        await super().on_event(event)

    def on_button_pressed(self, _event: Button.Pressed) -> None:
        self.touch()

    def idle_seconds(self) -> float:
        return self.clock.monotonic() - self.last_activity

    async def check_idle_timeout(self) -> None:
        """Called every second (and by tests after moving a fake clock)."""
        if self.mode != "citizen" or not self.screen_stack:
            return  # an operator's kiosk, or the app shutting down (a last timer tick)
        at_home = len(self.screen_stack) <= self.HOME_DEPTH and self.visit is None
        if at_home:
            if self.lang != self.home_lang and self.idle_seconds() >= self.idle_timeout:
                self.lang = self.home_lang
            return
        idle = self.idle_seconds()
        warning: Any = self.screen if self._showing("idle") else None
        if idle >= self.idle_timeout:
            await self.wipe()
        elif idle >= self.idle_timeout - self.idle_warning:
            remaining = int(self.idle_timeout - idle + 0.999)
            if warning is None:
                await self.push_screen(self.new_screen("idle", remaining))
            else:
                warning.remaining = remaining

    async def wipe(self) -> None:
        """Idle timeout: nothing of the last citizen stays on screen, nor in the WAL."""
        await self.go_home(discard=True)
        await self.purge_drafts()
        from kiosk.store import Store, StoreError

        # The dropped draft was zeroed (secure_delete); truncate the WAL's old pages.
        with contextlib.suppress(StoreError):  # a wipe must never fail
            await self.db.call(Store.checkpoint)
        self.lang = self.home_lang
        self.touch()

    def action_request_exit(self) -> None:
        """ctrl+q / ctrl+c: an operator may quit; in citizen mode that needs their PIN."""
        if self.mode == "operator" and self.operator is not None:
            self.exit(0)
            return
        if self._showing("operator_login"):
            return
        if self.mode == "operator":
            self.exit(0)
            return
        self.push_screen(self.new_screen("operator_login", purpose="exit"))

    # ----- queue, connectivity and sync -------------------------------------------

    async def refresh_queue(self) -> dict[str, int]:
        """The outbox counts into ``queued``; {} when the store cannot be read (reported)."""
        from kiosk.store import Store, StoreError

        try:
            counts = await self.db.call(Store.queue_counts)
            self.rejected = await self.db.call(Store.rejected_open_count)
        except StoreError:
            return {}
        self.queued = int(counts.get("queued", 0))
        return counts

    def on_queue_changed(self, message: QueueChanged) -> None:
        self.queued = int(message.counts.get("queued", 0))
        if "rejected_open" in message.counts:
            self.rejected = int(message.counts["rejected_open"])

    @work(thread=True, exclusive=True, group="probe", exit_on_error=False)
    def probe(self) -> None:
        """Cheap reachability check of the configured portal (never a busy loop)."""
        url, pins = portal_url(self.data_dir)
        if not url:
            self.post_message(Connectivity(None))
            return
        try:
            from sync.health import probe

            online = bool(probe(url, pins=pins))
        except Exception:  # unreachable is simply offline
            logger.warning("portal probe failed", exc_info=True)
            online = False
        self.post_message(Connectivity(online))

    def on_connectivity(self, message: Connectivity) -> None:
        was = self.online
        self.online = message.online
        if message.online and (not was or self.queued) and self.sync_state != "syncing":
            self.sync_now()
        else:
            self.status_tick()

    def status_tick(self) -> bool:
        """Pull statuses in the background when due (every ``status_interval`` seconds
        while online, on the app's clock); True when a pull was started. Called after
        each probe; tests call it after moving a fake clock."""
        interval = self.status_interval
        if not interval or self.online is not True or self._status_pulling:
            return False
        if self.sync_state == "syncing":
            return False  # the sync pulls statuses itself
        if self.clock.monotonic() - self._statuses_pulled_at < interval:
            return False
        self._status_pulling = True
        self._status_worker()
        return True

    @work(thread=True, exclusive=True, group="statuses", exit_on_error=False)
    def _status_worker(self) -> None:
        from kiosk.store import Store

        lang = self.lang
        try:
            with Store.open(self.data_dir) as store:
                from sync.client import PortalClient
                from sync.engine import SyncEngine

                client = PortalClient.from_store(store)
                if client is None:
                    self.post_message(StatusesPulled())
                    return
                with client:
                    report = SyncEngine(store, client, lang=lang).pull_statuses()
        except Exception as exc:  # a worker must report; the next tick tries again
            logger.warning("status pull failed", exc_info=True)
            self.post_message(StatusesPulled(error=str(exc) or type(exc).__name__))
            return
        self.post_message(StatusesPulled(report.statuses, report.error))

    def on_statuses_pulled(self, message: StatusesPulled) -> None:
        self._status_pulling = False
        self._statuses_pulled_at = self.clock.monotonic()
        if message.error:
            logger.info("status pull: %s", message.error)

    def sync_now(self) -> None:
        """Start a sync in the background unless one is running."""
        if self.sync_state == "syncing":
            return
        self.sync_state = "syncing"
        self._sync_worker()

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def _sync_worker(self) -> None:
        from kiosk.i18n import tr
        from kiosk.store import Store

        lang = self.lang
        try:
            with Store.open(self.data_dir) as store:
                from sync.client import PortalClient
                from sync.engine import SyncEngine

                client = PortalClient.from_store(store)
                if client is None:
                    error = tr(lang, "This kiosk is not enrolled with a portal.")
                    self.post_message(SyncFinished(error=error))
                    return
                with client:
                    report = SyncEngine(store, client, lang=lang).run()
                counts = {**store.queue_counts(), "rejected_open": store.rejected_open_count()}
        except TranslatableError as exc:  # e.g. a URL or origin the kiosk refuses
            self.post_message(SyncFinished(error=exc.message(lang)))
            return
        except Exception:  # a worker must report: shown in the status bar and dashboard
            logger.warning("sync worker failed", exc_info=True)
            # Its text is English for developers (logged above): people read the engine's
            # message for an unexpected failure, in their language.
            from sync.engine import UNEXPECTED

            self.post_message(SyncFinished(error=tr(lang, UNEXPECTED)))
            return
        self.post_message(QueueChanged(counts))
        self.post_message(SyncFinished(report=report, error=report.error))

    def on_sync_finished(self, message: SyncFinished) -> None:
        self.sync_state = "error" if message.error else "idle"
        if not message.error:
            self._statuses_pulled_at = self.clock.monotonic()  # the sync pulled them
        self.last_sync_error = message.error
        if message.error and self.mode == "operator":
            # Operators can act on it (re-enrol, call support); citizens see the bar only.
            self.notify(message.error, severity="error", timeout=8)
