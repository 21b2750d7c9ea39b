# SPDX-License-Identifier: Apache-2.0
"""Measured figures quoted in the documentation, and the markers that quote them.

``docs/figures.json`` (committed) holds every figure the README, ``docs/*.md`` and
``labs/**/*.md`` quote, by key, as the benchmarks measured it. The Markdown quotes a figure
between markers::

    32 neurons take <!-- bench:area.lif.um2 -->13,613<!-- /bench --> um^2

``neurotile bench area --update-docs`` measures, stores the figures and rewrites every marker;
``neurotile bench docs`` rewrites the markers from the stored figures without measuring. A fast
test fails when a marker disagrees with ``figures.json`` or names a key it does not hold, so the
documents cannot drift apart.

Keys (every figure from ``neurotile bench area`` at the block's defaults unless it says
otherwise; areas are Sky130 cell areas in um^2, tiles at the default 60% placement density):

``area.<block>.{um2,cells,flip_flops,tile}``
    each block of ``neurotile generate`` at its defaults (``area.lif.um2``, ``area.hh.tile``).
``area.lif.n<N>.<storage>.{um2,tile,util_1x1_pct}``
    the LIF population of N neurons (8-bit, 2-bit refractory counter), ``storage`` ``memory``
    (the default register file) or ``ring``; ``util_1x1_pct`` its share of a 1x1 tile's core
    in whole percent.
``density.<storage>.{neurons_1x1,neurons_1x1_norefr,marginal_um2}``
    the most LIF neurons whose cell area fits a 1x1 tile, with and without the refractory
    counter, and the area of one more neuron.
``project.lif.n<N>.r<R>.<storage>.{um2,util_1x1_pct,density_1x1_pct}``
    the complete LIF TinyTapeout project of N neurons with an R-bit refractory counter and the
    given storage (the density goals' rows).
``sparse.<block>.<storage>.{um2,tile,um2_per_stored_bit,um2_per_weight_bit}``
    ``sparse-matmul`` and ``spiking-layer`` at their defaults with flip-flop (``memory``) or
    latch memories (``latch``: the CSR layout; ``latch-dense``: the dense layout); per bit
    all-in.
``tapeout.<project>.{um2,cells,flip_flops,tile,util_tile_pct,util_1x1_pct}``
    the complete TinyTapeout project (host interface and wrapper included) of ``neurotile
    tapeout``: ``lif``, ``lif.n16`` (``--neurons 16``), ``lif.ring`` (``--storage ring``),
    ``lif.memory``, ``sparse-matmul``, ``spiking-layer`` (and ``.memory`` of each, with
    ``--storage memory``, ``.dense`` with ``--layout dense``), ``hh``, each at its defaults
    otherwise;
    ``util_tile_pct`` its share of its tile's core in whole percent, ``util_1x1_pct`` of a 1x1
    tile's core to one decimal.
``compile.<network>.<mode>.{um2,cells,flip_flops,tile}``
    from ``neurotile bench compile``: a digits network (``lif-spikes``, 64-32-10;
    ``lif-spikes-h8``, 64-8-10) compiled at the defaults (8-bit weights, 16-bit membranes) with
    constant weights (``constant``) or programmable weights in flip-flops (``memory``), latches
    (``latch``) or latches with the dense layout (``latch-dense``); the network top alone.

Values are numbers or strings; a number is written with thousands separators (``13,613``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from neurotile.errors import UsageError

__all__ = ["ROOT", "FIGURES", "MARKER", "documents", "load", "store", "text", "render",
           "check", "rewrite", "update_docs", "from_area", "from_compile"]

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures.json"
#: ``<!-- bench:KEY -->VALUE<!-- /bench -->``; the value may not span lines.
MARKER = re.compile(r"<!-- bench:(?P<key>[A-Za-z0-9_.\-]+) -->(?P<value>[^\n]*?)<!-- /bench -->")


def documents(root: Path | None = None) -> list[Path]:
    """The Markdown files that may quote figures: README.md, docs/*.md, labs/**/*.md."""
    root = ROOT if root is None else root
    files = [root / "README.md", *sorted((root / "docs").glob("*.md")),
             *sorted((root / "labs").glob("**/*.md"))]
    return [f for f in files if f.is_file()]


def load(path: Path | None = None) -> dict[str, Any]:
    """The stored figures, key -> value."""
    path = FIGURES if path is None else path
    if not path.is_file():
        raise UsageError(f"{path} is missing; measure with 'neurotile bench area --update-docs'")
    return json.loads(path.read_text(encoding="utf-8"))["figures"]


def store(new: dict[str, Any], source: str, path: Path | None = None) -> dict[str, Any]:
    """Merge ``new`` into the stored figures (other keys are kept) and return them all."""
    path = FIGURES if path is None else path
    data = (json.loads(path.read_text(encoding="utf-8")) if path.is_file()
            else {"about": "Measured figures the docs quote; written by neurotile bench "
                           "--update-docs, never by hand.", "sources": {}, "figures": {}})
    data["figures"] = dict(sorted((data["figures"] | new).items()))
    data["sources"] = dict(sorted((data["sources"] | {source: sorted(new)}).items()))
    data["sources"][source] = sorted(set(data["sources"][source]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return data["figures"]


def text(value: Any) -> str:
    """A figure as the docs print it: numbers with thousands separators."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}"


def render(markdown: str, figures: dict[str, Any]) -> tuple[str, list[str]]:
    """``markdown`` with every marker's value replaced, and the keys ``figures`` lacks."""
    unknown: list[str] = []

    def fill(m: re.Match) -> str:
        key = m.group("key")
        if key not in figures:
            unknown.append(key)
            return m.group(0)
        return f"<!-- bench:{key} -->{text(figures[key])}<!-- /bench -->"

    return MARKER.sub(fill, markdown), unknown


def check(files: Iterable[Path], figures: dict[str, Any], root: Path | None = None
          ) -> list[str]:
    """One line per marker that names an unknown key or disagrees with ``figures``."""
    root = ROOT if root is None else root
    problems = []
    for path in files:
        body = path.read_text(encoding="utf-8")
        for m in MARKER.finditer(body):
            line = body.count("\n", 0, m.start()) + 1
            where = f"{path.relative_to(root) if path.is_relative_to(root) else path}:{line}"
            key, shown = m.group("key"), m.group("value")
            if key not in figures:
                problems.append(f"{where}: unknown figure {key!r}")
            elif shown != text(figures[key]):
                problems.append(f"{where}: {key} shows {shown!r}, measured "
                                f"{text(figures[key])!r}")
    return problems


def rewrite(files: Iterable[Path], figures: dict[str, Any]) -> list[Path]:
    """Rewrite every marker in ``files`` from ``figures``; return the files that changed.

    Raises
    ------
    UsageError
        When a marker names a key ``figures`` does not hold (nothing is written then).
    """
    changed = {}
    for path in files:
        body = path.read_text(encoding="utf-8")
        new, unknown = render(body, figures)
        if unknown:
            raise UsageError(f"{path}: unknown figure {unknown[0]!r}; the keys are in "
                             f"{FIGURES}")
        if new != body:
            changed[path] = new
    for path, new in changed.items():
        path.write_text(new, encoding="utf-8")
    return list(changed)


def update_docs(new: dict[str, Any] | None = None, source: str = "") -> list[Path]:
    """Store ``new`` figures (if any) and rewrite every document's markers; print what changed."""
    import sys

    figures = store(new, source) if new else load()
    if new:
        print(f"bench: {len(new)} figures stored in {FIGURES}", file=sys.stderr)
    changed = rewrite(documents(), figures)
    for path in changed:
        print(f"bench: rewrote the figures in {path}", file=sys.stderr)
    if not changed:
        print("bench: every document's figures agree with the measurements", file=sys.stderr)
    return changed


# -- figures from the benchmarks' results ----------------------------------------------------------

def _synthesised(key: str, r: dict[str, Any]) -> dict[str, Any]:
    """``key.{um2,cells,flip_flops,tile}`` of a synthesised design's result ``r``."""
    return {f"{key}.um2": round(r["area_um2"]), f"{key}.cells": r["cells"],
            f"{key}.flip_flops": r["flip_flops"], f"{key}.tile": r["tile"] or "none"}


def from_area(data: dict[str, Any]) -> dict[str, Any]:
    """The figures of ``build/bench/area.json`` (see the key list above)."""
    out: dict[str, Any] = {}
    for r in data.get("blocks", []):
        out |= _synthesised(f"area.{r['block']}", r)
    for r in data.get("lif", []):
        if r["refractory_width"] == 2:
            key = f"area.lif.n{r['neurons']}.{r['storage']}"
            out |= {f"{key}.um2": round(r["area_um2"]), f"{key}.tile": r["tile"] or "none",
                    f"{key}.util_1x1_pct": round(100 * r["util_1x1"])}
    for r in data.get("max_1x1", []):
        key = f"density.{r['storage']}"
        if r["refractory_width"] == 0:
            out[f"{key}.neurons_1x1_norefr"] = r["neurons"]
        else:
            out[f"{key}.neurons_1x1"] = r["neurons"]
            out[f"{key}.marginal_um2"] = round(r["marginal_um2_per_neuron"])
    for r in data.get("tapeout", []):
        key = f"tapeout.{r['name']}"
        out |= {f"{key}.um2": round(r["area_um2"]), f"{key}.cells": r["cells"],
                f"{key}.flip_flops": r["flip_flops"], f"{key}.tile": r["tile"],
                f"{key}.util_1x1_pct": round(100 * r["util_1x1"], 1)}
        if "util_tile" in r:
            out[f"{key}.util_tile_pct"] = round(100 * r["util_tile"])
    for r in data.get("projects", []):
        key = f"project.lif.n{r['neurons']}.r{r['refractory_width']}.{r['storage']}"
        out |= {f"{key}.um2": round(r["area_um2"]),
                f"{key}.util_1x1_pct": round(100 * r["util_1x1"], 1)}
        if "density_1x1_pct" in r:
            out[f"{key}.density_1x1_pct"] = r["density_1x1_pct"]
    for r in data.get("sparse", []):
        key = f"sparse.{r['block']}.{r['storage']}"
        out |= {f"{key}.um2": round(r["area_um2"]), f"{key}.tile": r["tile"] or "none",
                f"{key}.um2_per_stored_bit": r["um2_per_stored_bit"],
                f"{key}.um2_per_weight_bit": r["um2_per_weight_bit"]}
    return out


def from_compile(data: dict[str, Any]) -> dict[str, Any]:
    """The figures of ``build/bench/compile.json``: its weight modes (see the key list above)."""
    out: dict[str, Any] = {}
    for r in data.get("weight_modes", []):
        out |= _synthesised(f"compile.{r['network']}.{r['mode']}", r)
    return out
