# SPDX-License-Identifier: Apache-2.0
"""``neurotile model denoiser --events FILE.npz --window T [--width W --height H --filter F
--neighbours N --ts-bits B] [--json]``.

Runs the denoiser's integer model (:func:`neurotile.neurons.denoiser.denoise`, what the hardware
computes bit for bit: times compared modulo ``2**ts_bits``) on an event file and prints the
indices of the events that pass, ``{"passed": [...]}`` with ``--json``, else a summary.

The file is a NumPy ``.npz`` archive with the 1-D integer arrays ``x``, ``y``, ``p`` and ``t`` of
one length, events in time order (``t`` non-negative and non-decreasing), ``x < width`` and
``y < height``. ``p`` is not used by the filter. Anything else is refused with one line.
"""

from __future__ import annotations

import argparse
import json
import zipfile
from typing import Any

import numpy as np

from neurotile.blocks import Block
from neurotile.commands import add_param
from neurotile.errors import UsageError

__all__ = ["add_parser", "load_events"]

#: Most events one run takes.
MAX_EVENTS = 20_000_000


def add_parser(sub: Any, block: Block) -> None:
    """Add ``denoiser`` to the sub-parsers of ``neurotile model``."""
    p = sub.add_parser(block.name, help=block.summary, description=(
        f"{block.summary}. Runs the integer model the hardware matches on an event file and "
        "prints the indices of the events that pass."))
    for param in block.params:
        add_param(p, param)
    p.add_argument("--events", required=True, metavar="FILE.npz",
                   help="events: a .npz archive of 1-D integer arrays x, y, p, t in time order")
    p.add_argument("--window", required=True, type=int, metavar="T",
                   help="an event passes when a neighbour fired less than T time units before "
                   "it (1 .. 2**(ts_bits - 1))")
    p.add_argument("--json", action="store_true",
                   help='print {"passed": [indices of the events that pass]}')
    p.set_defaults(_run=_run, _block=block)


def load_events(path: str) -> dict[str, np.ndarray]:
    """The arrays ``x``, ``y``, ``p``, ``t`` of ``path``, checked; :class:`UsageError` otherwise."""
    flag = f"--events {path}"
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UsageError(f"{flag}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{flag} is a folder; give a .npz file") from None
    except PermissionError:
        raise UsageError(f"{flag} cannot be read (permission denied)") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):
        raise UsageError(f"{flag} is not a NumPy .npz archive (np.savez writes one)") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise UsageError(f"{flag} is a single .npy array; save x, y, p and t with np.savez")
    with archive:
        missing = [k for k in ("x", "y", "p", "t") if k not in archive.files]
        if missing:
            raise UsageError(f"{flag} has no array {', '.join(missing)} (it needs x, y, p, t)")
        try:
            arrays = {k: archive[k] for k in ("x", "y", "p", "t")}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile):
            raise UsageError(f"{flag} has an array that cannot be read without pickle") from None
    for k, a in arrays.items():
        if a.ndim != 1:
            raise UsageError(f"{flag}: {k} must be 1-D, not of shape {list(a.shape)}")
        if a.size and a.dtype.kind not in "iu":
            raise UsageError(f"{flag}: {k} holds {a.dtype}, not integers")
    sizes = {k: a.size for k, a in arrays.items()}
    if len(set(sizes.values())) > 1:
        shown = ", ".join(f"{k} {n}" for k, n in sizes.items())
        raise UsageError(f"{flag}: x, y, p and t must have one length, not {shown}")
    if sizes["t"] > MAX_EVENTS:
        raise UsageError(f"{flag} has {sizes['t']:,} events, at most {MAX_EVENTS:,} per run")
    return {k: a.astype(np.int64) for k, a in arrays.items()}


def _check_stream(ev: dict[str, np.ndarray], path: str, width: int, height: int) -> None:
    flag = f"--events {path}"
    t = ev["t"]
    if t.size and t.min() < 0:
        i = int(np.argmax(t < 0))
        raise UsageError(f"{flag}: event {i} has negative time {int(t[i])}")
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        i = int(back[0]) + 1
        raise UsageError(f"{flag}: events are not in time order: event {i} at t={int(t[i])} "
                         f"comes after t={int(t[i - 1])}")
    for name, size, flag_size in (("x", width, "--width"), ("y", height, "--height")):
        a = ev[name]
        bad = np.flatnonzero((a < 0) | (a >= size))
        if bad.size:
            i = int(bad[0])
            raise UsageError(f"{flag}: event {i} has {name}={int(a[i])}, outside the sensor "
                             f"({name} in 0..{size - 1}, {flag_size} {size})")


def _run(args: argparse.Namespace) -> int:
    from neurotile.neurons.denoiser import PARAMS, DenoiserParams, denoise

    block = args._block
    given = {p.name: getattr(args, p.name) for p in PARAMS if getattr(args, p.name) is not None}
    try:
        params = DenoiserParams(**given)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{block.name}: {exc}") from None
    if not 1 <= args.window <= params.window_max:
        need = max(2, (args.window - 1).bit_length() + 1)
        hint = f"; give --ts-bits {need} or more" if args.window >= 1 and need <= 32 else ""
        raise UsageError(f"--window must be between 1 and {params.window_max} with --ts-bits "
                         f"{params.ts_bits}, not {args.window}{hint}")
    ev = load_events(args.events)
    _check_stream(ev, args.events, params.width, params.height)
    passed = denoise(params, ev["x"], ev["y"], ev["t"], args.window)
    indices = np.flatnonzero(passed).tolist()
    if args.json:
        print(json.dumps({"passed": indices}))
    else:
        n = int(ev["t"].size)
        share = f" ({100.0 * len(indices) / n:.1f} %)" if n else ""
        print(f"denoiser {params.filter} filter, {params.width}x{params.height}, "
              f"{params.neighbours} neighbours, window {args.window} (times modulo "
              f"2**{params.ts_bits}): {len(indices)} of {n} events pass{share}")
    return 0
