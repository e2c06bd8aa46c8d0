"""The kiosk's configuration: one typed `KioskConfig`, loaded in one place.

Precedence, per option: command-line flag > environment (``KIOSK_<NAME>``) > the
optional TOML file ``<data dir>/kiosk.toml`` > the default in `OPTIONS`. The data
directory itself comes from ``--data-dir`` > ``KIOSK_DATA_DIR`` > XDG (the file lives
in it). A bad value is a `ConfigError` naming the option and where it came from; the
command line turns it into exit code 2. Runtime state the kiosk keeps in its database
(portal URL, token, cursors...) is not configuration: see `kiosk.settings`.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from kiosk.i18n import DEFAULT_LANG, LANGS, N_, tr

APP_NAME = "mahalla-kiosk"
ENV_DATA_DIR = "KIOSK_DATA_DIR"
ENV_LANG = "KIOSK_LANG"
CONFIG_FILE = "kiosk.toml"
ENV_PREFIX = "KIOSK_"

Mode = Literal["citizen", "operator"]
MODES: tuple[Mode, ...] = ("citizen", "operator")
# The espeak-ng command line first: pyttsx3 2.99's espeak driver proved unreliable
# (see kiosk.speech.engine_proc), so it is the fallback, for machines with no espeak-ng
# command (Windows SAPI5, macOS NSSS), where its other drivers do the work.
DEFAULT_ENGINES: tuple[str, ...] = ("espeak-ng", "pyttsx3")
MIN_IDLE_TIMEOUT = 10.0
IDLE_TIMEOUT_MESSAGE = N_("The idle timeout must be at least 10 seconds.")
# A saved draft's life (kiosk.drafts): its resume code must outlast it against an
# offline search (docs/drafts.md), so it is capped.
DRAFT_LIFETIME_HOURS = 72.0
MAX_DRAFT_LIFETIME_HOURS = 168.0
# Long enough for any real address, short enough that the receipt's QR stays small.
MAX_PUBLIC_URL = 100


class ConfigError(ValueError):
    """A bad option value. `str()` is English (for installers and logs); `message(lang)`
    translates the few messages people at the kiosk's console may see."""

    def __init__(self, text: str, msgid: str | None = None) -> None:
        super().__init__(text)
        self.msgid = msgid

    def message(self, lang: str) -> str:
        return tr(lang, self.msgid) if self.msgid else str(self)


@dataclass(frozen=True)
class KioskConfig:
    """Every option of a running kiosk; see `OPTIONS` and docs/ARCHITECTURE.md."""

    data_dir: Path
    lang: str = DEFAULT_LANG
    mode: Mode = "citizen"
    high_contrast: bool = False
    idle_timeout: float = 120.0
    # None: a third of the idle timeout, at most 30 seconds.
    idle_warning: float | None = None
    # Seconds between portal reachability probes; None (0 in a file or variable): never.
    probe_interval: float | None = 15.0
    # Seconds between background status pulls while online (issue 14: a status set at
    # the portal reaches the kiosk without waiting for a submission); None: never.
    status_interval: float | None = 300.0
    animations: bool = True
    speech_engines: tuple[str, ...] = DEFAULT_ENGINES
    # The playback command (the WAV path is appended); (): the first player found on PATH.
    speech_player: tuple[str, ...] = ()
    # Hours a saved draft lives (docs/drafts.md); expired drafts are deleted.
    draft_lifetime_hours: float = DRAFT_LIFETIME_HOURS
    # The portal's public https address (docs/status-page.md): where set, the receipt's
    # QR holds ``<portal_public_url>/s/<tracking code>``; None: the bare code.
    portal_public_url: str | None = None

    def __post_init__(self) -> None:
        if self.idle_timeout < MIN_IDLE_TIMEOUT:
            raise ConfigError(IDLE_TIMEOUT_MESSAGE, IDLE_TIMEOUT_MESSAGE)
        if self.idle_warning is not None and not 0 < self.idle_warning < self.idle_timeout:
            raise ConfigError("idle_warning must be more than 0 and less than idle_timeout")

    @property
    def warning_seconds(self) -> float:
        """How long before the idle wipe the warning shows."""
        if self.idle_warning is not None:
            return self.idle_warning
        return min(30.0, self.idle_timeout / 3)


# --- parsing one value, from a flag, a variable (text) or the file (TOML types) ------


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _seconds(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number of seconds")
    try:
        seconds = float(value)  # type: ignore[arg-type]  # int, float or text
    except (TypeError, ValueError):
        raise ValueError("expected a number of seconds") from None
    if not 0 <= seconds < 10**6:
        raise ValueError("expected a number of seconds from 0")
    return seconds


def _draft_hours(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number of hours")
    try:
        hours = float(value)  # type: ignore[arg-type]  # int, float or text
    except (TypeError, ValueError):
        raise ValueError("expected a number of hours") from None
    if not 0 < hours <= MAX_DRAFT_LIFETIME_HOURS:
        raise ValueError(f"expected hours more than 0, at most {MAX_DRAFT_LIFETIME_HOURS:g}")
    return hours


def public_url(value: object) -> str | None:
    """A portal's public address as a phone reaches it: ``https://host[:port][/path]``,
    no user, query or fragment, not loopback; returned without a trailing slash.
    Empty: None (not set). ValueError says what is wrong."""
    if not isinstance(value, str):
        raise ValueError("expected an https:// address")
    text = value.strip()
    if not text:
        return None
    if len(text) > MAX_PUBLIC_URL or not text.isprintable() or any(c.isspace() for c in text):
        raise ValueError(f"expected an https:// address of at most {MAX_PUBLIC_URL} characters")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a port out of range
    except ValueError:
        raise ValueError("expected an https:// address") from None
    if parts.scheme.lower() != "https" or not host:
        raise ValueError("expected an https:// address (a phone opens it from the receipt)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("expected an address without a user name or password")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError("expected an address without ? or #")
    if host == "localhost" or host.endswith(".localhost") or _loopback(host):
        raise ValueError("expected a public address, not this machine's (loopback)")
    return text.rstrip("/")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _interval(value: object) -> float | None:
    seconds = _seconds(value)
    return seconds or None


def _choice(choices: tuple[str, ...]) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if value not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return str(value)

    return parse


def _names(value: object) -> tuple[str, ...]:
    """A comma-separated text or a list of names."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError("expected names separated by commas")
    return tuple(i.strip() for i in items if i.strip())


def _command(value: object) -> tuple[str, ...]:
    """A shell-style command line, or a list of its words."""
    if isinstance(value, str):
        return tuple(shlex.split(value))
    if isinstance(value, list) and all(isinstance(i, str) for i in value):
        return tuple(value)
    raise ValueError("expected a command line")


OPTIONS: dict[str, Callable[[object], object]] = {
    "lang": _choice(LANGS),
    "mode": _choice(MODES),
    "high_contrast": _boolean,
    "idle_timeout": _seconds,
    "idle_warning": _seconds,
    "probe_interval": _interval,
    "status_interval": _interval,
    "animations": _boolean,
    "speech_engines": _names,
    "speech_player": _command,
    "draft_lifetime_hours": _draft_hours,
    "portal_public_url": public_url,
}
assert set(OPTIONS) == {f.name for f in fields(KioskConfig)} - {"data_dir"}


def env_name(option: str) -> str:
    return ENV_PREFIX + option.upper()


# --- loading ---------------------------------------------------------------------------


def default_data_dir() -> Path:
    """XDG data home, so a plain `kiosk` works with no flags on a fresh machine."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP_NAME


def resolve_data_dir(arg: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir wins over KIOSK_DATA_DIR, which wins over the XDG default."""
    raw = arg or os.environ.get(ENV_DATA_DIR)
    path = Path(raw).expanduser() if raw else default_data_dir()
    make_private_dir(path)
    return path


def make_private_dir(path: Path) -> None:
    """Create the data directory 0700 (only the kiosk's user may enter it). An existing
    folder keeps its mode (it may be one the administrator chose, even a home folder);
    the files the kiosk keeps in it are 0600 either way. OSError if it cannot be made."""
    if path.is_dir():
        return
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # explicitly: mkdir's mode is filtered by the umask


def db_path(data_dir: Path) -> Path:
    return data_dir / "kiosk.db"


def read_file(path: Path) -> dict[str, object]:
    """The TOML file's options ({} when there is none); unknown keys are refused."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None
    import tomllib  # only with a file to read: its import is a few ms of every start-up

    with handle:
        try:
            values = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None
    unknown = sorted(set(values) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"{path}: unknown option(s): {', '.join(unknown)}")
    return values


def load_config(
    data_dir: Path,
    flags: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> KioskConfig:
    """Flags (None means not given) > environment > ``data_dir/kiosk.toml`` > defaults."""
    env = os.environ if environ is None else environ
    path = data_dir / CONFIG_FILE
    layers: list[tuple[str, Mapping[str, object]]] = [
        ("command line", {k: v for k, v in (flags or {}).items() if v is not None}),
        ("environment", {k: env[env_name(k)] for k in OPTIONS if env.get(env_name(k))}),
        (str(path), read_file(path)),
    ]
    values: dict[str, object] = {}
    for name, parse in OPTIONS.items():
        for source, layer in layers:
            if name in layer:
                label = env_name(name) if source == "environment" else name
                try:
                    values[name] = parse(layer[name])
                except ValueError as exc:
                    raise ConfigError(f"{source}: {label} = {layer[name]!r}: {exc}") from None
                break
    return KioskConfig(data_dir=data_dir, **values)  # type: ignore[arg-type]  # parsed above
