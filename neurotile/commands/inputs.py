# SPDX-License-Identifier: Apache-2.0
"""Checks every subcommand applies to its inputs before it runs or writes anything.

Each check raises :class:`~neurotile.errors.UsageError` with one line naming the option, the
value and the allowed range. The checks are generic (by option kind, never by block): seeds,
probabilities, finite numbers, and caps on the work one run may ask for, so a typo such as
``--steps 1000000000`` is refused at once rather than ending in a ``MemoryError``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable
from typing import Any

from neurotile.blocks import Param
from neurotile.errors import UsageError

__all__ = ["MAX_SEED", "MAX_UPDATES", "MAX_MODEL_MS", "PROBABILITIES", "check_seed",
           "check_probability", "check_finite", "check_params", "check_steps", "per_step",
           "check_duration_ms"]

#: Seeds go to the simulators as 32-bit plusargs.
MAX_SEED = 2**32 - 1

#: Largest number of outputs (steps x neurons or outputs per step) one simulation checks. Stimulus
#: and expected outputs are held in memory, about 100 bytes per update; this keeps a run within
#: a few GB and under an hour on Icarus.
MAX_UPDATES = 20_000_000

#: Longest model time ``neurotile model`` runs, in milliseconds (10^6 float steps of 0.01 ms).
MAX_MODEL_MS = 10_000.0

#: Simulation options that are probabilities of a cycle being skipped: allowed in [0, 1).
PROBABILITIES = ("gap", "stall")


def _flag(name: str) -> str:
    return name if name.startswith("-") else "--" + name.replace("_", "-")


def check_seed(seed: Any, flag: str = "--seed") -> int:
    """``seed`` as an int in ``0..MAX_SEED``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise UsageError(f"{flag} must be an integer from 0 to {MAX_SEED}, not {seed}")
    return seed


def check_finite(value: float, flag: str) -> float:
    """``value`` when it is a finite number (not nan, not inf)."""
    if not math.isfinite(value):
        raise UsageError(f"{flag} must be a finite number, not {value}")
    return value


def check_probability(value: float, flag: str) -> float:
    """``value`` when it is a probability in [0, 1) (1 would never offer or read a value)."""
    check_finite(value, flag)
    if not 0.0 <= value < 1.0:
        raise UsageError(f"{flag} is a probability per cycle and must be in [0, 1), not {value:g} "
                         "(1 would stop the stream)")
    return value


def check_params(args: argparse.Namespace, params: Iterable[Param]) -> None:
    """Check the generic properties of the given options: finite floats, probabilities, seeds."""
    for p in params:
        value = getattr(args, p.name, None)
        if value is None:
            continue
        if p.type is float:
            check_finite(value, p.flag)
            if p.name in PROBABILITIES:
                check_probability(value, p.flag)
        if p.name == "seed":
            check_seed(value, p.flag)


def per_step(params: dict[str, Any]) -> int:
    """Outputs checked per timestep: the block's ``neurons`` or ``outputs`` (else 1)."""
    for key in ("neurons", "outputs"):
        value = params.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 1


def check_steps(steps: int, flag: str, params: dict[str, Any] | None = None) -> int:
    """``steps`` when it is at least 1 and the run stays within :data:`MAX_UPDATES`."""
    if steps < 1:
        raise UsageError(f"{flag} must be at least 1, not {steps}")
    width = per_step(params or {})
    if steps * width > MAX_UPDATES:
        most = MAX_UPDATES // width
        per = f" with {width} outputs per step" if width > 1 else ""
        raise UsageError(f"{flag} {steps} is too long for one run: at most {most:,} steps{per} "
                         f"({MAX_UPDATES:,} checked outputs); split it into several seeds")
    return steps


def check_duration_ms(value: float, flag: str = "--duration-ms") -> float:
    """A model duration in ms: positive, finite, at most :data:`MAX_MODEL_MS`."""
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{flag} must be a positive number, not {value:g}")
    if value > MAX_MODEL_MS:
        raise UsageError(f"{flag} {value:g} is too long: at most {MAX_MODEL_MS:,.0f} ms of model "
                         "time per run")
    return value
