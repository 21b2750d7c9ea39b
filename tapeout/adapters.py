# SPDX-License-Identifier: Apache-2.0
"""What ``neurotile tapeout`` needs to know about a block: the adapter catalogue.

Every neuron model with a datapath gets its adapter from its declaration
(:func:`neurotile.tapeout.population.population_adapter`). Any other block becomes
tape-out-able by adding one module ``tapeout/<name>.py`` with a module-level
``ADAPTER = TapeoutAdapter(...)``; the catalogue finds it by scanning this package. An adapter
says:

* ``params``: the generator and run-time parameters ``neurotile tapeout <block>`` accepts, with
  defaults chosen to fit one 1x1 tile where possible;
* ``regmap(params)``: the registers the block exposes on the host interface;
* ``build_core(params)``: the block's Amaranth component;
* ``connect(m, core, host, params)``: the wiring between the block and the host's register
  ports (including any result capture);
* ``vectors(params, regmap, seed, steps)``: a :class:`~neurotile.tapeout.vectors.Script` of host
  transactions with the expected reads, computed from the block's reference model;
* ``describe(params, regmap)``: the prose for ``info.yaml`` and ``docs/info.md``;
* ``resolve(params)``: validate the parameters (``TypeError``/``ValueError``) and return them
  with every default filled in;
* ``clock_hz``: the block's clock when ``--clock-hz`` is not given (None: the common default,
  50 MHz); a block whose default design's timing sanity check needs a longer period says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neurotile.neurons.spec import Param
from neurotile.catalogue import scan
from neurotile.errors import UsageError

__all__ = ["TapeoutAdapter", "BlockText", "adapters", "get_adapter", "COMMON_PARAMS",
           "TAPEOUT_STORAGE", "POPULATION_TAPEOUT_STORAGE"]


@dataclass(frozen=True)
class BlockText:
    """Prose about a block for the project's documentation (Markdown).

    Members
    -------
    title : str
        ``info.yaml`` title.
    description : str
        One line for ``info.yaml``.
    how_it_works : str
        The "How it works" section (without heading), from the parameters.
    how_to_test : str
        Block-specific steps for "How to test" (the protocol itself is added by the generator).
    """

    title: str
    description: str
    how_it_works: str
    how_to_test: str


@dataclass(frozen=True)
class TapeoutAdapter:
    """How to tape out one block (see the module docstring for each member)."""

    block: str
    summary: str
    ident: int
    params: tuple[Param, ...]
    regmap: Callable[[dict[str, Any]], Any]
    build_core: Callable[[dict[str, Any]], Any]
    connect: Callable[..., None]
    vectors: Callable[..., Any]
    describe: Callable[[dict[str, Any], Any], BlockText]
    resolve: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda params: params)
    test_steps: int = 8
    clock_hz: int | None = None

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


#: Storage of every block with a ``storage`` choice unless ``--storage`` says otherwise: Sky130
#: latches behind integrated clock gates, instantiated as cells. Measured (docs/latches.md): a
#: sixth to a quarter smaller than flip-flop memories for every block, with a full-period
#: datapath and only the cell pattern TinyTapeout designs already tape out with.
TAPEOUT_STORAGE = "latch"

#: Storage of a neuron population's state unless ``--storage`` says otherwise: the clock-gated
#: flip-flop ring. A population visits its neurons in order, so the ring needs no address
#: decoder and no read multiplexer: measured (docs/latches.md, docs/density.md) it is the
#: smallest neuron storage at every size, it gives the datapath the full period, and it is the
#: only one that takes 48 LIF neurons (64 without the refractory counter) into one 1x1 tile.
POPULATION_TAPEOUT_STORAGE = "ring"

#: Options every block's ``tapeout`` takes besides its own parameters.
COMMON_PARAMS: tuple[Param, ...] = (
    Param("name", str, None, "project name: the top module is tt_um_<name> "
          "(default: neurotile_<block>)", metavar="NAME"),
    Param("author", str, "neurotile user", "author for info.yaml", metavar="TEXT"),
    Param("clock_hz", int, 50_000_000, "clock frequency in Hz for info.yaml and config.json "
          "(hh: 40000000 unless given)", metavar="HZ"),
    Param("seed", int, 1, "seed of the random part of the test vectors (and of the weights of "
          "a block drawn from a seed, the reservoir)"),
    Param("steps", int, None, "timesteps the generated test runs (default: per block)"),
    Param("placement_density", int, None, "PL_TARGET_DENSITY_PCT for src/config.json and the "
          "tile choice, in percent (default: 60, TinyTapeout's, or, where that saves tiles, the "
          "utilisation plus 5 points up to 80; see docs/density.md)", metavar="PCT"),
)

_CATALOGUE: dict[str, TapeoutAdapter] | None = None


def adapters() -> dict[str, TapeoutAdapter]:
    """Every adapter, by block name."""
    global _CATALOGUE
    if _CATALOGUE is None:
        import neurotile.tapeout as pkg

        from neurotile.neurons.spec import models
        from neurotile.rtl.population import datapaths
        from neurotile.tapeout.population import population_adapter

        helpers = ("adapters", "check", "host", "population", "project", "vectors", "wrapper")
        found = {a.block: a for a in scan(pkg, "ADAPTER", TapeoutAdapter, skip=helpers)}
        from neurotile.blocks import blocks

        for name in datapaths():
            own = blocks().get(name)
            extras = {} if own is None else own.extras
            found.setdefault(name, population_adapter(
                models()[name], extra=tuple(extras.get("extra", ())),
                prepare=extras.get("prepare")))
        _CATALOGUE = dict(sorted(found.items()))
    return _CATALOGUE


def get_adapter(name: str) -> TapeoutAdapter:
    """The adapter of block ``name``; :class:`UsageError` naming the choices otherwise."""
    found = adapters()
    if name not in found:
        raise UsageError(f"unknown block {name!r} for tapeout; choose one of: {', '.join(found)}")
    return found[name]
