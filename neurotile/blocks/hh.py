# SPDX-License-Identifier: Apache-2.0
"""Catalogue entry of the Hodgkin-Huxley neuron."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurotile.blocks import Block, Param, SimSummary, with_waves
from neurotile.neurons.hodgkin_huxley import TABLE_V_MAX, TABLE_V_MIN, HHIntParams

__all__ = ["BLOCK", "int_params", "simulate", "run_design", "run_bulk_design", "record"]

_STRUCTURAL = ("v_frac", "gate_frac", "dt_us", "table_bits", "mul_bits", "interp", "table_sig",
               "lean", "table_lo", "table_hi", "latch_state")


def int_params(params: dict[str, Any]) -> HHIntParams:
    """Validated :class:`HHIntParams` from command-line style parameters (unset ones default)."""
    from neurotile.rtl.hodgkin_huxley import hh_params

    return hh_params(**{k: params[k] for k in _STRUCTURAL if params.get(k) is not None})


def _top(p: HHIntParams) -> str:
    table = str(p.table_bits) if p.table_bits >= 0 else f"m{-p.table_bits}"
    interp = "_i" if p.interp else ""
    sig = f"_s{p.table_sig}" if p.table_sig else ""
    lean = "_l" if p.lean else ""
    span = ""
    if (p.table_lo, p.table_hi) != (TABLE_V_MIN, TABLE_V_MAX):
        span = f"_r{p.table_lo}_{p.table_hi}".replace("-", "m")
    latch = "_q" if p.latch_state else ""
    return (f"hh_neuron_v{p.v_frac}_g{p.gate_frac}_dt{p.dt_us}_t{table}{interp}{sig}{span}"
            f"_k{p.mul_bits}{lean}{latch}")


def _build(params: dict[str, Any]):
    from neurotile.rtl.hodgkin_huxley import HHNeuron

    p = int_params(params)
    return HHNeuron(**p.structural()), _top(p)


def run_design(p: HHIntParams, *, sim: str, steps: int, seed: int, build_dir: Path,
               **options: Any) -> dict[str, Any]:
    """Check the neuron ``p`` on ``sim`` (``icarus``, ``verilator`` or ``amaranth``).

    Returns the testbench report (``updates`` = Euler steps checked, ``spikes``, ``mismatches``,
    ``first_mismatches``, ``cycles``, ``seconds``) plus ``passed``. ``options`` go into the
    testbench configuration (``gap``, ``stall``, ``directed``, ``plant``, ``corrupt``,
    ``reset_rate``).
    """
    from neurotile.testbench.hodgkin_huxley import run_amaranth

    cfg = {"params": p.structural(), "steps": steps, "seed": seed, **options}
    if sim == "amaranth":
        report = run_amaranth(cfg)
        expected = 1 if options.get("plant") is not None else 0
        return report | {"passed": report["mismatches"] == expected}

    from neurotile.design import elaborate
    from neurotile.testbench.runner import check_simulator, run_checker

    check_simulator(sim)
    design = elaborate(BLOCK, p.structural())
    # Latch state is unknown until the first reset opens the latches (the reset input itself
    # is undriven at the first clock edge): unknown bits read as random ones, as at gate level,
    # so an unknown value reaching a checked output after reset is a mismatch.
    env = {"COCOTB_RESOLVE_X": "random"} if p.latch_state else None
    return run_checker(sim, verilog=design.verilog, top=design.top,
                       test_module="neurotile.testbench.hodgkin_huxley",
                       build_dir=build_dir, config=cfg, seed=seed, ports=design.ports,
                       extra_env=env)


def run_bulk_design(p: HHIntParams, *, sim: str, steps: int, seed: int, build_dir: Path,
                    **options: Any) -> dict[str, Any]:
    """As :func:`run_design` on ``icarus`` or ``verilator``, through the bulk path
    (:mod:`neurotile.testbench.hh_bulk`)."""
    from neurotile.design import elaborate
    from neurotile.testbench.hh_bulk import run_hh_bulk

    cfg = {"params": p.structural(), "steps": steps, "seed": seed, **options}
    design = elaborate(BLOCK, p.structural())
    report = run_hh_bulk(cfg, sim=sim, verilog=design.verilog, top=design.top,
                         ports=design.ports, build_dir=Path(build_dir) / "bulk")
    expected = 1 if options.get("plant") is not None else 0
    return report | {"passed": report["mismatches"] == expected}


def simulate(params: dict[str, Any], *, sim: str, steps: int, seed: int,
             build_dir: Path) -> SimSummary:
    """``neurotile simulate hh``: directed and random currents, every Euler step checked."""
    p = int_params(params)
    odds = {}
    for name in ("gap", "stall"):
        value = params.get(name, 0.1)
        if not isinstance(value, float) or not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1), not {value}")
        odds[name] = value
    run = run_bulk_design if params.get("bulk", True) and sim != "amaranth" else run_design
    report = run(p, sim=sim, steps=steps, seed=seed, build_dir=build_dir, **odds)
    mismatches = report["mismatches"]
    if not report["passed"] and mismatches == 0:
        mismatches = -1  # the simulation failed without reporting (see its log)
    detail = f"{steps * p.dt_us / 1000:g} ms of model time"
    if not report["passed"]:
        detail += f"; see {report.get('run_dir', build_dir)}"
    return SimSummary(sim, report["updates"], mismatches, report["spikes"],
                      report.get("seconds", 0.0), unit="neuron-updates",
                      detail=with_waves(detail, report))


def record(config: Any, codes: Any, *, sim: str, build_dir: Path) -> tuple[dict, dict]:
    """The RTL's outputs for the current codes ``codes`` (``[steps, 1]``) of the neuron
    ``config`` (an :class:`~neurotile.neurons.hodgkin_huxley.HHConfig` of one neuron), for
    ``neurotile model hh --plot --sim``: see
    :func:`~neurotile.testbench.hh_bulk.record_hh_bulk`."""
    from neurotile.design import elaborate
    from neurotile.testbench.hh_bulk import record_hh_bulk
    from neurotile.testbench.runner import check_simulator

    if config.neurons != 1:
        raise ValueError(f"the hh RTL is one neuron; give --neurons 1, not {config.neurons}")
    check_simulator(sim)
    p = config.int_params
    design = elaborate(BLOCK, p.structural())
    return record_hh_bulk(p, codes, sim=sim, verilog=design.verilog, top=design.top,
                          ports=design.ports, build_dir=Path(build_dir) / "bulk")


BLOCK = Block(
    name="hh",
    summary="Hodgkin-Huxley neuron: rate tables, forward Euler on one shared multiplier",
    params=(
        Param("v_frac", int, 10, "fraction bits of V (mV); V is 8 + v_frac bits (8..16)"),
        Param("gate_frac", int, 16, "fraction bits of gates m, h, n and rate tables (8..20)"),
        Param("dt_us", int, 25, "forward-Euler step in microseconds (1..100, gate-stable)"),
        Param("table_bits", int, 0, "rate-table entries per mV = 2**table_bits (-1..3; "
              "-2..3 with --interp 1)"),
        Param("mul_bits", int, 4, "multiplier bits per cycle (digit-serial; >= 18: one cycle)"),
        Param("interp", int, 0, "1: interpolate the rates linearly between table nodes on the "
              "multiplier (6 more products per step), 0: nearest entry"),
        Param("table_sig", int, 0, "round each table entry to this many significant bits "
              "(smaller ROM; 0: keep all bits)"),
        Param("lean", int, 0, "1: share the driving-force and accumulator adders and round "
              "inside the multiplier's adder (same results, less area)"),
        Param("table_lo", int, TABLE_V_MIN, "lower end of the rate tables in mV (-128..-40; "
              "V below it reads the first entry)"),
        Param("table_hi", int, TABLE_V_MAX, "upper end of the rate tables in mV (20..127; "
              "V at or above it reads the last entry)"),
        Param("latch_state", int, 0, "1: keep V, m, h, n in Sky130 latches instead of "
              "flip-flops (same results, less area; --interp 0 only)"),
    ),
    build=_build,
    simulate=simulate,
    sim_params=(
        Param("gap", float, 0.1, "probability that no current is offered on a cycle; with "
              "--bulk, also that a random idle wait follows a step"),
        Param("stall", float, 0.1, "probability that the output is not read on a cycle "
              "(back-pressure)"),
        Param("bulk", bool, True, "check whole runs at once, no Python per cycle (icarus, "
              "verilator); --no-bulk uses the cycle-level cocotb checker"),
    ),
    extras={"record": record, "record_neurons": 1},
)
