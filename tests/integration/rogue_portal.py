"""A rogue portal: a real HTTP server on 127.0.0.1 that refuses everything in English.

Every answer carries ``SENTINEL`` (an English sentence) where a portal may put words: the
``detail`` of an error body, an item's ``reason``, a free-text param, an unknown reason
code. The kiosk must say each refusal from its reason code in its own language, so the
sentinel must never reach a screen or a command's output (tests/integration/
test_rogue_portal.py, tests/ui/test_rogue_portal_ui.py).

Run as ``python -m tests.integration.rogue_portal MODE``; it prints its URL on its first
line. MODE ``whole``: every request but health is refused (4xx) with an unknown code.
MODE ``items``: a batch is answered 200 with every item rejected (unknown codes, known
codes whose params hold the sentinel), a status look-up 200 with the sentinel as the
status; the other calls are refused as in ``whole``.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SENTINEL = "SENTINEL english detail"
ROOT = Path(__file__).resolve().parents[2]

# Item refusals, in turn: a code from the future, a code that is a sentence, and known
# codes whose params a kiosk might be tempted to show (free text, a "form id").
ITEM_REFUSALS: list[dict[str, object]] = [
    {"code": "rogue.unheard_of", "params": {"why": SENTINEL}},
    {"code": SENTINEL, "params": {}},
    {"code": "item.answers", "params": {"detail": SENTINEL}},
    {"code": "item.unknown_form", "params": {"form_id": SENTINEL, "form_version": "1"}},
    {"code": "item.field", "params": {}},  # a known code missing its param
]


def refusal(code: str = "rogue.unheard_of") -> dict[str, object]:
    return {"code": code, "params": {"detail": SENTINEL}, "detail": SENTINEL}


class Handler(BaseHTTPRequestHandler):
    mode = "whole"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        data = self.rfile.read(length) if length else b""
        if self.headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        return data

    def _answer(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.endswith("/health"):
            self._answer(200, {"status": "ok", "protocol": 2})
            return
        if self.mode == "items" and "/status/lookup/" in self.path:
            # A live status look-up found, with a status no kiosk knows: a sentence.
            code = self.path.rsplit("/", 1)[-1]
            answer = {"tracking_code": code, "found": True, "status": SENTINEL}
            self._answer(200, {**answer, "application_number": None, "updated_at": None})
            return
        self._answer(400, refusal())

    def do_POST(self) -> None:
        body = self._body()
        if self.mode == "items" and self.path.endswith("/submissions/batch"):
            items = json.loads(body).get("items", [])
            results = []
            for i, item in enumerate(items):
                shape = ITEM_REFUSALS[i % len(ITEM_REFUSALS)]
                results.append(
                    {"id": item.get("id"), "outcome": "rejected", "reason": SENTINEL, **shape}
                )
            self._answer(200, {"results": results})
            return
        if self.mode == "items" and self.path.endswith("/bundles"):
            self._answer(
                200,
                {"results": [{"id": "x", "outcome": "rejected", "reason": SENTINEL, "code": "no"}]},
            )
            return
        self._answer(403 if self.path.endswith("/enroll") else 422, refusal())


def start(mode: str) -> tuple[subprocess.Popen[str], str]:
    """Start the rogue portal in its own process; (process, URL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.rogue_portal", mode],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return proc, url


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def main() -> None:
    Handler.mode = sys.argv[1] if len(sys.argv) > 1 else "whole"
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
