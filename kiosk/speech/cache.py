"""The WAV cache: one file per (prepared text, language, voice, rate), written atomically.

A prompt is synthesised once and replayed from disk, so the second time a question
appears its audio is ready at once. Files are written to a temporary name in the
same directory and renamed into place, so a reader never sees half a WAV and a
crash mid-write leaves only a temporary file, swept on the next start.

The cache holds only non-personal prompts (a citizen's answers are spoken privately,
see kiosk.speech.service), yet it is kept tight: directories 0700, files 0600.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
import wave
from pathlib import Path

# Bump when the synthesis changes in a way the key does not capture (e.g. engine flags).
CACHE_FORMAT = 1
TEMP_SUFFIX = ".tmp"
STALE_TEMP_SECONDS = 3600
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # about 100 hours of 22 kHz mono speech
DIR_MODE = 0o700
FILE_MODE = 0o600
# Cache entries live in two-hex-digit directories; anything else (the private
# directory, the engine log) is not the cache's to sweep or prune.
ENTRY_DIRS = "[0-9a-f][0-9a-f]"


def cache_key(text: str, lang: str, voice: str, rate: int) -> str:
    """Stable hash of everything that changes the audio."""
    blob = json.dumps([CACHE_FORMAT, text, lang, voice, int(rate)], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def is_valid_wav(path: Path) -> bool:
    """A readable WAV with at least one frame (an engine failure can leave an empty one)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


class WavCache:
    """Files under ``root/ab/abcdef....wav``; safe to share between threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(self.root, DIR_MODE)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def lookup(self, key: str) -> Path | None:
        """The cached WAV for ``key``, or None. A stat, cheap enough for the UI thread."""
        path = self.path(key)
        try:
            return path if path.stat().st_size > 44 else None  # 44: a bare WAV header
        except OSError:
            return None

    @staticmethod
    def touch(path: Path) -> None:
        """Mark a file as used now, so ``prune`` removes the least recently used first."""
        try:
            os.utime(path)
        except OSError:
            pass

    def temp_path(self, key: str) -> Path:
        """A fresh temporary name beside the final file (same filesystem: rename is atomic)."""
        final = self.path(key)
        final.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        return final.with_name(f"{final.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")

    def commit(self, temp: Path, key: str) -> Path:
        """Move a finished temporary WAV into place; the last writer wins, both are whole."""
        final = self.path(key)
        os.chmod(temp, FILE_MODE)  # the engine wrote it with its own umask
        os.replace(temp, final)
        return final

    def sweep_temp(self, older_than: float = STALE_TEMP_SECONDS) -> int:
        """Remove temporary files left by a crash; returns how many went."""
        removed = 0
        cutoff = time.time() - older_than
        for temp in self.root.glob(f"{ENTRY_DIRS}/*{TEMP_SUFFIX}"):
            try:
                if temp.stat().st_mtime < cutoff:
                    temp.unlink()
                    removed += 1
            except OSError:
                continue
        return removed

    def prune(self, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
        """Delete the least recently used WAVs until the cache fits; returns how many went."""
        entries = []
        for wav in self.root.glob(f"{ENTRY_DIRS}/*.wav"):
            try:
                st = wav.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, wav))
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, wav in sorted(entries):
            if total <= max_bytes:
                break
            wav.unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed

    def tighten(self) -> None:
        """Directories 0700 and files 0600 throughout (a cache made by an older version)."""
        os.chmod(self.root, DIR_MODE)
        for path in self.root.rglob("*"):
            try:
                os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)
            except OSError:
                continue
