# SPDX-License-Identifier: Apache-2.0
"""Bulk checking of the sparse synapse tile and the spiking layer, checked in NumPy.

Both designs take the runs of :func:`neurotile.testbench.sparse_matmul.make_runs` (the layer's
with neuron settings, :func:`neurotile.testbench.spiking_layer.make_stimulus`). They become
harness actions (:mod:`testbench.bulk`, built with ``settle``): each run's first action waits
until the design is idle (all outputs read, as the cycle checker does before programming) or,
for a run that starts with a reset, resets it; then one action per cycle writes a row pointer
and a synapse (``ptr_write`` and ``syn_write`` together), and one action per input event and
end-of-step marker offers it on ``events`` (random gaps). Settings (threshold, decay,
refractory) are held on every action of their run. The outputs are read with random
back-pressure and recorded: every ``results`` transfer of the tile (value, index, last), every
``spikes`` transfer of the layer (neuron address or end marker). The reference model runs while
the simulator does; every record is then compared at once, and mismatches are reported with
their step, output (neuron) and values.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.neurons.synapses import SparseParams, dense_writes
from neurotile.testbench.bulk import BulkHarness, Capture, compare_fields, run_bulk
from neurotile.testbench.common import Scoreboard, apply_plant
from neurotile.testbench.sparse_matmul import Run

__all__ = ["sparse_harness", "layer_harness", "run_actions", "compare_results",
           "compare_spikes", "run_sparse_bulk", "run_layer_bulk"]


def _capacity(rows: int) -> int:
    return 1 << max(10, (rows - 1).bit_length())


def sparse_harness(top: str, ports: list[dict], rows: int) -> BulkHarness:
    """The harness for a synapse tile with these ports, sized for ``rows`` actions."""
    return BulkHarness(top, ports, [Capture("results", ("results__payload",))],
                       max_actions=_capacity(rows), settle=True)


def layer_harness(top: str, ports: list[dict], rows: int) -> BulkHarness:
    """The harness for a spiking layer with these ports, sized for ``rows`` actions."""
    return BulkHarness(top, ports, [Capture("spikes", ("spikes__payload",))],
                       max_actions=_capacity(rows), settle=True)


def _writes(csr: Any, p: SparseParams | None, layout: str) -> int:
    """Programming actions of a run: row pointers and synapses side by side (CSR), or every
    weight (dense layout)."""
    if layout == "dense":
        return p.inputs * p.outputs
    return max(len(csr.row_ptr), csr.nnz)


def count_actions(runs: Sequence[Run], p: SparseParams | None = None,
                  layout: str = "csr") -> int:
    """How many actions :func:`run_actions` makes for ``runs`` (to size the harness)."""
    n = 0
    for run in runs:
        n += _writes(run.csr, p, layout) + len(run.abort)
        n += sum(len(events) + 1 for events in run.steps)
    return n


def run_actions(h: BulkHarness, p: SparseParams, runs: Sequence[Run],
                layout: str = "csr") -> tuple[bytes, int]:
    """Actions that program and play ``runs``; returns ``(hex, rows)``.

    ``layout`` is the tile's weight layout: ``csr`` writes a row pointer and a synapse per
    action, ``dense`` one weight per action (:func:`neurotile.neurons.synapses.dense_writes`).

    The first action of a run carries ``rst`` (the first run, and runs that start with a reset)
    or ``settle``; the first action after a run's aborted events carries ``rst``.
    """
    kind: list[np.ndarray] = []      # 0 write, 1 event
    flags: list[np.ndarray] = []     # 0 none, 1 settle, 2 reset
    addr: list[np.ndarray] = []
    value: list[np.ndarray] = []
    end: list[np.ndarray] = []
    ptr: list[tuple[np.ndarray, np.ndarray]] = []
    syn: list[tuple[np.ndarray, np.ndarray]] = []
    dense: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    settings: dict[str, list[np.ndarray]] = {k: [] for k in ("threshold", "decay", "refractory")
                                             if k in h.action_fields}
    wmask = (1 << p.weight_width) - 1
    for r, run in enumerate(runs):
        csr = run.csr
        nw = _writes(csr, p, layout)
        ev_addr, ev_val, ev_end = [], [], []
        for a, x in run.abort:
            ev_addr.append(a), ev_val.append(x), ev_end.append(0)
        n_abort = len(ev_addr)
        for events in run.steps:
            for a, x in events:
                ev_addr.append(a), ev_val.append(x), ev_end.append(0)
            ev_addr.append(0), ev_val.append(0), ev_end.append(1)
        ne = len(ev_addr)
        total = nw + ne
        k = np.concatenate([np.zeros(nw, np.int64), np.ones(ne, np.int64)])
        f = np.zeros(total, np.int64)
        f[0] = 2 if (run.reset or r == 0) else 1
        if run.abort:
            f[nw + n_abort] = 2  # the reset that cuts the aborted step off
        kind.append(k)
        flags.append(f)
        addr.append(np.concatenate([np.zeros(nw, np.int64), np.array(ev_addr, np.int64)]))
        value.append(np.concatenate([np.zeros(nw, np.int64), np.array(ev_val, np.int64)]))
        end.append(np.concatenate([np.zeros(nw, np.int64), np.array(ev_end, np.int64)]))
        w = np.arange(total)
        if layout == "dense":
            waddr, wval = dense_writes(csr, p)
            pad = np.zeros(total - nw, np.int64)
            dense.append((w < nw, np.concatenate([waddr, pad]), np.concatenate([wval, pad])))
            for name in settings:
                settings[name].append(np.full(total, int(run.settings.get(name, 0)), np.int64))
            continue
        rp = np.asarray(csr.row_ptr, np.int64)
        ptr.append((w < len(rp), np.concatenate([rp, np.zeros(total - len(rp), np.int64)])))
        words = (np.asarray(csr.weight, np.int64) & wmask) | (
            np.asarray(csr.col, np.int64) << p.weight_width)
        syn.append((w < csr.nnz, np.concatenate([words, np.zeros(total - csr.nnz, np.int64)])))
        for name in settings:
            settings[name].append(np.full(total, int(run.settings.get(name, 0)), np.int64))
    kind_a = np.concatenate(kind)
    flag_a = np.concatenate(flags)
    rows = len(kind_a)
    ev_addr_a, ev_val_a, ev_end_a = (np.concatenate(x) for x in (addr, value, end))
    payload = ev_addr_a & ((1 << p.addr_width) - 1)
    lsb = p.addr_width
    if p.act_width > 1:
        payload |= (ev_val_a & p.act_max) << lsb
        lsb += p.act_width
    payload |= ev_end_a << lsb
    values: dict[str, Any] = {
        "stream": np.where(kind_a == 1, h.stream_index("events"), 0),
        "rst": flag_a == 2,
        "settle": flag_a == 1,
        "hold": 1,
        "events__payload": payload,
    }
    if layout == "dense":
        w_en = np.concatenate([e for e, _, _ in dense])
        values |= {
            "weight_write__en": w_en,
            "weight_write__addr": np.concatenate([a for _, a, _ in dense]),
            "weight_write__data": np.concatenate([d for _, _, d in dense]),
        }
    else:
        ptr_en = np.concatenate([e for e, _ in ptr])
        syn_en = np.concatenate([e for e, _ in syn])
        idx = np.concatenate([np.arange(len(e)) for e, _ in ptr])
        values |= {
            "ptr_write__en": ptr_en,
            "ptr_write__addr": np.where(ptr_en, idx, 0),
            "ptr_write__data": np.concatenate([d for _, d in ptr]),
            "syn_write__en": syn_en,
            "syn_write__addr": np.where(syn_en, idx, 0),
            "syn_write__data": np.concatenate([d for _, d in syn]),
        }
    for name, parts in settings.items():
        values[name] = np.concatenate(parts)
    return h.actions(rows, values), rows


def _knobs(cfg: Mapping[str, Any], outputs: int) -> dict[str, Any]:
    gap = int(round(256 * float(cfg.get("gap", 0.2))))
    stall = int(round(256 * float(cfg.get("stall", 0.2))))
    # Idle means no output for longer than a row walk plus the drain of every output.
    return {"gap": min(gap, 255), "stall": min(stall, 255), "drain": 2 * outputs + 16}


def _timing(t0: float, t1: float, t2: float, t3: float, run: Any, sent: int) -> dict[str, Any]:
    return ({"waves": str(run.waves)} if run.waves is not None else {}) | {
        "cycles": run.cycles,
        "sent": sent,
        "prepare_seconds": t1 - t0,
        "build_seconds": run.build_seconds,
        "simulate_seconds": run.run_seconds,  # the reference model runs meanwhile
        "compare_seconds": t3 - t2,
        "seconds": (t1 - t0) + run.run_seconds + (t3 - t2),
    }


def _max_cycles(runs: Sequence[Run], rows: int, outputs: int) -> int:
    steps = sum(len(r.steps) for r in runs)
    work = rows + sum(r.csr.nnz for r in runs) + steps * (2 * outputs + 8) + 8 * len(runs) * outputs
    return 40 * work + 10_000


# -- sparse-matmul -----------------------------------------------------------------------------

def compare_results(h: BulkHarness, stim: Any, records: np.ndarray) -> dict[str, Any]:
    """Compare every recorded accumulator with :class:`SparseStimulus`; return the report.

    Record ``k`` is output ``k % outputs`` of step ``k // outputs``; index, last flag and value
    are checked.
    """
    p = stim.params
    board = Scoreboard()
    want = stim.steps * p.outputs
    got = len(records)
    if got != want:
        board.compare(-1, -1, "output count", want, got)
    k = min(got, want)
    step, i = np.divmod(np.arange(k), p.outputs)
    r = records[:k]
    observed = {
        "index": h.field(r, 0, "results__payload", lsb=p.acc_width, bits=p.index_width),
        "last": h.field(r, 0, "results__payload", lsb=p.acc_width + p.index_width, bits=1),
        "value": h.field(r, 0, "results__payload", lsb=0, bits=p.acc_width, signed=True),
    }
    expected = {
        "index": i,
        "last": (i == p.outputs - 1).astype(np.int64),
        "value": stim.expected.reshape(-1)[:k],
    }
    compare_fields(board, step, i, expected, observed)
    board.checked = k
    return {"results": k, "steps": k // p.outputs, "events": stim.events,
            "synaptic_ops": int(stim.ops.sum()), **board.as_dict()}


def run_sparse_bulk(cfg: Mapping[str, Any], *, sim: str, verilog: str, top: str,
                    ports: list[dict], build_dir: str | Path) -> dict[str, Any]:
    """Run a configuration (as :func:`testbench.sparse_matmul.check_config` takes) through the
    bulk path.

    The report has ``results``, ``steps``, ``events``, ``synaptic_ops``, ``mismatches``,
    ``first_mismatches``, ``cycles`` and the time split into ``prepare``, ``build``,
    ``simulate`` and ``compare`` seconds.
    """
    from neurotile.testbench.sparse_matmul import make_stimulus, sparse_params

    t0 = time.perf_counter()
    p = sparse_params(cfg)
    stim = make_stimulus(p, int(cfg["steps"]), int(cfg["seed"]),
                         directed=bool(cfg.get("directed", True)), density=cfg.get("density"),
                         rate=cfg.get("rate"), run_length=cfg.get("run_length"),
                         grid=cfg.get("grid"), expected=False)
    layout = cfg.get("layout", "csr")
    h = sparse_harness(top, ports, count_actions(stim.runs, p, layout))
    actions, rows = run_actions(h, p, stim.runs, layout)
    t1 = time.perf_counter()

    def expect() -> None:
        stim.compute_expected()
        apply_plant(cfg, stim)

    run = run_bulk(sim, h, verilog, actions, rows, build_dir=build_dir, seed=int(cfg["seed"]),
                   max_cycles=_max_cycles(stim.runs, rows, p.outputs), meanwhile=expect,
                   **_knobs(cfg, p.outputs))
    t2 = time.perf_counter()
    report = compare_results(h, stim, run.records)
    t3 = time.perf_counter()
    return report | _timing(t0, t1, t2, t3, run, stim.steps)


# -- spiking-layer -----------------------------------------------------------------------------

def compare_spikes(h: BulkHarness, stim: Any, records: np.ndarray) -> dict[str, Any]:
    """Compare every recorded output event with :class:`LayerStimulus`; return the report.

    End markers split the records into steps. For every complete step, each neuron's fired
    flag is compared (``spike``), and the events must come in strictly increasing address order
    (``events in index order``, neuron -1).
    """
    n = stim.lif.neurons
    steps = stim.steps
    aw = max(1, (n - 1).bit_length())
    board = Scoreboard()
    addr = h.field(records, 0, "spikes__payload", lsb=0, bits=aw)
    end = h.field(records, 0, "spikes__payload", lsb=aw, bits=1).astype(bool)
    step = np.cumsum(end) - end  # end markers before each record
    done = int(end.sum())
    complete = min(done, steps)
    if done != steps:
        board.compare(-1, -1, "steps", steps, done)
    spike = ~end & (step < complete)
    extra = int((~end & (step >= complete)).sum())
    if extra and done > steps:
        board.compare(-1, -1, "unexpected output", 0, extra)
    # Fired flags per (step, neuron), and out-of-range addresses, as (step, neuron) mismatches.
    s_sp, a_sp = step[spike], addr[spike]
    inside = a_sp < n
    got = np.zeros((complete, n), np.int64)
    np.add.at(got, (s_sp[inside], a_sp[inside]), 1)
    want = np.zeros((complete, n), np.int64)
    lens = np.array([len(e) for e in stim.expected[:complete]], np.int64)
    if lens.sum():
        flat = np.concatenate([np.asarray(e, np.int64) for e in stim.expected[:complete]])
        want[np.repeat(np.arange(complete), lens), flat] = 1
    bad_s, bad_n = np.nonzero((got > 0) != (want > 0))
    # In index order: each spike's address above the previous one of its step.
    same = s_sp[1:] == s_sp[:-1]
    unordered = np.unique(s_sp[1:][same & (a_sp[1:] <= a_sp[:-1])])
    # Report in step order: the neurons of a step, then its order check (as the cycle checker).
    out_s = np.concatenate([bad_s, s_sp[~inside], unordered])
    out_k = np.concatenate([np.zeros(len(bad_s) + int((~inside).sum()), np.int64),
                            np.ones(len(unordered), np.int64)])
    out_n = np.concatenate([bad_n, a_sp[~inside], np.full(len(unordered), -1)])
    exp = np.concatenate([want[bad_s, bad_n], np.zeros(int((~inside).sum()), np.int64),
                          np.ones(len(unordered), np.int64)])
    obs = np.concatenate([(got[bad_s, bad_n] > 0).astype(np.int64),
                          np.ones(int((~inside).sum()), np.int64),
                          np.zeros(len(unordered), np.int64)])
    order = np.lexsort((out_n, out_k, out_s))
    keep = max(0, board.keep - len(board.first))
    for j in order[:keep]:
        name = "spike" if out_k[j] == 0 else "events in index order"
        board.compare(int(out_s[j]), int(out_n[j]), name, int(exp[j]), int(obs[j]))
    board.count += max(0, len(order) - min(len(order), keep))
    board.checked = complete * n
    return {"updates": complete * n, "steps": complete, "spikes": int((~end).sum()),
            **board.as_dict()}


def run_layer_bulk(cfg: Mapping[str, Any], *, sim: str, verilog: str, top: str,
                   ports: list[dict], build_dir: str | Path) -> dict[str, Any]:
    """Run a configuration (as :func:`testbench.spiking_layer.check_config` takes) through the
    bulk path.

    The report has ``updates`` (neuron-updates of complete steps), ``steps``, ``spikes``,
    ``mismatches``, ``first_mismatches``, ``cycles`` and the time split into ``prepare``,
    ``build``, ``simulate`` and ``compare`` seconds.
    """
    from neurotile.testbench.spiking_layer import layer_params_of, make_stimulus

    t0 = time.perf_counter()
    sp, lp = layer_params_of(cfg)
    stim = make_stimulus(sp, lp, int(cfg["steps"]), int(cfg["seed"]),
                         directed=bool(cfg.get("directed", True)), density=cfg.get("density"),
                         rate=cfg.get("rate"), run_length=cfg.get("run_length"),
                         expected=False)
    layout = cfg.get("layout", "csr")
    h = layer_harness(top, ports, count_actions(stim.runs, sp, layout))
    actions, rows = run_actions(h, sp, stim.runs, layout)
    t1 = time.perf_counter()

    def expect() -> None:
        stim.compute_expected()
        apply_plant(cfg, stim)

    run = run_bulk(sim, h, verilog, actions, rows, build_dir=build_dir, seed=int(cfg["seed"]),
                   max_cycles=_max_cycles(stim.runs, rows, 2 * lp.neurons), meanwhile=expect,
                   **_knobs(cfg, lp.neurons))
    t2 = time.perf_counter()
    report = compare_spikes(h, stim, run.records)
    t3 = time.perf_counter()
    return report | _timing(t0, t1, t2, t3, run, stim.steps)
