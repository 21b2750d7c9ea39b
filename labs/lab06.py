# SPDX-License-Identifier: Apache-2.0
"""Lab 06 checker: Izhikevich firing patterns from the student's a, b, c, d.

For each pattern the student gives ``a, b, c, d`` (real units) in ``answers.yaml``. The checker
rounds them to the codes of the default hardware (:meth:`IzhikevichIntParams.with_preset`) and
runs the integer model, bit-exact with the hardware, for 300 ms at a constant 10 mV/ms from
rest, as ``neurotile model izhikevich --current 10 --duration-ms 300`` does. The spike train is
then judged against the pattern's definition (:data:`PATTERNS`), stated in the lab text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from neurotile.labs.grading import Criterion, Fail, Grader, Lab, Result, load_answers
from neurotile.neurons.izhikevich import IzhikevichIntParams, IzhikevichParams
from neurotile.neurons.spec import run_model

__all__ = ["LAB", "spike_times", "bursts"]

CURRENT = 10.0       # mV/ms
DURATION_MS = 300.0
SHORT_MS = 8.0       # an inter-spike interval inside a burst
LONG_MS = 25.0       # a gap between bursts


def spike_times(p: IzhikevichParams) -> np.ndarray:
    """Spike times (ms, end of the firing step) of the default hardware with ``p``."""
    q = IzhikevichIntParams(neurons=1).with_preset(p)
    steps = int(round(DURATION_MS / q.dt_ms))
    codes = q.current_code(np.full(steps, CURRENT))
    out, _ = run_model(q, codes[:, None])
    return q.dt_ms * (np.flatnonzero(out["spike"][:, 0]) + 1)


def bursts(t: np.ndarray) -> list[int]:
    """Sizes of the groups of spikes separated by gaps longer than :data:`LONG_MS`."""
    if len(t) == 0:
        return []
    cuts = np.flatnonzero(np.diff(t) > LONG_MS)
    edges = [0, *(cuts + 1), len(t)]
    return [int(b - a) for a, b in zip(edges, edges[1:])]


def _rs(t: np.ndarray) -> str | None:
    isi = np.diff(t)
    if not 4 <= len(t) <= 12:
        return f"{len(t)} spikes, want 4 to 12"
    if isi.min() < SHORT_MS:
        return f"an interval of {isi.min():g} ms is a burst (< {SHORT_MS:g} ms)"
    if isi[-1] < 1.5 * isi[0]:
        return f"last interval {isi[-1]:g} ms is not 1.5 x the first ({isi[0]:g} ms)"
    return None


def _fs(t: np.ndarray) -> str | None:
    if len(t) < 25:
        return f"{len(t)} spikes, want 25 or more"
    if np.diff(t).max() >= 12.0:
        return f"an interval of {np.diff(t).max():g} ms, want all below 12 ms"
    return None


def _ch(t: np.ndarray) -> str | None:
    sizes = bursts(t)
    full = [s for s in sizes if s >= 3]
    if len(full) < 3 or len(full) != len(sizes):
        return f"groups of {sizes} spikes, want 3 or more groups, each of 3 or more spikes"
    return None


def _ib(t: np.ndarray) -> str | None:
    isi = np.diff(t)
    if len(t) < 6:
        return f"{len(t)} spikes, want 6 or more"
    if isi[0] >= SHORT_MS:
        return f"first interval {isi[0]:g} ms, want an initial burst (< {SHORT_MS:g} ms)"
    first = bursts(t)[0]
    rest = isi[first - 1:]
    if first > 4 or len(rest) < 4 or rest.min() <= LONG_MS:
        return (f"an initial burst of {first} spikes then intervals {np.round(rest, 1).tolist()}"
                f" ms; want a burst of 2-4 spikes then 4 or more single spikes > {LONG_MS:g} ms"
                " apart")
    return None


def _slow(t: np.ndarray) -> str | None:
    if not 2 <= len(t) <= 5:
        return f"{len(t)} spikes, want 2 to 5"
    if np.diff(t).min() < SHORT_MS:
        return "it bursts"
    return None


#: Pattern key in answers.yaml -> (title, judge returning None or what is wrong).
PATTERNS: dict[str, tuple[str, Callable[[np.ndarray], str | None]]] = {
    "rs": ("regular spiking: 4-12 spikes, no interval under 8 ms, last interval >= 1.5 x the "
           "first", _rs),
    "fs": ("fast spiking: 25 or more spikes, every interval under 12 ms", _fs),
    "ch": ("chattering: 3 or more bursts of 3 or more spikes, bursts > 25 ms apart", _ch),
    "ib": ("intrinsically bursting: one burst of 2-4 spikes, then 4 or more single spikes "
           "> 25 ms apart", _ib),
    "slow": ("strongly adapting: 2-5 spikes, no burst", _slow),
}

_HINTS = {
    "rs": "start from a = 0.02, b = 0.2 and change d: it sets how much each spike slows the next",
    "fs": "a larger a lets u recover quickly, so adaptation fades between spikes",
    "ch": "a high reset c (closer to threshold) makes v fire again at once after a spike",
    "ib": "a reset c between rs's and ch's with a moderate d bursts once, then u stops bursts",
    "slow": "a large d: every spike adds much recovery current u",
}

CRITERIA = tuple(Criterion(key, title, _HINTS[key]) for key, (title, _) in PATTERNS.items())


def _params(answers: dict, key: str) -> IzhikevichParams:
    entry = answers.get(key)
    if not isinstance(entry, dict) or any(entry.get(k) is None for k in "abcd"):
        raise Fail(f"answers.yaml: {key} needs a, b, c and d")
    try:
        p = IzhikevichParams(**{k: entry[k] for k in "abcd"})
        IzhikevichIntParams(neurons=1).with_preset(p)
    except (TypeError, ValueError) as exc:
        raise Fail(f"answers.yaml: {key}: {exc} (give a, b, c, d in real units: 1/ms, 1, mV, "
                   "mV)") from None
    return p


def _judge(answers: dict, key: str) -> None:
    p = _params(answers, key)
    t = spike_times(p)
    wrong = PATTERNS[key][1](t)
    if wrong:
        raise Fail(f"a={p.a:g} b={p.b:g} c={p.c:g} d={p.d:g}: {wrong}")


def check(folder: Path) -> list[Result]:
    g = Grader(CRITERIA)
    try:
        answers = load_answers(folder)
    except Fail as exc:
        g.fail_rest(str(exc))
        return g.results()
    for key in PATTERNS:
        g.run(key, lambda key=key: _judge(answers, key))
    return g.results()


LAB = Lab(6, "06_izhikevich", "Izhikevich firing patterns", ("answers.yaml",), CRITERIA, check)
