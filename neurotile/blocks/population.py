# SPDX-License-Identifier: Apache-2.0
"""The block of any neuron model, derived from its declaration: nothing listed twice.

:func:`neuron_block` turns a :class:`~neurotile.neurons.spec.NeuronConfig` subclass into a
:class:`~neurotile.blocks.Block`: its structural parameters and run-time settings become the
command-line options, the generator is the shared :class:`~neurotile.rtl.population.Population`
around the model's datapath, and ``simulate`` is the shared checker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from neurotile.blocks import Block, SimSummary, with_waves
from neurotile.neurons.spec import NeuronConfig, Param, Setting
from neurotile.rtl.population import STORAGES, Population, datapath_for, top_name
from neurotile.testbench.check import check_population, record_population

__all__ = ["STORAGE", "SIM_PARAMS", "setting_param", "neuron_block", "float_leaks"]

STORAGE = Param("storage", str, "memory", "state storage: memory (register file, fully "
                "synchronous), ring (clock-gated flip-flop ring, about 40 percent smaller) or latch "
                "(Sky130 latches and clock gates; docs/latches.md)", choices=STORAGES)

SIM_PARAMS = (
    Param("gap", float, 0.2, "probability an input is not offered on a cycle"),
    Param("stall", float, 0.2, "probability the output is not read on a cycle"),
    Param("bulk", bool, True, "check whole runs at once, no Python per cycle (icarus, "
          "verilator); --no-bulk uses the cycle-level cocotb checker"),
)


def setting_param(s: Setting) -> Param:
    """The command-line option of a run-time setting (unset: the model's default)."""
    unit = f", {s.unit}" if s.unit else ""
    return Param(s.name, int, None, f"{s.help} (run-time{unit}; default derived from the "
                 "structure)")


Prepare = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]

#: The float decay factors snnTorch names, and what each says in words.
FLOAT_LEAKS = {
    "beta": "membrane decay per step",
    "alpha": "synaptic current decay per step",
}


def float_leaks(model: type[NeuronConfig], **settings: str) -> tuple[tuple[Param, ...], Prepare]:
    """Options giving a multiply leak as snnTorch's float factor, and how they become the model's.

    ``settings`` maps each float option (``beta``, ``alpha``) to the run-time setting it sets
    (``decay``, ``syn_decay``): ``--beta B`` selects ``--leak multiply`` and sets
    ``decay = round(B * 2**beta_bits)``. The same options exist for every model with a multiply
    leak, so ``generate``, ``simulate``, ``tapeout`` and ``flow`` spell them alike.
    """
    bits_default = next(p.default for p in model.params() if p.name == "beta_bits")
    extra = tuple(Param(name, float, None, f"multiply leak as snnTorch's {name} ("
                        f"{FLOAT_LEAKS[name]}) in (0, 1), rounded to beta_bits (selects --leak "
                        "multiply)", metavar=name[0].upper()) for name in settings)

    def prepare(params: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        given = {name: params[name] for name in settings if params.get(name) is not None}
        if not given:
            return kwargs
        out = dict(kwargs)
        bits = int(kwargs.get("beta_bits", bits_default))
        for name, value in given.items():
            setting = settings[name]
            flag = "--" + setting.replace("_", "-")
            if kwargs.get(setting) is not None:
                raise ValueError(f"give --{name} (a float) or {flag} (the hardware code), "
                                 "not both")
            leak = kwargs.get("leak")
            if leak not in (None, "multiply"):
                tail = f" or use {flag} K" if leak == "shift" else ""
                raise ValueError(f"--{name} sets the multiply leak; drop --leak {leak}{tail}")
            value = float(value)
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be in the open interval (0, 1), not {value}")
            code = int(round(value * (1 << bits)))
            if 1 <= bits <= 16 and not 1 <= code < (1 << bits):
                step = 1 / (1 << bits)
                raise ValueError(
                    f"{name} {value:g} rounds to {code}/2**{bits} with beta_bits {bits}, "
                    f"outside (0, 1); with {bits} bits {name} must lie in [{step / 2:.6g}, "
                    f"{1 - step / 2:.6g}); give more beta_bits or another {name}")
            out[setting] = code
        return out | {"leak": "multiply"}

    return extra, prepare


def neuron_block(model: type[NeuronConfig], *, summary: str | None = None,
                 extra: tuple[Param, ...] = (), prepare: Prepare | None = None) -> Block:
    """The block of ``model``.

    ``extra`` adds options of the block's own; ``prepare(params, kwargs)`` turns them into
    keyword arguments of the model (``kwargs`` already holds the declared ones that were given).
    """
    names = [p.name for p in model.params()] + [s.name for s in model.SETTINGS]

    def config_of(params: dict[str, Any]) -> tuple[NeuronConfig, str]:
        kwargs = {k: params[k] for k in names if params.get(k) is not None}
        if prepare is not None:
            kwargs = prepare(params, kwargs)
        return model(**kwargs), params.get("storage") or "memory"

    def build(params: dict[str, Any]) -> tuple[Population, str]:
        config, storage = config_of(params)
        dut = Population(config, datapath=datapath_for(model.NAME), storage=storage)
        return dut, top_name(config, storage)

    def simulate(params: dict[str, Any], *, sim: str, steps: int, seed: int,
                 build_dir: Path, trace: bool = False) -> SimSummary:
        config, storage = config_of(params)
        # Both paths record waveforms when WAVES=1 asks (testbench.waves).
        bulk = bool(params.get("bulk", True)) and sim != "amaranth"
        report = check_population(
            config, sim=sim, steps=steps, seed=seed, build_dir=build_dir, storage=storage,
            bulk=bulk, trace=trace and bulk, gap=params.get("gap", 0.2),
            stall=params.get("stall", 0.2))
        mismatches = report["mismatches"]
        if not report["passed"] and mismatches == 0:
            mismatches = -1  # the simulation failed without reporting (see its log)
        detail = "" if report["passed"] else f"see {report.get('run_dir', build_dir)}"
        detail = with_waves(detail, report)
        return SimSummary(sim, report["updates"], mismatches, report["spikes"],
                          report.get("seconds", 0.0), detail=detail, trace=report.get("trace"))

    def record(config: NeuronConfig, codes: Any, *, sim: str, build_dir: Path
               ) -> tuple[dict, dict]:
        """The RTL's outputs for integer ``codes`` (``neurotile model --plot --sim``)."""
        return record_population(config, codes, sim=sim, build_dir=build_dir)

    params = tuple(model.params()) + tuple(setting_param(s) for s in model.SETTINGS) + \
        extra + (STORAGE,)
    return Block(name=model.NAME, summary=summary or f"population of {model.TITLE} neurons "
                 "sharing one datapath", params=params, build=build, simulate=simulate,
                 sim_params=SIM_PARAMS, model=model,
                 extras={"config": config_of, "extra": extra, "prepare": prepare,
                         "trace": True, "record": record})
