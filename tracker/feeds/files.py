"""The published files under FEEDS_DIR: written atomically, listed, locked.

A reader (the app, nginx) sees the old file or the new one, never half of one, and only
one publisher (the scheduler, or the web app after a change that takes something out of
public view) writes at a time.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ALARM_DIR = "with-alarm"  # the twin of each feed with a reminder a day before each event


def write_atomically(path: Path, content: bytes | list[bytes]) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`.

    A reader (the app, nginx) sees the old file or the new one, never a partial
    one; a failure midway leaves the old file as it was. `content` may come in parts.

    No fsync: it would cost a disk flush per file (2,000 files on a first publish)
    and only guards against a power loss, after which the restarted scheduler
    compares every file with what it should hold and rewrites the ones that differ.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(content, bytes):
                handle.write(content)
            else:
                handle.writelines(content)
        os.chmod(temp, 0o644)  # mkstemp makes it 0600; nginx must read it
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


FOLDERS = ("", "cases", "defendants", ALARM_DIR, f"{ALARM_DIR}/cases", f"{ALARM_DIR}/defendants")


def feed_folders(languages: tuple[str, ...] = (), default: str = "") -> list[str]:
    """The folders under FEEDS_DIR that hold feeds, relative ("" for FEEDS_DIR itself): the
    default language's at the top, each other language's under its code ("ru/cases")."""
    prefixes = [""] + [f"{lang}/" for lang in languages if lang != default]
    return [prefix + sub if sub else prefix.rstrip("/") for prefix in prefixes for sub in FOLDERS]


def published_files(root: Path, languages: tuple[str, ...] = (), default: str = "") -> set[str]:
    """The .ics files under FEEDS_DIR that publishing manages, as relative paths: the default
    language's at the top, each other language's in its folder ("ru/cases/x.ics")."""
    found = set()
    for folder in feed_folders(languages, default):
        directory = root / folder if folder else root
        if not directory.is_dir():
            continue
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_file() and entry.name.endswith(".ics") and not entry.name.startswith("."):
                    found.add(f"{folder}/{entry.name}" if folder else entry.name)
    return found


def remove_stale_temp_files(root: Path, older_than: float) -> None:
    """Temporary files a killed publisher left behind."""
    for temp in root.rglob(".*.tmp"):
        try:
            if temp.stat().st_mtime < older_than:
                temp.unlink()
        except FileNotFoundError:
            pass


def stamp(path: Path | str) -> tuple | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_mtime_ns, found.st_size)


def folder_stamp(path: str) -> tuple | None:
    """What changes when a file in the folder `path` is created, renamed over or removed (every
    publisher writes by rename, and a removal by hand is an unlink): a folder whose stamp is
    the same has the same files as when it was taken. A file edited in place leaves it as it
    is (see publish.SCAN_SECONDS)."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_mtime_ns, found.st_ctime_ns)


@contextmanager
def publish_lock(root: Path) -> Iterator[None]:
    """One publisher at a time per FEEDS_DIR (the scheduler, and the web app after a change
    that takes something out of public view), across processes.

    Held from the snapshot to the last write: a publish that read the database before a
    change finishes writing before a publish that read it after begins, so older files
    never land over newer ones. An flock, released by the kernel if the process dies.
    """
    with open(root / ".publish.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def same_content(path: Path | str, content: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(content):
            return False
        with open(path, "rb") as handle:
            return handle.read() == content
    except FileNotFoundError:
        return False
