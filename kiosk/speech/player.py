"""Playback in a separate process, killed the moment the person moves on.

The command is pluggable: by default the first of paplay (PulseAudio/PipeWire),
aplay (ALSA) and sox's play found on PATH, or the ``speech_player`` option of
kiosk.config (a shell-style command; the WAV path is appended). ``python -m kiosk.speech.player --null-sink
FILE`` is a player that plays to no device at real-time speed: for machines with no
sound card (tests, benchmarks, demos), where aplay -D null would finish at once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Sequence
from pathlib import Path

CANDIDATES: tuple[tuple[str, ...], ...] = (("paplay",), ("aplay", "-q"), ("play", "-q"))
NULL_SINK_COMMAND: tuple[str, ...] = (sys.executable, "-m", "kiosk.speech.player", "--null-sink")
PROBE_TIMEOUT = 5.0


def default_commands() -> list[list[str]]:
    """The known players found on PATH, best first (when ``speech_player`` is not set).

    Several, because paplay can be installed with no sound server running while aplay
    reaches the card directly: the service probes them in turn.
    """
    return [list(c) for c in CANDIDATES if shutil.which(c[0])]


def write_silence(path: Path, seconds: float = 0.05, rate: int = 22050) -> Path:
    """A short silent WAV, to probe whether the player can open the audio device."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x00\x00" * int(seconds * rate))
    return path


class Player:
    """One playback at a time: ``play`` stops the previous one first. Thread-safe."""

    def __init__(self, command: Sequence[str] | None) -> None:
        self.command: list[str] | None = list(command) if command else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._remove: Path | None = None  # a private WAV, deleted when its playback ends
        self._lock = threading.Lock()
        self.last_error: str | None = None  # set when a playback failed on its own

    @property
    def available(self) -> bool:
        if not self.command:
            return False
        return shutil.which(self.command[0]) is not None

    def choose(self, commands: Sequence[Sequence[str]], scratch_dir: Path) -> bool:
        """Keep the first command that can play (see ``probe``); False if none can."""
        for command in commands:
            self.command = list(command)
            if self.probe(scratch_dir):
                return True
        if not commands:
            self.command, self.last_error = None, "no audio player found"
        return False

    def probe(self, scratch_dir: Path) -> bool:
        """Play a moment of silence; False when there is no player or no audio device."""
        if not self.available:
            self.last_error = "no audio player found"
            return False
        assert self.command is not None
        silence = write_silence(scratch_dir / f"probe-{os.getpid()}.wav")
        try:
            done = subprocess.run(
                [*self.command, str(silence)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=PROBE_TIMEOUT,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.last_error = str(exc)
            return False
        finally:
            silence.unlink(missing_ok=True)
        if done.returncode != 0:
            self.last_error = done.stderr.decode("utf-8", "replace").strip()[-300:] or "failed"
            return False
        self.last_error = None
        return True

    def play(self, wav: Path, *, remove_after: bool = False) -> int | None:
        """Start playing ``wav`` (stopping what plays); the player's pid, or None.

        ``remove_after``: delete ``wav`` once the playback ends or is stopped (a
        private prompt); also when it cannot start.
        """
        with self._lock:
            self._stop_locked()
            if not self.command:
                if remove_after:
                    wav.unlink(missing_ok=True)
                return None
            try:
                self._proc = subprocess.Popen(
                    [*self.command, str(wav)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                self.last_error = str(exc)
                if remove_after:
                    wav.unlink(missing_ok=True)
                return None
            if remove_after:
                self._remove = wav
                proc = self._proc
                threading.Thread(
                    target=self._remove_when_done,
                    args=(proc, wav),
                    name="speech-private",
                    daemon=True,
                ).start()
            return self._proc.pid

    def _remove_when_done(self, proc: subprocess.Popen[bytes], wav: Path) -> None:
        """Delete a private WAV as soon as its player has exited."""
        proc.wait()
        wav.unlink(missing_ok=True)
        with self._lock:
            if self._remove == wav:
                self._remove = None

    def _stop_locked(self) -> None:
        proc, self._proc = self._proc, None
        remove, self._remove = self._remove, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()  # SIGKILL: the prompt must end now, not after a fade-out
        proc.wait()  # reap it, so no zombie is left behind
        if remove is not None:  # gone when stop() returns, not when the watcher wakes
            remove.unlink(missing_ok=True)
        if proc.returncode not in (0, -9):
            self.last_error = f"player exited with {proc.returncode}"

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def failed_on_its_own(self) -> bool:
        """Whether the last playback ended by itself with an error (no device, the
        device gone): what tells the service, and so the indicator, that nothing can be
        heard. A playback cut off (SIGKILL) or still running is no failure."""
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is None or proc.returncode in (0, -9):
                return False
            self.last_error = f"player exited with {proc.returncode}"
            return True

    @property
    def pid(self) -> int | None:
        """The pid of the player now playing, or None."""
        with self._lock:
            proc = self._proc
            return proc.pid if proc is not None and proc.poll() is None else None

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the current playback to end; its exit code (None if nothing played)."""
        with self._lock:
            proc = self._proc
        if proc is None:
            return None
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if code not in (0, -9):
            self.last_error = f"player exited with {code}"
        return code


def play_to_null_sink(path: Path, chunk_seconds: float = 0.02) -> None:
    """Read the WAV and discard it at the pace a sound card would consume it."""
    with wave.open(str(path), "rb") as wav, open(os.devnull, "wb") as sink:
        rate = wav.getframerate()
        frames_per_chunk = max(1, int(rate * chunk_seconds))
        started = time.monotonic()
        played = 0
        while chunk := wav.readframes(frames_per_chunk):
            sink.write(chunk)
            played += len(chunk) // (wav.getsampwidth() * wav.getnchannels())
            ahead = started + played / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Play a WAV to no device, in real time.")
    parser.add_argument("--null-sink", action="store_true", required=True)
    parser.add_argument("wav", type=Path)
    args = parser.parse_args(argv)
    try:
        play_to_null_sink(args.wav)
    except (OSError, EOFError, wave.Error) as exc:
        print(f"cannot play {args.wav}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
