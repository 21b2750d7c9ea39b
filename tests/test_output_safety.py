# SPDX-License-Identifier: Apache-2.0
"""Writing into a user's folder: nothing of theirs lost, all or nothing, nothing left behind."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from neurotile.cli import main
from neurotile.errors import UsageError
from neurotile.output import RECORD, STAGING_PREFIX, write_tree
from neurotile.tapeout import project as tt_project
from neurotile.tapeout.project import AreaEstimate
from tests.test_errors import snapshot


def _fake_estimator(work_dir):
    """Stands in for synthesis: a fixed small area, and a cache folder like the real one."""
    def estimate(verilog: str, top: str) -> AreaEstimate:
        folder = Path(work_dir) / f"{top}-fake"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "estimate.json").write_text("{}")
        return AreaEstimate(5000.0, 100, 20, "fake", None)
    return estimate


@pytest.fixture
def no_synthesis(monkeypatch):
    monkeypatch.setattr(tt_project, "synth_estimator", _fake_estimator)


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0].removeprefix("neurotile: error: ")


def _user_repo(root: Path) -> None:
    """A TinyTapeout repository as a user has it: their README, .gitignore and docs."""
    (root / "docs").mkdir(parents=True)
    (root / "README.md").write_text("".join(f"my notes, line {i}\n" for i in range(282)))
    (root / ".gitignore").write_text("my_private_stuff/\n")
    (root / "docs" / "info.md").write_text("## How it works\n\nMy words.\n")
    (root / "LICENSE").write_text("Apache-2.0\n")


# -- a user's TinyTapeout repository -----------------------------------------------------------

def test_force_keeps_the_users_files_and_names_them(tmp_path, capsys, no_synthesis):
    repo = tmp_path / "repo"
    _user_repo(repo)
    before = snapshot(repo)
    code = main(["tapeout", "lif", "-o", str(repo), "--force", "--work-dir",
                 str(tmp_path / "work")])
    assert code == 2
    line = _error(capsys)
    assert line == (f"3 file(s) in {repo} were not written by neurotile or were edited since: "
                    ".gitignore, README.md, docs/info.md; pass --overwrite to replace them, or "
                    "move them away")
    assert snapshot(repo) == before
    assert not (tmp_path / "work").exists()  # the refused run left no synthesis behind


def test_overwrite_replaces_them_and_records_what_it_wrote(tmp_path, no_synthesis):
    repo = tmp_path / "repo"
    _user_repo(repo)
    assert main(["tapeout", "lif", "-o", str(repo), "--overwrite", "--work-dir",
                 str(tmp_path / "work")]) == 0
    record = json.loads((repo / RECORD).read_text())["files"]
    assert "README.md" in record and "src/tt_um_neurotile_lif.v" in record
    assert "LICENSE" not in record
    assert (repo / "LICENSE").read_text() == "Apache-2.0\n"  # never neurotile's, never touched


def test_force_updates_unedited_files_and_refuses_edited_ones(tmp_path, capsys, no_synthesis):
    repo = tmp_path / "repo"
    work = ["--work-dir", str(tmp_path / "work")]
    assert main(["tapeout", "lif", "-o", str(repo), *work]) == 0
    capsys.readouterr()
    vectors = (repo / "test" / "vectors.json").read_text()

    # unedited: a rerun with another seed updates its own files
    assert main(["tapeout", "lif", "-o", str(repo), "--force", "--seed", "2", *work]) == 0
    capsys.readouterr()
    assert (repo / "test" / "vectors.json").read_text() != vectors

    # edited: refused, named, and nothing changes
    (repo / "docs" / "info.md").write_text("## How it works\n\nMy edits.\n")
    before = snapshot(repo)
    assert main(["tapeout", "lif", "-o", str(repo), "--force", "--seed", "3", *work]) == 2
    assert _error(capsys) == (f"1 file(s) in {repo} were not written by neurotile or were "
                              "edited since: docs/info.md; pass --overwrite to replace them, "
                              "or move them away")
    assert snapshot(repo) == before


def test_regenerating_identical_files_needs_no_overwrite(tmp_path):
    files = {"a.v": "module a; endmodule\n", "sub/b.txt": "b\n"}
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.v").write_text(files["a.v"])  # same content, written before the record existed
    write_tree(out, files, force=True)
    assert json.loads((out / RECORD).read_text())["files"].keys() == {"a.v", "sub/b.txt"}


# -- all or nothing ----------------------------------------------------------------------------

def test_force_is_all_or_nothing_when_a_target_is_a_folder(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"a.txt": "old a\n", "b.txt": "old b\n"}, force=False)
    (out / "c.txt").mkdir()
    (out / "c.txt" / "user.txt").write_text("mine\n")
    before = snapshot(out)
    with pytest.raises(UsageError, match=r"^cannot write c\.txt in .*: it is a folder, where "
                                         r"neurotile writes a file; move it away or choose "
                                         r"another -o$"):
        write_tree(out, {"a.txt": "new a\n", "b.txt": "new b\n", "c.txt": "c\n"}, force=True)
    assert snapshot(out) == before


def test_a_file_where_a_folder_goes_is_refused_first(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"a.txt": "old a\n"}, force=False)
    (out / "src").write_text("a file named like a folder\n")
    before = snapshot(out)
    with pytest.raises(UsageError, match=r"^cannot write src/x\.v in .*: src is a file where "
                                         r"neurotile writes a folder"):
        write_tree(out, {"a.txt": "new a\n", "src/x.v": "x\n"}, force=True)
    assert snapshot(out) == before


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failure_while_moving_puts_the_old_files_back(tmp_path, monkeypatch, error):
    out = tmp_path / "out"
    write_tree(out, {"a.txt": "old a\n", "b.txt": "old b\n"}, force=False)
    before = snapshot(out)
    real, calls = os.replace, []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 4:  # a.txt aside, a.txt in, b.txt aside, then b.txt fails
            raise error
        real(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    expected = KeyboardInterrupt if isinstance(error, KeyboardInterrupt) else UsageError
    with pytest.raises(expected):
        write_tree(out, {"a.txt": "new a\n", "b.txt": "new b\n", "c.txt": "c\n"}, force=True)
    monkeypatch.setattr(os, "replace", real)
    assert snapshot(out) == before


def test_a_failed_first_write_leaves_no_folder(tmp_path, monkeypatch):
    def full_disk(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(UsageError, match=r"^cannot write generated files to .*: No space left "
                                         r"on device; nothing was changed$"):
        write_tree(tmp_path / "new" / "out", {"a.txt": "a\n"}, force=False)
    assert list(tmp_path.iterdir()) == []


# -- staging inside the target -----------------------------------------------------------------

def test_staging_is_inside_the_target_not_beside_it(tmp_path, monkeypatch):
    out = tmp_path / "mount"
    out.mkdir()
    real_access, real_mkdtemp, used = os.access, tempfile.mkdtemp, []

    def access(path, mode, **kw):  # the parent is not writable (a mount point's parent)
        return False if Path(path) == tmp_path else real_access(path, mode, **kw)

    def mkdtemp(*args, **kw):
        used.append(Path(kw["dir"]))
        return real_mkdtemp(*args, **kw)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    write_tree(out, {"a.txt": "a\n"}, force=False)
    assert used == [out]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mount"]
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]


# -- work folders of failed commands -----------------------------------------------------------

def test_a_failed_tapeout_leaves_no_synthesis_cache(tmp_path, monkeypatch, capsys):
    def too_big(work_dir):
        inner = _fake_estimator(work_dir)

        def estimate(verilog, top):
            inner(verilog, top)
            return AreaEstimate(1e9, 10**6, 10**5, "fake", None)
        return estimate

    monkeypatch.setattr(tt_project, "synth_estimator", too_big)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    assert main(["tapeout", "lif", "-o", "out", "--work-dir", "build/tapeout"]) == 2
    assert _error(capsys).startswith("the design does not fit any tile: 1,000,000,000 um^2")
    assert snapshot(tmp_path) == before


def test_check_gates_under_tmp_works_in_the_user_cache(tmp_path, monkeypatch, capsys,
                                                       no_synthesis):
    from neurotile.commands import check as check_command

    project = tmp_path / "proj"
    assert main(["tapeout", "lif", "-o", str(project), "--work-dir", str(tmp_path / "w")]) == 0
    seen = []
    monkeypatch.setattr(check_command, "_gate_args", lambda root, work: seen.append(work) or [])
    monkeypatch.setattr(check_command, "_make", lambda root, extra, what: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(Path.home() / ".cache-neurotile-test"))
    monkeypatch.chdir(tmp_path)  # under /tmp, which Yosys cannot see
    assert main(["check", str(project), "--gates"]) == 0
    assert seen == [Path.home() / ".cache-neurotile-test" / "neurotile" / "check"]
