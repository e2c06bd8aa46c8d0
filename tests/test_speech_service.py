"""The speech service with the real engine (pyttsx3 / espeak-ng) and real player processes.

There is no sound card here, so playback tests use the null-sink player
(``python -m kiosk.speech.player --null-sink``): a real process that consumes the
WAV at real-time speed and discards it. ``aplay -D null`` is not usable for this:
it finishes at once, so there would be nothing to interrupt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.commands.say import NO_AUDIO_MESSAGE
from kiosk.i18n import tr
from kiosk.speech import SpeechService
from kiosk.speech.engine_proc import EngineError, EngineProcess
from kiosk.speech.player import NULL_SINK_COMMAND, Player
from tests.conftest import KIOSK_ARGV

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")

SAMPLES = {
    "uz_Latn": ("Ha", "Ismingizni, familiyangizni va tugʻilgan sanangizni toʻliq kiriting."),
    "uz_Cyrl": ("Ҳа", "Исмингизни, фамилиянгизни ва туғилган санангизни тўлиқ киритинг."),
    "ru": ("Да", "Введите полностью ваше имя, фамилию и дату рождения, пожалуйста."),
}
NULL_SINK_PLAYER = list(NULL_SINK_COMMAND)


def seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        assert wav.getframerate() >= 8000
        return wav.getnframes() / wav.getframerate()


def gone(pid: int) -> bool:
    """True once no process has this pid (reaped, so not even a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def speech(tmp_path: Path) -> Iterator[SpeechService]:
    service = SpeechService(tmp_path / "cache", player=NULL_SINK_PLAYER)
    assert service.wait_ready() == "ok", service.problem
    yield service
    service.close()


@pytest.mark.parametrize("lang", list(SAMPLES))
def test_each_language_gives_valid_audio_and_longer_text_gives_longer_audio(
    speech: SpeechService, lang: str
) -> None:
    short_text, long_text = SAMPLES[lang]
    short_wav = speech.synthesize(short_text, lang)
    long_wav = speech.synthesize(long_text, lang)
    assert short_wav is not None and long_wav is not None
    short_s, long_s = seconds(short_wav), seconds(long_wav)
    assert 0.1 < short_s < 3, short_s
    # About a dozen words at 150 words a minute: several seconds, not a blip or a minute.
    assert 2.5 < long_s < 30, long_s
    assert long_s > 2 * short_s


def test_empty_prompt_gives_no_audio(speech: SpeechService) -> None:
    for text in ("", "   ", "\n"):
        assert speech.synthesize(text, "uz_Latn") is None
    speech.speak("", "ru")
    assert speech.player_pid is None


def test_cache_reuses_the_file_and_is_keyed_by_rate(speech: SpeechService) -> None:
    first = speech.synthesize("Yoshingizni kiriting", "uz_Latn")
    assert first is not None
    stamp = first.stat().st_mtime_ns
    again = speech.synthesize("Yoshingizni kiriting", "uz_Latn")
    assert again == first and again.stat().st_mtime_ns == stamp  # not synthesised again
    speech.rate = 100
    slower = speech.synthesize("Yoshingizni kiriting", "uz_Latn")
    assert slower is not None and slower != first
    assert seconds(slower) > seconds(first)  # 100 words a minute is slower than 150
    assert not list(speech.cache.root.glob("*/*.tmp"))  # temporary files renamed away


def test_a_new_question_kills_the_old_prompt_player(speech: SpeechService) -> None:
    long_text = SAMPLES["uz_Latn"][1]
    speech.speak(long_text, "uz_Latn")
    assert wait_for(lambda: speech.player_pid is not None)
    old_pid = speech.player_pid
    assert old_pid is not None and not gone(old_pid)  # playing in real time, seconds long
    speech.speak("Keyingi savol", "uz_Latn")
    assert gone(old_pid)  # killed and reaped by the time speak() returned
    assert wait_for(lambda: speech.player_pid not in (None, old_pid))
    new_pid = speech.player_pid
    speech.stop()
    assert new_pid is not None and gone(new_pid)
    assert speech.player_pid is None


def test_prewarm_fills_the_cache_in_the_background(speech: SpeechService) -> None:
    items = [("Telefon raqamingiz", "uz_Latn"), ("Ваш адрес", "ru"), ("Манзилингиз", "uz_Cyrl")]
    speech.prewarm(items)
    assert wait_for(lambda: all(speech.is_cached(text, lang) for text, lang in items))
    # A prompt from the warm cache starts playing from speak() itself.
    speech.speak("Telefon raqamingiz", "uz_Latn")
    assert speech.player_pid is not None


ANSWERS = "Familiyangiz: Karimov. JShShIR: 31205851234567."


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def private_wav_playing(speech: SpeechService) -> Path:
    """Speak ANSWERS privately; the one private WAV, once its playback has started."""
    speech.speak(ANSWERS, "uz_Latn", private=True)
    assert wait_for(lambda: speech.player_pid is not None)
    private_files = files_under(speech.private_dir)
    assert len(private_files) == 1, private_files
    assert private_files[0].stat().st_mode & 0o777 == 0o600
    return private_files[0]


def test_private_read_back_is_played_but_never_kept(speech: SpeechService) -> None:
    before = files_under(speech.cache.root)
    wav = private_wav_playing(speech)
    assert not speech.is_cached(ANSWERS, "uz_Latn")  # not in the shared cache
    # Its name says nothing of the text (a hash of it could be checked against guesses).
    assert (
        speech.cache.path(speech._key(speech._prepare(ANSWERS, "uz_Latn", "text"), "uz_Latn")).stem
        not in wav.name
    )
    assert [p for p in files_under(speech.cache.root) if p not in before] == [wav]
    speech.speak("Tasdiqlaysizmi?", "uz_Latn")
    assert not wav.exists()  # gone as soon as the next prompt started
    assert not files_under(speech.private_dir)


def test_private_file_is_removed_when_its_playback_ends(speech: SpeechService) -> None:
    wav = private_wav_playing(speech)
    assert speech.wait(timeout=60)  # played out, not cut off
    assert wait_for(lambda: not wav.exists())
    assert not files_under(speech.private_dir)
    assert not speech.is_cached(ANSWERS, "uz_Latn")


def test_private_file_is_removed_by_stop(speech: SpeechService) -> None:
    wav = private_wav_playing(speech)
    speech.stop()  # the idle wipe
    assert not wav.exists()  # at once: not when a watcher thread wakes up
    assert speech.player_pid is None
    assert not files_under(speech.private_dir)


def test_private_file_is_removed_by_close(tmp_path: Path) -> None:
    service = SpeechService(tmp_path / "cache", player=NULL_SINK_PLAYER)
    assert service.wait_ready() == "ok", service.problem
    wav = private_wav_playing(service)
    service.close()  # the app exits mid-read-back
    assert not wav.exists()
    assert not files_under(service.private_dir)
    assert not service.is_cached(ANSWERS, "uz_Latn")


def test_private_prompt_cut_off_while_synthesising_leaves_no_file(speech: SpeechService) -> None:
    speech.speak(ANSWERS * 20, "uz_Latn", private=True)  # long: still synthesising
    speech.stop()
    assert speech.wait(timeout=60)
    # The worker finished that synthesis after the stop: its file went with it.
    assert wait_for(lambda: not files_under(speech.private_dir))
    assert not speech.is_cached(ANSWERS * 20, "uz_Latn")


def test_private_files_left_by_a_crash_are_removed_at_start(tmp_path: Path) -> None:
    left = tmp_path / "cache" / "private" / "ab" / "left-by-a-power-cut.wav"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"RIFF")
    with SpeechService(tmp_path / "cache", player=NULL_SINK_PLAYER) as service:
        service.wait_ready()
        assert not left.exists()
        assert not files_under(service.private_dir)


def test_cache_directories_are_0700_and_files_0600(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    old = root / "ab" / "old.wav"  # made by an older version, world-readable
    old.parent.mkdir(parents=True)
    old.write_bytes(b"RIFF")
    old.chmod(0o644)
    with SpeechService(root, player=NULL_SINK_PLAYER) as service:
        assert service.wait_ready() == "ok", service.problem
        assert service.synthesize("Telefon raqamingiz", "uz_Latn") is not None
        speech_private = private_wav_playing(service)
        assert speech_private.exists()
        for path in [root, *root.rglob("*")]:
            mode = path.stat().st_mode & 0o777
            assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_cache_prune_drops_least_recently_used(tmp_path: Path) -> None:
    with SpeechService(tmp_path / "cache", player=NULL_SINK_PLAYER) as service:
        old = service.synthesize("Birinchi savol", "uz_Latn")
        new = service.synthesize("Ikkinchi savol", "uz_Latn")
        assert old is not None and new is not None
        os.utime(old, (1, 1))  # used long ago
        removed = service.cache.prune(max_bytes=new.stat().st_size)
    assert removed == 1 and not old.exists() and new.exists()


def test_muted_service_says_nothing(speech: SpeechService) -> None:
    speech.muted = True
    assert speech.status == "muted"
    speech.speak("Salom", "uz_Latn")
    assert speech.wait(5)
    assert speech.player_pid is None
    speech.muted = False
    assert speech.status == "ok"


def test_speak_returns_at_once_and_the_prompt_is_played(speech: SpeechService) -> None:
    speech.speak("5-mart", "uz_Latn")
    assert wait_for(lambda: speech.player_pid is not None)
    assert speech.wait(30)


def test_no_espeak_ng_is_a_status_not_an_error(tmp_path: Path, monkeypatch) -> None:
    # Only the command-line engine, and a PATH without espeak-ng: nothing can speak.
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    service = SpeechService(tmp_path / "cache", engines=("espeak-ng",), player=NULL_SINK_PLAYER)
    try:
        assert service.wait_ready() == "no-engine"
        assert "espeak-ng" in (service.problem or "")
        assert service.synthesize("Salom", "uz_Latn") is None
        service.speak("Salom", "uz_Latn")
        service.prewarm([("Salom", "uz_Latn")])
        service.stop()
        assert service.player_pid is None
        assert service.status == "no-engine"
    finally:
        service.close()


def test_unknown_engine_names_are_no_engine(tmp_path: Path) -> None:
    with SpeechService(tmp_path / "cache", engines=("festival-9000",)) as service:
        assert service.wait_ready() == "no-engine"


def test_the_command_line_is_the_engine_and_pyttsx3_the_fallback(tmp_path: Path) -> None:
    with SpeechService(tmp_path / "a", player=NULL_SINK_PLAYER) as service:
        assert service.wait_ready() == "ok"
        assert service.engine_name == "espeak-ng"
        # espeak-ng here has Uzbek and Russian voices: each language gets its own.
        assert [service.voice(lang) for lang in ("uz_Latn", "uz_Cyrl", "ru")] == ["uz", "uz", "ru"]
    with SpeechService(tmp_path / "b", engines=("pyttsx3",), player=NULL_SINK_PLAYER) as service:
        assert service.wait_ready() == "ok"
        assert service.engine_name == "pyttsx3"
        assert service.voice("ru") == "ru"
        wav = service.synthesize("Привет", "ru")
        assert wav is not None and seconds(wav) > 0.2


def test_no_audio_device_is_a_status_not_an_error(tmp_path: Path) -> None:
    # aplay with a device that does not exist fails to open it, as on a PC with no sound card.
    if shutil.which("aplay") is None:
        pytest.skip("aplay missing")
    player = ["aplay", "-q", "-D", "no-such-device"]
    with SpeechService(tmp_path / "cache", player=player) as service:
        assert service.wait_ready() == "no-audio"
        assert service.problem
        service.speak("Salom", "uz_Latn")
        assert service.wait(20)
        assert service.player_pid is None
        # Synthesis still works (the cache warms, `kiosk say --to` can save a file).
        assert service.synthesize("Salom", "uz_Latn") is not None


def test_the_first_player_that_can_play_is_kept(tmp_path: Path) -> None:
    # Like paplay installed with no sound server, while another player works.
    player = Player(None)
    broken = ["aplay", "-q", "-D", "no-such-device"] if shutil.which("aplay") else ["false"]
    assert player.choose([broken, NULL_SINK_PLAYER], tmp_path)
    assert player.command == NULL_SINK_PLAYER
    assert not Player(None).choose([broken], tmp_path)


def test_no_player_at_all_is_no_audio(tmp_path: Path, monkeypatch) -> None:
    with SpeechService(tmp_path / "cache", player=["no-such-player-binary"]) as service:
        assert service.wait_ready() == "no-audio"
        service.speak("Salom", "uz_Latn")


def test_calls_from_many_threads_at_once(speech: SpeechService) -> None:
    import threading

    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(3):
                speech.speak(f"Savol {n * 10 + i}", "uz_Latn")
                assert speech.synthesize(f"Javob {n}", "ru") is not None
        except BaseException as exc:  # noqa: BLE001 - collected and failed below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert speech.wait(30)


def test_engine_process_restarts_after_being_killed(tmp_path: Path) -> None:
    engine = EngineProcess(log_path=tmp_path / "engine.log")
    try:
        engine.start()
        first = engine.pid
        assert first is not None
        os.kill(first, 9)
        assert wait_for(lambda: gone(first) or engine.pid is None)
        out = tmp_path / "x.wav"
        engine.synthesize("salom", "uz", 150, out)
        assert seconds(out) > 0.1 and engine.pid not in (None, first)
    finally:
        engine.close()


def test_engine_reports_a_bad_request_and_keeps_serving(tmp_path: Path) -> None:
    engine = EngineProcess()
    try:
        with pytest.raises(EngineError):
            engine.synthesize("salom", "uz", 150, tmp_path / "missing-dir" / "x.wav")
        engine.synthesize("salom", "uz", 150, tmp_path / "ok.wav")
        assert seconds(tmp_path / "ok.wav") > 0.1
    finally:
        engine.close()


def test_null_sink_player_plays_in_real_time(tmp_path: Path) -> None:
    with SpeechService(tmp_path / "c") as service:
        wav = service.synthesize("Bir, ikki, uch", "uz_Latn")
    assert wav is not None
    player = Player(NULL_SINK_PLAYER)
    started = time.monotonic()
    pid = player.play(wav)
    assert pid is not None
    assert player.wait(60) == 0
    # Real time: playback lasts at least the audio's length. Only a lower bound, which
    # a slow or busy machine can never break (it only makes playback longer).
    assert time.monotonic() - started >= seconds(wav) * 0.9


def test_kiosk_say_writes_a_wav(run_kiosk, tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    done = run_kiosk("say", "--lang", "ru", "--to", out, "Сумма 1 500 000 сум")
    assert done.returncode == 0, done.stderr
    assert seconds(out) > 1.5


def test_kiosk_say_speaks_through_the_configured_player(run_kiosk) -> None:
    player = " ".join(NULL_SINK_COMMAND)
    done = run_kiosk("say", "--lang", "uz_Cyrl", "Салом", env={"KIOSK_SPEECH_PLAYER": player})
    assert done.returncode == 0, done.stderr


def test_kiosk_say_without_audio_or_engine_fails_clearly(run_kiosk, tmp_path: Path) -> None:
    no_audio = run_kiosk(
        "say", "--lang", "ru", "Привет", env={"KIOSK_SPEECH_PLAYER": "aplay -q -D no-such-device"}
    )
    assert no_audio.returncode == 1
    assert "Traceback" not in no_audio.stderr
    assert tr("ru", NO_AUDIO_MESSAGE) in no_audio.stderr  # said in the language asked for
    empty = run_kiosk("say", "--lang", "en", " ")
    assert empty.returncode == 2 and "Nothing to say" in empty.stderr


def test_kiosk_say_reports_a_missing_engine(tmp_path: Path) -> None:
    # The real CLI in a subprocess, with only the command-line engine and no espeak-ng on PATH.
    env = dict(os.environ, PATH=str(tmp_path), KIOSK_DATA_DIR=str(tmp_path / "d"), KIOSK_LANG="en")
    env["KIOSK_SPEECH_ENGINES"] = "espeak-ng"
    done = subprocess.run(
        [*KIOSK_ARGV, "say", "--to", str(tmp_path / "x.wav"), "Salom"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1
    assert "espeak-ng" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.wav").exists()


def test_kiosk_say_with_an_unusable_data_dir_fails_clearly(run_kiosk, tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    done = run_kiosk(
        "say", "--to", tmp_path / "x.wav", "Salom", env={"KIOSK_DATA_DIR": str(not_a_dir / "d")}
    )
    assert done.returncode == 1
    assert done.stderr.strip() and "Traceback" not in done.stderr
