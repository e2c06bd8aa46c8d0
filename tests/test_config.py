"""KioskConfig: flags > environment > <data dir>/kiosk.toml > defaults, and bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import DEFAULT_ENGINES, ConfigError, KioskConfig, load_config
from kiosk.i18n import tr
from kiosk.settings import RuntimeState
from kiosk.store import Store


def test_defaults_with_no_file_no_environment_and_no_flags(tmp_path: Path) -> None:
    config = load_config(tmp_path, {}, environ={})
    assert config == KioskConfig(tmp_path)
    assert (config.lang, config.mode, config.idle_timeout) == ("uz_Latn", "citizen", 120.0)
    assert config.warning_seconds == 30.0 and config.probe_interval == 15.0
    assert config.speech_engines == DEFAULT_ENGINES and config.speech_player == ()


def test_flags_beat_environment_which_beats_the_file(tmp_path: Path) -> None:
    (tmp_path / "kiosk.toml").write_text(
        'lang = "ru"\nmode = "operator"\nidle_timeout = 60\nprobe_interval = 0\n'
        'speech_player = ["aplay", "-q"]\nhigh_contrast = true\n',
        encoding="utf-8",
    )
    environ = {"KIOSK_LANG": "uz_Cyrl", "KIOSK_IDLE_TIMEOUT": "90", "KIOSK_HIGH_CONTRAST": ""}
    config = load_config(tmp_path, {"lang": "en", "mode": None}, environ=environ)
    assert config.lang == "en"  # flag
    assert config.idle_timeout == 90.0  # environment
    assert config.mode == "operator" and config.high_contrast  # file (empty variable: unset)
    assert config.probe_interval is None  # 0 turns the probe off
    assert config.speech_player == ("aplay", "-q")
    assert config.warning_seconds == 30.0


def test_environment_lists_and_commands(tmp_path: Path) -> None:
    environ = {"KIOSK_SPEECH_ENGINES": "espeak-ng, ", "KIOSK_SPEECH_PLAYER": "aplay -q -D null"}
    config = load_config(tmp_path, {}, environ=environ)
    assert config.speech_engines == ("espeak-ng",)
    assert config.speech_player == ("aplay", "-q", "-D", "null")


@pytest.mark.parametrize(
    ("file", "environ", "expected"),
    [
        ("", {"KIOSK_IDLE_TIMEOUT": "soon"}, "KIOSK_IDLE_TIMEOUT = 'soon': expected a number"),
        ("", {"KIOSK_MODE": "admin"}, "KIOSK_MODE = 'admin': expected one of citizen, operator"),
        ("animations = 'maybe'\n", {}, "animations = 'maybe': expected true or false"),
        ("idle_timout = 60\n", {}, "unknown option(s): idle_timout"),
        ("lang = \n", {}, "cannot read the configuration"),
    ],
)
def test_bad_values_name_the_option_and_the_source(
    tmp_path: Path, file: str, environ: dict[str, str], expected: str
) -> None:
    (tmp_path / "kiosk.toml").write_text(file, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {}, environ=environ)
    assert expected in str(caught.value)


def test_the_idle_timeout_message_is_translated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {"idle_timeout": 5.0}, environ={})
    message = "The idle timeout must be at least 10 seconds."
    assert caught.value.message("ru") == tr("ru", message) != message
    with pytest.raises(ConfigError, match="idle_warning"):
        KioskConfig(tmp_path, idle_timeout=20, idle_warning=20)


def test_kiosk_run_exits_2_on_a_bad_option(run_kiosk, data_dir: Path) -> None:
    (data_dir / "kiosk.toml").write_text("mode = 'kiosk'\n", encoding="utf-8")
    done = run_kiosk("run")
    assert done.returncode == 2
    assert "mode = 'kiosk': expected one of citizen, operator" in done.stderr
    assert "Traceback" not in done.stderr


def test_runtime_state_is_typed(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        state = store.state
        assert isinstance(state, RuntimeState)
        assert state.portal_url is None and state.status_cursor == 0
        state.status_cursor = 7
        state.catalog_etag = "abc"
        assert store.get_setting("status_cursor") == "7" and state.status_cursor == 7
        state.catalog_etag = None
        assert state.catalog_etag is None


def test_the_portal_public_url_from_the_file_or_environment(tmp_path: Path) -> None:
    assert load_config(tmp_path, {}, environ={}).portal_public_url is None  # the demo's
    (tmp_path / "kiosk.toml").write_text(
        'portal_public_url = "https://mahalla.example.uz/portal/"\n', encoding="utf-8"
    )
    config = load_config(tmp_path, {}, environ={})
    assert config.portal_public_url == "https://mahalla.example.uz/portal"
    environ = {"KIOSK_PORTAL_PUBLIC_URL": "https://status.example.uz:8443"}
    assert load_config(tmp_path, {}, environ=environ).portal_public_url == (
        "https://status.example.uz:8443"
    )


@pytest.mark.parametrize(
    "value",
    [
        "http://mahalla.example.uz",  # a phone would send the code in the clear
        "https://127.0.0.1:8000",  # the demo's loopback portal: no phone reaches it
        "https://localhost",
        "https://[::1]/",
        "https://user:pw@mahalla.example.uz",
        "https://mahalla.example.uz/?lang=ru",
        "https://mahalla.example.uz/#top",
        "https://mahalla.example.uz:99999",
        "https:///path",
        "https://mahalla.example.uz/a b",
        "https://mahalla.example.uz/" + "x" * 100,
        "mahalla.example.uz",
    ],
)
def test_a_bad_portal_public_url_names_the_option(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {}, environ={"KIOSK_PORTAL_PUBLIC_URL": value})
    assert "KIOSK_PORTAL_PUBLIC_URL" in str(caught.value)
