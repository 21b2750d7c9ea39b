# SPDX-License-Identifier: Apache-2.0
"""Cycle-level testbench of the sparse synapse tile against the integer reference model.

A stimulus is a list of *runs*: each run programs a weight matrix through the write ports
(reprogramming the tile between runs, optionally after a reset) and sends timesteps of input
events, each closed by an ``end`` marker. The expected accumulators of every step come from
:func:`neurotile.neurons.synapses.sparse_matvec`. :class:`SparseChecker` offers the events with
random gaps, reads the results with random back-pressure and compares every value, index and
``last`` flag. The same checker runs under cocotb (Icarus, Verilator) and Amaranth's simulator,
and also measures the cycles each timestep takes (:mod:`bench.sparse_scaling` uses that).

Reproduce a failing run with the command line, e.g.
``neurotile simulate sparse-matmul --sim icarus --steps 300 --seed 7``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from typing import Any

import numpy as np

from neurotile.neurons.synapses import (
    CSRMatrix,
    SparseParams,
    dense_writes,
    random_weights,
    sparse_matvec,
)
from neurotile.testbench.common import (
    Scoreboard,
    amaranth_loop,
    apply_plant,
    assert_found,
    cocotb_loop,
    read_config,
    signed_field,
    write_report,
)

__all__ = [
    "Run",
    "SparseStimulus",
    "make_runs",
    "make_stimulus",
    "pack_event",
    "pack_synapse",
    "component_ports",
    "StepChecker",
    "SparseChecker",
    "check_config",
    "run_amaranth",
]

log = logging.getLogger("neurotile.testbench.sparse_matmul")

DENSITIES = (0.01, 0.05, 0.2, 0.5, 1.0)
RATES = (0.02, 0.1, 0.3, 0.6, 1.0)


# -- stimulus ----------------------------------------------------------------------------------

@dataclass
class Run:
    """Program ``csr`` (after a reset when ``reset``), then send ``steps`` of events.

    ``steps[t]`` lists ``(address, value)`` events (``value`` 1 for binary spikes). ``settings``
    holds run-time port values for designs that have them (the spiking layer). ``abort`` lists
    events sent after programming and cut off by a reset before their step ends: that step
    produces no output, the weights stay, and the run's steps start from the reset state.
    """

    csr: CSRMatrix
    steps: list[list[tuple[int, int]]]
    reset: bool = False
    settings: dict[str, int] = field(default_factory=dict)
    abort: list[tuple[int, int]] = field(default_factory=list)


def _saturating_runs(p: SparseParams, rng: np.random.Generator) -> list[Run]:
    """Directed corners: saturation at both ends, clamp order, empty steps and rows."""
    runs = []
    x = p.act_max
    n_up = -(-(p.acc_max + 1) // (p.weight_max * x)) + 2 if p.weight_max > 0 else 2
    n_dn = -(-(-p.acc_min + 1) // (-p.weight_min * x)) + 2
    for value in (p.weight_max, p.weight_min):
        w = np.zeros((p.inputs, p.outputs), np.int64)
        w[0, : min(p.outputs, p.depth)] = value
        n = n_up if value > 0 else n_dn
        runs.append(Run(CSRMatrix.from_dense(w), [[(0, x)] * n, [(0, x)]]))
    if p.inputs >= 2 and p.depth >= 2:
        # Clamp after every addition: pushing up to the ceiling and back down differs from the
        # plain sum, and the order of the events decides the result.
        w = np.zeros((p.inputs, p.outputs), np.int64)
        w[0, 0], w[1, 0] = p.weight_max, p.weight_min
        runs.append(Run(CSRMatrix.from_dense(w), [
            [(0, x)] * n_up + [(1, x)] * 2,
            [(1, x)] * n_dn + [(0, x)] * 2,
            [(1, x), (0, x)] * 3,
        ]))
    # Empty step, empty row, out-of-range address (when inputs is not a power of two), a zero
    # activation, and a full-density matrix with every input spiking.
    csr = random_weights(p, 0.5, rng)
    empty = int(np.argmin(csr.row_lengths()))
    steps = [[], [(empty, x)], [(a, int(rng.integers(int(p.act_width == 1), p.act_max + 1)))
                           for a in range(p.inputs)]]
    if p.inputs < (1 << p.addr_width):
        steps.append([((1 << p.addr_width) - 1, x), (0, x)])
    runs.append(Run(csr, steps, reset=True))
    runs.append(Run(random_weights(p, 1.0, rng),
                    [[(a, x) for a in range(p.inputs)] for _ in range(2)]))
    return runs


def random_steps(p: SparseParams, rng: np.random.Generator, steps: int, rate: float, *,
                 repeats: bool = True) -> list[list[tuple[int, int]]]:
    """Random spike trains: each input fires with probability ``rate`` per step, in a shuffled
    order (with ``repeats``, an occasional repeated event); activations uniform in
    ``1 .. act_max``."""
    out = []
    for _ in range(steps):
        fired = np.flatnonzero(rng.random(p.inputs) < rate)
        if repeats and len(fired) and rng.random() < 0.2:
            fired = np.concatenate([fired, rng.choice(fired, size=1 + len(fired) // 4)])
        rng.shuffle(fired)
        out.append([(int(a), int(rng.integers(1, p.act_max + 1))) for a in fired])
    return out


def make_runs(p: SparseParams, steps: int, seed: int, *, directed: bool = True,
              density: float | None = None, rate: float | None = None,
              run_length: int | None = None,
              grid: Sequence[Sequence[float]] | None = None) -> list[Run]:
    """Seeded runs: directed corners (when ``directed``), then random matrices and spike trains.

    The directed runs are always sent in full; random runs fill up the rest of ``steps``. They
    reprogram the weights every ``run_length`` steps (default: spread the steps over five runs),
    cycling through densities 1 % to 100 % and spike rates 2 % to 100 % unless ``density`` or
    ``rate`` fix them; every third run starts with a reset, and every third, once programmed,
    has a step cut off by a reset. ``grid``, a list of ``(density,
    rate)`` pairs, replaces the random runs by one run of ``run_length`` steps per pair, without
    repeated events.
    """
    rng = np.random.default_rng(seed)
    runs = _saturating_runs(p, rng) if directed else []
    if grid is not None:
        n = run_length or 1
        return runs + [Run(random_weights(p, float(d), rng),
                           random_steps(p, rng, n, float(r), repeats=False))
                       for d, r in grid]
    used = sum(len(r.steps) for r in runs)
    left = max(0, steps - used)
    length = run_length or max(1, -(-left // 5))
    k = 0
    while left > 0:
        n = min(length, left)
        d = DENSITIES[k % len(DENSITIES)] if density is None else density
        r = RATES[(k * 2 + 1) % len(RATES)] if rate is None else rate
        run = Run(random_weights(p, d, rng), random_steps(p, rng, n, r), reset=(k % 3 == 2))
        if k % 3 == 1:  # a reset in the middle of a step, after the weights are written
            cut = random_steps(p, rng, 1, max(r, 0.5))[0]
            run.abort = cut[: max(1, len(cut) // 2)]
        runs.append(run)
        left -= n
        k += 1
    return runs


@dataclass
class SparseStimulus:
    """Runs and the expected accumulators and synaptic operations of every step.

    With ``compute=False`` the reference model is left for :meth:`compute_expected`.
    """

    params: SparseParams
    runs: list[Run]
    expected: np.ndarray = field(init=False)
    ops: np.ndarray = field(init=False)
    compute: InitVar[bool] = True

    def __post_init__(self, compute: bool) -> None:
        for run in self.runs:
            run.csr.check(self.params)
        if compute:
            self.compute_expected()

    def compute_expected(self) -> None:
        """Run the reference model over every step (fills :attr:`expected` and :attr:`ops`)."""
        acc, ops = [], []
        for run in self.runs:
            for events in run.steps:
                a, n = sparse_matvec(run.csr, events, self.params)
                acc.append(a)
                ops.append(n)
        self.expected = np.array(acc, np.int64).reshape(len(acc), self.params.outputs)
        self.ops = np.array(ops, np.int64)

    @property
    def steps(self) -> int:
        return sum(len(run.steps) for run in self.runs)

    @property
    def events(self) -> int:
        return sum(len(e) for run in self.runs for e in run.steps)

    def plant_error(self, step: int, output: int) -> None:
        """Change one expected accumulator by one LSB, to show the checker reports it."""
        p = self.params
        self.expected[step, output] += -1 if self.expected[step, output] == p.acc_max else 1


def make_stimulus(p: SparseParams, steps: int, seed: int, *, expected: bool = True,
                  **options: Any) -> SparseStimulus:
    """:func:`make_runs` with the expected results (unless ``expected`` is false)."""
    return SparseStimulus(p, make_runs(p, steps, seed, **options), compute=expected)


# -- ports and payloads ------------------------------------------------------------------------

def pack_event(p: SparseParams, addr: int, value: int = 1, end: bool = False) -> int:
    """The ``events`` payload: ``addr``, then ``value`` (when ``act_width > 1``), then ``end``."""
    word = addr & ((1 << p.addr_width) - 1)
    lsb = p.addr_width
    if p.act_width > 1:
        word |= (value & p.act_max) << lsb
        lsb += p.act_width
    return word | (int(end) << lsb)


def pack_synapse(p: SparseParams, col: int, weight: int) -> int:
    """A weight-memory word: ``weight`` (two's complement) in the low bits, then ``col``."""
    return (weight & ((1 << p.weight_width) - 1)) | (col << p.weight_width)


def decode_result(p: SparseParams, payload: int) -> tuple[int, int, int]:
    """Split the ``results`` payload into ``(value, index, last)``."""
    value = signed_field(payload, 0, p.acc_width)
    index = (payload >> p.acc_width) & ((1 << p.index_width) - 1)
    last = (payload >> (p.acc_width + p.index_width)) & 1
    return value, index, last


def component_ports(dut: Any, name: str) -> Any:
    """Map a Verilog port name (``events__payload``) to the component's Amaranth value."""
    obj = dut
    for part in name.split("__"):
        obj = getattr(obj, part)
    return obj.as_value() if hasattr(obj, "as_value") else obj


# -- checker -----------------------------------------------------------------------------------

_RESET = ("reset",)


class StepChecker:
    """Drive runs of timesteps into an event-stream design; subclasses check its output stream.

    Writes and resets wait until every step sent so far has produced all its output. ``gap`` is
    the probability that no event is offered on a cycle, ``stall`` the probability that the
    output is not read (back-pressure); both come from their own seeded generator. The checker
    records the cycle each step's first event was accepted (``start``) and the cycle its last
    output was read (``finish``).
    """

    output = "results"

    def __init__(self, params: SparseParams, runs: Sequence[Run], *, seed: int,
                 gap: float = 0.2, stall: float = 0.2, reset_cycles: int = 2,
                 layout: str = "csr") -> None:
        self.p = params
        self.layout = layout
        self.write_ports = ("weight_write",) if layout == "dense" else ("ptr_write", "syn_write")
        self.runs = runs
        self.gap, self.stall = gap, stall
        self.reset_cycles = reset_cycles
        self.board = Scoreboard()
        self.rng = np.random.default_rng(seed + 1)
        self._coins = self.rng.random(1 << 16)
        self._coin = 0
        o = self.output
        self.sampled = ("events__valid", "events__ready", f"{o}__valid", f"{o}__ready",
                        f"{o}__payload")
        self.done = False
        self.cycle = 0
        self.start: dict[int, int] = {}
        self.finish: dict[int, int] = {}
        self._plan = self._items()
        self._next: Any = _RESET  # every run of the checker starts from a reset
        self._sent = 0     # steps whose end marker was accepted
        self._finished = 0  # steps whose output is complete
        self._valid = 0
        self._in_reset = 0
        self._writing: list[str] = []
        self._ports: dict[str, int] = {}

    # Plan -------------------------------------------------------------------------------------
    def _items(self) -> Iterator[tuple]:
        p = self.p
        step = 0
        for run in self.runs:
            if run.reset:
                yield _RESET
            for k, v in run.settings.items():
                yield ("set", k, v)
            csr = run.csr
            if self.layout == "dense":
                for addr, weight in zip(*dense_writes(csr, p)):
                    yield ("weight_write", int(addr), int(weight))
            for a, ptr in enumerate(csr.row_ptr if self.layout == "csr" else ()):
                yield ("ptr_write", a, int(ptr))
            for k in range(csr.nnz if self.layout == "csr" else 0):
                yield ("syn_write", k, pack_synapse(p, int(csr.col[k]), int(csr.weight[k])))
            if run.abort:
                for a, x in run.abort:
                    yield ("event", -1, pack_event(p, a, x))
                yield _RESET
            for events in run.steps:
                for a, x in events:
                    yield ("event", step, pack_event(p, a, x))
                yield ("event", step, pack_event(p, 0, 0, end=True), "end")
                step += 1

    def _flip(self, prob: float) -> bool:
        self._coin = (self._coin + 1) & 0xFFFF
        return self._coins[self._coin] < prob

    def _quiet(self) -> bool:
        return self._finished == self._sent

    def _set(self, out: dict[str, int], name: str, value: int) -> None:
        if self._ports.get(name) != value:
            out[name] = self._ports[name] = value

    # CycleChecker -----------------------------------------------------------------------------
    def drive(self) -> Mapping[str, int]:
        out: dict[str, int] = {}
        if not self._ports:  # first cycle: every input gets a defined value
            for name in self.write_ports:
                for part in ("en", "addr", "data"):
                    self._set(out, f"{name}__{part}", 0)
            self._set(out, "events__payload", 0)
        for name in self._writing:
            self._set(out, f"{name}__en", 0)
        self._writing = []
        if self._in_reset:
            self._in_reset -= 1
            if self._in_reset:
                return out
            out["rst"] = 0
        # Writes, settings and resets take effect without a handshake, once the design is idle.
        while self._next is not None and self._next[0] != "event" and self._quiet():
            item = self._next
            if item is _RESET:
                self._next = next(self._plan, None)
                self._in_reset = self.reset_cycles
                self._valid = 0
                self.on_reset()
                out["rst"] = 1
                self._set(out, "events__valid", 0)
                self._set(out, f"{self.output}__ready", 0)
                return out
            if item[0] == "set":
                self._set(out, item[1], item[2])
                self._next = next(self._plan, None)
                continue
            name, addr, data = item
            if name in self._writing:
                break  # one write per port and cycle
            self._set(out, f"{name}__en", 1)
            self._set(out, f"{name}__addr", addr)
            self._set(out, f"{name}__data", data)
            self._writing.append(name)
            self._next = next(self._plan, None)
        item = self._next
        if item is not None and item[0] == "event":
            if not self._valid:  # once offered, an event stays valid until it is taken
                self._valid = 0 if self._flip(self.gap) else 1
            self._set(out, "events__payload", item[2])
        else:
            self._valid = 0
        self._set(out, "events__valid", self._valid)
        self._set(out, f"{self.output}__ready", 0 if self._flip(self.stall) else 1)
        return out

    def sample(self, v: Mapping[str, int]) -> None:
        self.cycle += 1
        if self._in_reset:
            return
        o = self.output
        if v["events__valid"] and v["events__ready"]:
            item = self._next
            self.start.setdefault(item[1], self.cycle)
            if len(item) > 3:
                self._sent += 1
            self._valid = 0
            self._next = next(self._plan, None)
        if v[f"{o}__valid"] and v[f"{o}__ready"]:
            if self._finished >= self._sent:
                self.board.compare(-1, -1, "unexpected output", 0, 1)
            else:
                self.check_output(self._finished, v[f"{o}__payload"])
        if self._next is None and self._quiet():
            self.done = True

    def step_finished(self, step: int) -> None:
        self.finish[step] = self.cycle
        self._finished += 1

    # Subclass hooks ---------------------------------------------------------------------------
    def on_reset(self) -> None:
        """Called when the plan asserts reset."""

    def check_output(self, step: int, payload: int) -> None:
        raise NotImplementedError

    def periods(self) -> list[int]:
        """Cycles between the starts of consecutive steps of the same run (no reprogramming)."""
        out, step = [], 0
        for run in self.runs:
            n = len(run.steps)
            out += [self.start[t + 1] - self.start[t] for t in range(step, step + n - 1)]
            step += n
        return out


class SparseChecker(StepChecker):
    """Check every accumulator the tile sends against :class:`SparseStimulus`."""

    def __init__(self, stim: SparseStimulus, **kwargs: Any) -> None:
        super().__init__(stim.params, stim.runs, **kwargs)
        self.stim = stim
        self._index = 0
        self.received = 0

    def check_output(self, step: int, payload: int) -> None:
        p, b, i = self.p, self.board, self._index
        value, index, last = decode_result(p, payload)
        b.checked += 1
        b.compare(step, i, "index", i, index)
        b.compare(step, i, "last", int(i == p.outputs - 1), last)
        b.compare(step, i, "value", int(self.stim.expected[step, i]), value)
        self.received += 1
        self._index = 0 if last or i == p.outputs - 1 else i + 1
        if self._index == 0:
            self.step_finished(step)

    def report(self) -> dict[str, Any]:
        ops = int(self.stim.ops.sum())
        return {"results": self.received, "steps": len(self.finish), "events": self.stim.events,
                "synaptic_ops": ops, "periods": self.periods(), **self.board.as_dict()}


# -- runs ----------------------------------------------------------------------------------------

def sparse_params(cfg: Mapping[str, Any]) -> SparseParams:
    return SparseParams(**cfg["params"])


def check_config(cfg: Mapping[str, Any]) -> tuple[SparseStimulus, SparseChecker]:
    """Stimulus and checker for a configuration dict (what the simulators receive).

    Keys: ``params`` (:class:`SparseParams` fields), ``steps``, ``seed``; optional ``directed``,
    ``density``, ``rate``, ``run_length``, ``grid``, ``gap``, ``stall``, ``plant`` (``[step,
    output]`` of a planted error the run must report), ``corrupt`` (the same, unannounced) and
    ``gate_level`` (sample at the falling clock edge, for netlists with cell delays) and
    ``layout`` (the tile's weight layout, ``csr`` or ``dense``: how it is programmed).
    """
    p = sparse_params(cfg)
    stim = make_stimulus(p, int(cfg["steps"]), int(cfg["seed"]),
                         directed=bool(cfg.get("directed", True)),
                         density=cfg.get("density"), rate=cfg.get("rate"),
                         run_length=cfg.get("run_length"), grid=cfg.get("grid"))
    apply_plant(cfg, stim)
    checker = SparseChecker(stim, seed=int(cfg["seed"]), gap=float(cfg.get("gap", 0.2)),
                            stall=float(cfg.get("stall", 0.2)),
                            layout=cfg.get("layout", "csr"))
    return stim, checker


def max_cycles(p: SparseParams, runs: Sequence[Run], outputs: int) -> int:
    """A generous bound on the cycles a run may take, even under heavy back-pressure."""
    work = 0
    for run in runs:
        # (programming writes: CSR's, or every weight of the dense layout)
        work += run.csr.nnz + len(run.csr.row_ptr) + p.inputs * p.outputs + 8 * outputs
        lengths = run.csr.row_lengths()
        for events in run.steps:
            work += sum(max(1, int(lengths[a])) if a < len(lengths) else 1 for a, _ in events)
            work += len(events) + 2 * outputs + 8
    return 20 * work + 1000


def verdict(cfg: Mapping[str, Any], steps: int, report: Mapping[str, Any], field_: str) -> None:
    """Assert the run found exactly what it should: nothing, or exactly the planted error."""
    assert report["steps"] == steps, f"received {report['steps']} complete steps, expected {steps}"
    assert_found(report, cfg.get("plant"), field_)


def run_amaranth(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Run the checker in Amaranth's simulator on a freshly built tile; return the report.

    ``cfg["storage"]`` and ``cfg["layout"]`` (optional) are the tile's ``storage`` and
    ``layout``."""
    from neurotile.rtl.sparse_matmul import SparseMatmul

    stim, checker = check_config(cfg)
    options = {"layout": cfg["layout"]} if "layout" in cfg else {}
    dut = SparseMatmul(**stim.params.structural(), storage=cfg.get("storage", "memory"),
                       **options)
    return amaranth_loop(dut, checker, ports=component_ports,
                         max_cycles=max_cycles(stim.params, stim.runs, stim.params.outputs))


# -- cocotb entry point ------------------------------------------------------------------------

try:
    import cocotb
except ImportError:  # pragma: no cover - cocotb is a dependency; keep the models importable
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def sparse_check(dut: Any) -> None:
        """Every accumulator of every step against the reference, with gaps and back-pressure."""
        cfg = read_config()
        stim, checker = check_config(cfg)
        log.info("sparse check: %d steps, %d events, %d synaptic ops, seed %d", stim.steps,
                 stim.events, int(stim.ops.sum()), cfg["seed"])
        report = await cocotb_loop(
            dut, checker, max_cycles=max_cycles(stim.params, stim.runs, stim.params.outputs),
            settle=bool(cfg.get("gate_level")))
        write_report(report)
        verdict(cfg, stim.steps, report, "value")
