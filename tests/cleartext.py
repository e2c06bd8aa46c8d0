"""A test helper that looks for personal data left in the clear on disk (issue 13).

`find_markers(root, markers)` reads every file under ``root`` (the database, its -wal
and -shm, caches, logs, anything) and reports each place a marker shows:

- in the raw bytes, as UTF-8, UTF-16-LE, UTF-16-BE and as JSON's ``\\uXXXX`` escapes
  (for markers with non-ASCII letters, e.g. Cyrillic);
- inside compressed data: the whole file, and every gzip member (``1f 8b 08``) and zlib
  stream (``78 01/5e/9c/da``) found at any offset, decompressed (and again inside what
  came out, a few levels deep); raw deflate and zstd (if the module is there) are tried
  on whole files and values only, since any byte may start a raw deflate stream;
- in SQLite databases, every value of every column of every table, read from a copy
  (with its -wal, so rows not yet checkpointed count): as stored, decompressed with
  gzip, zlib or raw deflate, and base64-decoded then the same.

A finding names the file, where in it (offset, or table.column and rowid, and the
layers peeled to get there) and the encoding that matched. The scanner is meant to
over-report: a test that expects no finding must be able to fail.
"""

from __future__ import annotations

import base64
import binascii
import functools
import importlib
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"
GZIP_MAGIC = b"\x1f\x8b\x08"
ZLIB_HEADERS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_OUTPUT = 64 * 2**20  # a decompression bomb is not what this looks for
MAX_DEPTH = 3  # layers of compression peeled inside one another


@dataclass(frozen=True)
class Finding:
    """One place a marker was found: ``file`` (relative to the scanned root), ``where``
    (``offset N``, ``table.column rowid N``, with ``via`` the layers peeled, outermost
    first, e.g. ``gzip@120 > base64``) and ``encoding`` (utf-8, utf-16-le, ...)."""

    file: str
    where: str
    encoding: str
    marker: str
    via: str = ""

    def __str__(self) -> str:
        layers = f" via {self.via}" if self.via else ""
        return f"{self.file} [{self.where}{layers}] {self.encoding}: {self.marker!r}"


def encodings(marker: str) -> dict[str, bytes]:
    """The byte forms a marker may take on disk."""
    forms = {
        "utf-8": marker.encode("utf-8"),
        "utf-16-le": marker.encode("utf-16-le"),
        "utf-16-be": marker.encode("utf-16-be"),
    }
    if not marker.isascii():
        lower = "".join(c if c.isascii() else f"\\u{ord(c):04x}" for c in marker)
        forms["json-escape"] = lower.encode("ascii")
        forms["json-escape-upper"] = "".join(
            c if c.isascii() else f"\\u{ord(c):04X}" for c in marker
        ).encode("ascii")
    return forms


def _zstd_decompress(data: bytes) -> bytes | None:
    try:
        zstd = importlib.import_module("zstandard")
    except ImportError:
        return None
    error: type[Exception] = getattr(zstd, "ZstdError", ValueError)
    try:
        out = zstd.ZstdDecompressor().decompressobj().decompress(data)
    except error:
        return None
    return bytes(out)


def _inflate(data: bytes, wbits: int) -> bytes | None:
    """What a zlib/gzip/raw deflate stream at the start of ``data`` holds (trailing
    bytes ignored, gzip members one after another), or None if it is none."""
    out = bytearray()
    rest = data
    while rest:
        engine = zlib.decompressobj(wbits)
        try:
            out += engine.decompress(rest, MAX_OUTPUT - len(out))
        except zlib.error:
            break
        if not engine.eof:
            break
        rest = engine.unused_data
        if wbits != 31 or not rest.startswith(GZIP_MAGIC):
            break
    return bytes(out) if out else None


@functools.cache
def sealing_dictionaries() -> tuple[bytes, ...]:
    """The preset dictionaries sealing compresses with (kiosk/seal_dict.py): the common
    one and each bundled form's, so a stream deflated with one is read too."""
    from kiosk.catalog import bundled_form_files, load_spec_file
    from kiosk.seal_dict import COMMON_DICTIONARY, form_dictionary

    specs = [load_spec_file(path) for path in bundled_form_files()]
    return (COMMON_DICTIONARY, *(form_dictionary(spec) for spec in specs))


def _inflate_with(data: bytes, zdict: bytes) -> bytes | None:
    engine = zlib.decompressobj(-15, zdict=zdict)
    try:
        out = engine.decompress(data, MAX_OUTPUT)
    except zlib.error:
        return None
    return out if out and engine.eof else None


def whole_decodings(data: bytes) -> Iterator[tuple[str, bytes]]:
    """``(layer, bytes)`` for each way the whole of ``data`` decompresses: gzip, zlib,
    raw deflate, raw deflate with each sealing dictionary, zstd."""
    for name, wbits in (("gzip", 31), ("zlib", 15), ("deflate", -15)):
        out = _inflate(data, wbits)
        if out is not None:
            yield name, out
    for number, zdict in enumerate(sealing_dictionaries()):
        out = _inflate_with(data, zdict)
        if out is not None:
            yield f"deflate+dictionary{number}", out
    if data.startswith(ZSTD_MAGIC):
        out = _zstd_decompress(data)
        if out is not None:
            yield "zstd", out


def embedded_decodings(data: bytes) -> Iterator[tuple[str, bytes]]:
    """``(layer@offset, bytes)`` for every gzip member, zlib stream and zstd frame that
    starts inside ``data`` (offset 0 included)."""
    for magic, name, wbits in (
        (GZIP_MAGIC, "gzip", 31),
        *((header, "zlib", 15) for header in ZLIB_HEADERS),
        (ZSTD_MAGIC, "zstd", 0),
    ):
        at = data.find(magic)
        while at >= 0:
            out = _zstd_decompress(data[at:]) if name == "zstd" else _inflate(data[at:], wbits)
            if out is not None:
                yield f"{name}@{at}", out
            at = data.find(magic, at + 1)


def _base64(text: bytes) -> bytes | None:
    stripped = b"".join(text.split())
    if len(stripped) < 8:
        return None
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            return decode(stripped + b"=" * (-len(stripped) % 4))
        except (binascii.Error, ValueError):
            continue
    return None


def _match(data: bytes, markers: list[str]) -> Iterator[tuple[int, str, str]]:
    """``(offset, encoding, marker)`` for every occurrence of every form of a marker."""
    for marker in markers:
        for encoding, needle in encodings(marker).items():
            at = data.find(needle)
            while at >= 0:
                yield at, encoding, marker
                at = data.find(needle, at + 1)


def scan_bytes(
    data: bytes, markers: list[str], file: str, where: str = "", via: str = "", depth: int = 0
) -> list[Finding]:
    """Markers in ``data`` and in whatever decompresses inside it (``where`` names the
    value for a database cell; otherwise the offset is the place)."""
    found = [
        Finding(file, where or f"offset {at}", encoding, marker, via)
        for at, encoding, marker in _match(data, markers)
    ]
    if depth >= MAX_DEPTH:
        return found
    seen: set[bytes] = set()
    layers = [*whole_decodings(data), *embedded_decodings(data)]
    for layer, out in layers:
        if out in seen:
            continue
        seen.add(out)
        inner_via = f"{via} > {layer}" if via else layer
        found += scan_bytes(out, markers, file, where, inner_via, depth + 1)
    return found


def scan_value(value: object, markers: list[str], file: str, where: str) -> list[Finding]:
    """One database value: as stored, decompressed, and base64-decoded then the same."""
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
    elif isinstance(value, bytes):
        data = value
    else:
        return []
    found = scan_bytes(data, markers, file, where)
    decoded = _base64(data)
    if decoded is not None:
        found += scan_bytes(decoded, markers, file, where, "base64", 1)
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scan_sqlite(path: Path, markers: list[str], file: str) -> list[Finding]:
    """Every value of every table of the SQLite database ``path``, read from a copy
    (with its -wal, so rows not yet checkpointed count). The original is not touched."""
    found: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="cleartext-") as tmp:
        copy = Path(tmp) / "copy.db"
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, Path(f"{copy}-wal"))
        try:
            conn = sqlite3.connect(copy)
        except sqlite3.Error:
            return found
        conn.text_factory = bytes
        try:
            tables = [
                row[0].decode()
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for table in tables:
                try:
                    cursor = conn.execute(f"SELECT rowid, * FROM {_quote(table)}")
                    names = [d[0] for d in cursor.description][1:]
                except sqlite3.OperationalError:  # WITHOUT ROWID
                    cursor = conn.execute(f"SELECT NULL, * FROM {_quote(table)}")
                    names = [d[0] for d in cursor.description][1:]
                for rowid, *values in cursor:
                    for column, value in zip(names, values, strict=True):
                        where = f"{table}.{column} rowid {rowid}"
                        found += scan_value(value, markers, file, where)
        except sqlite3.DatabaseError:
            pass  # a damaged copy: its raw bytes were scanned anyway
        finally:
            conn.close()
    return found


def find_markers(root: Path, markers: list[str]) -> list[Finding]:
    """Every place under ``root`` where a marker is readable without a key (see module)."""
    found: list[Finding] = []
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file() and not p.is_symlink()):
        file = str(path.relative_to(root))
        data = path.read_bytes()
        found += scan_bytes(data, markers, file)
        if data.startswith(SQLITE_MAGIC):
            found += scan_sqlite(path, markers, file)
    return found
