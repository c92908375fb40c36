"""Writing the report's files whole or not at all: each is written to a temporary file beside it
and renamed over it once complete, so that a full disk, a read-only folder or an interrupt never
leaves a partial file where a result is expected. A write that fails is ``CannotWrite``, one
line naming the file (cli.py prints it and exits 2)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class CannotWrite(Exception):
    """A file the report could not write; ``str()`` names it and why."""


@contextmanager
def whole(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (the same suffix, so that a writer that picks its format
    from the name picks the same) to write; renamed to ``path`` when the block ends, removed when
    it fails."""
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as error:
        _remove(tmp)
        raise CannotWrite(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        _remove(tmp)
        raise


def write_text(path: Path, text: str, **kwargs) -> None:
    with whole(path) as tmp:
        tmp.write_text(text, **kwargs)


def make_folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CannotWrite(f"cannot make the folder {path}: {error.strerror or error}") from None


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
