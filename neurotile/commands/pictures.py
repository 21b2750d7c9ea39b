# SPDX-License-Identifier: Apache-2.0
"""The ``--plot FILE.png`` and ``--waves`` options of ``neurotile model`` and ``simulate``.

The pictures themselves are :mod:`neurotile.plots`; this module adds the options, checks the
file name before anything runs (one line, exit 2, nothing written) and records the RTL for
``neurotile model BLOCK --plot FILE.png --sim SIM``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.blocks import Block
from neurotile.errors import UsageError
from neurotile.neurons.spec import NeuronConfig

__all__ = ["RTL_SIMS", "add_plot_options", "add_waves_option", "plot_path", "ask_waves",
           "check_rtl", "model_plot", "run_plot", "say"]

#: Simulators that record the RTL for ``neurotile model --plot --sim``.
RTL_SIMS = ("icarus", "verilator")


def add_plot_options(p: argparse.ArgumentParser, what: str, *, rtl: bool = False) -> None:
    """``--plot FILE.png`` and ``--force`` (and, with ``rtl``, ``--sim`` and ``--build-dir``)."""
    p.add_argument("--plot", metavar="FILE.png", help=f"draw {what} into a PNG file")
    p.add_argument("--force", action="store_true", help="let --plot replace an existing file")
    if rtl:
        p.add_argument("--sim", choices=RTL_SIMS, help="with --plot: also run the RTL on this "
                       "simulator with the same stimulus (bulk path) and draw what it recorded")
        p.add_argument("--build-dir", default="build/model", metavar="DIR",
                       help="where --sim builds and runs go (default: build/model)")


def add_waves_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--waves", action="store_true", help="record waveforms (as WAVES=1): FST "
                   "on Icarus, VCD on Verilator, with a GTKWave layout (.gtkw) beside them")


def ask_waves(args: argparse.Namespace) -> None:
    """``--waves``: the runs of this command record waveforms, as ``WAVES=1`` asks."""
    if getattr(args, "waves", False):
        os.environ["WAVES"] = "1"


def plot_path(args: argparse.Namespace) -> Path | None:
    """The checked ``--plot`` file (``None`` without ``--plot``); ``--force`` alone is refused."""
    from neurotile.output import check_output_file

    if args.plot is None:
        if args.force:
            raise UsageError("--force goes with --plot FILE.png")
        return None
    return check_output_file(args.plot, force=args.force, suffix=".png", flag="--plot")


def say(text: str, to_stderr: bool = False) -> None:
    print(text, file=sys.stderr if to_stderr else sys.stdout)


def check_rtl(block: Block, sim: str | None, neurons: int | None = None) -> None:
    """Refuse ``--sim`` for a block that cannot record its RTL, or not ``neurons`` neurons of
    it (``extras["record_neurons"]``, when the RTL has a fixed size), before anything runs."""
    if sim is None:
        return
    if block.extras.get("record") is None:
        raise UsageError(f"--sim: {block.name} has no RTL recording of a given stimulus")
    size = block.extras.get("record_neurons")
    if neurons is not None and size is not None and neurons != size:
        raise UsageError(f"--sim: the {block.name} RTL is {size} neuron"
                         f"{'' if size == 1 else 's'}; give --neurons {size}, not {neurons}")


def model_plot(block: Block, config: NeuronConfig, currents: np.ndarray, path: Path, *,
               sim: str | None, build_dir: str, quiet: bool) -> int:
    """Draw the float and integer model of ``config`` for ``currents`` (and the RTL's
    recording on ``sim``, ``block.extras["record"]``) into ``path``; return the exit status
    (1 when the RTL disagrees with the integer model)."""
    from neurotile.plots import codes_of, draw_model, model_picture

    rtl = None
    report: dict[str, Any] = {}
    if sim is not None:
        check_rtl(block, sim)
        try:
            rtl, report = block.extras["record"](config, codes_of(config, currents), sim=sim,
                                                 build_dir=Path(build_dir) / block.name)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{block.name}: {exc}") from None
    pic = model_picture(config, currents, rtl=rtl, rtl_label=f"RTL ({sim})")
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_model(pic, path)
    text = f"picture: {path}"
    if report.get("waves"):
        text += f" (waves: {report['waves']})"
    say(text, quiet)
    bad = len(pic.mismatches)
    if bad:
        say(f"neurotile: the RTL differs from the integer model at {bad} neuron-steps "
            "(red crosses in the picture)", True)
        return 1
    return 0


def run_plot(trace: Any, path: Path, title: str) -> None:
    """Draw a checked bulk run (:class:`~neurotile.testbench.population_bulk.RunTrace`)."""
    from neurotile.plots import draw_run, run_picture

    path.parent.mkdir(parents=True, exist_ok=True)
    draw_run(run_picture(trace, title=title), path)
    say(f"picture: {path}")
