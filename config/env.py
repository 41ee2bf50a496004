"""The one `environ.Env` every settings module reads from.

Any variable may be given as a file instead (`<NAME>_FILE`, Docker secrets).
django-environ's FileAwareEnv keeps the file's trailing newline, which every
`echo secret > file` adds and which would silently become part of a password,
so this mapping strips one trailing line break.
"""

from __future__ import annotations

import os

import environ
from environ.fileaware_mapping import FileAwareMapping


class _StrippedFileAwareMapping(FileAwareMapping):
    def __getitem__(self, key: str) -> str:
        value = super().__getitem__(key)
        if os.environ.get(key + "_FILE"):
            value = value.removesuffix("\n").removesuffix("\r")
        return value


class SignetEnv(environ.Env):
    ENVIRON = _StrippedFileAwareMapping()


env = SignetEnv()
