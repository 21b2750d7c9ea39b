# SPDX-License-Identifier: Apache-2.0
"""Write a set of generated files into a user's folder, all or nothing."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from neurotile.errors import UsageError

__all__ = ["check_output_dir", "write_tree"]


def check_output_dir(path: str | os.PathLike, *, force: bool) -> Path:
    """Check that ``path`` may receive generated files; return it resolved.

    The folder may be missing (it is created), empty, or non-empty with ``force``. Its nearest
    existing ancestor must be writable.
    """
    out = Path(path).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"output path {path} is a file, not a folder; choose another -o")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise UsageError(
            f"output folder {path} is not empty; pass --force to overwrite it or choose another -o"
        )
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"output folder {path} is not writable (no write permission on {probe})")
    return out


def write_tree(path: str | os.PathLike, files: Mapping[str, str | bytes], *, force: bool) -> Path:
    """Write ``files`` (relative path -> content) under ``path``, all or nothing.

    Everything is written into a staging folder beside ``path`` first and moved into place only
    when every file is complete, so an error (a full disk, a bad name) leaves ``path`` as it was.
    With ``force`` an existing folder's same-named files are replaced; other files stay.
    """
    out = check_output_dir(path, force=force)
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    except OSError as exc:
        raise UsageError(f"cannot write to {parent}: {exc.strerror}") from None
    try:
        for rel, content in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="\n")
        if not out.exists():
            umask = os.umask(0)
            os.umask(umask)
            staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; a project folder is not
            staging.rename(out)
            return out
        for rel in files:
            dest = out / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, dest)
        return out
    except OSError as exc:
        raise UsageError(f"cannot write generated files to {path}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
