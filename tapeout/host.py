# SPDX-License-Identifier: Apache-2.0
"""The host interface of a taped-out block: a byte-wide register port on TinyTapeout's pins.

One description, :class:`RegisterMap`, says which registers a block exposes; everything else is
derived from it: the hardware (:class:`HostInterface`), the pinout in ``info.yaml``, the register
and pin tables in ``docs/info.md`` and the addresses the self-contained test uses.

The protocol (the same for every block)
--------------------------------------
Pins (``PINS``):

* ``ui[7:0]`` -- write data, host to chip.
* ``uio[4:0]`` -- register address (inputs).
* ``uio[5]`` -- write strobe (input). A rising edge writes ``ui[7:0]`` into the register at
  ``uio[4:0]``. The strobe is synchronised to ``clk`` (two flip-flops), so the host may be slow
  and asynchronous: set address and data, raise the strobe, keep everything stable for at least
  four ``clk`` cycles, lower the strobe, and keep address and data one cycle more (settings are
  latches that take the data until half a cycle after the write is decoded; see
  :class:`HostInterface`).
* ``uo[7:0]`` -- read data: the register at ``uio[4:0]``, through a multiplexer on the address
  pins with no register of its own (it would cost eight flip-flops), so it is valid shortly after
  the address settles; the protocol allows two ``clk`` cycles. Reading has no side effects.
* ``uio[6]`` -- ``busy`` (output): a write is still being processed; wait for it to fall before
  the next write to a ``push`` register and before reading results.
* ``uio[7]`` -- ``event`` (output): a block-defined flag (for neurons: the last result spiked).

Registers are one byte wide on the pins; a value wider than eight bits occupies consecutive
addresses, least significant byte first. Kinds:

* ``const`` -- read-only constant (the block's identification byte).
* ``config`` -- read/write; holds a run-time setting that drives the block. Reset sets the value
  given in the map.
* ``push`` -- write-only; writing its most significant byte hands the whole value to the block
  (one stream transfer); lower bytes are staged first. Reads return the last value written.
  An *unbuffered* push register (``buffered=False``, one byte at most) has no storage: the
  write hands ``ui[7:0]`` to the block in the cycle it is decoded, the block takes it at once
  (it must be ready whenever ``busy`` is low; a write while ``busy`` is high is lost) and
  reads return 0. It saves a flip-flop and an enable multiplexer per bit.
* ``status`` -- read-only; a result the block produced.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from amaranth.hdl import ClockSignal, Instance, Module, ResetSignal, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from neurotile.rtl.cells import CLOCK_GATE, LATCH, instantiates_cells

__all__ = [
    "ADDRESS_BITS", "KINDS", "Register", "RegisterMap", "Pin", "PINS", "HostInterface",
    "pinout", "pin_table", "register_table",
]

#: Address pins ``uio[0..4]``: at most 32 byte addresses.
ADDRESS_BITS = 5
WRITE_STROBE_PIN = 5
BUSY_PIN = 6
EVENT_PIN = 7
#: uio pins the chip drives (``uio_oe`` is constant).
UIO_OUTPUTS = (BUSY_PIN, EVENT_PIN)

KINDS = ("const", "config", "push", "status")
#: Ports of :class:`HostInterface` that registers cannot be named after.
RESERVED_PORTS = ("ui_in", "uio_in", "uo_out", "uio_out", "uio_oe", "block_busy", "block_event")


@dataclass(frozen=True)
class Register:
    """One register of a block's host interface.

    Members
    -------
    name : str
        Upper-case identifier (``THRESHOLD``); the port of :class:`HostInterface` is its
        lower-case form.
    kind : str
        ``"const"``, ``"config"``, ``"push"`` or ``"status"`` (see the module docstring).
    width : int
        Bits of the value, 1 to 32.
    doc : str
        One sentence for the documentation.
    reset : int
        Value after reset (``config``) or the constant (``const``).
    signed : bool
        The value is two's complement (documentation and test decoding only).
    buffered : bool
        For ``push`` registers: the value is stored until the block takes it (the default);
        ``False`` hands the write data straight to the block (one byte at most; see the module
        docstring).
    """

    name: str
    kind: str
    width: int
    doc: str
    reset: int = 0
    signed: bool = False
    buffered: bool = True

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or not self.name.isupper():
            raise ValueError(f"Register name must be an upper-case identifier, not {self.name!r}")
        if self.kind not in KINDS:
            raise ValueError(f"Register kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        w = self.width
        if isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= 32:
            raise ValueError(f"Register width must be an integer from 1 to 32, not {self.width!r}")
        if not 0 <= self.reset < (1 << self.width):
            raise ValueError(f"Register {self.name} reset value {self.reset} does not fit "
                             f"{self.width} bits")
        if not self.buffered and (self.kind != "push" or self.width > 8):
            raise ValueError(f"Register {self.name}: only push registers of at most 8 bits can "
                             "be unbuffered")

    @property
    def nbytes(self) -> int:
        return (self.width + 7) // 8

    @property
    def port(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class RegisterMap:
    """The registers of one block, laid out at consecutive byte addresses from 0.

    Members
    -------
    registers : tuple of Register
        In address order.
    event : str
        What the ``event`` pin (``uio[7]``) means for this block.
    """

    registers: tuple[Register, ...]
    event: str = "block-defined event"

    def __post_init__(self) -> None:
        names = [r.name for r in self.registers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"Register names must be unique; repeated: {', '.join(dup)}")
        clash = sorted(r.name for r in self.registers if r.port in RESERVED_PORTS)
        if clash:
            raise ValueError(f"Register names {', '.join(clash)} clash with ports of the host "
                             "interface")
        if self.size > (1 << ADDRESS_BITS):
            raise ValueError(f"The registers take {self.size} byte addresses; the address pins "
                             f"allow {1 << ADDRESS_BITS}")

    @property
    def size(self) -> int:
        """Byte addresses used."""
        return sum(r.nbytes for r in self.registers)

    def address(self, name: str) -> int:
        """Address of the least significant byte of register ``name``."""
        addr = 0
        for r in self.registers:
            if r.name == name:
                return addr
            addr += r.nbytes
        raise KeyError(f"no register {name!r}; have {', '.join(r.name for r in self.registers)}")

    def __getitem__(self, name: str) -> Register:
        for r in self.registers:
            if r.name == name:
                return r
        raise KeyError(f"no register {name!r}; have {', '.join(r.name for r in self.registers)}")

    def byte_slots(self) -> Iterator[tuple[int, Register, int]]:
        """``(address, register, byte index)`` for every byte address, in address order."""
        addr = 0
        for r in self.registers:
            for i in range(r.nbytes):
                yield addr + i, r, i
            addr += r.nbytes

    def to_dict(self) -> dict:
        """A JSON-ready description (addresses, kinds, widths, resets)."""
        return {
            "event": self.event,
            "registers": [
                {"name": r.name, "address": self.address(r.name), "bytes": r.nbytes,
                 "kind": r.kind, "width": r.width, "reset": r.reset, "signed": r.signed,
                 "doc": r.doc} | ({} if r.buffered else {"buffered": False})
                for r in self.registers
            ],
        }


# -- pins ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pin:
    """One TinyTapeout pin: ``key`` as ``info.yaml`` spells it and what it carries."""

    key: str
    direction: str  # "in" | "out"
    doc: str


def _pins() -> tuple[Pin, ...]:
    pins = [Pin(f"ui[{i}]", "in", f"write data bit {i}") for i in range(8)]
    pins += [Pin(f"uo[{i}]", "out", f"read data bit {i}") for i in range(8)]
    for i in range(8):
        if i < ADDRESS_BITS:
            pins.append(Pin(f"uio[{i}]", "in", f"register address bit {i}"))
        elif i == WRITE_STROBE_PIN:
            pins.append(Pin(f"uio[{i}]", "in", "write strobe (rising edge writes)"))
        elif i == BUSY_PIN:
            pins.append(Pin(f"uio[{i}]", "out", "busy (a write is being processed)"))
        else:
            pins.append(Pin(f"uio[{i}]", "out", "event"))
    return tuple(pins)


#: The 24 digital pins and their roles, in ``info.yaml`` order.
PINS: tuple[Pin, ...] = _pins()


def pinout(regmap: RegisterMap) -> dict[str, str]:
    """The ``pinout:`` section of ``info.yaml`` (all 24 keys)."""
    out = {}
    for pin in PINS:
        doc = pin.doc
        if pin.key == f"uio[{EVENT_PIN}]":
            doc = f"event: {regmap.event}"
        out[pin.key] = doc
    return out


def pin_table(regmap: RegisterMap) -> str:
    """A Markdown table of the pins, from the same description as :func:`pinout`."""
    rows = ["| pin | direction | function |", "|---|---|---|"]
    for key, doc in pinout(regmap).items():
        direction = next(p.direction for p in PINS if p.key == key)
        rows.append(f"| `{key}` | {direction} | {doc} |")
    return "\n".join(rows)


def register_table(regmap: RegisterMap) -> str:
    """A Markdown table of the registers: address, name, access, width, reset, meaning."""
    access = {"const": "R", "config": "R/W", "push": "W (push)", "status": "R"}
    rows = ["| address | register | access | bits | reset | meaning |", "|---|---|---|---|---|---|"]
    for r in regmap.registers:
        a = regmap.address(r.name)
        addr = f"0x{a:02X}" if r.nbytes == 1 else f"0x{a:02X}..0x{a + r.nbytes - 1:02X}"
        reset = f"0x{r.reset:X}" if r.kind in ("const", "config") else "-"
        bits = f"{r.width}" + (" signed" if r.signed else "")
        how = access[r.kind] if r.buffered else "W (push, reads 0)"
        rows.append(f"| {addr} | `{r.name}` | {how} | {bits} | {reset} | {r.doc} |")
    return "\n".join(rows)


# -- hardware ------------------------------------------------------------------------------------

class HostInterface(wiring.Component):
    """The register port of :class:`RegisterMap` on TinyTapeout's pins.

    Implements the protocol in the module docstring. Per register, one port faces the block:

    * ``config``: ``Out(unsigned(width))``, the stored setting;
    * ``push``: ``Out(stream.Signature(unsigned(width)))``; ``valid`` rises after the write of the
      most significant byte and falls when the block takes the value (unbuffered: ``valid`` is
      the decoded write itself, one cycle, and ``payload`` is ``ui_in``);
    * ``status``: ``In(unsigned(width))``, read back through the port;
    * ``const``: no port.

    Parameters
    ----------
    regmap : RegisterMap

    Members
    -------
    ui_in, uio_in : In(8)
        TinyTapeout input pins.
    uo_out, uio_out, uio_oe : Out(8)
        TinyTapeout output pins and output enables.
    block_busy : In(1)
        The block is working and will finish on its own; ORed with pending ``push`` transfers
        onto ``uio[6]``.
    block_event : In(1)
        Driven onto ``uio[7]``.

    Config registers, elaborated for Verilog export (:data:`~neurotile.rtl.cells.CELLS`), are
    Sky130 latches (``dlxtp_1``, 15.0 um^2 a bit against a flip-flop's 20.0 and its enable and
    reset logic), one integrated clock gate (``dlclkp_1``) per byte, enabled by the byte's
    decoded write or by reset. The gate opens the latches for the high half of the cycle after
    the write is decoded; they close three and a half cycles after the strobe rises (four and a
    half when the synchroniser takes a cycle more), while the protocol still holds ``ui[7:0]``
    (four cycles with the strobe high, one more after it). Their data is ``ui[7:0]`` ORed or
    masked with a register that is high in the cycle after a reset cycle, so reset loads the
    reset value. Without that platform (Amaranth's simulator) they are flip-flops, with the
    same values at every clock edge.
    """

    def __init__(self, regmap: RegisterMap) -> None:
        if not isinstance(regmap, RegisterMap):
            raise TypeError(f"regmap must be a RegisterMap, not {regmap!r}")
        self.regmap = regmap
        members = {
            "ui_in": In(8), "uio_in": In(8),
            "uo_out": Out(8), "uio_out": Out(8), "uio_oe": Out(8),
            "block_busy": In(1), "block_event": In(1),
        }
        for r in regmap.registers:
            if r.kind == "config":
                members[r.port] = Out(unsigned(r.width), init=r.reset)
            elif r.kind == "push":
                members[r.port] = Out(stream.Signature(unsigned(r.width)))
            elif r.kind == "status":
                members[r.port] = In(unsigned(r.width))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        regmap = self.regmap

        # Write strobe: two synchronising flip-flops, then a rising-edge detector.
        strobe = self.uio_in[WRITE_STROBE_PIN]
        sync0 = Signal()
        sync1 = Signal()
        prev = Signal()
        write = Signal()
        m.d.sync += [sync0.eq(strobe), sync1.eq(sync0), prev.eq(sync1)]
        m.d.comb += write.eq(sync1 & ~prev)
        address = self.uio_in[:ADDRESS_BITS]
        data = self.ui_in

        pending = []
        storage = {}
        for r in regmap.registers:
            if r.kind == "config":
                storage[r.name] = getattr(self, r.port)
            elif r.kind == "push" and not r.buffered:
                port = getattr(self, r.port)
                m.d.comb += [port.payload.eq(data),
                             port.valid.eq(write & (address == regmap.address(r.name)))]
                storage[r.name] = 0
            elif r.kind == "push":
                port = getattr(self, r.port)
                storage[r.name] = port.payload
                pending.append(port.valid)
                with m.If(port.ready):
                    m.d.sync += port.valid.eq(0)
            elif r.kind == "status":
                storage[r.name] = getattr(self, r.port)
            else:
                storage[r.name] = r.reset

        # Reads: one multiplexer that covers every address.
        read_data = Signal(8)
        with m.Switch(address):
            for addr, r, i in regmap.byte_slots():
                with m.Case(addr):
                    value = storage[r.name]
                    if isinstance(value, int):
                        m.d.comb += read_data.eq((value >> (8 * i)) & 0xFF)
                    else:
                        m.d.comb += read_data.eq(value[8 * i:min(8 * i + 8, r.width)])
            with m.Default():
                m.d.comb += read_data.eq(0)
        m.d.comb += self.uo_out.eq(read_data)

        # Writes: one decoded enable per writable byte. (A case statement here would be split
        # per register by the Verilog backend into cases without a default, which lint flags.)
        # In Verilog export a config byte is a word of Sky130 latches behind an integrated clock
        # gate enabled by its write or by reset (see the class docstring); ``rst_q`` is high in
        # the cycle after a reset cycle, while the latches opened by that reset are transparent.
        latched = instantiates_cells(platform)
        if latched:
            rst_q = Signal(init=1)
            m.d.sync += rst_q.eq(0)
        for addr, r, i in regmap.byte_slots():
            if r.kind not in ("config", "push") or not r.buffered:
                continue
            value = storage[r.name]
            if latched and r.kind == "config":
                lo, hi = 8 * i, min(8 * i + 8, r.width)
                gclk = Signal(name=f"{r.port}_gclk{i}")
                m.submodules[f"{r.port}_gate{i}"] = Instance(
                    CLOCK_GATE, i_CLK=ClockSignal("sync"),
                    i_GATE=(write & (address == addr)) | ResetSignal("sync"), o_GCLK=gclk)
                for b in range(lo, hi):
                    d = data[b - lo] | rst_q if (r.reset >> b) & 1 else data[b - lo] & ~rst_q
                    q = Signal(name=f"{r.port}_q{b}")
                    m.submodules[f"{r.port}_bit{b}"] = Instance(LATCH, i_GATE=gclk, i_D=d, o_Q=q)
                    m.d.comb += value[b].eq(q)
                continue
            with m.If(write & (address == addr)):
                m.d.sync += value[8 * i:min(8 * i + 8, r.width)].eq(data)
                if r.kind == "push" and i == r.nbytes - 1:
                    m.d.sync += getattr(self, r.port).valid.eq(1)

        busy = self.block_busy
        for valid in pending:
            busy = busy | valid
        m.d.comb += [
            self.uio_oe.eq(sum(1 << p for p in UIO_OUTPUTS)),
            self.uio_out[BUSY_PIN].eq(busy),
            self.uio_out[EVENT_PIN].eq(self.block_event),
        ]
        return m


def check_regmap(regmap: RegisterMap, ports: Sequence[str]) -> None:
    """Raise ``ValueError`` if a register has no block port of the same name."""
    missing = [r.name for r in regmap.registers
               if r.kind != "const" and r.port not in ports]
    if missing:
        raise ValueError(f"registers without a block port: {', '.join(missing)}")
