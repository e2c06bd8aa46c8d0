"""Reading QR codes back with zbarimg (zbar-tools), for the receipt tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ZBARIMG = shutil.which("zbarimg")
needs_zbar = pytest.mark.skipif(ZBARIMG is None, reason="zbarimg (zbar-tools) not installed")


def decode(image: Path) -> list[str]:
    """What zbarimg reads from an image file (one entry per code found)."""
    assert ZBARIMG is not None
    done = subprocess.run(
        [ZBARIMG, "--quiet", "--raw", str(image)], capture_output=True, text=True, timeout=60
    )
    return [line for line in done.stdout.splitlines() if line]
