# SPDX-License-Identifier: Apache-2.0
"""Lab 02 checker: the student's Amaranth LIF datapath, bit-exact in a population.

The student's ``MyLIFDatapath`` (``datapath.py``) replaces the kit's datapath in a
:class:`~neurotile.rtl.population.Population`, which the kit's cycle checker
(:func:`~neurotile.testbench.check.check_population`, Amaranth's simulator) runs against the
integer reference model: the model's directed episodes (saturation both ways, the threshold
edge) and then seeded random stimulus with random gaps and stalls. One criterion per reset
mode, each on a population of four 8-bit neurons.
"""

from __future__ import annotations

from pathlib import Path

from neurotile.labs.grading import Criterion, Fail, Grader, Lab, Result, load_module
from neurotile.neurons.lif import LIFIntParams

__all__ = ["LAB", "CONFIGS"]

#: Criterion key -> (reset, reset_delay) of the population it is checked on.
CONFIGS = {
    "subtract_delayed": ("subtract", True),
    "zero_delayed": ("zero", True),
    "subtract_same_step": ("subtract", False),
    "zero_same_step": ("zero", False),
}

_MODE_HINT = ("the first mismatch names the step and the field; rerun that step with "
              "'neurotile model lif --reset {reset} --{delay} ...' and compare with your logic")

CRITERIA = (
    Criterion("builds", "MyLIFDatapath is a Datapath that elaborates and converts to Verilog in "
              "all four reset modes",
              "keep the class name, MODEL = LIFIntParams and the ports Datapath makes; "
              "use only Amaranth operators on signals (Mux, not Python 'if', for values)"),
    Criterion("subtract_delayed", "reset by subtraction, delayed (snnTorch's default): "
              "bit-exact over 200 steps", "R = u > th uses the membrane the step starts from; "
              "total = leaked + current - Mux(R, th, 0)"),
    Criterion("zero_delayed", "reset to zero, delayed: bit-exact over 200 steps",
              "zero replaces the leaked membrane, the input is still added: "
              "total = Mux(R, 0, leaked) + current"),
    Criterion("subtract_same_step", "reset by subtraction in the spike's step "
              "(reset_delay=False): bit-exact", "no R in the sum; store Mux(fire, v - th, v)"),
    Criterion("zero_same_step", "reset to zero in the spike's step (reset_delay=False): "
              "bit-exact", "no R in the sum; store Mux(fire, 0, v)"),
)

STEPS = 200
SEED = 2


def config(reset: str, reset_delay: bool) -> LIFIntParams:
    """The population a criterion is checked on."""
    return LIFIntParams(neurons=4, width=8, input_width=8, leak="shift", refractory_width=0,
                        reset=reset, reset_delay=reset_delay)


def _check_mode(cls: type, key: str, build_dir: Path) -> None:
    from neurotile.testbench.check import check_population

    reset, delay = CONFIGS[key]
    report = check_population(config(reset, delay), sim="amaranth", steps=STEPS, seed=SEED,
                              build_dir=build_dir, datapath=cls)
    if report["mismatches"]:
        m = report["first_mismatches"][0]
        raise Fail(f"{report['mismatches']} of {report['updates']} neuron-updates differ; "
                   f"first: step {m['step']} neuron {m['neuron']}: {m['field']} expected "
                   f"{m['expected']}, got {m['observed']}")


def _builds(cls: type) -> None:
    from neurotile.rtl.export import to_verilog
    from neurotile.rtl.population import Datapath

    if not (isinstance(cls, type) and issubclass(cls, Datapath)):
        raise Fail("MyLIFDatapath must be a class derived from "
                   "neurotile.rtl.population.Datapath")
    for reset, delay in CONFIGS.values():
        to_verilog(cls(config(reset, delay)), name="my_lif_datapath")


def check(folder: Path) -> list[Result]:
    g = Grader(CRITERIA)
    try:
        module = load_module(folder, "datapath.py")
        cls = getattr(module, "MyLIFDatapath", None)
        if cls is None:
            raise Fail("datapath.py defines no class MyLIFDatapath")
    except Fail as exc:
        g.fail_rest(str(exc))
        return g.results()
    if not g.run("builds", lambda: _builds(cls)):
        g.fail_rest("does not build (see 'builds')")
        return g.results()
    for key in CONFIGS:
        g.run(key, lambda key=key: _check_mode(cls, key, folder / "build"))
    return g.results()


LAB = Lab(2, "02_datapath", "A neuron datapath in Amaranth", ("datapath.py",), CRITERIA, check)
