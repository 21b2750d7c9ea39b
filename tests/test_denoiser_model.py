# SPDX-License-Identifier: Apache-2.0
"""The denoiser's reference model: tonic equivalence, the modular time rule, both filters."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from neurotile.neurons.denoiser import (
    DenoiserParams,
    denoise,
    neighbour_offsets,
    quality,
    synthetic_stream,
)


def _tonic_denoise():
    """``tonic.functional.denoise_numpy``, loaded from its own module file.

    tonic's package ``__init__`` imports its datasets (librosa, scipy, h5py, ...); the filter
    needs NumPy only, so the project installs tonic without its dependencies and the test loads
    the one module (see docs/denoiser.md).
    """
    spec = importlib.util.find_spec("tonic")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("tonic is not installed (pip install --no-deps tonic==1.7.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "functional" / "denoise.py"
    module_spec = importlib.util.spec_from_file_location("_tonic_denoise", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.denoise_numpy


def _structured(x, y, t, p=None):
    dtype = np.dtype([("x", np.int64), ("y", np.int64), ("t", np.int64), ("p", np.int64)])
    out = np.zeros(len(t), dtype)
    out["x"], out["y"], out["t"] = x, y, t
    out["p"] = 0 if p is None else p
    return out


def _random_stream(rng, w, h, n, scale):
    x = rng.integers(0, w, n)
    y = rng.integers(0, h, n)
    t = np.cumsum(rng.integers(0, scale, n))
    return x, y, t


def _tonic_passed(tonic_denoise, x, y, t, window):
    """Indices of the events tonic keeps (it returns the kept events in order)."""
    events = _structured(x, y, t, p=np.arange(len(t)))  # p carries the index through
    return tonic_denoise(events, filter_time=window)["p"]


@pytest.mark.parametrize("seed", range(6))
def test_exact_matches_tonic(seed):
    """Unbounded and 32-bit-modular exact filters keep tonic's events, from tonic's start
    (``primed``) on tonic's grid, on random and synthetic streams."""
    tonic_denoise = _tonic_denoise()
    rng = np.random.default_rng(seed)
    w, h = int(rng.integers(2, 12)), int(rng.integers(2, 12))
    if seed % 2:
        s = synthetic_stream(w + 4, h + 4, duration=3000, noise_rate=10.0, seed=seed)
        x, y, t = s.x, s.y, s.t
    else:
        x, y, t = _random_stream(rng, w, h, 1500, 20)
    window = int(rng.integers(1, 60))
    kept = _tonic_passed(tonic_denoise, x, y, t, window)
    assert 0 < len(kept) < len(t)
    p = DenoiserParams(width=int(x.max()) + 1, height=int(y.max()) + 1, ts_bits=32)
    for bits in (None, 32):
        ours = np.flatnonzero(denoise(p, x, y, t, window, ts_bits=bits, primed=True))
        np.testing.assert_array_equal(ours, kept)


def test_tonic_start_differs_only_before_window():
    """Unprimed (the hardware's start), the filter differs from tonic only on events earlier
    than ``window``; from there on, and on a larger sensor, they agree."""
    tonic_denoise = _tonic_denoise()
    rng = np.random.default_rng(11)
    x, y, t = _random_stream(rng, 6, 5, 800, 6)
    window = 40
    tonic = np.zeros(len(t), bool)
    tonic[_tonic_passed(tonic_denoise, x, y, t, window)] = True
    p = DenoiserParams(width=9, height=9, ts_bits=16)
    ours = denoise(p, x, y, t, window)
    late = t >= window
    np.testing.assert_array_equal(ours[late], tonic[late])
    assert (ours[~late] != tonic[~late]).any()  # tonic passes early events on "time 0"
    assert not (ours[~late] & ~tonic[~late]).any()


def test_window_boundary_and_own_pixel():
    p = DenoiserParams(width=4, height=4, ts_bits=8)
    # neighbour at age window-1 passes, at age window drops; the own pixel never counts
    x, y, t = [1, 2, 2, 1, 1], [1, 1, 1, 1, 1], [0, 9, 12, 19, 22]
    assert denoise(p, x, y, t, 10).tolist() == [False, True, False, True, False]
    assert denoise(p, x, y, t, 11).tolist() == [False, True, False, True, True]


def test_diagonals_need_eight_neighbours():
    x, y, t = [1, 2], [1, 2], [0, 1]
    for n, second in ((4, False), (8, True)):
        p = DenoiserParams(width=4, height=4, neighbours=n)
        assert denoise(p, x, y, t, 5).tolist() == [False, second]


def test_modular_time_epochs_and_markers():
    """Times compare modulo 2**ts_bits: a wrap in the middle is exact; an entry two epochs
    (half periods) old expires when the epoch changes; a gap of a half period or more can hide
    the change (the documented caveat) unless a time marker (x outside the sensor) shows it."""
    p = DenoiserParams(width=4, height=4, ts_bits=4)
    x, y = [0, 1], [0, 0]
    assert denoise(p, x, y, [14, 17], 4).tolist() == [False, True]    # 14 -> 1 across the wrap
    assert denoise(p, x, y, [14, 18], 4).tolist() == [False, False]
    # 3 then 21 (= 5 mod 16): no top-bit change seen, the entry aliases to age 2
    assert denoise(p, x, y, [3, 3 + 16 + 2], 4).tolist() == [False, True]
    assert denoise(p, x, y, [3, 3 + 16 + 2], 4, ts_bits=None).tolist() == [False, False]
    # markers at 11 and 19 (x = 4 is outside the sensor) show both epoch changes
    assert denoise(p, [0, 4, 4, 1], [0, 0, 0, 0], [3, 11, 19, 21], 4).tolist() == \
        [False, False, False, False]
    # a steady stream needs no marker: every event less than 8 after the previous one
    rng = np.random.default_rng(4)
    xs, ys = rng.integers(0, 4, 3000), rng.integers(0, 4, 3000)
    ts = np.cumsum(rng.integers(0, 8, 3000))
    for window in (1, 3, 8):
        np.testing.assert_array_equal(denoise(p, xs, ys, ts, window),
                                      denoise(p, xs, ys, ts, window, ts_bits=None))
    rowcol = DenoiserParams(width=4, height=4, ts_bits=4, filter="rowcol", neighbours=8)
    np.testing.assert_array_equal(denoise(rowcol, xs, ys, ts, 5),
                                  denoise(rowcol, xs, ys, ts, 5, ts_bits=None))


@pytest.mark.parametrize("neighbours", [4, 8])
def test_rowcol_passes_a_subset_of_exact(neighbours):
    """rowcol forgets, never invents: what it passes, the exact filter passes; on a sparse
    stream (one object) they agree."""
    s = synthetic_stream(32, 24, duration=4000, noise_rate=3.0, seed=3)
    exact = denoise(DenoiserParams(width=32, height=24, ts_bits=16, neighbours=neighbours),
                    s.x, s.y, s.t, 30)
    rowcol = denoise(DenoiserParams(width=32, height=24, ts_bits=16, filter="rowcol",
                                    neighbours=neighbours), s.x, s.y, s.t, 30)
    assert not (rowcol & ~exact).any()
    assert rowcol.sum() > 0.5 * exact.sum()
    precision, recall = quality(rowcol, s.signal)
    assert precision > 0.8 and recall > 0.3


def test_rowcol_reads_rows_and_columns():
    p = DenoiserParams(width=6, height=6, filter="rowcol", ts_bits=8)
    # (2,2) then (3,2): row 2 remembers column 2; (3,3) then (3,4): column 3 remembers row 3.
    assert denoise(p, [2, 3, 3, 3], [2, 2, 3, 4], [0, 1, 2, 3], 5).tolist() == \
        [False, True, True, True]
    # A later event in the neighbour's row and column hides it.
    assert denoise(p, [2, 5, 2, 3], [2, 2, 5, 2], [0, 1, 1, 2], 5).tolist() == \
        [False, False, False, False]


def test_out_of_range_events_are_dropped_and_not_stored():
    p = DenoiserParams(width=3, height=3)
    assert denoise(p, [3, 2, 1], [0, 0, 3], [0, 1, 2], 5).tolist() == [False, False, False]


def test_neighbour_order():
    assert neighbour_offsets(4) == ((-1, 0), (1, 0), (0, -1), (0, 1))
    assert len(set(neighbour_offsets(8))) == 8 and (0, 0) not in neighbour_offsets(8)


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(width=1), ValueError, r"^width must be between 2 and 1024, not 1$"),
    (dict(ts_bits=33), ValueError, r"^ts_bits must be between 2 and 32, not 33$"),
    (dict(filter="median"), ValueError,
     r"^filter must be one of 'exact', 'rowcol', not 'median'$"),
    (dict(neighbours=6), ValueError, r"^neighbours must be one of 4, 8, not 6$"),
    (dict(width=128, height=64), ValueError,
     r"^width x height must be at most 4096 pixels for the exact filter, not 128 x 64; use "
     r"filter rowcol$"),
    (dict(height=2.5), TypeError, r"^height must be an integer, not 2\.5$"),
])
def test_params_rejected(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        DenoiserParams(**kwargs)


def test_bad_streams_and_windows_rejected():
    p = DenoiserParams(ts_bits=4)
    with pytest.raises(ValueError, match=r"^window must be between 1 and 8, not 9$"):
        denoise(p, [0], [0], [0], 9)
    with pytest.raises(ValueError, match=r"^t must be non-negative and in time order$"):
        denoise(p, [0, 0], [0, 0], [5, 4], 3)
    with pytest.raises(ValueError, match=r"^x, y and t must have one length, not 2, 1, 2$"):
        denoise(p, [0, 0], [0], [1, 2], 3)
    with pytest.raises(ValueError, match=r"^primed applies to the exact filter only$"):
        denoise(DenoiserParams(filter="rowcol"), [0], [0], [0], 3, primed=True)


def test_synthetic_stream_is_ordered_and_labelled():
    s = synthetic_stream(16, 16, duration=2000, noise_rate=5.0, seed=1)
    assert np.all(np.diff(s.t) >= 0) and s.x.max() < 16 and s.y.max() < 16
    assert 0 < s.signal.sum() < len(s)
    again = synthetic_stream(16, 16, duration=2000, noise_rate=5.0, seed=1)
    np.testing.assert_array_equal(s.t, again.t)
