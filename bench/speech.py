"""Speech latency: from a question being shown (``speak`` called) to its audio playing.

Cold: the prompt is not cached, so the engine synthesises it first. Warm: the form's
prompts were pre-warmed when it opened, as the UI does, so playback starts from the
cache. "Audio ready" is the moment the player process has started on the WAV; the
player is the null sink (real-time, no device), so the figure is the same on a
machine without a sound card. Budget (DESIGN.md): first word under 300 ms.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from kiosk.speech.player import NULL_SINK_COMMAND
from kiosk.speech.service import SpeechService

BUDGET_MS = 300.0
PROMPTS = {
    "uz_Latn": [
        "Ismingizni kiriting.",
        "Tugʻilgan sanangizni kiriting, masalan 05.03.1950.",
        "Toʻlov miqdori: 1 500 000 soʻm. Rozimisiz?",
        "Pasport seriyasi va raqamini kiriting.",
        "Telefon raqamingizni kiriting.",
        "Arizangiz qabul qilindi.",
    ],
    "uz_Cyrl": [
        "Исмингизни киритинг.",
        "Манзилингизни киритинг.",
        "Туғилган санангизни киритинг.",
    ],
    "ru": [
        "Введите ваше имя.",
        "Дата рождения, например 5 марта 1950 года.",
        "Сумма к оплате: 1 500 000 сум. Вы согласны?",
        "Введите номер телефона.",
    ],
}


def _time_to_play(service: SpeechService, text: str, lang: str) -> float:
    """Milliseconds from speak() to a new player process running."""
    service.stop()
    started = time.perf_counter()
    service.speak(text, lang)
    deadline = started + 30
    while service.player_pid is None:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"no playback for {text!r} ({service.status})")
        time.sleep(0.0005)
    elapsed = (time.perf_counter() - started) * 1000
    service.stop()
    return elapsed


def _row(metric: str, values: list[float], budget: float | None) -> dict:
    p50 = statistics.median(values)
    return {
        "benchmark": "speech",
        "metric": metric,
        "value": round(p50, 1),
        "unit": "ms (median)",
        "baseline": None,
        "ratio": None,
        "budget": budget,
        "met": None if budget is None else p50 <= budget,
    }


def run(quick: bool = False) -> list[dict]:
    items = [(text, lang) for lang, texts in PROMPTS.items() for text in texts]
    if quick:
        items = items[::2]
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        with SpeechService(cache, player=list(NULL_SINK_COMMAND)) as service:
            if service.wait_ready() != "ok":
                raise RuntimeError(f"speech unavailable: {service.status} ({service.problem})")
            cold = [_time_to_play(service, text, lang) for text, lang in items]
            warm = [_time_to_play(service, text, lang) for text, lang in items]
        # A fresh cache pre-warmed as a form opens, then the first question is shown.
        with SpeechService(Path(tmp) / "prewarmed", player=list(NULL_SINK_COMMAND)) as service:
            service.wait_ready()
            started = time.perf_counter()
            service.prewarm(items)
            while not all(service.is_cached(t, lang) for t, lang in items):
                time.sleep(0.002)
            prewarm_ms = (time.perf_counter() - started) * 1000
            first = [_time_to_play(service, text, lang) for text, lang in items]
        engine = service.engine_name
    rows = [
        _row(f"speak to audio, cold cache ({engine})", cold, BUDGET_MS),
        _row("speak to audio, warm cache", warm, BUDGET_MS),
        _row("speak to audio, after prewarm", first, BUDGET_MS),
        {
            "benchmark": "speech",
            "metric": f"prewarm {len(items)} prompts",
            "value": round(prewarm_ms, 1),
            "unit": "ms",
            "baseline": None,
            "ratio": None,
            "budget": None,
            "met": None,
        },
    ]
    rows.append({**_row("speak to audio, cold cache, worst", [max(cold)], BUDGET_MS)})
    rows[-1]["unit"] = "ms (max)"
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
