# SPDX-License-Identifier: Apache-2.0
"""``neurotile model denoiser``, ``simulate denoiser`` and ``generate denoiser``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurotile.cli import main
from neurotile.neurons.denoiser import DenoiserParams, denoise, synthetic_stream


@pytest.fixture(scope="module")
def stream():
    return synthetic_stream(16, 12, duration=1500, noise_rate=8.0, seed=5)


@pytest.fixture
def events(tmp_path, stream):
    path = tmp_path / "events.npz"
    np.savez(path, x=stream.x, y=stream.y, p=stream.p, t=stream.t)
    return str(path)


def _json(capsys, *args):
    capsys.readouterr()
    assert main(["model", "denoiser", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def refused(capsys, *args) -> str:
    """The one error line of ``neurotile ARGS`` (exit 2, nothing on stdout)."""
    capsys.readouterr()
    assert main(list(args)) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    return err.removeprefix("neurotile: error: ").rstrip("\n")


@pytest.mark.parametrize("options", [
    dict(),
    dict(filter="rowcol", neighbours=8),
    dict(ts_bits=12, neighbours=8),
])
def test_model_prints_the_integer_models_passed_events(capsys, events, stream, options):
    args = ["--events", events, "--window", "7", "--width", "16", "--height", "12"]
    for k, v in options.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    out = _json(capsys, *args)
    p = DenoiserParams(width=16, height=12, **options)
    expected = np.flatnonzero(denoise(p, stream.x, stream.y, stream.t, 7)).tolist()
    assert out == {"passed": expected} and 0 < len(expected) < len(stream)


def test_model_summary(capsys, events, stream):
    capsys.readouterr()
    assert main(["model", "denoiser", "--events", events, "--window", "6", "--height", "12"]) == 0
    n = int(denoise(DenoiserParams(height=12), stream.x, stream.y, stream.t, 6).sum())
    assert capsys.readouterr().out == (
        f"denoiser exact filter, 16x12, 4 neighbours, window 6 (times modulo 2**4): {n} of "
        f"{len(stream)} events pass ({100.0 * n / len(stream):.1f} %)\n")


def _save(tmp_path, name, **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


def test_model_refuses_bad_files(capsys, tmp_path):
    a = np.arange(4)
    base = ["model", "denoiser", "--window", "5", "--events"]
    missing = _save(tmp_path, "missing.npz", x=a, y=a, t=a)
    assert refused(capsys, *base, missing) == \
        f"--events {missing} has no array p (it needs x, y, p, t)"
    backwards = _save(tmp_path, "back.npz", x=a, y=a, p=a, t=np.array([0, 3, 2, 4]))
    assert refused(capsys, *base, backwards) == \
        f"--events {backwards}: events are not in time order: event 2 at t=2 comes after t=3"
    outside = _save(tmp_path, "out.npz", x=a, y=np.array([0, 1, 16, 2]), p=a, t=a)
    assert refused(capsys, *base, outside) == \
        f"--events {outside}: event 2 has y=16, outside the sensor (y in 0..15, --height 16)"
    floats = _save(tmp_path, "floats.npz", x=a, y=a, p=a, t=a * 0.5)
    assert refused(capsys, *base, floats) == f"--events {floats}: t holds float64, not integers"
    uneven = _save(tmp_path, "uneven.npz", x=a, y=a[:3], p=a, t=a)
    assert refused(capsys, *base, uneven) == \
        f"--events {uneven}: x, y, p and t must have one length, not x 4, y 3, p 4, t 4"
    npy = tmp_path / "one.npy"
    np.save(npy, a)
    assert refused(capsys, *base, str(npy)) == \
        f"--events {npy} is a single .npy array; save x, y, p and t with np.savez"
    text = tmp_path / "text.npz"
    text.write_text("x")
    assert refused(capsys, *base, str(text)) == \
        f"--events {text} is not a NumPy .npz archive (np.savez writes one)"
    assert refused(capsys, *base, str(tmp_path / "none.npz")) == \
        f"--events {tmp_path / 'none.npz'}: no such file"


def test_model_refuses_bad_options(capsys, events):
    assert refused(capsys, "model", "denoiser", "--events", events, "--window", "9") == \
        "--window must be between 1 and 8 with --ts-bits 4, not 9; give --ts-bits 5 or more"
    assert refused(capsys, "model", "denoiser", "--events", events, "--window", "0") == \
        "--window must be between 1 and 8 with --ts-bits 4, not 0"
    assert refused(capsys, "model", "denoiser", "--events", events, "--window", "5",
                   "--width", "100", "--height", "100") == \
        ("denoiser: width x height must be at most 4096 pixels for the exact filter, not "
         "100 x 100; use filter rowcol")


def test_simulate_on_amaranth(capsys):
    capsys.readouterr()
    assert main(["simulate", "denoiser", "--sim", "amaranth", "--steps", "300", "--width", "5",
                 "--height", "4", "--filter", "rowcol"]) == 0
    line = capsys.readouterr().out
    assert line.startswith("amaranth: ") and " events checked, 0 mismatches, " in line


def test_generate_is_byte_identical(tmp_path, capsys):
    for out in ("a", "b"):
        assert main(["generate", "denoiser", "--filter", "rowcol", "--width", "64", "--height",
                     "48", "--out", str(tmp_path / out)]) == 0
    name = "denoiser_rowcol_64x48_n4_t4.v"
    assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
