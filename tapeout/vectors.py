# SPDX-License-Identifier: Apache-2.0
"""Test vectors for a taped-out block: host transactions with the reads the reference expects.

A :class:`Script` is a list of operations on the host interface (see
:mod:`neurotile.tapeout.host`). The generated ``test/test.py`` replays it through the pins
and compares every read with the value the block's reference model computed when the project
was generated; it needs nothing from neurotile, only ``test/vectors.json``.

Operations (one JSON array each)::

    ["W", address, byte]            write a byte (strobe protocol)
    ["B"]                           wait until busy (uio[6]) is low
    ["R", address, byte, label]     read a byte and compare it with the expected value
    ["X"]                           pulse rst_n low, then wait until busy is low
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from neurotile.tapeout.host import RegisterMap

__all__ = ["Script", "FORMAT"]

FORMAT = 1


@dataclass
class Script:
    """A growing list of host operations on one register map."""

    regmap: RegisterMap
    ops: list[list[Any]] = field(default_factory=list)

    def write(self, name: str, value: int) -> None:
        """Write ``value`` to register ``name``, least significant byte first."""
        r = self.regmap[name]
        if r.kind not in ("config", "push"):
            raise ValueError(f"register {name} is {r.kind}, not writable")
        value = int(value) & ((1 << r.width) - 1)
        base = self.regmap.address(name)
        for i in range(r.nbytes):
            self.ops.append(["W", base + i, (value >> (8 * i)) & 0xFF])

    def wait_idle(self) -> None:
        self.ops.append(["B"])

    def reset(self) -> None:
        self.ops.append(["X"])

    def expect(self, name: str, value: int, label: str) -> None:
        """Read register ``name`` and expect ``value`` (two's complement if negative)."""
        r = self.regmap[name]
        value = int(value) & ((1 << r.width) - 1)
        base = self.regmap.address(name)
        for i in range(r.nbytes):
            tag = label if r.nbytes == 1 else f"{label} byte {i}"
            self.ops.append(["R", base + i, (value >> (8 * i)) & 0xFF, tag])

    @property
    def reads(self) -> int:
        return sum(1 for op in self.ops if op[0] == "R")

    def to_json(self, meta: dict[str, Any]) -> str:
        """The ``test/vectors.json`` text: deterministic, one operation per line."""
        head = {"format": FORMAT, "meta": meta, "registers": self.regmap.to_dict()}
        text = json.dumps(head, indent=1, sort_keys=True)
        lines = ",\n".join("  " + json.dumps(op) for op in self.ops)
        return text[:-2] + ',\n "ops": [\n' + lines + "\n ]\n}\n"
