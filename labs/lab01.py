# SPDX-License-Identifier: Apache-2.0
"""Lab 01 checker: the student's fixed-point LIF step against the kit's integer model.

The student writes ``lif_step(u, i, *, width, threshold, k, reset, reset_delay) -> (u', spike)``
in ``lif.py``: one step of :class:`neurotile.neurons.lif.LIFIntParams` with the shift leak and no
refractory counter. Each criterion drives one family of vectors through the student's function
and through :meth:`LIFIntParams.step` and reports the first difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from neurotile.labs.grading import Criterion, Fail, Grader, Lab, Result, kit_json, \
    load_answers, load_module, need
from neurotile.neurons.lif import LIFIntParams

__all__ = ["LAB", "reference_step", "measured"]

CRITERIA = (
    Criterion("leak_floor", "the leak U - (U >> k) rounds toward minus infinity, also for "
              "negative U",
              "'>>' on a negative int already floors; int(u / 2**k) and round() do not"),
    Criterion("saturation", "the sum saturates to the width's range at both ends",
              "clamp once, after leak + input - reset, to -2**(width-1) .. 2**(width-1)-1; "
              "never wrap"),
    Criterion("strict_threshold", "a neuron fires only when v > threshold (v == threshold "
              "does not)", "snnTorch's Heaviside is H(x) = 1 for x > 0: use '>', not '>='"),
    Criterion("reset_subtract", "reset by subtraction, delayed as snnTorch's default "
              "(R = U > th from the previous membrane)",
              "with reset_delay the reset uses the membrane the step starts from, and "
              "subtracts threshold before the input is added"),
    Criterion("reset_zero", "reset to zero, delayed (the leaked membrane is dropped, the input "
              "kept)", "zero replaces the leaked membrane, not the sum: v = (0 if R else L) + I"),
    Criterion("same_step", "reset_delay=False: the reset follows the spike in the same step, "
              "both modes", "without the delay there is no R; after v > th the stored membrane "
              "is v - th (subtract) or 0 (zero)"),
    Criterion("answers", "answers.yaml: the spike counts you measured with neurotile model",
              "run the three commands in step 5 of the lab text and copy the spike counts"),
)

#: The runs step 5 of the lab asks for: answer key -> ``neurotile model`` arguments.
RUNS = {
    "spikes_float": ["model", "lif", "--float", "--current", "0.3", "--steps", "100"],
    "spikes_fixed_w8": ["model", "lif", "--current", "19", "--steps", "100"],
    "spikes_fixed_w5": ["model", "lif", "--width", "5", "--current", "2", "--steps", "100"],
}


def reference_step(u: int, i: int, *, width: int, threshold: int, k: int, reset: str,
                   reset_delay: bool) -> tuple[int, bool]:
    """The kit's answer for one neuron (what the hardware computes)."""
    c = LIFIntParams(neurons=1, width=width, input_width=width, leak="shift",
                     refractory_width=0, reset=reset, reset_delay=reset_delay)
    new, out = c.step({"membrane": np.array([u], np.int64)}, np.array([i], np.int64),
                      {"threshold": threshold, "decay": k, "refractory": 0})
    return int(new["membrane"][0]), bool(out["spike"][0])


def measured(key: str) -> int:
    """Spike count of run ``key`` of :data:`RUNS`, measured with ``neurotile model``."""
    out = kit_json(RUNS[key])
    return int(np.asarray(out["spikes"]).sum())


def _compare(fn, cases: Iterable[dict]) -> None:
    for case in cases:
        want = reference_step(**case)
        args = ", ".join(f"{k}={v!r}" for k, v in case.items())
        got = fn(**case)
        try:
            got_u, got_s = int(got[0]), bool(got[1])
        except Exception:
            raise Fail(f"lif_step({args}) returned {got!r}, not a (membrane, spike) "
                       "pair") from None
        if (got_u, got_s) != want:
            raise Fail(f"lif_step({args}) returned ({got_u}, {got_s}), the hardware gives "
                       f"({want[0]}, {want[1]})")


def _cases(width: int, *, us: Iterable[int], is_: Iterable[int], ths: Iterable[int],
           ks: Iterable[int] = (1, 2, 3), reset: str = "subtract",
           reset_delay: bool = True) -> list[dict]:
    return [dict(u=int(u), i=int(i), width=width, threshold=int(th), k=int(k), reset=reset,
                 reset_delay=reset_delay)
            for th in ths for k in ks for u in us for i in is_]


def _random(width: int, reset: str, reset_delay: bool, seed: int, n: int = 400) -> list[dict]:
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    return [dict(u=int(rng.integers(lo, hi + 1)), i=int(rng.integers(lo, hi + 1) // 4),
                 width=width, threshold=int(rng.integers(0, hi + 1)),
                 k=int(rng.integers(1, 4)), reset=reset, reset_delay=reset_delay)
            for _ in range(n)]


def check(folder: Path) -> list[Result]:
    g = Grader(CRITERIA)
    try:
        fn = load_module(folder, "lif.py").lif_step
    except AttributeError:
        g.fail_rest("lif.py defines no function lif_step")
        fn = None
    except Fail as exc:
        g.fail_rest(str(exc))
        fn = None
    if fn is not None:
        w = 8
        lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
        g.run("leak_floor", lambda: _compare(fn, _cases(w, us=range(lo, hi + 1), is_=(0,),
                                                        ths=(hi,))))
        # Negative membranes that are multiples of 2**3, so the leak is exact for every k
        # here and only the clamp is tested.
        edge = [lo, lo + 8, lo + 16, *range(hi - 5, hi + 1)]
        g.run("saturation", lambda: _compare(fn, _cases(w, us=edge, is_=(lo, lo + 1, hi - 1, hi),
                                                        ths=(hi,))
                                             + _cases(6, us=(-32, -24, 30, 31), is_=(-32, 31),
                                                      ths=(31,))))
        g.run("strict_threshold", lambda: _compare(
            fn, _cases(w, us=(0,), is_=range(0, 40), ths=(5, 20, 33))))
        g.run("reset_subtract", lambda: _compare(fn, _random(w, "subtract", True, 1)))
        g.run("reset_zero", lambda: _compare(fn, _random(w, "zero", True, 2)))
        g.run("same_step", lambda: _compare(fn, _random(w, "subtract", False, 3)
                                            + _random(w, "zero", False, 4)))

    def answers() -> None:
        a = load_answers(folder)
        wrong = []
        for key in RUNS:
            got, want = need(a, key, int), measured(key)
            if got != want:
                wrong.append(f"{key}: you wrote {got}, the kit counts {want}")
        if wrong:
            raise Fail("; ".join(wrong))

    g.run("answers", answers)
    return g.results()


LAB = Lab(1, "01_lif", "LIF in fixed point", ("lif.py", "answers.yaml"), CRITERIA, check)
