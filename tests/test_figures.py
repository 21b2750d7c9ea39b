# SPDX-License-Identifier: Apache-2.0
"""The figures the docs quote come from the benchmarks: every ``<!-- bench:KEY -->`` marker in
README.md, docs/*.md and labs/**/*.md shows what docs/figures.json holds, and names a key it
holds; ``neurotile bench docs`` rewrites them."""

from __future__ import annotations

import json

import pytest

from neurotile.bench import figures
from neurotile.cli import main
from neurotile.errors import UsageError


def test_every_marker_agrees_with_the_measurements():
    docs = figures.documents()
    assert figures.ROOT / "README.md" in docs and figures.ROOT / "docs" / "tapeout.md" in docs
    stored = figures.load()
    assert figures.check(docs, stored) == []
    quoted = {m.group("key") for d in docs for m in figures.MARKER.finditer(d.read_text())}
    # The density figures are quoted, and from the measurement rather than by hand.
    assert {"density.memory.neurons_1x1", "density.ring.neurons_1x1", "area.lif.um2",
            "tapeout.lif.ring.um2"} <= quoted


def _tree(tmp_path, text: str):
    (tmp_path / "docs").mkdir()
    (tmp_path / "labs" / "one").mkdir(parents=True)
    (tmp_path / "README.md").write_text(text)
    (tmp_path / "labs" / "one" / "lab.md").write_text(
        "fits <!-- bench:density.memory.neurons_1x1 -->21<!-- /bench --> neurons\n")
    path = tmp_path / "docs" / "figures.json"
    figures.store({"area.lif.um2": 13613, "density.memory.neurons_1x1": 21,
                   "area.lif.tile": "1x2"}, "test", path)
    return path


def test_a_stale_or_unknown_marker_is_reported_and_rewritten(tmp_path):
    path = _tree(tmp_path, "LIF: <!-- bench:area.lif.um2 -->13,000<!-- /bench --> um^2, tile "
                           "<!-- bench:area.lif.tile -->1x2<!-- /bench -->\n"
                           "<!-- bench:area.nothing -->5<!-- /bench -->\n")
    stored = figures.load(path)
    docs = figures.documents(tmp_path)
    assert [d.relative_to(tmp_path).as_posix() for d in docs] == ["README.md", "labs/one/lab.md"]
    assert figures.check(docs, stored, tmp_path) == [
        "README.md:1: area.lif.um2 shows '13,000', measured '13,613'",
        "README.md:2: unknown figure 'area.nothing'"]
    before = (tmp_path / "README.md").read_text()
    with pytest.raises(UsageError, match=r"unknown figure 'area\.nothing'"):
        figures.rewrite(docs, stored)
    assert (tmp_path / "README.md").read_text() == before  # nothing written
    (tmp_path / "README.md").write_text(before.splitlines()[0] + "\n")
    assert figures.rewrite(docs, stored) == [tmp_path / "README.md"]
    assert (tmp_path / "README.md").read_text() == (
        "LIF: <!-- bench:area.lif.um2 -->13,613<!-- /bench --> um^2, tile "
        "<!-- bench:area.lif.tile -->1x2<!-- /bench -->\n")
    assert figures.check(docs, stored, tmp_path) == []
    assert figures.rewrite(docs, stored) == []


def test_bench_docs_command_rewrites_from_the_stored_figures(tmp_path, monkeypatch, capsys):
    path = _tree(tmp_path, "<!-- bench:area.lif.um2 -->1<!-- /bench -->\n")
    monkeypatch.setattr(figures, "ROOT", tmp_path)
    monkeypatch.setattr(figures, "FIGURES", path)
    assert main(["bench", "docs"]) == 0
    assert (tmp_path / "README.md").read_text() == \
        "<!-- bench:area.lif.um2 -->13,613<!-- /bench -->\n"
    assert "rewrote the figures in" in capsys.readouterr().err
    assert main(["bench", "docs", "area"]) == 2
    assert "takes no other benchmark" in capsys.readouterr().err


def test_figures_from_the_area_benchmark(tmp_path):
    data = {"blocks": [{"block": "lif", "area_um2": 13613.4, "cells": 1392, "flip_flops": 342,
                        "tile": "1x2"}],
            "lif": [{"neurons": 32, "refractory_width": 2, "storage": "ring", "area_um2": 8570.2,
                     "tile": "1x1", "util_1x1": 0.5193},
                    {"neurons": 32, "refractory_width": 0, "storage": "ring", "area_um2": 8000.0,
                     "tile": "1x1", "util_1x1": 0.48}],
            "max_1x1": [{"storage": "memory", "refractory_width": 2, "neurons": 21,
                         "marginal_um2_per_neuron": 365.2},
                        {"storage": "memory", "refractory_width": 0, "neurons": 27,
                         "marginal_um2_per_neuron": 300.0}],
            "tapeout": [{"name": "lif.ring", "area_um2": 9846.1, "cells": 1, "flip_flops": 2,
                         "tile": "1x1", "util_1x1": 0.5971}]}
    assert figures.from_area(data) == {
        "area.lif.um2": 13613, "area.lif.cells": 1392, "area.lif.flip_flops": 342,
        "area.lif.tile": "1x2", "area.lif.n32.ring.um2": 8570, "area.lif.n32.ring.tile": "1x1",
        "area.lif.n32.ring.util_1x1_pct": 52,
        "density.memory.neurons_1x1": 21, "density.memory.marginal_um2": 365,
        "density.memory.neurons_1x1_norefr": 27,
        "tapeout.lif.ring.um2": 9846, "tapeout.lif.ring.cells": 1,
        "tapeout.lif.ring.flip_flops": 2, "tapeout.lif.ring.tile": "1x1",
        "tapeout.lif.ring.util_1x1_pct": 59.7}
    path = tmp_path / "figures.json"
    figures.store({"a": 1}, "one", path)
    figures.store({"b": 2}, "two", path)
    stored = json.loads(path.read_text())
    assert stored["figures"] == {"a": 1, "b": 2}
    assert stored["sources"] == {"one": ["a"], "two": ["b"]}
    assert figures.text(13613) == "13,613" and figures.text(59.7) == "59.7"
