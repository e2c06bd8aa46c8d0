"""The hostile forms and answers of issue 13, each run by the real CLI in a subprocess:
a clear error (translated where the CLI speaks), the documented exit code, no traceback,
and a peak memory (the child's ru_maxrss) under 200 MB. Stopped by limits on steps, sizes
and depth, never by a timer: nothing here measures time (pytest's timeout only guards
against a hang)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import KIOSK_ARGV

HOSTILE = Path(__file__).parent / "data" / "hostile"
PEAK_LIMIT_KB = 200 * 1024
CHAIN = 3000
# The CLI, with its own peak memory (VmHWM: this process image's high-water mark; the
# ru_maxrss of a child forked from pytest would report pytest's own size) written at exit.
_MEASURED = (
    "import atexit, os, re, runpy, sys\n"
    "def _peak():\n"
    "    status = open('/proc/self/status').read()\n"
    "    open(os.environ['HOSTILE_PEAK'], 'w').write(re.search(r'VmHWM:\\s*(\\d+)', status)[1])\n"
    "atexit.register(_peak)\n"
    "sys.argv = ['kiosk', *sys.argv[1:]]\n"
    "runpy.run_module('mahalla', run_name='__main__')\n"
)


def _run(args: list[str], tmp: Path, lang: str) -> tuple[int, str, int]:
    """Exit code, stdout+stderr and the child's peak RSS (KiB) of one CLI run."""
    out, peak_file = tmp / "out.txt", tmp / "peak.txt"
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parent.parent),
        "HOSTILE_PEAK": str(peak_file),
    }
    argv = [KIOSK_ARGV[0], "-c", _MEASURED, "--data-dir", str(tmp / "data"), "--lang", lang]
    with out.open("wb") as fh:
        code = subprocess.call([*argv, *args], stdout=fh, stderr=subprocess.STDOUT, env=env)
    text = out.read_text(encoding="utf-8")
    assert "Traceback" not in text and "RecursionError" not in text, text
    peak = int(peak_file.read_text())
    assert peak < PEAK_LIMIT_KB, f"peak {peak} KiB"
    print(f"peak {peak} KiB: {args[0]} {args[1]} {Path(args[-1]).name}")
    return code, text, peak


def _chain_form(tmp: Path) -> Path:
    """3,000 calculations, each reading the next (the worst order for passes)."""
    rows = [f"| | calculate | k{i} | | | ${{k{i + 1}}} + 1 |" for i in range(CHAIN - 1)]
    rows.append(f"| | calculate | k{CHAIN - 1} | | | ${{n}} + 1 |")
    text = "\n".join(
        [
            "| survey |",
            "| | type | name | label::Uzbek (uz) | label::Russian (ru) | calculation |",
            "| | integer | n | N | N | |",
            *rows,
            "| settings |",
            "| | form_id | version | form_title::Uzbek (uz) | form_title::Russian (ru) | category |",
            "| | hostile_chain | 1 | T | T | social |",
        ]
    )
    path = tmp / "chain.md"
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("lang", ["en", "uz_Latn", "ru"])
def test_deep_answers_json_is_refused_with_exit_2(tmp_path: Path, lang: str) -> None:
    answers = tmp_path / "deep.json"
    answers.write_text('{"t": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    code, text, _ = _run(
        ["submit", "--form-file", str(HOSTILE / "regex.md"), "--answers", str(answers)],
        tmp_path,
        lang,
    )
    assert code == 2
    expected = {"en": "nested more than 32", "uz_Latn": "32 darajadan", "ru": "глубже 32"}
    assert expected[lang] in text


def test_catastrophic_regex_runs_in_linear_time_and_is_flagged(tmp_path: Path) -> None:
    form = str(HOSTILE / "regex.md")
    answers = str(HOSTILE / "regex_answers.json")
    code, text, _ = _run(["submit", "--form-file", form, "--answers", answers], tmp_path, "en")
    assert code == 2 and "this answer is not accepted" in text  # not a hang: RE2 said no
    code, text, _ = _run(["catalog", "check", form], tmp_path, "ru")
    assert code == 0 and "предупреждение:" in text and "(a+)+" in text and "ODK Collect" in text


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_concat_doubling_stops_at_the_string_cap(tmp_path: Path, lang: str) -> None:
    form = str(HOSTILE / "concat.md")
    answers = str(HOSTILE / "concat_answers.json")
    code, text, _ = _run(["submit", "--form-file", form, "--answers", answers], tmp_path, lang)
    assert code == 2 and "c15" in text and "65536" in text
    code, text, _ = _run(["catalog", "check", form], tmp_path, lang)
    assert code == 2 and "${c8}" in text and "65536" in text


def test_calculation_chain_of_3000_is_an_error_not_a_crash(tmp_path: Path) -> None:
    form = str(_chain_form(tmp_path))
    code, text, _ = _run(["catalog", "check", form], tmp_path, "ru")
    assert code == 2 and "${k0}" in text and "3000" in text and "200" in text
    answers = str(HOSTILE / "chain_answers.json")
    code, text, _ = _run(["submit", "--form-file", form, "--answers", answers], tmp_path, "ru")
    assert code == 2 and "нельзя использовать" in text and "цепочка вычислений" in text


def test_answers_json_depth_limit_is_the_documented_one() -> None:
    from kiosk.expr.limits import MAX_JSON_DEPTH
    from kiosk.wire import json_depth

    assert MAX_JSON_DEPTH == 32
    assert json_depth(json.dumps({"r": [{"x": "[[[{{"}]})) == 3


def _scan_form(tmp: Path) -> Path:
    """A 64 Ki text (concat doubling, within the cap) read by 600 substring() calls:
    few nodes, but minutes of work in Python before each character read was counted."""
    rows = ["| | text | s | S | S | |"]
    for i in range(15):
        prev = "${s}" if i == 0 else f"${{c{i - 1}}}"
        rows.append(f"| | calculate | c{i} | | | concat({prev}, {prev}) |")
    scan = " + ".join(["string-length(substring(${c14}, 1, 1))"] * 200)
    rows += [f"| | calculate | h{i} | | | {scan} |" for i in range(3)]
    text = "\n".join(
        [
            "| survey |",
            "| | type | name | label::Uzbek (uz) | label::Russian (ru) | calculation |",
            *rows,
            "| settings |",
            "| | form_id | version | form_title::Uzbek (uz) | form_title::Russian (ru) | category |",
            "| | hostile_scan | 1 | T | T | social |",
        ]
    )
    path = tmp / "scan.md"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_reading_a_long_text_many_times_runs_out_of_steps(tmp_path: Path) -> None:
    answers = tmp_path / "scan.json"
    answers.write_text('{"s": "ab"}', encoding="utf-8")
    form = str(_scan_form(tmp_path))
    code, text, _ = _run(["submit", "--form-file", form, "--answers", str(answers)], tmp_path, "en")
    assert code == 2 and "evaluation steps" in text


def test_many_large_regexes_stay_within_memory(tmp_path: Path) -> None:
    """300 different 1,000-repetition patterns over a 5,000-character answer: each
    compiled pattern kept its own DFA cache of up to 8 MiB (561 MB in all). Now the
    memory per pattern and the patterns kept are bounded, and so are the steps."""
    rows = ["| | text | s | S | S | |"]
    rows += [
        f"| | calculate | r{i} | | | regex(${{s}}, '[a{i}][a-z]{{1000}}') |" for i in range(300)
    ]
    text = "\n".join(
        [
            "| survey |",
            "| | type | name | label::Uzbek (uz) | label::Russian (ru) | calculation |",
            *rows,
            "| settings |",
            "| | form_id | version | form_title::Uzbek (uz) | form_title::Russian (ru) | category |",
            "| | hostile_regexes | 1 | T | T | social |",
        ]
    )
    form = tmp_path / "regexes.md"
    form.write_text(text + "\n", encoding="utf-8")
    answers = tmp_path / "regexes.json"
    answers.write_text(json.dumps({"s": "a" * 5000}), encoding="utf-8")
    code, out, _ = _run(
        ["submit", "--form-file", str(form), "--answers", str(answers)], tmp_path, "en"
    )
    assert code == 2 and "evaluation steps" in out


def test_nested_repeats_are_bounded_in_all(tmp_path: Path) -> None:
    """Three repeats nested, each repeat_count 500 (the per-repeat cap): 250,000 entries
    made before the steps ran out, 235 MB. The entries of all repeats together are
    capped, and walking them costs steps."""
    rows = [
        "| | begin_repeat | r1 | R | R | 500 | |",
        "| | begin_repeat | r2 | R | R | 500 | |",
        "| | begin_repeat | r3 | R | R | 500 | |",
        "| | calculate | k | | | | 1 |",
        *["| | end_repeat | | | | | |"] * 3,
    ]
    text = "\n".join(
        [
            "| survey |",
            "| | type | name | label::Uzbek (uz) | label::Russian (ru) | repeat_count | calculation |",
            *rows,
            "| settings |",
            "| | form_id | version | form_title::Uzbek (uz) | form_title::Russian (ru) | category |",
            "| | hostile_repeats | 1 | T | T | social |",
        ]
    )
    form = tmp_path / "repeats.md"
    form.write_text(text + "\n", encoding="utf-8")
    answers = tmp_path / "repeats.json"
    answers.write_text("{}", encoding="utf-8")
    args = ["submit", "--form-file", str(form), "--answers", str(answers)]
    code, out, peak = _run(args, tmp_path, "ru")
    assert code == 2 and "10000" in out and "повтор" in out
    assert peak < 100 * 1024
    code, out, _ = _run(["catalog", "check", str(form)], tmp_path, "ru")
    assert code == 2 and "repeat_count" in out and "10000" in out
