# SPDX-License-Identifier: Apache-2.0
"""Background-activity filter for event cameras: the integer reference of the denoiser block.

An address-event stream of ``(x, y, p, t)`` events from a ``width x height`` sensor, in time
order, is filtered so that an event *passes* when one of its neighbouring pixels had an event
less than ``window`` time units before it, and is *dropped* otherwise (isolated events are
mostly background activity). Two architectures share that rule:

``exact``
    Per-pixel memory of the last event time (``width * height`` entries). An event at ``(x, y)``
    passes when a neighbour ``(x', y')`` in the sensor (the 4-neighbourhood ``x +- 1`` /
    ``y +- 1``, as ``tonic.functional.denoise_numpy``, or the 8-neighbourhood) has a stored time
    ``s`` with ``t - s < window``. Then ``(x, y)`` stores ``t``.

``rowcol``
    After Khodamoradi and Kastner (2018): ``O(width + height)`` memory. Column ``c`` remembers
    the time and the row of its most recent event, row ``r`` the time and the column of its
    most recent event. An event passes when, for some neighbour ``(x', y')``, column ``x'``'s
    last event was at row ``y'`` or row ``y'``'s last event was at column ``x'``, less than
    ``window`` before ``t``. Then column ``x`` stores ``(t, y)`` and row ``y`` stores ``(t, x)``.
    Every event it passes the exact filter would pass too: it forgets a neighbour's event once
    a later event in the same row and column has replaced it.

Decisions read the memory as all earlier events left it; an event's own write follows its
decision (the own pixel is never its own neighbour, so the order only matters to ``rowcol``).

Time is integer. The hardware stores ``ts_bits`` bits of each time and compares modulo
``M = 2**ts_bits``: an entry with stored ``s`` is *recent* for an event at ``t`` when it is valid
and ``(t - s) mod M < window``, with ``1 <= window <= H = M / 2``. Stale entries: each entry has
a valid bit, cleared at reset (nothing has fired before the first event), and time is cut into
*epochs* of ``H`` units, told apart by the top bit of ``t mod M``. When an event's top bit
differs from the previous event's, a new epoch has begun and every entry whose stored top bit
equals the new one is invalidated *before* the event's decision: it was written two epochs ago
(at least ``H + 1 >= window`` units before) and would soon alias. So every valid entry is less
than ``M`` old and its modular age is its true age, and the filter equals the unbounded one
(:func:`denoise` with ``ts_bits=None``) whenever consecutive events are less than ``H`` apart.
A longer gap can hide an epoch change; the host then sends *time markers*, events with
``x >= width`` (the ``x`` field has a spare value for that: it is ``bits(width)`` wide), which
are dropped and stored nowhere but advance the epoch. Hardware cost: ``ts_bits + 1`` bits per
entry.

Initial memory: ``tonic.functional.denoise_numpy`` starts with every pixel's memory at
``filter_time``, as if every pixel had fired at time 0, so an event before ``window`` passes
when any in-grid neighbour exists, and its grid is ``max(x) + 1`` by ``max(y) + 1``. The
neurotile filter starts with nothing fired. ``primed=True`` reproduces tonic's start (every
entry valid with time 0) in the reference model; the hardware starts unprimed.

Out-of-range events (``x >= width`` or ``y >= height``) are dropped and stored nowhere; their
time still advances the epoch (time markers). The command line refuses them in event files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurotile.neurons.spec import Param

__all__ = [
    "FILTERS",
    "DenoiserParams",
    "PARAMS",
    "neighbour_offsets",
    "denoise",
    "Stream",
    "synthetic_stream",
    "quality",
]

FILTERS = ("exact", "rowcol")

#: The structural parameters, declared once (validation here, options in the block).
PARAMS = (
    Param("width", int, 16, "sensor columns, x in 0..width-1 (2..1024)", low=2, high=1024),
    Param("height", int, 16, "sensor rows, y in 0..height-1 (2..1024)", low=2, high=1024),
    Param("ts_bits", int, 4, "bits of a stored timestamp; times compare modulo 2**ts_bits "
          "(2..32)", low=2, high=32),
    Param("filter", str, "exact", "exact: per-pixel timestamps; rowcol: per row and column "
          "(O(width + height) memory)", choices=FILTERS),
    Param("neighbours", int, 4, "neighbourhood, 4 (as tonic) or 8", choices=(4, 8)),
)

#: Largest per-pixel memory the exact filter is built with (entries).
MAX_EXACT_PIXELS = 4096


@dataclass(frozen=True)
class DenoiserParams:
    """Structure of a denoiser block.

    ``width``, ``height``: sensor size in pixels. ``ts_bits``: bits of a stored time (times
    compare modulo ``2**ts_bits``). ``filter``: ``exact`` or ``rowcol``. ``neighbours``: 4 or 8.
    The exact filter holds at most 4096 pixels.
    """

    width: int = 16
    height: int = 16
    ts_bits: int = 4
    filter: str = "exact"
    neighbours: int = 4

    def __post_init__(self) -> None:
        for p in PARAMS:
            object.__setattr__(self, p.name, p.check(getattr(self, p.name)))
        if self.filter == "exact" and self.width * self.height > MAX_EXACT_PIXELS:
            raise ValueError(f"width x height must be at most {MAX_EXACT_PIXELS} pixels for the "
                             f"exact filter, not {self.width} x {self.height}; use filter "
                             "rowcol")

    @property
    def x_bits(self) -> int:
        return max(1, (self.width - 1).bit_length())

    @property
    def y_bits(self) -> int:
        return max(1, (self.height - 1).bit_length())

    @property
    def x_field_bits(self) -> int:
        """Bits of an event's ``x``: one value past the sensor at least (time markers)."""
        return self.width.bit_length()

    @property
    def window_max(self) -> int:
        """Largest window, ``2**(ts_bits - 1)`` (half the timestamp period)."""
        return 1 << (self.ts_bits - 1)

    def memory_bits(self) -> int:
        """Bits of filter memory, valid bits included."""
        if self.filter == "exact":
            return self.width * self.height * (self.ts_bits + 1)
        return self.width * (self.ts_bits + self.y_bits + 1) + \
            self.height * (self.ts_bits + self.x_bits + 1)

    def check_window(self, window: int) -> int:
        """``window`` validated against ``ts_bits`` (``ValueError``/``TypeError``)."""
        w = Param("window", int, None, "", low=1, high=self.window_max).check(window)
        return w

    def structural(self) -> dict[str, object]:
        return {p.name: getattr(self, p.name) for p in PARAMS}


def neighbour_offsets(neighbours: int) -> tuple[tuple[int, int], ...]:
    """``(dx, dy)`` of the neighbourhood, in the order the hardware lists them."""
    four = ((-1, 0), (1, 0), (0, -1), (0, 1))
    if neighbours == 4:
        return four
    if neighbours == 8:
        return four + ((-1, -1), (1, -1), (-1, 1), (1, 1))
    raise ValueError(f"neighbours must be 4 or 8, not {neighbours!r}")


# -- the filter --------------------------------------------------------------------------------

def _events(x: Sequence[int], y: Sequence[int], t: Sequence[int]) -> tuple[np.ndarray, ...]:
    xs, ys, ts = (np.asarray(a) for a in (x, y, t))
    for name, a in (("x", xs), ("y", ys), ("t", ts)):
        if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
            raise TypeError(f"{name} must be a 1-D array of integers")
    if not xs.size == ys.size == ts.size:
        raise ValueError(f"x, y and t must have one length, not {xs.size}, {ys.size}, {ts.size}")
    if ts.size and (ts.min() < 0 or np.any(np.diff(ts) < 0)):
        raise ValueError("t must be non-negative and in time order")
    return (xs.astype(np.int64), ys.astype(np.int64), ts.astype(np.int64))


def denoise(p: DenoiserParams, x: Sequence[int], y: Sequence[int], t: Sequence[int],
            window: int, *, ts_bits: int | None | str = "params",
            primed: bool = False) -> np.ndarray:
    """Which events of the stream pass, as a boolean array (the integer model of the block).

    Parameters
    ----------
    p : DenoiserParams
        The block: sensor size, filter, neighbourhood and (by default) ``ts_bits``.
    x, y, t : array of int
        Event coordinates and times, in time order, ``t >= 0``.
    window : int
        Time units: an event passes on a neighbour's event less than ``window`` before it;
        ``1 .. 2**(ts_bits - 1)`` when times are stored modulo ``2**ts_bits``.
    ts_bits : int or None
        Bits of stored times (default: ``p.ts_bits``, what the hardware does, epochs
        included); ``None`` keeps times unbounded (no aliasing, no epochs).
    primed : bool
        Start as ``tonic.functional.denoise_numpy`` does, every pixel having fired at time 0
        (``exact`` only).

    Raises
    ------
    ValueError, TypeError
        Arrays of different lengths or not of integers, times not in order, a window out of
        range, ``primed`` with ``rowcol``.
    """
    xs, ys, ts = _events(x, y, t)
    bits = p.ts_bits if ts_bits == "params" else ts_bits
    if bits is None:
        window = Param("window", int, None, "", low=1).check(window)
        mask = None
    else:
        window = DenoiserParams(**(p.structural() | {"ts_bits": bits})).check_window(window)
        mask = (1 << bits) - 1
    if primed and p.filter != "exact":
        raise ValueError("primed applies to the exact filter only")
    if p.filter == "exact":
        return _exact(p, xs, ys, ts, window, mask, primed)
    return _rowcol(p, xs, ys, ts, window, mask)


def _recent(valid: bool, stored: int, t: int, window: int, mask: int | None) -> bool:
    if not valid:
        return False
    age = t - stored if mask is None else (t - stored) & mask
    return age < window


class _Epochs:
    """The epoch rule: on a change of the time's top bit, entries with that top bit expire."""

    def __init__(self, mask: int | None) -> None:
        self.top = None if mask is None else (mask + 1) >> 1
        self.last = 0

    def expire(self, t: int, tables: list[tuple[list[int], list[bool]]]) -> None:
        if self.top is None:
            return
        bit = t & self.top
        if bit != (self.last & self.top):
            for stored, valid in tables:
                for k, s in enumerate(stored):
                    if valid[k] and (s & self.top) == bit:
                        valid[k] = False
        self.last = t


def _exact(p: DenoiserParams, xs: np.ndarray, ys: np.ndarray, ts: np.ndarray, window: int,
           mask: int | None, primed: bool) -> np.ndarray:
    w, h = p.width, p.height
    stored = [0] * (w * h)
    valid = [primed] * (w * h)
    epochs = _Epochs(mask)
    offsets = neighbour_offsets(p.neighbours)
    out = np.zeros(xs.size, bool)
    for i, (x, y, t) in enumerate(zip(xs.tolist(), ys.tolist(), ts.tolist())):
        tm = t if mask is None else t & mask
        epochs.expire(tm, [(stored, valid)])
        if not (0 <= x < w and 0 <= y < h):
            continue
        hit = False
        for dx, dy in offsets:
            nx, ny = x + dx, y + dy
            if 0 <= nx < w and 0 <= ny < h:
                k = ny * w + nx
                if _recent(valid[k], stored[k], tm, window, mask):
                    hit = True
                    break
        out[i] = hit
        stored[y * w + x], valid[y * w + x] = tm, True
    return out


def _rowcol(p: DenoiserParams, xs: np.ndarray, ys: np.ndarray, ts: np.ndarray, window: int,
            mask: int | None) -> np.ndarray:
    w, h = p.width, p.height
    col_t, col_y, col_v = [0] * w, [0] * w, [False] * w
    row_t, row_x, row_v = [0] * h, [0] * h, [False] * h
    epochs = _Epochs(mask)
    offsets = neighbour_offsets(p.neighbours)
    out = np.zeros(xs.size, bool)
    for i, (x, y, t) in enumerate(zip(xs.tolist(), ys.tolist(), ts.tolist())):
        tm = t if mask is None else t & mask
        epochs.expire(tm, [(col_t, col_v), (row_t, row_v)])
        if not (0 <= x < w and 0 <= y < h):
            continue
        hit = False
        for dx, dy in offsets:
            nx, ny = x + dx, y + dy
            if not (0 <= nx < w and 0 <= ny < h):
                continue
            if (col_y[nx] == ny and _recent(col_v[nx], col_t[nx], tm, window, mask)) or \
                    (row_x[ny] == nx and _recent(row_v[ny], row_t[ny], tm, window, mask)):
                hit = True
                break
        out[i] = hit
        col_t[x], col_y[x], col_v[x] = tm, y, True
        row_t[y], row_x[y], row_v[y] = tm, x, True
    return out


# -- synthetic streams -------------------------------------------------------------------------

@dataclass(frozen=True)
class Stream:
    """An event stream in time order with ground truth: ``signal`` marks object events."""

    x: np.ndarray
    y: np.ndarray
    p: np.ndarray
    t: np.ndarray
    signal: np.ndarray

    def __len__(self) -> int:
        return int(self.t.size)


def synthetic_stream(width: int, height: int, *, duration: int, noise_rate: float,
                     seed: int, tick: int = 8, edges: int = 1, blobs: int = 2) -> Stream:
    """Moving edges and blobs plus uniform background noise, in time order.

    The scene advances one frame per ``tick`` time units for ``duration`` units. Each edge is a
    bar one pixel wide sweeping across the sensor (vertical or horizontal, a pixel per frame)
    whose pixels fire as it arrives; each blob is a disc of radius 2 moving in a straight line
    and bouncing off the borders, whose pixels fire when they enter or leave it. Object events
    get a time jitter of up to ``tick - 1``. ``noise_rate`` is background events per pixel per
    1000 time units, at uniform random pixels and times. Polarity: 1 for onsets, 0 for offsets
    and random for noise.
    """
    rng = np.random.default_rng(seed)
    frames = max(1, duration // tick)
    yy, xx = np.mgrid[0:height, 0:width]
    xs, ys, ps, ts = [], [], [], []
    objects = []
    for k in range(edges):
        vertical = bool(k % 2 == 0)
        span = width if vertical else height
        objects.append(("edge", vertical, int(rng.integers(0, span)), span))
    for _ in range(blobs):
        pos = rng.uniform([0, 0], [width - 1, height - 1])
        vel = rng.uniform(0.3, 0.8, 2) * rng.choice([-1, 1], 2)
        objects.append(("blob", pos, vel))
    prev = None
    for f in range(frames):
        inside = np.zeros((height, width), bool)
        for obj in objects:
            if obj[0] == "edge":
                _, vertical, start, span = obj
                pos = (start + f) % span
                inside |= (xx == pos) if vertical else (yy == pos)
            else:
                _, pos, vel = obj
                inside |= (xx - pos[0]) ** 2 + (yy - pos[1]) ** 2 <= 4.0
                pos += vel
                for d, size in ((0, width), (1, height)):
                    if not 0 <= pos[d] <= size - 1:
                        vel[d] = -vel[d]
                        pos[d] = min(max(pos[d], 0), size - 1)
        if prev is not None:
            on = inside & ~prev
            off = prev & ~inside
            for mask, pol in ((on, 1), (off, 0)):
                py, px = np.nonzero(mask)
                xs.append(px)
                ys.append(py)
                ps.append(np.full(px.size, pol))
                ts.append(f * tick + rng.integers(0, tick, px.size))
        prev = inside
    n_signal = sum(a.size for a in xs)
    n_noise = int(rng.poisson(noise_rate * width * height * frames * tick / 1000.0))
    xs.append(rng.integers(0, width, n_noise))
    ys.append(rng.integers(0, height, n_noise))
    ps.append(rng.integers(0, 2, n_noise))
    ts.append(rng.integers(0, frames * tick, n_noise))
    x, y, p, t = (np.concatenate(a).astype(np.int64) for a in (xs, ys, ps, ts))
    signal = np.arange(t.size) < n_signal
    order = np.argsort(t, kind="stable")
    return Stream(x[order], y[order], p[order], t[order], signal[order])


def quality(passed: np.ndarray, signal: np.ndarray) -> tuple[float, float]:
    """``(precision, recall)`` of the signal events among the passed ones."""
    passed, signal = np.asarray(passed, bool), np.asarray(signal, bool)
    kept = int(passed.sum())
    hits = int((passed & signal).sum())
    total = int(signal.sum())
    return (hits / kept if kept else 1.0, hits / total if total else 1.0)
