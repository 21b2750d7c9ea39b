# SPDX-License-Identifier: Apache-2.0
"""Fixed-width hexadecimal records, encoded and decoded with vectorised NumPy.

A record is one line of ``ceil(width/4)`` lower-case hexadecimal digits, most significant digit
first: the text ``$readmemh`` reads and ``$fwrite(fd, "%h\\n", ...)`` writes. Fields are given as
``(values, lsb, bits)``; rows are held as 64-bit lanes, least significant lane first, so records
of any width are packed and unpacked without Python per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["hex_records", "parse_records", "field_of", "compare_fields"]

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _lanes(words: Sequence[tuple[np.ndarray, int, int]], width: int, rows: int) -> np.ndarray:
    """Pack (values, lsb, bits) fields into 64-bit lanes, least significant lane first."""
    nlanes = (width + 63) // 64
    lanes = np.zeros((rows, nlanes), dtype=np.uint64)
    for values, lsb, bits in words:
        v = np.asarray(values).astype(np.int64).astype(np.uint64)
        if bits < 64:
            v &= np.uint64((1 << bits) - 1)
        done = 0
        while done < bits:
            pos = lsb + done
            lane, off = divmod(pos, 64)
            take = min(bits - done, 64 - off)
            part = (v >> np.uint64(done)) & np.uint64((1 << take) - 1)  # take <= 64
            lanes[:, lane] |= part << np.uint64(off)
            done += take
    return lanes


def hex_records(fields: Sequence[tuple[np.ndarray, int, int]], width: int, rows: int) -> bytes:
    """Encode ``rows`` records of ``width`` bits as ``$readmemh`` text.

    Parameters
    ----------
    fields : sequence of (values, lsb, bits)
        Each field's values (one per row, or broadcastable), its lowest bit and its width;
        values are truncated to ``bits`` (two's complement for negative values).
    width : int
        Record width in bits.
    rows : int
        Number of records.

    Returns
    -------
    bytes
        One line of ``ceil(width/4)`` hex digits per row.
    """
    lanes = _lanes(fields, width, rows)
    digits = (width + 3) // 4
    out = np.empty((rows, digits + 1), dtype=np.uint8)
    for d in range(digits):  # d = 0 is the least significant digit, written last
        lane, off = divmod(4 * d, 64)
        nib = (lanes[:, lane] >> np.uint64(off)) & np.uint64(15)
        out[:, digits - 1 - d] = _HEX[nib.astype(np.intp)]
    out[:, digits] = ord("\n")
    return out.tobytes()


def parse_records(text: bytes, width: int) -> np.ndarray:
    """Parse fixed-width hex lines into 64-bit lanes, shape ``(rows, ceil(width/64))``.

    Raises
    ------
    RuntimeError
        If the lines are not ``ceil(width/4)`` digits long, or a digit is not hexadecimal
        (``x`` or ``z`` bits reached an output).
    """
    digits = (width + 3) // 4
    if not text:
        return np.zeros((0, (width + 63) // 64), dtype=np.uint64)
    raw = np.frombuffer(text, dtype=np.uint8)
    if raw.size % (digits + 1):
        raise RuntimeError(f"output records are not {digits} hex digits per line")
    raw = raw.reshape(-1, digits + 1)[:, :digits]
    table = np.full(256, 255, dtype=np.uint8)
    table[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
    table[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
    table[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)
    nibbles = table[raw]
    if (nibbles == 255).any():
        bad = int(np.argwhere(nibbles == 255)[0, 0])
        raise RuntimeError(f"output record {bad} is not hexadecimal"
                           " (x or z bits reached an output?)")
    lanes = np.zeros((raw.shape[0], (width + 63) // 64), dtype=np.uint64)
    for d in range(digits):
        lane, off = divmod(4 * d, 64)
        lanes[:, lane] |= nibbles[:, digits - 1 - d].astype(np.uint64) << np.uint64(off)
    return lanes


def field_of(lanes: np.ndarray, lsb: int, bits: int, *, signed: bool = False) -> np.ndarray:
    """Extract a field (at most 63 bits) from parsed records as int64."""
    lane, off = divmod(lsb, 64)
    v = lanes[:, lane] >> np.uint64(off)
    if off + bits > 64 and lane + 1 < lanes.shape[1]:
        v |= lanes[:, lane + 1] << np.uint64(64 - off)
    v = (v & np.uint64((1 << bits) - 1)).astype(np.int64)
    if signed:
        v = np.where(v >> (bits - 1), v - (1 << bits), v)
    return v


def compare_fields(board: Any, step: np.ndarray, neuron: np.ndarray,
                   expected: Mapping[str, np.ndarray], observed: Mapping[str, np.ndarray]) -> int:
    """Compare fields row by row into ``board`` (a :class:`~testbench.common.Scoreboard`).

    Every differing value is counted; the first ones, in row order and then in the order of
    ``expected``, are kept with their ``step``, ``neuron``, field name and both values. Returns
    the number of rows with at least one mismatch.
    """
    names = list(expected)
    bad = np.stack([np.asarray(observed[n]) != np.asarray(expected[n]) for n in names], axis=1) \
        if names else np.zeros((len(step), 0), bool)
    rows, cols = np.nonzero(bad)  # row-major: row order, then field order
    keep = max(0, board.keep - len(board.first))
    for r, c in zip(rows[:keep], cols[:keep]):
        n = names[c]
        board.compare(int(step[r]), int(neuron[r]), n, int(expected[n][r]), int(observed[n][r]))
    board.count += max(0, len(rows) - min(len(rows), keep))
    return int(bad.any(axis=1).sum()) if names else 0
