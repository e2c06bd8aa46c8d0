"""`kiosk say [--to FILE.wav] [--code] TEXT`: speak text (or save it as a WAV) in --lang."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from kiosk import cliutil
from kiosk.config import ConfigError
from kiosk.errors import os_error_text
from kiosk.i18n import N_, tr

CACHE_SUBDIR = "speech-cache"
PLAY_TIMEOUT = 300.0
NO_AUDIO_MESSAGE = N_("No audio device: the speech cannot be played. Use --to FILE.wav to save it.")


def register(sub: cliutil.Subcommands) -> None:
    parser = cliutil.add_command(
        sub,
        "say",
        "Speak text aloud in the chosen language, or save it as a WAV file.",
        handle,
    )
    parser.add_argument("text", nargs="+", metavar="TEXT", help="what to say")
    parser.add_argument(
        "--to", type=Path, metavar="FILE.wav", help="write the speech to this WAV file"
    )
    parser.add_argument(
        "--code",
        action="store_true",
        help="read the text one character at a time (tracking codes, PINFL)",
    )
    parser.add_argument("--rate", type=int, help="speed in words per minute (80-320)")


def handle(args: argparse.Namespace) -> int:
    from kiosk.speech.service import DEFAULT_RATE, SpeechService

    lang = cliutil.lang(args)
    text = " ".join(args.text).strip()
    if not text:
        return cliutil.fail(tr(lang, "Nothing to say: the text is empty."))
    if args.to is not None and args.to.suffix.lower() != ".wav":
        return cliutil.fail(tr(lang, "The output file must end in .wav: {path}", path=args.to))
    kind = "code" if args.code else "text"
    try:
        # Both raise OSError for a data directory that cannot be created or written.
        config = cliutil.config(args)
        speech = SpeechService(
            config.data_dir / CACHE_SUBDIR,
            engines=config.speech_engines,
            player=config.speech_player or None,
            rate=args.rate or DEFAULT_RATE,
        )
    except ConfigError as exc:
        return cliutil.fail(exc.message(lang))
    except OSError as exc:
        message = tr(lang, "Cannot use the data directory: {error}", error=os_error_text(exc, lang))
        return cliutil.fail(message, 1)
    with speech:
        status = speech.wait_ready()
        if status == "no-engine":
            return cliutil.fail(
                tr(lang, "Speech is not available: espeak-ng is not installed or does not work."),
                1,
            )
        if args.to is not None:
            return _save(speech, text, lang, kind, args.to)
        if status == "no-audio":
            return cliutil.fail(tr(lang, NO_AUDIO_MESSAGE), 1)
        speech.speak(text, lang, kind)
        speech.wait(PLAY_TIMEOUT)
        if speech.status == "no-audio":
            return cliutil.fail(tr(lang, "The audio player failed: the speech was not heard."), 1)
    return 0


def _save(speech: Any, text: str, lang: str, kind: str, target: Path) -> int:
    wav = speech.synthesize(text, lang, kind)
    if wav is None:
        return cliutil.fail(tr(lang, "Speech is not available: the text could not be spoken."), 1)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(wav, target)
    except OSError as exc:
        return cliutil.fail(
            tr(lang, "Cannot write {path}: {error}", path=target, error=os_error_text(exc, lang)),
            1,
        )
    print(tr(lang, "Saved the speech to {path}", path=target))
    return 0
