"""The portal's OpenAPI document, as FastAPI generates it, kept beside the code.

`python -m sync.portal.openapi` rewrites ``sync/portal/openapi.json``; a test checks
the file matches what the running portal serves at /openapi.json, so the written
protocol and the served one cannot drift apart.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

PATH = Path(__file__).resolve().parent / "openapi.json"


def generate() -> dict[str, object]:
    from sync.portal.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Path(tmp))
        try:
            return app.openapi()
        finally:
            app.state.store.close()


def render(doc: Mapping[str, object]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    PATH.write_text(render(generate()), encoding="utf-8")
    print(f"wrote {PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
