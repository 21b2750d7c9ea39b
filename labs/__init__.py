# SPDX-License-Identifier: Apache-2.0
"""Graded labs for a class: the lab texts, the students' starter files and the checkers.

Each lab is a folder ``NN_name/`` (``README.md``, the lab text, and ``starter/``, the files a
student fills in) and a checker module ``labNN.py`` whose ``LAB`` (:class:`~.grading.Lab`)
declares the criteria. ``neurotile lab`` lists, starts and checks them. No solution ships here:
the reference answers live with the tests.
"""

from __future__ import annotations

from pathlib import Path

from neurotile.labs.grading import Lab

__all__ = ["labs", "get_lab", "material", "starter_files"]

_HERE = Path(__file__).resolve().parent


def labs() -> dict[int, Lab]:
    """Every lab, by number."""
    import neurotile.labs as package
    from neurotile.catalogue import scan

    found = scan(package, "LAB", Lab, skip=("grading",))
    return {lab.number: lab for lab in sorted(found, key=lambda lab: lab.number)}


def get_lab(number: int) -> Lab:
    """The lab numbered ``number``; ``KeyError`` when there is none."""
    return labs()[number]


def material(lab: Lab) -> Path:
    """The lab's folder: ``README.md`` and ``starter/``."""
    return _HERE / lab.name


def starter_files(lab: Lab) -> dict[str, bytes]:
    """What ``neurotile lab start`` copies: the lab text and the starter files."""
    folder = material(lab)
    files = {"README.md": (folder / "README.md").read_bytes()}
    for path in sorted((folder / "starter").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(folder / "starter").as_posix()] = path.read_bytes()
    return files
