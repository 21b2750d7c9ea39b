# SPDX-License-Identifier: Apache-2.0
"""One spelling per option: a block's options are the same flags, with the same meaning, in
``generate``, ``simulate``, ``tapeout`` and ``flow``, and no concept is spelled two ways.

The test walks the block catalogue and the command line's own parsers, so a block or an option
added tomorrow is held to it the day it appears.
"""

from __future__ import annotations

import argparse

import pytest

from neurotile.blocks import blocks
from neurotile.cli import build_parser
from neurotile.tapeout.adapters import COMMON_PARAMS, adapters

COMMANDS = ("generate", "simulate", "tapeout", "flow")

#: Options only a TinyTapeout project has, with the reason; anything else a tapeout adapter
#: offers must be a block option of ``generate`` too.
TAPEOUT_ONLY = {
    "spike-vector": "a register of the host interface",
    "gate-readback": "a register of the host interface",
    # The spiking layer's run-time settings exist as register reset values only: its generator
    # and checker drive them as ports, and ``generate`` has no start values to give.
    "spiking-layer:threshold": "register reset value",
    "spiking-layer:decay": "register reset value",
    "spiking-layer:refractory": "register reset value",
    # The denoiser's window is a run-time port; the checkers draw it per run.
    "denoiser:window": "register reset value",
}

#: Spellings that must not appear as separate options: the second is the first's concept.
SYNONYMS = (
    ("--work-dir", "--build-dir"),
    ("--output", "--out"),
    ("--seed", "--random-seed"),
    ("--neurons", "--size"),
)


def _sub(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Canonical long flag (the first one declared) -> action; ``--no-x`` and help left out."""
    out = {}
    for a in parser._actions:
        longs = [o for o in a.option_strings if o.startswith("--") and not o.startswith("--no-")]
        if longs and a.dest != "help":
            out[longs[0]] = a
    return out


@pytest.fixture(scope="module")
def parsers() -> dict[str, dict[str, dict[str, argparse.Action]]]:
    """command -> block -> flag -> action."""
    commands = _sub(build_parser())
    return {c: {b: _options(p) for b, p in _sub(commands[c]).items()} for c in COMMANDS}


def test_every_block_option_is_in_every_command(parsers):
    catalogue = blocks()
    tapeout = adapters()
    for name, block in catalogue.items():
        flags = {p.flag for p in block.params}
        where = ["generate"]
        if block.simulate is not None:
            where.append("simulate")
        if name in tapeout:
            where += ["tapeout", "flow"]
        for command in where:
            missing = flags - set(parsers[command][name])
            assert not missing, f"{command} {name} lacks {sorted(missing)}"
        if name in tapeout:
            common = {p.flag for p in COMMON_PARAMS}
            own = {p.flag for p in tapeout[name].params} - common
            extra = {f for f in own - flags
                     if f[2:] not in TAPEOUT_ONLY and f"{name}:{f[2:]}" not in TAPEOUT_ONLY}
            assert not extra, f"tapeout {name} has {sorted(extra)} that generate {name} lacks"


def test_one_flag_one_meaning(parsers):
    """A flag takes the same kind of value (type, choices, flag or value) for a block in every
    command."""
    for name in blocks():
        seen: dict[str, tuple[str, argparse.Action]] = {}
        for command in COMMANDS:
            for flag, action in parsers[command].get(name, {}).items():
                if flag not in seen:
                    seen[flag] = (command, action)
                    continue
                first, other = seen[flag]
                same = ((other.type, other.choices, other.nargs) ==
                        (action.type, action.choices, action.nargs))
                assert same, f"{flag} of {name} differs between {first} and {command}"


def test_no_concept_spelled_two_ways(parsers):
    every = {(c, b, f) for c, per in parsers.items() for b, opts in per.items() for f in opts}
    flags = {f for _, _, f in every}
    for canonical, other in SYNONYMS:
        users = sorted({(c, b) for c, b, f in every if f == other})
        assert not (canonical in flags and users), \
            f"{other} spells {canonical} ({', '.join(f'{c} {b}' for c, b in users[:3])})"
    # Snake and kebab case never mix: every flag is lower-case words joined by '-'.
    bad = sorted(f for f in flags if "_" in f or f != f.lower())
    assert not bad, bad


@pytest.mark.parametrize("block", ["lif", "cuba-lif", "li"])
def test_beta_is_taken_everywhere_a_multiply_leak_is(parsers, block):
    for command in COMMANDS:
        assert "--beta" in parsers[command][block], f"{command} {block} lacks --beta"
    assert "--alpha" in parsers["generate"]["cuba-lif"]


def test_beta_and_alpha_set_the_multiply_leaks():
    from neurotile.blocks import get_block

    block = get_block("cuba-lif")
    config, _ = block.extras["config"]({"alpha": 0.5, "beta": 0.9, "beta_bits": 8})
    assert (config.leak, config.syn_decay, config.decay) == ("multiply", 128, 230)
    li, _ = get_block("li").extras["config"]({"beta": 0.75})
    assert (li.leak, li.decay) == ("multiply", 192)
    with pytest.raises(ValueError, match=r"^give --alpha \(a float\) or --syn-decay \(the "
                                         r"hardware code\), not both$"):
        block.extras["config"]({"alpha": 0.5, "syn_decay": 3})
    with pytest.raises(ValueError, match=r"^--beta sets the multiply leak; drop --leak none$"):
        get_block("li").extras["config"]({"beta": 0.5, "leak": "none"})
