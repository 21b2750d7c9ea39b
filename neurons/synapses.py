# SPDX-License-Identifier: Apache-2.0
"""Sparse, event-driven synapses: the integer reference of the sparse synapse tile.

A layer of synapses computes ``y = W^T s``: ``W`` has one row per input and one column per
output, ``s`` is the input activity of one timestep. The weights are stored compressed, CSR by
input row (:class:`CSRMatrix`), so an input spike walks only the non-zero weights of its row;
inputs that did not spike and zero weights cost nothing.

Input activity arrives as *events*: the address of an input that spiked, and with multi-bit
activations its value. The accumulation is integer and saturating, bit for bit what
:class:`neurotile.rtl.sparse_matmul.SparseMatmul` computes::

    for each event (a, x) of the step, in arrival order:        # x = 1 for binary spikes
        for k in row_ptr[a] .. row_ptr[a+1]-1, in stored order:
            acc[col[k]] = sat(acc[col[k]] + weight[k] * x)

``sat`` clamps to the signed ``acc_width``-bit range after every addition, so the result is
``W^T s`` exactly whenever no partial sum leaves that range. Repeated events of one input in a
step are allowed and add again.

:func:`spiking_layer_step` chains the synapses with the integer LIF population of
:mod:`neurotile.neurons.lif`: that is the reference of
:class:`neurotile.rtl.spiking_layer.SpikingLayer`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from neurotile.neurons.lif import LIFIntParams, LIFIntState, lif_int_step

__all__ = [
    "SparseParams",
    "CSRMatrix",
    "random_weights",
    "events_from_spikes",
    "sparse_matvec",
    "dense_writes",
    "sparse_run",
    "spiking_layer_step",
    "spiking_layer_run",
]


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class SparseParams:
    """Structure of a sparse synapse tile.

    ``inputs``: rows of ``W`` (presynaptic addresses), 1 to 4096. ``outputs``: columns of ``W``
    (accumulators), 1 to 4096. ``weight_width``: bits of a signed weight, 2 to 16.
    ``acc_width``: bits of a signed accumulator, ``weight_width`` to 32. ``depth``: capacity of
    the weight memory in non-zero weights, 1 to 65536. ``act_width``: bits of an unsigned input
    activation, 1 (binary spikes) to 8. ``banks``: accumulator banks of the hardware, 1 or 2
    (with 2, a step accumulates while the previous one drains; results are the same).
    """

    inputs: int = 16
    outputs: int = 16
    weight_width: int = 8
    acc_width: int = 12
    depth: int = 256
    act_width: int = 1
    banks: int = 1

    def __post_init__(self) -> None:
        for name, lo, hi in (
            ("inputs", 1, 4096),
            ("outputs", 1, 4096),
            ("weight_width", 2, 16),
            ("acc_width", 2, 32),
            ("depth", 1, 65536),
            ("act_width", 1, 8),
            ("banks", 1, 2),
        ):
            value = getattr(self, name)
            if not _is_int(value):
                raise TypeError(f"{name} must be an integer, not {value!r}")
            if not lo <= value <= hi:
                raise ValueError(f"{name} must be between {lo} and {hi}, not {value}")
        if self.acc_width < self.weight_width:
            raise ValueError(
                f"acc_width must be at least weight_width ({self.weight_width}) so that one "
                f"weight fits an accumulator, not {self.acc_width}"
            )

    # Derived ranges --------------------------------------------------------------------------
    @property
    def weight_min(self) -> int:
        return -(1 << (self.weight_width - 1))

    @property
    def weight_max(self) -> int:
        return (1 << (self.weight_width - 1)) - 1

    @property
    def acc_min(self) -> int:
        return -(1 << (self.acc_width - 1))

    @property
    def acc_max(self) -> int:
        return (1 << (self.acc_width - 1)) - 1

    @property
    def act_max(self) -> int:
        return (1 << self.act_width) - 1

    @property
    def addr_width(self) -> int:
        """Bits of an input address on the event stream."""
        return max(1, (self.inputs - 1).bit_length())

    @property
    def index_width(self) -> int:
        """Bits of an output index."""
        return max(1, (self.outputs - 1).bit_length())

    @property
    def ptr_width(self) -> int:
        """Bits of a row pointer (values ``0 .. depth``)."""
        return max(1, self.depth.bit_length())

    @property
    def ptr_addr_width(self) -> int:
        """Bits of a row-pointer memory address (``inputs + 1`` entries)."""
        return max(1, self.inputs.bit_length())

    @property
    def syn_addr_width(self) -> int:
        """Bits of a weight-memory address."""
        return max(1, (self.depth - 1).bit_length())

    def structural(self) -> dict[str, int]:
        """The generator parameters."""
        return {
            "inputs": self.inputs,
            "outputs": self.outputs,
            "weight_width": self.weight_width,
            "acc_width": self.acc_width,
            "depth": self.depth,
            "act_width": self.act_width,
            "banks": self.banks,
        }


@dataclass(frozen=True)
class CSRMatrix:
    """A weight matrix ``W`` (``inputs x outputs``) stored compressed by input row.

    Row ``a`` holds the synapses ``k`` in ``row_ptr[a] .. row_ptr[a+1]-1``; synapse ``k`` adds
    ``weight[k]`` to output ``col[k]``. This is exactly what the tile's memories hold: the
    row-pointer memory ``row_ptr`` (``inputs + 1`` entries) and the weight memory ``(col,
    weight)`` (``nnz`` entries used of ``depth``).
    """

    row_ptr: np.ndarray
    col: np.ndarray
    weight: np.ndarray
    outputs: int

    @property
    def inputs(self) -> int:
        return len(self.row_ptr) - 1

    @property
    def nnz(self) -> int:
        return int(self.row_ptr[-1])

    def row_lengths(self) -> np.ndarray:
        return np.diff(self.row_ptr)

    @classmethod
    def from_dense(cls, w: np.ndarray) -> CSRMatrix:
        """Compress a dense ``inputs x outputs`` integer matrix; zero weights are not stored."""
        w = np.asarray(w)
        if w.ndim != 2:
            raise ValueError(f"weight matrix must be 2-D (inputs x outputs), not {w.ndim}-D")
        if not np.issubdtype(w.dtype, np.integer):
            raise TypeError(f"weight matrix must hold integers, not {w.dtype}")
        rows, cols = np.nonzero(w)
        row_ptr = np.zeros(w.shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=w.shape[0]), out=row_ptr[1:])
        return cls(row_ptr, cols.astype(np.int64), w[rows, cols].astype(np.int64), w.shape[1])

    def to_dense(self) -> np.ndarray:
        """The dense ``inputs x outputs`` matrix (repeated columns in a row add up)."""
        w = np.zeros((self.inputs, self.outputs), np.int64)
        for a in range(self.inputs):
            for k in range(self.row_ptr[a], self.row_ptr[a + 1]):
                w[a, self.col[k]] += self.weight[k]
        return w

    def check(self, p: SparseParams) -> None:
        """Raise ``ValueError`` unless this matrix fits a tile built with ``p``."""
        if self.inputs != p.inputs or self.outputs != p.outputs:
            raise ValueError(
                f"matrix is {self.inputs} x {self.outputs} but the tile is {p.inputs} x {p.outputs}"
            )
        rp = self.row_ptr
        if rp[0] != 0 or np.any(np.diff(rp) < 0):
            raise ValueError("row pointers must start at 0 and never decrease")
        if self.nnz > p.depth:
            raise ValueError(f"{self.nnz} non-zero weights do not fit a depth-{p.depth} memory")
        if len(self.col) != self.nnz or len(self.weight) != self.nnz:
            raise ValueError(f"col and weight must hold {self.nnz} entries (row_ptr[-1])")
        if self.nnz and (self.col.min() < 0 or self.col.max() >= p.outputs):
            raise ValueError(f"column indices must be in 0..{p.outputs - 1}")
        if self.nnz and (self.weight.min() < p.weight_min or self.weight.max() > p.weight_max):
            raise ValueError(
                f"weights must fit {p.weight_width} bits: allowed {p.weight_min}..{p.weight_max}"
            )


def dense_writes(csr: CSRMatrix, p: SparseParams) -> tuple[np.ndarray, np.ndarray]:
    """The host writes that program a tile with the ``dense`` layout to hold ``csr``.

    Every weight of the ``inputs x outputs`` matrix has its place, zeros included (they clear
    what an earlier matrix left): ``(addresses, weights)`` in row-major order, address
    ``(a << index_width) | c`` for row ``a`` and column ``c``, weights as unsigned
    ``weight_width``-bit two's complement. The tile walks the non-zero weights of a row in
    column order, which :func:`sparse_matvec` matches for matrices made by
    :meth:`CSRMatrix.from_dense` (columns ascending, none repeated).
    """
    w = csr.to_dense()
    a, c = np.indices(w.shape)
    return ((a << p.index_width) | c).ravel(), (w & ((1 << p.weight_width) - 1)).ravel()


def random_weights(
    p: SparseParams, density: float, rng: np.random.Generator, *, low: int | None = None,
    high: int | None = None,
) -> CSRMatrix:
    """A random matrix whose entries are non-zero with probability ``density``.

    Non-zero values are uniform in ``low..high`` (default: the whole weight range) without zero.
    The number of non-zeros is capped at ``p.depth`` (extra ones are dropped at random).
    """
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"density must be in [0, 1], not {density}")
    lo = p.weight_min if low is None else low
    hi = p.weight_max if high is None else high
    values = [v for v in range(lo, hi + 1) if v != 0]
    if not values:
        raise ValueError(f"weight range {lo}..{hi} holds no non-zero value")
    mask = rng.random((p.inputs, p.outputs)) < density
    where = np.flatnonzero(mask)
    if len(where) > p.depth:
        mask.flat[rng.choice(where, len(where) - p.depth, replace=False)] = False
    w = np.where(mask, rng.choice(values, size=mask.shape), 0).astype(np.int64)
    return CSRMatrix.from_dense(w)


def events_from_spikes(spikes: np.ndarray) -> list[tuple[int, int]]:
    """Events ``(address, value)`` of an activity vector, in address order; zeros send none."""
    s = np.asarray(spikes).astype(np.int64)
    return [(int(a), int(s[a])) for a in np.flatnonzero(s)]


def _events(events: Iterable[int | tuple[int, int]]) -> list[tuple[int, int]]:
    return [(int(e), 1) if not isinstance(e, tuple) else (int(e[0]), int(e[1])) for e in events]


def sparse_matvec(
    csr: CSRMatrix, events: Iterable[int | tuple[int, int]], p: SparseParams
) -> tuple[np.ndarray, int]:
    """Accumulate one timestep's events; return ``(acc, synaptic_ops)``.

    ``events`` are input addresses (binary spikes) or ``(address, value)`` pairs with
    ``0 <= value < 2**act_width`` (``value`` 1 when ``act_width`` is 1). Addresses outside
    ``0 .. inputs-1`` have no synapses and are ignored, as in the hardware. ``acc`` (int64,
    ``outputs`` entries) starts at zero; ``synaptic_ops`` counts the weights walked.
    """
    acc = np.zeros(csr.outputs, np.int64)
    ops = 0
    for a, x in _events(events):
        if p.act_width == 1 and x != 1:
            raise ValueError(f"binary spike events carry the value 1, not {x}")
        if not 0 <= x <= p.act_max:
            raise ValueError(f"activation {x} does not fit {p.act_width} bits (0..{p.act_max})")
        if not 0 <= a < csr.inputs:
            continue
        for k in range(csr.row_ptr[a], csr.row_ptr[a + 1]):
            c = csr.col[k]
            acc[c] = min(p.acc_max, max(p.acc_min, acc[c] + int(csr.weight[k]) * x))
            ops += 1
    return acc, ops


def sparse_run(
    csr: CSRMatrix, steps: Sequence[Iterable[int | tuple[int, int]]], p: SparseParams
) -> tuple[np.ndarray, int]:
    """Run one step per entry of ``steps``; return ``(acc[steps, outputs], synaptic_ops)``."""
    csr.check(p)
    out = np.zeros((len(steps), csr.outputs), np.int64)
    total = 0
    for t, events in enumerate(steps):
        out[t], ops = sparse_matvec(csr, events, p)
        total += ops
    return out, total


def spiking_layer_step(
    state: LIFIntState,
    csr: CSRMatrix,
    events: Iterable[int | tuple[int, int]],
    sp: SparseParams,
    lp: LIFIntParams,
) -> tuple[LIFIntState, np.ndarray, np.ndarray]:
    """One timestep of synapses into a LIF population; return ``(state, spikes, currents)``.

    The step's accumulators are the input currents of :func:`lif_int_step`, which therefore needs
    ``lp.input_width == sp.acc_width`` and ``lp.neurons == sp.outputs``. Run-time settings
    (threshold, leak, refractory) are taken from ``lp``.
    """
    if lp.neurons != sp.outputs or lp.input_width != sp.acc_width:
        raise ValueError(
            f"LIF population ({lp.neurons} neurons, {lp.input_width}-bit input) does not match "
            f"the synapses ({sp.outputs} outputs, {sp.acc_width}-bit accumulators)"
        )
    current, _ = sparse_matvec(csr, events, sp)
    state, spikes = lif_int_step(state, current, lp)
    return state, spikes, current


def spiking_layer_run(
    csr: CSRMatrix,
    steps: Sequence[Iterable[int | tuple[int, int]]],
    sp: SparseParams,
    lp: LIFIntParams,
    *,
    state: LIFIntState | None = None,
) -> tuple[list[list[int]], np.ndarray, LIFIntState]:
    """Run the layer; return ``(output_events, membranes[steps, neurons], final_state)``.

    ``output_events[t]`` lists the addresses of the neurons that fired in step ``t``, in index
    order: what the hardware emits before the step's end marker.
    """
    csr.check(sp)
    state = LIFIntState.zeros(lp.neurons) if state is None else state.copy()
    fired: list[list[int]] = []
    mems = np.zeros((len(steps), lp.neurons), np.int64)
    for t, events in enumerate(steps):
        state, spikes, _ = spiking_layer_step(state, csr, events, sp, lp)
        fired.append([int(i) for i in np.flatnonzero(spikes)])
        mems[t] = state.mem
    return fired, mems, state
