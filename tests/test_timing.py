# SPDX-License-Identifier: Apache-2.0
"""The timing sanity check: logic depth in cells against the clock, on small netlists whose
worst path is known by construction, and on synthesised populations of each storage kind."""

from __future__ import annotations

import json

import pytest

from neurotile.errors import UsageError
from neurotile.flows.timing import check_timing, timing_message

H = "sky130_fd_sc_hd__"


def _netlist(tmp_path, cells: list[tuple[str, dict[str, int]]], outputs=("out",)):
    """A Yosys JSON netlist: port ``clk`` is bit 2, ``din`` bit 3, outputs follow; nets are
    numbered by the caller."""
    ports = {"clk": {"direction": "input", "bits": [2]}, "din": {"direction": "input",
                                                                 "bits": [3]}}
    for i, name in enumerate(outputs):
        ports[name] = {"direction": "output", "bits": [90 + i]}
    module = {"ports": ports, "netnames": {f"n{b}": {"bits": [b], "hide_name": 0}
                                           for b in range(2, 100)},
              "cells": {f"c{i}": {"type": H + t, "connections": {p: [b] for p, b in pins.items()}}
                        for i, (t, pins) in enumerate(cells)}}
    path = tmp_path / "netlist.json"
    path.write_text(json.dumps({"modules": {"top": module}}))
    return path


def _chain(first_clock: int, n: int = 3) -> list[tuple[str, dict[str, int]]]:
    """Flip-flop (clocked by net ``first_clock``) -> n inverters -> flip-flop on clk."""
    cells = [("dfxtp_1", {"CLK": first_clock, "D": 3, "Q": 10})]
    cells += [("inv_1", {"A": 10 + i, "Y": 11 + i}) for i in range(n)]
    cells += [("dfxtp_1", {"CLK": 2, "D": 10 + n, "Q": 90})]
    return cells


def test_register_to_register_chain(tmp_path):
    check = check_timing(_netlist(tmp_path, _chain(2)), top="top")
    # Launching flip-flop, three inverters, set-up of the capturing one.
    assert (check.cells, check.budget_ns, check.half_period) == (5, 20.0, False)
    assert check.fits and check.max_cells == 40
    assert check.endpoint == "D of flip-flop n90"
    assert "fits; ends at D of flip-flop n90" in timing_message(check)


def test_too_long_for_the_clock_is_reported(tmp_path):
    check = check_timing(_netlist(tmp_path, _chain(2)), top="top", clock_hz=500_000_000)
    assert check.budget_ns == 2.0 and check.delay_ns == 2.5 and not check.fits
    assert "does NOT fit" in timing_message(check)


def test_opposite_edges_get_half_a_period(tmp_path):
    cells = [("clkinv_1", {"A": 2, "Y": 5})] + _chain(5)
    check = check_timing(_netlist(tmp_path, cells), top="top")
    assert (check.cells, check.budget_ns, check.half_period) == (5, 10.0, True)


def test_latch_behind_a_clock_gate(tmp_path):
    cells = [
        ("dfxtp_1", {"CLK": 2, "D": 3, "Q": 20}),                 # write enable register
        ("dfxtp_1", {"CLK": 2, "D": 3, "Q": 21}),                 # write data register
        ("dlclkp_1", {"CLK": 2, "GATE": 20, "GCLK": 22}),
        ("dlxtp_1", {"D": 21, "GATE": 22, "Q": 23}),
        ("inv_1", {"A": 23, "Y": 24}),
        ("inv_1", {"A": 24, "Y": 25}),
        ("dfxtp_1", {"CLK": 2, "D": 25, "Q": 90}),
    ]
    check = check_timing(_netlist(tmp_path, cells), top="top")
    # The least slack at 50 MHz: the data register into the latch (register, set-up), which
    # must arrive before the latch closes at the falling edge.
    assert (check.cells, check.half_period, check.endpoint) == (2, True, "D of latch n23")
    # The message also names the deepest whole-period path: data register, latch, two
    # inverters, set-up.
    assert check.deepest == 5
    assert "ends at D of latch n23; the longest whole-period path is 5 cells" in \
        timing_message(check)
    # At 500 MHz that path just fits (1 ns of 1 ns) and the full-period one through the open
    # latch does not: data register, latch, two inverters, set-up.
    fast = check_timing(_netlist(tmp_path, cells), top="top", clock_hz=500_000_000)
    assert (fast.cells, fast.half_period, fast.fits) == (5, False, False)
    assert fast.endpoint == "D of flip-flop n90"


def test_errors(tmp_path):
    path = _netlist(tmp_path, _chain(2))
    with pytest.raises(ValueError, match=r"^Cell delay must be positive, not 0$"):
        check_timing(path, top="top", cell_delay_ns=0)
    with pytest.raises(UsageError, match=r"has no module 'other'$"):
        check_timing(path, top="other")
    with pytest.raises(UsageError, match=r"^clock must be a positive frequency for a timing "
                                         r"check, not 0$"):
        check_timing(path, top="top", clock_hz=0)


@pytest.mark.flows
def test_storage_kinds_on_synthesised_populations(build_root):
    """Every storage gives the datapath the full period (the ring's head register is launched at
    the rising edge; its only half-period paths are wires between the ring and its registers)."""
    from neurotile.flows.synth import synthesize
    from neurotile.rtl.export import to_verilog
    from neurotile.rtl.lif import LIFPopulation

    found = {}
    for storage in ("memory", "ring", "latch"):
        work = build_root / "timing" / storage
        work.mkdir(parents=True, exist_ok=True)
        (work / "lif.v").write_text(to_verilog(LIFPopulation(neurons=4, storage=storage),
                                               name="lif"))
        found[storage] = synthesize([work / "lif.v"], top="lif", work_dir=work / "synth").timing()
    assert not found["memory"].half_period and not found["latch"].half_period
    assert all(10 < found[s].cells < 40 for s in ("memory", "latch"))
    ring = found["ring"]
    # The least slack is the datapath against the full period, or a wire between the ring and
    # its registers (launch and set-up, no logic) against half of it.
    assert (ring.half_period and ring.cells <= 3) or \
        (not ring.half_period and 10 < ring.cells < 40), ring
    assert all(10 < found[s].deepest < 40 for s in found), found
