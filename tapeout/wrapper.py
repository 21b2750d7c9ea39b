# SPDX-License-Identifier: Apache-2.0
"""The ``tt_um_<name>`` top: a block and its host interface on TinyTapeout's eight ports."""

from __future__ import annotations

from typing import Any

from amaranth.hdl import ClockDomain, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from neurotile.tapeout.host import HostInterface

__all__ = ["TinyTapeoutTop", "TT_PORTS"]

#: The ports of every TinyTapeout top module: name -> (direction, width).
TT_PORTS: dict[str, tuple[str, int]] = {
    "ui_in": ("input", 8),
    "uo_out": ("output", 8),
    "uio_in": ("input", 8),
    "uio_out": ("output", 8),
    "uio_oe": ("output", 8),
    "ena": ("input", 1),
    "clk": ("input", 1),
    "rst_n": ("input", 1),
}


class TinyTapeoutTop(wiring.Component):
    """A block behind its :class:`~neurotile.tapeout.host.HostInterface`, as a TinyTapeout top.

    The ``sync`` clock domain is created here, clocked by ``clk`` and reset (synchronously)
    while ``rst_n`` is low, so the exported module has exactly TinyTapeout's eight ports and no
    others. ``ena`` is unused (TinyTapeout raises it while the design is selected).

    Parameters
    ----------
    adapter : TapeoutAdapter
        Describes the block: its register map, how to build it and how to wire it to the host.
    params : dict
        The block's parameters (all filled in).

    Members
    -------
    ui_in : In(8)
    uo_out : Out(8)
    uio_in : In(8)
    uio_out : Out(8)
    uio_oe : Out(8)
    ena : In(1)
    clk : In(1)
    rst_n : In(1)
    """

    def __init__(self, adapter: Any, params: dict[str, Any]) -> None:
        self.adapter = adapter
        self.params = dict(params)
        self.regmap = adapter.regmap(self.params)
        super().__init__({name: (In if d == "input" else Out)(w)
                          for name, (d, w) in TT_PORTS.items()})

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = sync = ClockDomain("sync")
        m.d.comb += [sync.clk.eq(self.clk), sync.rst.eq(~self.rst_n)]

        m.submodules.host = host = HostInterface(self.regmap)
        m.submodules.core = core = self.adapter.build_core(self.params)
        m.d.comb += [
            host.ui_in.eq(self.ui_in),
            host.uio_in.eq(self.uio_in),
            self.uo_out.eq(host.uo_out),
            self.uio_out.eq(host.uio_out),
            self.uio_oe.eq(host.uio_oe),
        ]
        self.adapter.connect(m, core, host, self.params)
        return m
