"""Where the kiosk keeps its data, and the few settings that come from the environment."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "mahalla-kiosk"
ENV_DATA_DIR = "KIOSK_DATA_DIR"
ENV_LANG = "KIOSK_LANG"


def default_data_dir() -> Path:
    """XDG data home, so a plain `kiosk` works with no flags on a fresh machine."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP_NAME


def resolve_data_dir(arg: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir wins over KIOSK_DATA_DIR, which wins over the XDG default."""
    raw = arg or os.environ.get(ENV_DATA_DIR)
    path = Path(raw).expanduser() if raw else default_data_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def db_path(data_dir: Path) -> Path:
    return data_dir / "kiosk.db"
