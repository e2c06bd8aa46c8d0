"""One base for errors the kiosk shows to people rather than crashing on."""

from __future__ import annotations

import errno

from kiosk.i18n import N_, tr


class TranslatableError(Exception):
    """Carries an English msgid and its arguments; `message(lang)` says it in any language.

    `str()` is the English text, for logs and developers.
    """

    def __init__(self, msgid: str, /, **kwargs: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.kwargs = kwargs

    def message(self, lang: str) -> str:
        # An argument may itself be translatable (os_error): said in the same language.
        kwargs = {
            name: value.message(lang) if isinstance(value, TranslatableError) else value
            for name, value in self.kwargs.items()
        }
        return tr(lang, self.msgid, **kwargs)

    # The sync layer's name for the same thing.
    text = message

    def __str__(self) -> str:
        return self.message("en")


# What the operating system's errors mean, said in the user's language: an OSError's
# text ("[Errno 13] Permission denied") is English, so commands print this instead.
_OS_ERRORS: dict[int, str] = {
    errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("permission denied"),
    errno.ENOENT: N_("no such file or directory"),
    errno.ENOSPC: N_("the disk is full"),
    errno.EROFS: N_("the disk is read-only"),
    errno.EISDIR: N_("it is a directory, not a file"),
    errno.ENOTDIR: N_("a part of the path is not a directory"),
    errno.EEXIST: N_("it already exists"),
}
OS_ERROR = N_("system error {number}")


def os_error(exc: BaseException) -> TranslatableError:
    """What an OSError (or any exception) means, as a translatable error: its errno said
    in words, never its English text."""
    number = getattr(exc, "errno", None)
    msgid = _OS_ERRORS.get(number) if isinstance(number, int) else None
    if msgid is not None:
        return TranslatableError(msgid)
    return TranslatableError(OS_ERROR, number=number if isinstance(number, int) else "?")


def os_error_text(exc: BaseException, lang: str) -> str:
    """``os_error(exc)`` in ``lang``."""
    return os_error(exc).message(lang)
