"""The one process that owns the TTS engine, and the client that talks to it.

pyttsx3 crashes when used from several threads, writes only the last of several
queued ``save_to_file`` calls, and sends a later ``say()`` into the last saved file.
So a single child process (``python -m kiosk.speech.engine_proc``) owns the engine
and does one ``save_to_file`` + ``runAndWait`` per request, strictly in turn.

Engines, tried in the order given: ``espeak-ng`` (the command line with ``-w FILE``)
and ``pyttsx3``. What pyttsx3 2.99 does on Linux, measured here: it loads
libespeak-ng and synthesises in memory, so ``save_to_file`` works headless, with no
audio device. But its espeak driver runs espeak-ng asynchronously: ``runAndWait``
returns before the WAV is written, and voice/rate changes race with the synthesis
thread, so back-to-back requests came out at the previous request's rate, with the
wrong text, or empty (0 frames), even when waiting for its "finished-utterance"
event. So on Linux the command line is the engine and pyttsx3 the fallback; the
pyttsx3 path waits for that event and the caller validates every WAV it gets.

Protocol: JSON lines. The child first writes ``{"ready": true, "engine": NAME}`` or
``{"ready": false, "error": TEXT}``; then for each request ``{"id", "text",
"voice", "rate", "out"}`` it answers ``{"id", "ok": true}`` or ``{"id", "ok":
false, "error"}``. pyttsx3 prints to stdout, so the child keeps the real stdout for
the protocol and points file descriptor 1 at stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from kiosk.config import DEFAULT_ENGINES

logger = logging.getLogger(__name__)

START_TIMEOUT = 15.0
REQUEST_TIMEOUT = 60.0
LOG_MAX_BYTES = 1_000_000


def default_engines() -> tuple[str, ...]:
    """The espeak-ng command line, then pyttsx3 (``speech_engines`` in kiosk.config)."""
    return DEFAULT_ENGINES


class EngineError(RuntimeError):
    """The engine could not start or could not synthesise a request."""


# --- the child process -------------------------------------------------------------


class Engine(Protocol):
    name: str

    def voices(self) -> set[str]: ...

    def synthesize(self, text: str, voice: str, rate: int, out: Path) -> None: ...


class Pyttsx3Engine:
    """pyttsx3, used from this one thread only."""

    name = "pyttsx3"

    def __init__(self) -> None:
        import pyttsx3

        self._engine = pyttsx3.init()
        self._voice_ids = {v.id: v for v in self._engine.getProperty("voices")}
        # runAndWait may return before the file is written: wait for this event too.
        self._done = threading.Event()
        self._engine.connect("finished-utterance", lambda **_: self._done.set())

    def voices(self) -> set[str]:
        """Language codes of the installed voices (espeak: "uz", "ru", ...)."""
        codes: set[str] = set()
        for vid, v in self._voice_ids.items():
            codes.update(str(lang).lower() for lang in (v.languages or []))
            codes.add(vid.lower().rsplit("/", 1)[-1])
        return codes

    def _set_voice(self, voice: str) -> None:
        try:
            self._engine.setProperty("voice", voice)  # espeak driver: a language code works
            return
        except (ValueError, KeyError, RuntimeError):
            pass
        # Other drivers (SAPI5, NSSS) want a voice id: take one that speaks the language.
        for vid, v in self._voice_ids.items():
            langs = [str(lang).lower() for lang in (v.languages or [])]
            if voice in langs or vid.lower().endswith(f"/{voice}"):
                self._engine.setProperty("voice", vid)
                return
        raise EngineError(f"no voice for {voice!r}")

    def synthesize(self, text: str, voice: str, rate: int, out: Path) -> None:
        self._set_voice(voice)
        self._engine.setProperty("rate", int(rate))
        self._done.clear()
        self._engine.save_to_file(text, str(out))
        self._engine.runAndWait()
        if not self._done.wait(REQUEST_TIMEOUT) or not out.exists():
            raise EngineError("pyttsx3 wrote no file")


class EspeakCliEngine:
    """The espeak-ng command line, writing the WAV itself."""

    name = "espeak-ng"

    def __init__(self) -> None:
        exe = shutil.which("espeak-ng") or shutil.which("espeak")
        if exe is None:
            raise EngineError("espeak-ng is not installed (not on PATH)")
        self._exe = exe

    def voices(self) -> set[str]:
        """Language codes from ``espeak-ng --voices`` (its second column)."""
        done = subprocess.run([self._exe, "--voices"], capture_output=True, text=True, timeout=30)
        lines = done.stdout.splitlines()[1:]
        return {line.split()[1].lower() for line in lines if len(line.split()) > 1}

    def synthesize(self, text: str, voice: str, rate: int, out: Path) -> None:
        # Text on stdin (-b 1: UTF-8), so no text is ever taken for an option.
        argv = [self._exe, "-b", "1", "-v", voice, "-s", str(int(rate)), "-w", str(out), "--stdin"]
        done = subprocess.run(
            argv, input=text.encode("utf-8"), capture_output=True, timeout=REQUEST_TIMEOUT
        )
        # espeak-ng exits 0 even when it could not open the output file: check the file.
        if done.returncode != 0 or not out.exists():
            raise EngineError(done.stderr.decode("utf-8", "replace").strip() or "espeak-ng failed")


ENGINES: dict[str, type[Pyttsx3Engine] | type[EspeakCliEngine]] = {
    "pyttsx3": Pyttsx3Engine,
    "espeak-ng": EspeakCliEngine,
}


def open_engine(names: Sequence[str]) -> tuple[Engine | None, list[str]]:
    """The first engine that starts, and why the others did not."""
    errors: list[str] = []
    for name in names:
        factory = ENGINES.get(name)
        if factory is None:
            errors.append(f"{name}: unknown engine")
            continue
        try:
            return factory(), errors
        except Exception as exc:  # pyttsx3 raises anything from OSError to RuntimeError
            logger.warning("engine %s did not open", name, exc_info=True)
            errors.append(f"{name}: {exc}")
    return None, errors


def serve(names: Sequence[str], requests: IO[str], replies: IO[str]) -> int:
    """Answer requests one at a time until stdin closes."""

    def reply(obj: dict[str, Any]) -> None:
        replies.write(json.dumps(obj, ensure_ascii=False) + "\n")
        replies.flush()

    engine, errors = open_engine(names)
    if engine is None:
        reply({"ready": False, "error": "; ".join(errors) or "no engine configured"})
        return 1
    try:
        voices = sorted(engine.voices())
    except Exception as exc:  # a voice list is a nicety: speak with the defaults
        logger.warning("no voice list", exc_info=True)
        voices, errors = [], [*errors, f"voices: {exc}"]
    reply({"ready": True, "engine": engine.name, "voices": voices, "skipped": errors})
    for line in requests:
        if not line.strip():
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req.get("id")
            engine.synthesize(req["text"], req["voice"], int(req["rate"]), Path(req["out"]))
            reply({"id": req_id, "ok": True})
        except Exception as exc:  # one bad request must not end the engine
            logger.warning("request %s failed", req_id, exc_info=True)
            reply({"id": req_id, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="TTS engine process (JSON lines on stdio)")
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES))
    args = parser.parse_args(argv)
    # Keep the real stdout for replies; anything a library prints goes to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = open(sys.stdin.fileno(), encoding="utf-8", closefd=False)
    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    return serve(names, requests, replies)


# --- the parent's side ---------------------------------------------------------------


class EngineProcess:
    """Client of the engine child: start it, send one request at a time, restart if it died.

    Thread-safe: requests from several threads are serialised by a lock.
    """

    def __init__(self, engines: Sequence[str] = DEFAULT_ENGINES, log_path: Path | None = None):
        self.engines = tuple(engines)
        self.log_path = log_path
        self.engine: str | None = None  # the engine the child chose
        self.error: str | None = None  # why no engine is available
        self.voices: frozenset[str] = frozenset()  # language codes the engine has voices for
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._next_id = 0

    def _spawn(self) -> None:
        log: Any = subprocess.DEVNULL
        if self.log_path is not None:
            # The child's stderr: why an engine failed. Kept small: restarted past 1 MB.
            big = self.log_path.exists() and self.log_path.stat().st_size > LOG_MAX_BYTES
            flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if big else os.O_APPEND)
            log = os.fdopen(os.open(self.log_path, flags, 0o600), "w")
            os.chmod(self.log_path, 0o600)  # a log made before it was kept private
        try:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kiosk.speech.engine_proc",
                    "--engines",
                    ",".join(self.engines),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                encoding="utf-8",
                bufsize=1,
                start_new_session=True,  # a Ctrl-C in the terminal is the app's to handle
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        # A fresh queue per child: a dead child's reader must not feed the next one.
        lines: queue.Queue[str | None] = queue.Queue()
        self._lines = lines
        stdout = self._proc.stdout
        assert stdout is not None

        def pump() -> None:  # a reader thread, so replies can be awaited with a timeout
            for line in stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True, name="speech-engine-reader").start()

    def _read(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self._kill()
            raise EngineError("the speech engine did not answer in time") from None
        if line is None:
            self._kill()
            raise EngineError("the speech engine stopped")
        message = json.loads(line)
        if not isinstance(message, dict):
            self._kill()
            raise EngineError("the speech engine sent something other than a message")
        return message

    def _start_locked(self) -> None:
        self.engine = None  # until the new child says it is ready
        try:
            self._spawn()
            hello = self._read(START_TIMEOUT)
        except (OSError, EngineError, ValueError) as exc:
            self.error = str(exc)
            raise EngineError(self.error) from exc
        if not hello.get("ready"):
            self.error = str(hello.get("error") or "the speech engine did not start")
            self._kill()
            raise EngineError(self.error)
        self.engine, self.error = str(hello["engine"]), None
        self.voices = frozenset(str(v) for v in hello.get("voices") or ())

    def start(self) -> str:
        """Start the child (if not running) and return the engine's name; raises EngineError."""
        with self._lock:
            if not self._alive():
                self._start_locked()
            assert self.engine is not None
            return self.engine

    def synthesize(self, text: str, voice: str, rate: int, out: Path) -> None:
        """Write ``text`` spoken by ``voice`` to ``out``; restarts a dead child once."""
        with self._lock:
            for attempt in (1, 2):
                if not self._alive():
                    self._start_locked()
                assert self._proc is not None and self._proc.stdin is not None
                self._next_id += 1
                request = {"id": self._next_id, "text": text, "voice": voice, "rate": rate}
                request["out"] = str(out)
                try:
                    self._proc.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
                    self._proc.stdin.flush()
                    reply = self._read(REQUEST_TIMEOUT)
                except (OSError, EngineError, ValueError) as exc:
                    self._kill()
                    if attempt == 2:
                        raise EngineError(str(exc)) from exc
                    continue
                if reply.get("ok"):
                    return
                raise EngineError(str(reply.get("error") or "synthesis failed"))

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._alive() and self._proc else None

    def close(self) -> None:
        """Ask the child to finish (stdin closed), then make sure it has."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    raise SystemExit(main())
