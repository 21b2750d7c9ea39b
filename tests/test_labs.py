# SPDX-License-Identifier: Apache-2.0
"""The graded labs: ``neurotile lab list/start/check``, and every checker on a reference answer
(all criteria pass, exit 0) and on typical wrong answers (the right criteria fail, with their
hints, exit 1).

Reference and wrong answers live in ``tests/data/labs/NN/``: ``solution/`` holds a complete
answer; each ``wrong/<name>/`` holds the files that differ from it (``touch.txt``: files of the
generated project to make newer instead) and ``fails.txt``, the criteria that must fail, the one
the mistake is about first. Lab 8's generated project is made once per module.
"""

from __future__ import annotations

import shutil
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from neurotile.cli import main
from neurotile.labs import labs, material, starter_files

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "labs"

#: Labs whose checkers run HDL simulators or synthesis; their answers are tested in those tiers.
SLOW = {3: "sim", 8: "flows"}


def _answer(tmp_path: Path, number: int, wrong: str | None = None,
            generated: Path | None = None) -> Path:
    """A lab folder holding the reference answer (plus ``generated``'s files), with ``wrong``'s
    files laid over it and the files its ``touch.txt`` names made newer than the rest."""
    folder = tmp_path / "lab"
    shutil.copytree(DATA / f"{number:02d}" / "solution", folder)
    if generated is not None:
        shutil.copytree(generated, folder, dirs_exist_ok=True)  # keeps modification times
    if wrong:
        for f in (DATA / f"{number:02d}" / "wrong" / wrong).iterdir():
            if f.name == "touch.txt":
                for name in f.read_text().split():
                    (folder / "project" / name).touch()
            elif f.is_dir():
                shutil.copytree(f, folder / f.name, dirs_exist_ok=True)
            elif f.name != "fails.txt":
                shutil.copy(f, folder / f.name)
    return folder


@pytest.fixture(scope="module")
def lab8_project(worker_root: Path) -> Path:
    """Lab 08's generated part: a 16-neuron project whose last test run was at gate level."""
    root = worker_root / "lab08"
    if root.exists():
        shutil.rmtree(root)
    assert main(["tapeout", "lif", "--neurons", "16", "-o", str(root / "project")]) == 0
    assert main(["check", str(root / "project"), "--test", "--gates"]) == 0
    return root


def _cases() -> list:
    out = []
    for number in labs():
        marks = [getattr(pytest.mark, SLOW[number])] if number in SLOW else []
        out.append(pytest.param(number, None, id=f"lab{number:02d}-solution", marks=marks))
        for w in sorted((DATA / f"{number:02d}" / "wrong").iterdir()):
            out.append(pytest.param(number, w.name, id=f"lab{number:02d}-{w.name}", marks=marks))
    return out


# -- the command -------------------------------------------------------------------------------

def test_list_names_every_lab(capsys):
    assert main(["lab", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [int(line.split()[0]) for line in lines] == list(range(1, 9))


def test_start_copies_the_text_and_starter_files_and_never_overwrites(tmp_path, capsys):
    folder = tmp_path / "lab1"
    assert main(["lab", "start", "1", str(folder)]) == 0
    names = {p.name for p in folder.iterdir()}
    assert {"README.md", "lif.py", "answers.yaml", "plot_lif.py"} <= names
    before = (folder / "lif.py").read_text()
    (folder / "lif.py").write_text(before + "# mine\n")
    capsys.readouterr()
    assert main(["lab", "start", "1", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err == (f"neurotile: error: lab folder {folder} is not empty; lab start never "
                   "overwrites: choose a new folder\n")
    assert (folder / "lif.py").read_text() == before + "# mine\n"


@pytest.mark.parametrize("argv, message", [
    (["lab", "start", "9", "x"], "there is no lab 9; choose one of 1, 2, 3, 4, 5, 6, 7, 8 "
                                 "(see 'neurotile lab list')"),
    (["lab", "check", "0"], "there is no lab 0; choose one of 1, 2, 3, 4, 5, 6, 7, 8 "
                            "(see 'neurotile lab list')"),
    (["lab", "start", "1"], "neurotile lab start: the following arguments are required: DIR "
                            "(see 'neurotile lab start --help')"),
])
def test_usage_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err == f"neurotile: error: {message}\n"


def test_a_file_is_not_a_lab_folder(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("mine\n")
    assert main(["lab", "start", "1", str(f)]) == 2
    assert capsys.readouterr().err == (f"neurotile: error: {f} is a file, not a folder; "
                                       "choose a new folder\n")
    assert main(["lab", "check", "1", str(f)]) == 2
    assert capsys.readouterr().err == (f"neurotile: error: {f} is a file; give the lab folder "
                                       "that holds your answers\n")
    assert f.read_text() == "mine\n"


def test_check_of_a_missing_folder_is_a_usage_error(tmp_path, capsys):
    missing = tmp_path / "nope"
    assert main(["lab", "check", "1", str(missing)]) == 2
    assert capsys.readouterr().err == (f"neurotile: error: lab folder {missing} does not exist; "
                                       f"start it with 'neurotile lab start 1 {missing}'\n")
    assert not missing.exists()


# -- the material ------------------------------------------------------------------------------

@pytest.mark.parametrize("number", range(1, 9))
def test_lab_text_and_teacher_notes_name_every_criterion(number):
    lab = labs()[number]
    text = (material(lab) / "README.md").read_text()
    teacher = (ROOT / "labs" / "TEACHER.md").read_text()
    for c in lab.criteria:
        assert f"`{c.key}`" in text, f"lab {number} text does not list {c.key}"
        assert f"`{c.key}`" in teacher, f"TEACHER.md does not explain lab {number} {c.key}"
    for name in lab.files:
        assert name in starter_files(lab), f"lab {number}: {name} is not a starter file"


def test_every_lab_file_is_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["neurotile.labs"]
    for lab in labs().values():
        for path in material(lab).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(ROOT / "labs").as_posix()
                assert any(fnmatch(rel, p) for p in patterns), f"{rel} is not package data"


def test_no_reference_answer_is_shipped():
    """The starters are the reference answers' skeletons, never the answers themselves."""
    for lab in labs().values():
        solution = DATA / f"{lab.number:02d}" / "solution"
        for name, content in starter_files(lab).items():
            mine = solution / name
            if mine.is_file():
                assert content != mine.read_bytes(), f"lab {lab.number}: {name} is the answer"


@pytest.mark.parametrize("number, passing", [(1, 0), (2, 1), (5, 0), (6, 0)])
def test_an_untouched_starter_fails(number, passing, tmp_path, capsys):
    """Nothing is graded as done before the student writes it (lab 2's skeleton builds)."""
    folder = tmp_path / "lab"
    assert main(["lab", "start", str(number), str(folder)]) == 0
    capsys.readouterr()
    assert main(["lab", "check", str(number), str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("PASS ") for line in lines[:-1]) == passing, lines
    assert lines[-1] == f"lab {number}: {passing} of {len(labs()[number].criteria)} criteria pass"


# -- the checkers ------------------------------------------------------------------------------

@pytest.mark.parametrize("number, wrong", _cases())
def test_checker_grades_reference_and_wrong_answers(number, wrong, tmp_path, capsys, request):
    lab = labs()[number]
    generated = request.getfixturevalue("lab8_project") if number == 8 else None
    folder = _answer(tmp_path, number, wrong, generated)
    capsys.readouterr()
    code = main(["lab", "check", str(number), str(folder)])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(lab.criteria) + 1
    failed = [line.split()[1].rstrip(":") for line in lines[:-1] if line.startswith("FAIL ")]
    if wrong is None:
        assert failed == [] and code == 0, lines
        return
    expected = (DATA / f"{number:02d}" / "wrong" / wrong / "fails.txt").read_text().split()
    assert sorted(failed) == sorted(expected), lines
    assert code == 1
    main_key = expected[0]
    line = next(line for line in lines if line.startswith(f"FAIL {main_key}:"))
    assert line.endswith(f"; hint: {lab.criterion(main_key).hint}")


def test_a_student_file_that_does_not_import_fails_its_criteria_without_a_traceback(
        tmp_path, capsys):
    folder = _answer(tmp_path, 1)
    (folder / "lif.py").write_text("def lif_step(u, i,:\n")
    assert main(["lab", "check", "1", str(folder)]) == 1
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[0].startswith("FAIL leak_floor: ") and \
        " -- lif.py does not import: SyntaxError: " in lines[0]
    assert lines[-2].startswith("PASS answers: ")
    assert "Traceback" not in out.out + out.err
