# SPDX-License-Identifier: Apache-2.0
"""Lab 04 checker: Hodgkin-Huxley in fixed point, dt and fraction bits against accuracy.

Every number in the student's ``answers.yaml`` is measured again with ``neurotile model hh``
(the float64 RK4 reference and the integer model, bit-exact with the hardware) and compared
with a tolerance. Runs are cached in the process, so a checker run measures each one once.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from neurotile.labs.grading import Criterion, Fail, Grader, Lab, Result, close, kit_json, \
    load_answers, need
from neurotile.neurons.hodgkin_huxley import HHConfig

__all__ = ["LAB", "spike_times", "max_error", "state_bits"]

DURATION_MS = 100
CURRENT = 10.0
ONSET_SPIKES = 3    # "fires repetitively": this many spikes in DURATION_MS
MAX_CHOSEN_ERROR_MS = 0.25

CRITERIA = (
    Criterion("float_spikes", "spikes of the float reference at 10 uA/cm^2 in 100 ms",
              "neurotile model hh --float --current 10 --duration-ms 100; count the spikes"),
    Criterion("default_error", "the default design: spike count and the largest spike-time "
              "error against the float reference (ms)", "pair the i-th fixed spike with the "
              "i-th float spike (--json gives spike_times_ms) and take max |difference|"),
    Criterion("small_design", "v_frac 8, gate_frac 12: spike count and largest spike-time "
              "error (ms)", "run with --v-frac 8 --gate-frac 12; the error is large, not a typo"),
    Criterion("onset", "the smallest current (0.5 uA/cm^2 grid) at which the default design "
              "fires 3 or more spikes in 100 ms", "sweep --current 5.0, 5.5, 6.0, ... and "
              "watch the count jump from one or two spikes to repetitive firing"),
    Criterion("chosen", "your design: fewer state bits than the default, all float spikes kept, "
              "every spike within 0.25 ms", "state bits are (8 + v_frac) + 3 * gate_frac; try "
              "giving up fraction bits of V first and watch the error"),
)


@lru_cache(maxsize=None)
def spike_times(current: float, *options: str) -> tuple[float, ...]:
    """Spike times (ms) of ``neurotile model hh OPTIONS --current C --duration-ms 100``."""
    out = kit_json(["model", "hh", *options, "--current", f"{current:g}",
                    "--duration-ms", str(DURATION_MS)])
    return tuple(out["spike_times_ms"][0])


def max_error(times: tuple[float, ...]) -> float:
    """Largest ``|fixed - float|`` over paired spikes; ``inf`` when the counts differ."""
    ref = spike_times(CURRENT, "--float")
    if len(times) != len(ref):
        return float("inf")
    return float(np.max(np.abs(np.subtract(times, ref)))) if ref else 0.0


def state_bits(v_frac: int, gate_frac: int) -> int:
    """Bits of state per neuron: V (8 integer + ``v_frac``) and three gates."""
    return 8 + v_frac + 3 * gate_frac


def _design(answers: dict, key: str, options: tuple[str, ...]) -> None:
    t = spike_times(CURRENT, *options)
    got = need(answers, f"{key}_spikes", int)
    if got != len(t):
        raise Fail(f"{key}_spikes: you wrote {got}, the kit counts {len(t)}")
    close(f"{key}_error_ms", need(answers, f"{key}_error_ms"), max_error(t), abs_=0.01)


def _onset(answers: dict) -> None:
    got = need(answers, "onset_current")
    if abs(got * 2 - round(got * 2)) > 1e-9:
        raise Fail(f"onset_current: {got:g} is not on the 0.5 uA/cm^2 grid")
    at, below = len(spike_times(got)), len(spike_times(got - 0.5))
    if at < ONSET_SPIKES or below >= ONSET_SPIKES:
        raise Fail(f"onset_current: {got:g} gives {at} spikes and {got - 0.5:g} gives {below}; "
                   f"the onset is where the count first reaches {ONSET_SPIKES}")


def _chosen(answers: dict) -> None:
    entry = answers.get("chosen")
    if not isinstance(entry, dict) or any(entry.get(k) is None for k in
                                          ("v_frac", "gate_frac", "dt_us")):
        raise Fail("answers.yaml: chosen needs v_frac, gate_frac and dt_us")
    try:
        c = HHConfig(neurons=1, **{k: entry[k] for k in ("v_frac", "gate_frac", "dt_us")})
    except (TypeError, ValueError) as exc:
        raise Fail(f"chosen: {exc}") from None
    default = HHConfig(neurons=1)
    bits, limit = state_bits(c.v_frac, c.gate_frac), state_bits(default.v_frac,
                                                                 default.gate_frac)
    if bits >= limit:
        raise Fail(f"chosen has {bits} state bits, the default {limit}: use fewer")
    t = spike_times(CURRENT, "--v-frac", str(c.v_frac), "--gate-frac", str(c.gate_frac),
                    "--dt-us", str(c.dt_us))
    err = max_error(t)
    if err > MAX_CHOSEN_ERROR_MS:
        what = "a different spike count" if err == float("inf") else f"an error of {err:.3f} ms"
        raise Fail(f"v_frac {c.v_frac}, gate_frac {c.gate_frac}, dt_us {c.dt_us}: {len(t)} "
                   f"spikes, {what}")


def check(folder: Path) -> list[Result]:
    g = Grader(CRITERIA)
    try:
        a = load_answers(folder)
    except Fail as exc:
        g.fail_rest(str(exc))
        return g.results()

    def float_spikes() -> None:
        got, want = need(a, "float_spikes", int), len(spike_times(CURRENT, "--float"))
        if got != want:
            raise Fail(f"float_spikes: you wrote {got}, the kit counts {want}")

    g.run("float_spikes", float_spikes)
    g.run("default_error", lambda: _design(a, "default", ()))
    g.run("small_design", lambda: _design(a, "small", ("--v-frac", "8", "--gate-frac", "12")))
    g.run("onset", lambda: _onset(a))
    g.run("chosen", lambda: _chosen(a))
    return g.results()


LAB = Lab(4, "04_hh", "Hodgkin-Huxley in fixed point", ("answers.yaml",), CRITERIA, check)
