# SPDX-License-Identifier: Apache-2.0
"""Lab 05 checker: CSR compression, event-driven accumulation and the tile's cycle count.

The student's ``to_csr``, ``event_step`` and ``cycles_per_step`` (``sparse.py``) are compared
with :meth:`neurotile.neurons.synapses.CSRMatrix.from_dense`, :func:`sparse_matvec` (both
bit-exact with the tile) and the tile's cycle formula of ``docs/sparse.md`` (asserted against
the hardware by the kit's own tests), on seeded random matrices and events. The numbers in
``answers.yaml`` are recomputed from the same formula.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurotile.labs.grading import Criterion, Fail, Grader, Lab, Result, close, \
    load_answers, load_module, need
from neurotile.neurons.synapses import CSRMatrix, SparseParams, sparse_matvec

__all__ = ["LAB", "kit_cycles", "expected_cycles"]

CRITERIA = (
    Criterion("csr", "to_csr matches the tile's CSR layout (row pointers, columns, weights), "
              "empty rows included", "row_ptr has inputs + 1 entries, row_ptr[0] = 0, "
              "row_ptr[a+1] - row_ptr[a] = non-zeros of row a; skip zeros, keep column order"),
    Criterion("accumulate", "event_step gives the tile's accumulators and synaptic-operation "
              "count for random events", "walk only the rows of the events; an input that "
              "spikes twice in a step adds twice; count one op per weight walked"),
    Criterion("saturation", "event_step saturates after every addition, as the hardware does",
              "clamp to -2**(acc_width-1) .. 2**(acc_width-1)-1 inside the loop, not once at "
              "the end: the order of events matters once a sum saturates"),
    Criterion("cycles", "cycles_per_step equals the tile's cycle count (one bank)",
              "sum over events of max(1, row length), plus outputs (drain), plus 2 (marker)"),
    Criterion("answers", "answers.yaml: dense cycles, expected sparse cycles and speed-up at "
              "density 0.1, rate 0.1", "expected row length is outputs * density; an empty "
              "row still costs one cycle: E[max(1, L)] = E[L] + P(L = 0)"),
)

SIZE = 64  # inputs and outputs of the tile the answers are about


def kit_cycles(csr: CSRMatrix, events: list[int]) -> int:
    """Cycles of one timestep on the one-bank tile (``docs/sparse.md``, "Cycles per timestep")."""
    lengths = csr.row_lengths()
    return int(sum(max(1, int(lengths[a])) for a in events)) + csr.outputs + 2


def expected_cycles(inputs: int, outputs: int, density: float, rate: float) -> float:
    """Expected cycles per step: each input spikes with ``rate``, each weight is non-zero with
    ``density`` independently."""
    mean_l = outputs * density + (1.0 - density) ** outputs  # E[max(1, L)], L ~ B(outputs, d)
    return inputs * rate * mean_l + outputs + 2


def _matrices(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = [np.zeros((3, 4), np.int64), np.array([[0, 5, 0, -3], [0, 0, 0, 0], [7, 0, 0, 1]])]
    for shape, density in (((8, 8), 0.3), ((16, 5), 0.1), ((5, 16), 0.6), ((12, 12), 1.0)):
        mask = rng.random(shape) < density
        out.append(np.where(mask, rng.integers(-8, 8, shape), 0).astype(np.int64))
    return out


def _csr(fn) -> None:
    for w in _matrices(5):
        want = CSRMatrix.from_dense(w)
        got = fn(w.tolist())
        try:
            rp, col, wt = (list(map(int, x)) for x in got)
        except Exception:
            raise Fail(f"to_csr returned {got!r}, not (row_ptr, col, weight)") from None
        if (rp, col, wt) != (want.row_ptr.tolist(), want.col.tolist(), want.weight.tolist()):
            raise Fail(f"to_csr({w.tolist()}) returned ({rp}, {col}, {wt}), the tile stores "
                       f"({want.row_ptr.tolist()}, {want.col.tolist()}, {want.weight.tolist()})")


def _step(fn, *, acc_width: int, seed: int, weights: tuple[int, int]) -> None:
    rng = np.random.default_rng(seed)
    for trial in range(20):
        inputs, outputs = int(rng.integers(1, 12)), int(rng.integers(1, 12))
        mask = rng.random((inputs, outputs)) < 0.5
        w = np.where(mask, rng.integers(*weights, (inputs, outputs)), 0).astype(np.int64)
        csr = CSRMatrix.from_dense(w)
        events = [int(a) for a in rng.integers(0, inputs, int(rng.integers(0, 2 * inputs)))]
        p = SparseParams(inputs=inputs, outputs=outputs, weight_width=4, acc_width=acc_width,
                         depth=max(1, csr.nnz))
        want_acc, want_ops = sparse_matvec(csr, events, p)
        got = fn(csr.row_ptr.tolist(), csr.col.tolist(), csr.weight.tolist(), outputs, events,
                 acc_width)
        try:
            acc, ops = [int(x) for x in got[0]], int(got[1])
        except Exception:
            raise Fail(f"event_step returned {got!r}, not (acc, ops)") from None
        if (acc, ops) != (want_acc.tolist(), want_ops):
            raise Fail(f"weights {w.tolist()}, events {events}, acc_width {acc_width}: "
                       f"you give acc {acc} ops {ops}, the tile {want_acc.tolist()} ops "
                       f"{want_ops}")


def _cycles(fn) -> None:
    rng = np.random.default_rng(9)
    for w in _matrices(7):
        csr = CSRMatrix.from_dense(w)
        for _ in range(5):
            events = [int(a) for a in rng.integers(0, csr.inputs, int(rng.integers(0, 6)))]
            got, want = fn(csr.row_ptr.tolist(), events, csr.outputs), kit_cycles(csr, events)
            if int(got) != want:
                raise Fail(f"row lengths {csr.row_lengths().tolist()}, events {events}, "
                           f"outputs {csr.outputs}: you give {got}, the tile takes {want}")


def _answers(folder: Path) -> None:
    a = load_answers(folder)
    dense = SIZE * SIZE + SIZE + 2
    sparse = expected_cycles(SIZE, SIZE, 0.1, 0.1)
    close("dense_cycles", need(a, "dense_cycles"), dense, abs_=0.5)
    close("expected_cycles_d10_r10", need(a, "expected_cycles_d10_r10"), sparse, rel=0.03)
    close("speedup_d10_r10", need(a, "speedup_d10_r10"), dense / sparse, rel=0.03)


def check(folder: Path) -> list[Result]:
    g = Grader(CRITERIA)
    try:
        module = load_module(folder, "sparse.py")
    except Fail as exc:
        g.fail("csr", str(exc))
        g.fail("accumulate", str(exc))
        g.fail("saturation", str(exc))
        g.fail("cycles", str(exc))
        module = None
    if module is not None:
        g.run("csr", lambda: _csr(module.to_csr))
        g.run("accumulate", lambda: _step(module.event_step, acc_width=16, seed=3,
                                          weights=(-8, 8)))
        g.run("saturation", lambda: _step(module.event_step, acc_width=5, seed=4,
                                          weights=(-8, 8)))
        g.run("cycles", lambda: _cycles(module.cycles_per_step))
    g.run("answers", lambda: _answers(folder))
    return g.results()


LAB = Lab(5, "05_sparse", "Sparse, event-driven synapses", ("sparse.py", "answers.yaml"),
          CRITERIA, check)
