# SPDX-License-Identifier: Apache-2.0
"""Tape-out adapter of the event-camera denoiser (:class:`neurotile.rtl.denoiser.Denoiser`).

Registers: ``WINDOW`` holds the time window; writing the most significant byte of ``EVENT``
pushes one event ``(x, y, t)`` into the filter; its decision is then on offer in ``DECISION``
(bit 0: a decision is on offer, bit 1: the event passes) until a write to ``POP`` takes it.
``PASSED`` counts the events that passed since reset (wrapping at 16 bits).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from amaranth.hdl import Module, Signal

from neurotile.neurons.denoiser import PARAMS, DenoiserParams, denoise
from neurotile.neurons.spec import Param
from neurotile.rtl.denoiser import Denoiser, event_layout
from neurotile.tapeout.adapters import BlockText, TapeoutAdapter
from neurotile.tapeout.host import Register, RegisterMap
from neurotile.tapeout.vectors import Script

__all__ = ["ADAPTER", "denoiser_regmap"]

ADAPTER_ID = 0x44  # 'D'
COUNT_BITS = 16


def _params(params: dict[str, Any]) -> DenoiserParams:
    return DenoiserParams(**{p.name: params[p.name] for p in PARAMS
                             if params.get(p.name) is not None})


def _window(p: DenoiserParams, params: dict[str, Any]) -> int:
    window = params.get("window")
    return p.check_window(window if window is not None else max(1, p.window_max // 2))


def _event(p: DenoiserParams, x: int, y: int, t: int) -> int:
    layout = event_layout(p)
    return (x << layout["x"].offset) | (y << layout["y"].offset) | \
        ((t & ((1 << p.ts_bits) - 1)) << layout["t"].offset)


def denoiser_regmap(params: dict[str, Any]) -> RegisterMap:
    """The denoiser's registers for ``params``."""
    p = _params(params)
    layout = event_layout(p)
    xo, yo, to = (layout[k].offset for k in ("x", "y", "t"))
    return RegisterMap((
        Register("ID", "const", 8, "identification byte (0x44, 'D')", reset=ADAPTER_ID),
        Register("WINDOW", "config", p.ts_bits, "time window: an event passes when a neighbour "
                 "fired less than WINDOW time units before it", reset=_window(p, params)),
        Register("EVENT", "push", layout.size,
                 f"one event: bits {yo - 1}..{xo} x, bits {to - 1}..{yo} y, bits "
                 f"{layout.size - 1}..{to} time modulo 2^{p.ts_bits}"),
        Register("POP", "push", 1, "write anything: take the decision on offer"),
        Register("DECISION", "status", 2, "bit 0 a decision is on offer, bit 1 its event "
                 "passes"),
        Register("PASSED", "status", COUNT_BITS, "events passed since reset (wraps)"),
    ), event="the decision on offer is 'pass'")


def _build(params: dict[str, Any]) -> Denoiser:
    return Denoiser(**_params(params).structural())


def _connect(m: Module, core: Denoiser, host: Any, params: dict[str, Any]) -> None:
    dec = core.decisions
    passed = Signal(COUNT_BITS)
    with m.If(dec.valid & dec.ready & dec.payload):
        m.d.sync += passed.eq(passed + 1)
    m.d.comb += [
        core.window.eq(host.window),
        core.events.valid.eq(host.event.valid),
        core.events.payload.eq(host.event.payload),
        host.event.ready.eq(core.events.ready),
        dec.ready.eq(host.pop.valid),
        host.pop.ready.eq(dec.valid),
        host.decision.eq(dec.valid | ((dec.valid & dec.payload) << 1)),
        host.passed.eq(passed),
        host.block_busy.eq(0),  # one event per cycle: only pending pushes keep busy high
        host.block_event.eq(dec.valid & dec.payload),
    ]


def _stream(p: DenoiserParams, window: int, events: int,
            rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Directed events at the window's edges, then clustered activity with noise whose times
    wrap around ``2**ts_bits``."""
    cx, cy = p.width // 2, p.height // 2
    x = [cx, cx + 1, cx, cx + 1, cx, cx, cx - 1, cx]
    y = [cy, cy, cy, cy, cy, cy, cy, cy + 1]
    t = [0, window - 1, window + 5, 2 * window + 5, 2 * window + 5, 3 * window + 5,
         3 * window + 6, 5 * window]
    px, py, now = cx, cy, t[-1]
    while len(t) < events:
        if rng.random() < 0.3:
            x.append(int(rng.integers(0, p.width)))
            y.append(int(rng.integers(0, p.height)))
        else:
            px = min(max(px + int(rng.integers(-1, 2)), 0), p.width - 1)
            py = min(max(py + int(rng.integers(-1, 2)), 0), p.height - 1)
            x.append(px)
            y.append(py)
        now += int(rng.integers(0, window + 1))
        t.append(now)
    return (np.array(x[:events]), np.array(y[:events]), np.array(t[:events]))


def _vectors(params: dict[str, Any], regmap: RegisterMap, seed: int, steps: int) -> Script:
    p = _params(params)
    window = _window(p, params)
    rng = np.random.default_rng(seed)
    s = Script(regmap)
    s.wait_idle()
    s.expect("ID", ADAPTER_ID, "ID after reset")
    s.expect("WINDOW", window, "WINDOW after reset")
    s.expect("DECISION", 0, "no decision after reset")
    x, y, t = _stream(p, window, steps, rng)
    expected = denoise(p, x, y, t, window)
    count = 0
    for i in range(len(t)):
        s.write("EVENT", _event(p, int(x[i]), int(y[i]), int(t[i])))
        s.wait_idle()
        s.expect("DECISION", 1 | (int(expected[i]) << 1), f"event {i} decision")
        s.write("POP", 1)
        s.wait_idle()
        count += int(expected[i])
    s.expect("DECISION", 0, "every decision taken")
    s.expect("PASSED", count, "events passed")
    return s


def _describe(params: dict[str, Any], regmap: RegisterMap) -> BlockText:
    p = _params(params)
    a = regmap.address
    memory = (f"a {p.ts_bits}-bit timestamp per pixel ({p.width * p.height} entries)"
              if p.filter == "exact" else
              f"per column the time and row of its last event and per row the time and column "
              f"of its last event ({p.width} + {p.height} entries)")
    how = f"""\
A background-activity filter for a {p.width} x {p.height} event camera. Each event `(x, y, t)`
passes when one of its {p.neighbours} neighbouring pixels had an event less than `WINDOW` time
units before it; isolated events (mostly sensor noise) are dropped. The filter keeps {memory},
with a valid bit per entry cleared by reset. Times are {p.ts_bits}-bit and compared modulo
2^{p.ts_bits}: an entry is recent when `(t - stored) mod 2^{p.ts_bits} < WINDOW`. It decides one
event per clock cycle; the decisions are exactly neurotile's reference model (`denoise`, filter
`{p.filter}`), and the test in `test/` checks every one.
"""
    test = f"""\
1. Reset the design and wait until `busy` is low. Read `ID` (0x00): it must be 0x{ADAPTER_ID:02X}.
2. Write `WINDOW` (0x{a('WINDOW'):02X}) if the default does not suit.
3. For each event in time order write `EVENT` (0x{a('EVENT'):02X}, low byte first; the last
   byte pushes it) and wait for `busy` to fall.
4. Read `DECISION` (0x{a('DECISION'):02X}): 1 = dropped, 3 = passed (the `event` pin shows a
   pass), then write `POP` (0x{a('POP'):02X}) and wait for `busy` to fall.
5. `PASSED` (0x{a('PASSED'):02X}) counts the events passed since reset.
"""
    return BlockText(
        title=f"neurotile event-camera denoiser ({p.width}x{p.height}, {p.filter})",
        description=(f"Background-activity filter for a {p.width}x{p.height} event camera "
                     f"({p.filter} memory, {p.neighbours} neighbours) behind a byte-wide "
                     "register interface"),
        how_it_works=how,
        how_to_test=test,
    )


def _resolve(params: dict[str, Any]) -> dict[str, Any]:
    p = _params(params)
    return params | p.structural() | {"window": _window(p, params)}


ADAPTER = TapeoutAdapter(
    block="denoiser",
    summary="event-camera denoiser behind a byte-wide register interface",
    ident=ADAPTER_ID,
    params=(
        Param("width", int, 8, "sensor columns", low=2, high=1024),
        Param("height", int, 8, "sensor rows", low=2, high=1024),
        Param("ts_bits", int, 4, "bits of a stored timestamp", low=2, high=32),
        *PARAMS[3:],
        Param("window", int, None, "reset value of WINDOW, 1 .. 2**(ts_bits - 1) "
          "(default: half of that)", metavar="T"),
    ),
    regmap=denoiser_regmap,
    build_core=_build,
    connect=_connect,
    vectors=_vectors,
    describe=_describe,
    resolve=_resolve,
    test_steps=40,
)
