"""The enrolment file: what an operator carries from the portal to a kiosk on a USB stick.

`kiosk portal enrolment-code --file PATH` writes it; `kiosk enroll --file PATH` reads
it. It holds the portal's URL, a one-time code and the portal's key pins (current and
backup), so the pin reaches the kiosk by hand rather than over the network it is
meant to protect. A stick may have passed through anyone's hands, so reading is
strict: a small regular file, UTF-8 JSON, exactly the known fields with their types,
a URL the kiosk accepts (`sync.tls.check_url`), valid pins. ``expires_at`` is shown,
never enforced: the portal's clock judges the code (a kiosk's wrong clock must not
lock it out).

```
{"format": "mahalla-kiosk-enrolment", "version": 1, "portal": "https://host:port",
 "code": "XXXX-XXXX", "pins": ["sha256/<base64>", ...], "expires_at": "<ISO 8601>"}
```
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import TranslatableError, os_error
from kiosk.i18n import N_
from kiosk.wire import loads
from sync import tls

FORMAT = "mahalla-kiosk-enrolment"
VERSION = 1
MAX_BYTES = 16 * 1024
_REQUIRED = {"format", "version", "portal", "code", "pins", "expires_at"}
_OPTIONAL = {"name", "device_id"}  # a code bound to a kiosk's name or device id
_CODE = re.compile(r"[0-9A-Za-z-]{1,64}")
_TEXT = re.compile(r"[^\x00-\x1f\x7f]{1,200}")
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


class EnrolmentFileError(TranslatableError):
    """The enrolment file cannot be used; the message says why."""


@dataclass(frozen=True)
class Enrolment:
    portal: str
    code: str
    pins: tuple[str, ...]
    expires_at: str
    name: str | None = None
    device_id: str | None = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "format": FORMAT,
            "version": VERSION,
            "portal": self.portal,
            "code": self.code,
            "pins": list(self.pins),
            "expires_at": self.expires_at,
        }
        if self.name is not None:
            data["name"] = self.name
        if self.device_id is not None:
            data["device_id"] = self.device_id
        return data


def write(path: Path, enrolment: Enrolment) -> None:
    """Write the file (mode 0600: it holds a live code), replacing nothing half-way."""
    text = json.dumps(enrolment.to_json(), indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _bad(why: str, **kwargs: object) -> EnrolmentFileError:
    return EnrolmentFileError(why, **kwargs)


def _read_bytes(path: Path) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise _bad(N_("{path} is not an enrolment file."), path=str(path))
        if info.st_size > MAX_BYTES:
            raise _bad(
                N_("{path} is too large for an enrolment file (more than {limit} bytes)."),
                path=str(path),
                limit=MAX_BYTES,
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _bad(N_("Cannot read {path}: {error}"), path=str(path), error=os_error(exc)) from exc
    if len(data) > MAX_BYTES:
        raise _bad(
            N_("{path} is too large for an enrolment file (more than {limit} bytes)."),
            path=str(path),
            limit=MAX_BYTES,
        )
    return data


def parse(data: bytes, path: str = "-") -> Enrolment:
    """Check every field of an enrolment file's bytes; `EnrolmentFileError` if any is off."""
    try:
        doc = loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad(N_("{path} is not an enrolment file (not JSON)."), path=path) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad(N_("{path} is not an enrolment file."), path=path)
    if doc.get("version") != VERSION or isinstance(doc.get("version"), bool):
        raise _bad(
            N_("The enrolment file's version is not one this kiosk reads ({version})."),
            version=str(doc.get("version"))[:20],
        )
    keys = set(doc)
    if _REQUIRED - keys or keys - _REQUIRED - _OPTIONAL:
        odd = sorted((_REQUIRED - keys) | (keys - _REQUIRED - _OPTIONAL))
        raise _bad(
            N_("The enrolment file has missing or unknown fields: {fields}"),
            fields=", ".join(f[:40] for f in odd[:10]),
        )
    portal, code, pins, expires = doc["portal"], doc["code"], doc["pins"], doc["expires_at"]
    if not isinstance(portal, str) or len(portal) > 2000:
        raise _bad(N_("The enrolment file's field {field} is invalid."), field="portal")
    try:
        origin = tls.check_url(portal)
    except tls.UrlError as exc:
        raise _bad(exc.msgid, **exc.kwargs) from exc
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise _bad(N_("The enrolment file's field {field} is invalid."), field="code")
    if (
        not isinstance(pins, list)
        or len(pins) > tls.MAX_PINS
        or not all(isinstance(p, str) and len(p) <= 200 for p in pins)
    ):
        raise _bad(N_("The enrolment file's field {field} is invalid."), field="pins")
    try:
        parsed_pins = tls.parse_pins(pins)
    except tls.PinError as exc:
        raise _bad(exc.msgid, **exc.kwargs) from exc
    if origin.startswith("https://") and not parsed_pins:
        raise _bad(N_("The enrolment file has no key pin for an https portal."))
    if not isinstance(expires, str) or not _ISO.fullmatch(expires):
        raise _bad(N_("The enrolment file's field {field} is invalid."), field="expires_at")
    optional: dict[str, str] = {}
    for key in _OPTIONAL & keys:
        value = doc[key]
        if not isinstance(value, str) or not _TEXT.fullmatch(value):
            raise _bad(N_("The enrolment file's field {field} is invalid."), field=key)
        optional[key] = value
    return Enrolment(portal.strip(), code, parsed_pins, expires, **optional)


def read(path: Path) -> Enrolment:
    """Read and check the enrolment file at ``path``."""
    return parse(_read_bytes(path), str(path))
