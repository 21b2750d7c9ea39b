# SPDX-License-Identifier: Apache-2.0
"""Write a set of generated files into a user's folder, all or nothing, losing nothing of theirs.

Every folder neurotile writes into gets a record, :data:`RECORD`, listing each file it wrote with
the file's SHA-256 digest. A later run into the same folder (``--force``) then knows which files
are its own and unedited (they are updated), which were edited since or were never neurotile's
(they are kept, and the run is refused unless ``--overwrite`` is given, naming them), and which
are new. Nothing is changed before every check has passed.

Files are written into a staging folder inside the target and moved into place one by one, each
replaced file kept aside until the last one is in place: any error, or an interrupt, puts the old
files back, so the folder holds either the old state or the new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from neurotile import __version__
from neurotile.errors import UsageError

__all__ = ["RECORD", "WritePlan", "check_output_dir", "check_output_file", "plan_writes",
           "write_tree", "remove_new_on_failure"]

#: The record of what neurotile wrote into a folder: ``{"files": {relative path: sha256}}``.
RECORD = ".neurotile-files.json"

#: Prefix of the staging folder made inside the target while writing.
STAGING_PREFIX = ".neurotile-staging-"

_SHOWN = 6  # file names a refusal lists before "and N more"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _as_bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


def _existing_ancestor(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def check_output_dir(path: str | os.PathLike, *, force: bool) -> Path:
    """Check that ``path`` may receive generated files; return it resolved.

    The folder may be missing (it is created), empty, or non-empty with ``force``. The folder
    itself, or its nearest existing ancestor when it is missing, must be writable; its parent
    need not be (files are staged inside the target).

    Raises
    ------
    UsageError
        For an empty path, a path that is or runs through a file, a non-empty folder without
        ``force``, or a folder that cannot be written.
    """
    text = os.fspath(path)
    if not str(text).strip():
        raise UsageError("the output folder is an empty name; give a folder with -o, e.g. "
                         "-o build/out")
    out = Path(text).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"output path {text} is a file, not a folder; choose another -o")
    probe = _existing_ancestor(out)
    if probe != out and not probe.is_dir():
        raise UsageError(f"cannot create output folder {text}: {probe} is a file, not a folder; "
                         "choose another -o")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise UsageError(
            f"output folder {text} is not empty; pass --force to overwrite it or choose another -o"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "" if probe == out else f" (no write permission on {probe})"
        raise UsageError(f"output folder {text} is not writable{where}; choose another -o")
    return out


def check_output_file(path: str | os.PathLike, *, force: bool, suffix: str, flag: str
                      ) -> Path:
    """Check that one generated file (a picture) may be written at ``path``; return it
    resolved. Missing folders on the way are allowed (the writer creates them).

    Raises
    ------
    UsageError
        Naming ``flag``: for an empty name, a name not ending in ``suffix``, a folder, an
        existing file without ``force``, a path through a file, or a place that cannot be
        written.
    """
    text = os.fspath(path)
    if not str(text).strip():
        raise UsageError(f"{flag} needs a file name, e.g. {flag} build/picture{suffix}")
    out = Path(text).expanduser().resolve()
    if out.is_dir():
        raise UsageError(f"{flag} {text} is a folder; give a file name ending in {suffix}")
    if out.suffix.lower() != suffix:
        raise UsageError(f"{flag} {text} must end in {suffix} (the picture is written as "
                         f"{suffix[1:].upper()})")
    if out.exists() and not force:
        raise UsageError(f"{flag} {text} exists; pass --force to overwrite it or choose another "
                         "name")
    probe = _existing_ancestor(out.parent)
    if not probe.is_dir():
        raise UsageError(f"{flag} {text}: {probe} is a file, not a folder; choose another name")
    if not os.access(probe, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"{flag} {text} is not writable (no write permission on "
                         f"{out if out.exists() else probe}); choose another name")
    return out


def _read_record(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / RECORD).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


@dataclass
class WritePlan:
    """What writing a set of files into a folder would do, decided before anything changes.

    Members
    -------
    out : Path
        The resolved target folder.
    new, update, same, foreign : list of str
        Relative paths that do not exist yet; that are neurotile's and unedited (replaced);
        that already hold the new content (left alone); that exist and were not written by
        neurotile or were edited since (replaced only with ``overwrite``).
    record : dict
        The record to write afterwards (relative path -> digest).
    """

    out: Path
    new: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    record: dict[str, str] = field(default_factory=dict)


def plan_writes(path: str | os.PathLike, files: Mapping[str, str | bytes], *, force: bool,
                overwrite: bool = False) -> WritePlan:
    """Check everything about writing ``files`` under ``path`` and say what would change.

    Raises
    ------
    UsageError
        When :func:`check_output_dir` refuses, when a file would replace a folder or a folder a
        file, or when files that neurotile did not write (or that were edited since) would be
        replaced and ``overwrite`` is false; the message names them.
    """
    out = check_output_dir(path, force=force or overwrite)
    plan = WritePlan(out)
    old = _read_record(out) if out.is_dir() else {}
    record = {}
    for rel in sorted(old):  # keep what earlier runs wrote and is still there, unedited
        f = out / rel
        if rel not in files and f.is_file() and _digest(f.read_bytes()) == old[rel]:
            record[rel] = old[rel]
    for rel, content in files.items():
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts or rel == RECORD:
            raise ValueError(f"generated file name {rel!r} is not a plain relative path")
        data = _as_bytes(content)
        record[rel] = _digest(data)
        for i in range(1, len(parts)):
            folder = out.joinpath(*parts[:i])
            if folder.exists() and not folder.is_dir():
                raise UsageError(f"cannot write {rel} in {path}: {PurePosixPath(*parts[:i])} is "
                                 "a file where neurotile writes a folder; move it away or choose "
                                 "another -o")
        dest = out / rel
        if not dest.exists() and not dest.is_symlink():
            plan.new.append(rel)
        elif dest.is_dir() or not dest.is_file():
            raise UsageError(f"cannot write {rel} in {path}: it is a folder, where neurotile "
                             "writes a file; move it away or choose another -o")
        else:
            current = _digest(dest.read_bytes())
            if current == record[rel]:
                plan.same.append(rel)
            elif old.get(rel) == current:
                plan.update.append(rel)
            else:
                plan.foreign.append(rel)
    for names in (plan.new, plan.update, plan.same, plan.foreign):
        names.sort()
    if plan.foreign and not overwrite:
        raise UsageError(
            f"{len(plan.foreign)} file(s) in {path} were not written by neurotile or were edited "
            f"since: {_names(plan.foreign)}; pass --overwrite to replace them, or move them away"
        )
    plan.record = dict(sorted(record.items()))
    return plan


def _record_text(record: Mapping[str, str]) -> str:
    return json.dumps({"generator": f"neurotile {__version__}",
                       "note": "files neurotile wrote here and their SHA-256; it replaces only "
                               "these, and only while they are unedited",
                       "files": dict(record)}, indent=2) + "\n"


def _make_dirs(folder: Path, made: list[Path]) -> None:
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for d in reversed(missing):
        d.mkdir()
        made.append(d)


def write_tree(path: str | os.PathLike, files: Mapping[str, str | bytes], *, force: bool,
               overwrite: bool = False) -> Path:
    """Write ``files`` (relative path -> content) under ``path``, all or nothing.

    Everything is checked first (:func:`plan_writes`), then written into a staging folder inside
    ``path`` and moved into place; an error or an interrupt at any point leaves ``path`` as it
    was. With ``force`` an existing folder's files that neurotile wrote and nobody edited are
    replaced and other files stay; ``overwrite`` also replaces edited or foreign files.

    Returns
    -------
    Path
        The resolved folder.
    """
    plan = plan_writes(path, files, force=force, overwrite=overwrite)
    out = plan.out
    made: list[Path] = []  # folders created by this call, outermost first
    moved: list[tuple[Path, Path | None]] = []  # (destination, kept-aside old file or None)
    staging: Path | None = None
    done = False
    try:
        _make_dirs(out, made)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        payload = {rel: files[rel] for rel in plan.new + plan.update + plan.foreign}
        payload[RECORD] = _record_text(plan.record)
        for rel, content in payload.items():
            target = staging / "new" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_as_bytes(content))
            target.chmod(0o666 & ~_umask())
        for rel in payload:
            dest = out / rel
            _make_dirs(dest.parent, made)
            kept = None
            if dest.exists():
                kept = staging / "old" / rel
                kept.parent.mkdir(parents=True, exist_ok=True)
                os.replace(dest, kept)
            moved.append((dest, kept))
            os.replace(staging / "new" / rel, dest)
        done = True
        return out
    except OSError as exc:
        raise UsageError(f"cannot write generated files to {path}: {exc.strerror or exc}; "
                         "nothing was changed") from None
    finally:
        if not done:
            for dest, kept in reversed(moved):
                try:
                    if kept is not None and kept.exists():
                        os.replace(kept, dest)
                    elif kept is None:
                        dest.unlink(missing_ok=True)
                except OSError:
                    pass
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if not done:
            for d in reversed(made):
                shutil.rmtree(d, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class remove_new_on_failure:
    """Context manager: if the block raises, remove what it created under ``folder``.

    Folders that did not exist are removed whole; in a folder that existed, the entries that
    appeared are removed. Used around work (synthesis caches) that a failed command must not
    leave behind.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder).resolve()

    def __enter__(self) -> remove_new_on_failure:
        probe = self.folder
        self.top_new: Path | None = None
        while not probe.exists() and probe != probe.parent:
            self.top_new = probe
            probe = probe.parent
        self.before = set(self.folder.iterdir()) if self.folder.is_dir() else set()
        return self

    def __exit__(self, kind, value, tb) -> bool:
        if kind is None:
            return False
        if self.top_new is not None:
            shutil.rmtree(self.top_new, ignore_errors=True)
        elif self.folder.is_dir():
            for entry in set(self.folder.iterdir()) - self.before:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        return False
