"""SpeechService: spoken prompts that never block or crash the UI.

One background thread (the worker) starts the engine process, probes the audio
player, and synthesises: first the prompt just asked for, then pre-warm items. A
prompt already in the WAV cache starts playing straight from ``speak()`` (a stat and
a process spawn). Every ``speak``/``stop`` bumps a generation number, so audio that
finishes synthesising after the person has moved on is never played.

Private prompts (a citizen's answers read back) never enter the cache: each is
synthesised into its own randomly named file (mode 0600, in the 0700 ``private``
directory), which is deleted when its playback ends, when it is cut off (``speak``,
``stop``, the idle wipe) and on ``close``. Its name says nothing of the text: a
cache key (a hash of the text) would let a guessed PINFL be checked against it.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from kiosk import languages
from kiosk.speech.cache import DIR_MODE, FILE_MODE, WavCache, cache_key, is_valid_wav
from kiosk.speech.engine_proc import EngineError, EngineProcess, default_engines
from kiosk.speech.player import Player, default_commands
from kiosk.speech.prepare import prepare_text

log = logging.getLogger(__name__)

DEFAULT_RATE = 150  # words per minute; espeak's 175 is quick for elderly listeners
MIN_RATE, MAX_RATE = 80, 320
STATUSES = ("ok", "muted", "no-engine", "no-audio")
PREWARM_MAX = 2000  # pending pre-warm items kept; older ones are dropped
ENGINE_RETRY_SECONDS = 60.0  # after a failed start, try again no sooner than this

_Job = tuple[int, str, str, bool]  # (generation, prepared text, lang, private)
PRIVATE_SUBDIR = "private"


class SpeechService:
    """Speak prompts in the background; see docs/ARCHITECTURE.md, "Speech"."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        enabled: bool = True,
        engines: Sequence[str] | None = None,
        player: Sequence[str] | None = None,
        rate: int = DEFAULT_RATE,
    ) -> None:
        """``engines``: tried in order by the engine process (default: the espeak-ng
        command line, then pyttsx3; callers pass ``KioskConfig.speech_engines``);
        ``player``: the playback command, the WAV path appended (default: paplay, aplay
        or play from PATH; callers pass ``KioskConfig.speech_player``). ``enabled=False`` starts muted."""
        self.cache = WavCache(Path(cache_dir))
        # Read-backs of a citizen's answers: never cached, each file deleted after its playback.
        self.private_dir = self.cache.root / PRIVATE_SUBDIR
        self.private_dir.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(self.private_dir, DIR_MODE)
        self._private_files: set[Path] = set()
        self._engine = EngineProcess(
            engines or default_engines(), log_path=self.cache.root / "engine.log"
        )
        self._player_commands = [list(player)] if player is not None else default_commands()
        self._player = Player(self._player_commands[0] if self._player_commands else None)
        self._cond = threading.Condition(threading.RLock())
        self._muted = not enabled
        self._rate = self._clamp(rate)
        self._generation = 0
        self._pending: _Job | None = None
        self._prewarm: collections.deque[tuple[str, str]] = collections.deque(maxlen=PREWARM_MAX)
        self._engine_ok: bool | None = None  # None until the worker has tried
        self._engine_failed_at = 0.0
        self._audio_ok: bool | None = None
        self._closing = False
        self._ready = threading.Event()
        self._worker = threading.Thread(target=self._run, name="speech", daemon=True)
        self._worker.start()

    # --- state -------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """ "no-engine" and "no-audio" (faults) before "muted" (a choice), else "ok".

        A playback that failed by itself since (the device missing or gone, though the
        start-up probe passed) makes it "no-audio": the indicator must not say "on"."""
        if self._audio_ok is not False and self._player.failed_on_its_own():
            self._audio_ok = False
        if self._engine_ok is False:
            return "no-engine"
        if self._audio_ok is False:
            return "no-audio"
        return "muted" if self._muted else "ok"

    @property
    def engine_name(self) -> str | None:
        return self._engine.engine

    @property
    def problem(self) -> str | None:
        """Why speech is unavailable, in the engine's or player's words (for logs)."""
        if self._engine_ok is False:
            return self._engine.error
        if self._audio_ok is False:
            return self._player.last_error
        return None

    def wait_ready(self, timeout: float = 20.0) -> str:
        """Wait until the engine and audio checks are done; returns ``status``."""
        self._ready.wait(timeout)
        return self.status

    @property
    def muted(self) -> bool:
        return self._muted

    @muted.setter
    def muted(self, value: bool) -> None:
        with self._cond:
            self._muted = bool(value)
            if self._muted:
                self._cancel_locked()
            self._cond.notify_all()

    @property
    def rate(self) -> int:
        return self._rate

    @rate.setter
    def rate(self, value: int) -> None:
        self._rate = self._clamp(value)

    @staticmethod
    def _clamp(value: int) -> int:
        return max(MIN_RATE, min(MAX_RATE, int(value)))

    @property
    def player_pid(self) -> int | None:
        """The pid of the playback process now running, if any."""
        return self._player.pid

    # --- the calls the UI makes -----------------------------------------------------------

    def speak(self, text: str, lang: str, kind: str = "text", *, private: bool = False) -> None:
        """Say ``text`` now, cutting off whatever is playing. Returns at once.

        ``private=True`` for text holding a citizen's answers (review read-back,
        receipt): its audio is never cached; its file is deleted when its playback
        ends, when the next prompt starts, on ``stop()`` and on ``close()``.
        """
        prepared = self._prepare(text, lang, kind)
        with self._cond:
            self._cancel_locked()
            if self._muted or not prepared or self._closing:
                return
            if not private:
                cached = self.cache.lookup(self._key(prepared, lang))
                if cached is not None:
                    self.cache.touch(cached)
                    self._start_playback(cached)
                    return
            if not self._engine_usable():
                return
            self._pending = (self._generation, prepared, lang, private)
            self._cond.notify_all()

    def stop(self) -> None:
        """Silence: stop playback and drop a prompt still being synthesised."""
        with self._cond:
            self._cancel_locked()

    def prewarm(self, items: Iterable[tuple[str, str]]) -> None:
        """Synthesise these (text, lang) prompts in the background, after any prompt asked for."""
        with self._cond:
            if not self._engine_usable():
                return
            for text, lang in items:
                if text and text.strip():
                    self._prewarm.append((text, lang))
            self._cond.notify_all()

    def synthesize(self, text: str, lang: str, kind: str = "text") -> Path | None:
        """Blocking: the cached WAV of ``text`` (synthesised now if needed).

        None when there is nothing to say, or when no engine works (see ``status``).
        """
        prepared = self._prepare(text, lang, kind)
        if not prepared or not self._engine_usable():
            return None
        return self._synthesize_prepared(prepared, lang)

    def is_cached(self, text: str, lang: str, kind: str = "text") -> bool:
        """Whether this prompt's audio is ready on disk (pre-warmed or said before)."""
        prepared = self._prepare(text, lang, kind)
        return bool(prepared) and self.cache.lookup(self._key(prepared, lang)) is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the last prompt asked for has been synthesised and played out.

        True when it finished; False on timeout. For the CLI and tests, not the UI.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        code = self._player.wait(left)
        if code not in (None, 0, -9):
            self._audio_ok = False  # the player could not play after all
        return self._player.pid is None

    def close(self) -> None:
        """Stop speaking, end the worker, the player and the engine process."""
        with self._cond:
            self._closing = True
            self._cancel_locked()
            self._prewarm.clear()
            self._cond.notify_all()
        self._worker.join(timeout=5)
        self._engine.close()
        with self._cond:  # a private prompt finished after the last cancel
            self._remove_private_locked()

    def __enter__(self) -> SpeechService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- inside ----------------------------------------------------------------------

    def _prepare(self, text: str, lang: str, kind: str) -> str:
        try:
            return prepare_text(text, lang, kind)
        except Exception:  # any failure here must not reach the UI
            # Never let an odd string silence the kiosk: read it as written.
            log.info("speech: could not prepare %r (%s)", text, lang, exc_info=True)
            return " ".join((text or "").split())

    def voice(self, lang: str) -> str:
        """The engine voice for ``lang``: the first of its voices (kiosk.languages) the
        engine has; a language without one is read by its speech language's."""
        try:
            candidates = languages.voices(lang)
        except ValueError:  # not a kiosk language
            candidates = ()
        candidates = candidates or languages.voices("en")
        have = self._engine.voices
        return next((v for v in candidates if v in have), candidates[0])

    def _key(self, prepared: str, lang: str) -> str:
        return cache_key(prepared, lang, self.voice(lang), self._rate)

    def _cancel_locked(self) -> None:
        self._generation += 1
        self._pending = None
        self._player.stop()  # removes the private WAV it was playing, if any
        self._remove_private_locked()
        self._cond.notify_all()

    def _remove_private_locked(self) -> None:
        """Delete every private WAV: the ones known, and any other file in their directory
        (one the engine re-created after a cancel, or left by a crash)."""
        for path in self._private_files:
            path.unlink(missing_ok=True)
        self._private_files.clear()
        try:
            strays = list(self.private_dir.rglob("*"))
        except OSError:
            return
        for path in sorted(strays, reverse=True):  # files before their directories
            try:
                path.rmdir() if path.is_dir() else path.unlink(missing_ok=True)
            except OSError as exc:
                log.info("speech: cannot remove a private file: %s", exc)

    def _start_playback(self, wav: Path, *, private: bool = False) -> None:
        if self._audio_ok is False or (private and self._muted):
            if private:  # nothing will play it
                self._drop_private_locked(wav)
            return  # no device: synthesising still warms the cache, playing would fail
        if private:  # the player deletes it when the playback ends or is cut off
            self._private_files.discard(wav)
        self._player.play(wav, remove_after=private)

    def _drop_private_locked(self, wav: Path) -> None:
        wav.unlink(missing_ok=True)
        self._private_files.discard(wav)

    def _synthesize_private(self, prepared: str, lang: str) -> Path | None:
        """Synthesise into a new file of its own (0600, random name), never the cache."""
        path = self.private_dir / f"{uuid.uuid4().hex}.wav"
        with self._cond:
            self._private_files.add(path)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
            self._engine.synthesize(prepared, self.voice(lang), self._rate, path)
            os.chmod(path, FILE_MODE)  # in case the engine re-created it
            if not is_valid_wav(path):
                raise EngineError("the engine wrote no audio")
            self._engine_ok = True
            return path
        except (EngineError, OSError) as exc:
            log.info("speech: private synthesis failed: %s", exc)
            with self._cond:
                self._drop_private_locked(path)
            if self._engine.engine is None:
                self._engine_failed(exc)
            return None

    def _synthesize_prepared(
        self, prepared: str, lang: str, *, private: bool = False
    ) -> Path | None:
        if private:
            return self._synthesize_private(prepared, lang)
        cache = self.cache
        key = self._key(prepared, lang)
        cached = cache.lookup(key)
        if cached is not None:
            return cached
        try:
            temp = cache.temp_path(key)
        except OSError as exc:  # cache directory gone or not writable
            log.info("speech: cannot write the cache: %s", exc)
            return None
        voice = self.voice(lang)
        try:
            self._engine.synthesize(prepared, voice, self._rate, temp)
            if not is_valid_wav(temp):
                raise EngineError("the engine wrote no audio")
            self._engine_ok = True
            return cache.commit(temp, key)
        except (EngineError, OSError) as exc:
            log.info("speech: synthesis failed: %s", exc)
            if self._engine.engine is None:
                self._engine_failed(exc)  # never started: no engine on this machine
            return None
        finally:
            temp.unlink(missing_ok=True)

    def _engine_failed(self, exc: Exception) -> None:
        log.info("speech: no engine: %s", exc)
        self._engine_ok = False
        self._engine_failed_at = time.monotonic()

    def _engine_usable(self) -> bool:
        """False for a while after the engine failed to start, so that every prompt
        does not spawn a doomed process; then one more try."""
        if self._engine_ok is not False:
            return True
        return time.monotonic() - self._engine_failed_at >= ENGINE_RETRY_SECONDS

    def _start_up(self) -> None:
        try:  # housekeeping: a failure here must not stop speech
            self.cache.sweep_temp()
            with self._cond:  # left by a crash or a power cut
                self._remove_private_locked()
            self.cache.tighten()  # a cache made before files were kept 0600
            self.cache.prune()
        except OSError as exc:
            log.info("speech: cache housekeeping failed: %s", exc)
        try:
            self._engine.start()
            self._engine_ok = True
        except Exception as exc:  # EngineError, or OSError spawning it
            log.info("speech: engine did not start", exc_info=True)
            self._engine_failed(exc)
        try:
            self._audio_ok = self._player.choose(self._player_commands, self.cache.root)
        except Exception:  # e.g. the probe WAV cannot be written
            log.info("speech: audio check failed", exc_info=True)
            self._audio_ok = False

    def _next_job(self) -> tuple[str, _Job] | None:
        """Wait for work: the pending prompt first, then pre-warm items."""
        with self._cond:
            while not self._closing:
                if self._pending is not None:
                    return "speak", self._pending
                if self._prewarm and self._engine_usable():
                    text, lang = self._prewarm.popleft()
                    return "prewarm", (self._generation, text, lang, False)
                self._cond.wait()
        return None

    def _run(self) -> None:
        try:
            self._start_up()
        finally:
            self._ready.set()
        while (job := self._next_job()) is not None:
            what, (generation, text, lang, private) = job
            try:
                if what == "prewarm":
                    prepared = self._prepare(text, lang, "text")
                    if prepared:
                        self._synthesize_prepared(prepared, lang)
                    continue
                wav = self._synthesize_prepared(text, lang, private=private)
                with self._cond:
                    if self._pending is not None and self._pending[0] == generation:
                        self._pending = None
                        if wav is not None and not self._muted:
                            self._start_playback(wav, private=private)
                            wav = None
                    if private and wav is not None:  # cut off meanwhile: never played
                        self._drop_private_locked(wav)
                    self._cond.notify_all()
            except Exception:  # the worker must outlive any one bad prompt
                log.exception("speech: unexpected error")
                with self._cond:
                    if self._pending is not None and self._pending[0] == generation:
                        self._pending = None
                    self._cond.notify_all()
