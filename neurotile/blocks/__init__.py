# SPDX-License-Identifier: Apache-2.0
"""The catalogue of blocks the command line can generate, simulate and tape out.

Every neuron model of :mod:`neurotile.neurons` that has a datapath in :mod:`neurotile.rtl` is a
block, derived from its declaration (:func:`neurotile.blocks.population.neuron_block`). A module
of this package may refine one (``lif.py`` adds ``--beta``) or describe another block with a
module-level ``BLOCK = Block(...)``; the catalogue finds them by scanning the package, so adding
a block never edits a shared file.

A :class:`Block` ties together the pieces that live in the top-level folders: its parameters
(:class:`~neurotile.neurons.spec.Param`, which become command-line options), the generator in
``rtl/`` (``build``), and the verification run in ``testbench/`` (``simulate``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from neurotile.errors import UsageError
from neurotile.neurons.spec import Param

__all__ = ["Param", "Block", "SimSummary", "blocks", "get_block", "with_waves"]


@dataclass(frozen=True)
class SimSummary:
    """The outcome of checking a block's RTL against its reference model."""

    simulator: str
    updates: int
    mismatches: int
    spikes: int
    seconds: float
    unit: str = "neuron-updates"
    detail: str = ""
    #: The checked run itself, for ``neurotile simulate --plot``, when the block can keep it
    #: (``extras["trace"]``) and was asked to (``simulate(..., trace=True)``).
    trace: Any = field(default=None, compare=False, repr=False)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """The one-line summary ``neurotile simulate`` prints."""
        text = (
            f"{self.simulator}: {self.updates} {self.unit} checked, {self.mismatches} mismatches, "
            f"{self.spikes} spikes, {self.rate:,.0f} {self.unit}/s"
        )
        return text + (f" ({self.detail})" if self.detail else "")


def with_waves(detail: str, report: Mapping[str, Any]) -> str:
    """``detail`` with the waveform file of the run, when it recorded one (``WAVES=1``)."""
    waves = report.get("waves")
    return "; ".join(filter(None, [detail, f"waves: {waves}" if waves else ""]))


@dataclass(frozen=True)
class Block:
    """A block of the catalogue.

    Members
    -------
    name : str
        Command-line name (``lif``, ``hh``, ``sparse-matmul``).
    summary : str
        One line for ``--help``.
    params : tuple of Param
        Generator parameters, in the order ``--help`` lists them.
    build : callable
        ``build(params: dict) -> (component, top_name)``; raises ``TypeError``/``ValueError`` for
        invalid parameters.
    simulate : callable, optional
        ``simulate(params: dict, *, sim, steps, seed, build_dir) -> SimSummary``.
    sim_params : tuple of Param
        Extra parameters only ``simulate`` takes.
    extras : mapping
        Block-specific hooks, e.g. ``check(params)``, which ``simulate`` calls before anything
        runs (``TypeError``/``ValueError`` for parameters that do not go together).
    """

    name: str
    summary: str
    params: tuple[Param, ...]
    build: Callable[[dict[str, Any]], tuple[Any, str]]
    simulate: Callable[..., SimSummary] | None = None
    sim_params: tuple[Param, ...] = field(default=())
    extras: Mapping[str, Any] = field(default_factory=dict)
    #: The neuron model's configuration class, for population blocks.
    model: Any = None

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


_CATALOGUE: dict[str, Block] | None = None


def blocks() -> dict[str, Block]:
    """All blocks, by name, in the order their modules sort."""
    global _CATALOGUE
    if _CATALOGUE is None:
        import neurotile.blocks as pkg
        from neurotile.blocks.population import neuron_block
        from neurotile.catalogue import scan
        from neurotile.neurons.spec import models
        from neurotile.rtl.population import datapaths

        found = {b.name: b for b in scan(pkg, "BLOCK", Block)}
        for name in datapaths():
            found.setdefault(name, neuron_block(models()[name]))
        _CATALOGUE = dict(sorted(found.items()))
    return _CATALOGUE


def get_block(name: str) -> Block:
    """The block called ``name``; :class:`UsageError` naming the choices otherwise."""
    catalogue = blocks()
    if name not in catalogue:
        raise UsageError(f"unknown block {name!r}; choose one of: {', '.join(catalogue)}")
    return catalogue[name]
