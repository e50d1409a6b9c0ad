"""Writes a crash cannot leave half done, and the clean-up after writers that were killed.

A folder is built under a temp name (``new_temp_dir``) and renamed into place (``replace_dir``);
a file is written to a temp name beside its target and renamed over it (``write_file``); a folder
is removed by renaming it aside first (``remove_dir``). Every temp name carries the writer's pid,
so ``cleanup`` can tell a killed writer's leftovers from a live one's, and a previous version left
aside by a replacement killed between its two renames is put back. A leaf: stdlib only.
"""
from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import BinaryIO, Callable

__all__ = ["TEMP_PREFIX", "TRASH_PREFIX", "REPLACED_PREFIX", "pid_alive", "new_temp_dir", "replace_dir",
           "remove_dir", "write_file", "cleanup"]

TEMP_PREFIX, TRASH_PREFIX = ".tmp-", ".trash-"
REPLACED_PREFIX = ".replaced-"  # the previous version of a folder while its replacement moves in
_TEMP_FILE_RE = re.compile(r"\..+\.(\d+)\.tmp")  # .<name>.<pid>.tmp, written by write_file


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists (a writer or a job that may still finish)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """An exited process its parent has not waited for yet (a job a web worker started, killed): dead."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False  # no /proc (not Linux), or gone meanwhile: os.kill said it exists


def new_temp_dir(parent: Path, name: str) -> Path:
    """An empty folder ``parent/.tmp-<name>-<pid>-<random>`` to build in."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f"{TEMP_PREFIX}{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    return tmp


def replace_dir(tmp: Path, target: Path) -> None:
    """Move a finished temp folder into place; a reader sees the old or the new folder, never half.
    Killed between the two renames, the old version is restored by the next ``cleanup``."""
    old = None
    if target.exists():
        old = target.parent / f"{REPLACED_PREFIX}{target.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.rename(target, old)
    os.rename(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_dir(path: Path) -> None:
    """Rename a folder aside, then delete it: readers never see it half deleted."""
    trash = path.parent / f"{TRASH_PREFIX}{path.name}-{uuid.uuid4().hex[:8]}"
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def write_file(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """``write(fh)`` into ``.<name>.<pid>.tmp`` beside ``path``, then rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def cleanup(root: Path, is_target_name: Callable[[str], bool], min_age_s: float = 0.0) -> list[str]:
    """Remove what killed writers left in ``root``: temp and trash folders, and temp files inside the
    folders whose names pass ``is_target_name``; put back previous versions whose replacement never
    arrived. Returns the names removed (folders by name, files as ``<folder>/<file>``)."""
    removed = []
    if not root.is_dir():
        return removed
    for path in root.iterdir():
        if path.is_symlink():
            if path.name.startswith((TEMP_PREFIX, TRASH_PREFIX, REPLACED_PREFIX)):
                path.unlink(missing_ok=True)  # never followed: rmtree would leave it (or worse, walk it)
                removed.append(path.name)
            continue
        if not path.is_dir():
            continue
        if is_target_name(path.name):
            for tmp in _dead_temp_files(path, min_age_s):
                tmp.unlink(missing_ok=True)
                removed.append(f"{path.name}/{tmp.name}")
            continue
        if not path.name.startswith((TEMP_PREFIX, TRASH_PREFIX, REPLACED_PREFIX)):
            continue
        if path.name.startswith((TEMP_PREFIX, REPLACED_PREFIX)) and _writer_alive(path.name):
            continue
        if path.name.startswith(REPLACED_PREFIX) and _restore_replaced(path, is_target_name):
            removed.append(path.name)
            continue
        if _old_enough(path, min_age_s):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def _restore_replaced(path: Path, is_target_name: Callable[[str], bool]) -> bool:
    """Put back a previous version whose replacement never arrived (its writer died between renames)."""
    target = path.parent / path.name[len(REPLACED_PREFIX):].rsplit("-", 2)[0]
    if target.exists() or not is_target_name(target.name):
        return False
    os.rename(path, target)
    return True


def _old_enough(path: Path, min_age_s: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime >= min_age_s
    except OSError:  # removed meanwhile by another worker's cleanup
        return False


def _dead_temp_files(folder: Path, min_age_s: float) -> list[Path]:
    """``write_file`` temp files in ``folder`` whose writer is gone."""
    found = []
    for path in folder.glob(".*.tmp"):
        match = _TEMP_FILE_RE.fullmatch(path.name)
        if match is None or int(match[1]) == os.getpid() or pid_alive(int(match[1])):
            continue  # not ours to judge, or its writer may still finish
        if _old_enough(path, min_age_s):
            found.append(path)
    return found


def _writer_alive(name: str) -> bool:
    parts = name.split("-")
    try:
        pid = int(parts[-2])
    except (ValueError, IndexError):
        return False
    return pid == os.getpid() or pid_alive(pid)
