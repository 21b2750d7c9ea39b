# SPDX-License-Identifier: Apache-2.0
"""Tape-out adapter of a compiled network (:class:`neurotile.rtl.network.NetworkTop`).

Unlike the blocks of the catalogue, a network has no parameters of its own: it is what
``neurotile compile`` made of a trained graph. :func:`network_adapter` binds one quantised
network and the samples its project's test replays into a
:class:`~neurotile.tapeout.adapters.TapeoutAdapter`, which
:func:`neurotile.tapeout.project.generate` turns into a TinyTapeout project like any block's.
This module has no module-level ``ADAPTER``, so the block catalogue does not list it.

Registers (:func:`network_regmap`), in address order:

* ``ID`` (const): the identification byte, 0x4E (``'N'``);
* ``EVENT`` (push): one input event, least significant field first: the input's address
  (``bits(inputs - 1)`` bits), its value (``input_width`` bits, only for multi-bit input), ``END``
  (closes the timestep; address and value are then ignored) and ``LAST`` (with ``END``: the
  sample's last step). Writing its most significant byte hands the event to the network;
* ``STATUS`` (status): bit 0, a result is ready (the sample's last step has left the network;
  ``CLS`` and the counts hold its result until the next sample's first event is written);
* ``CLS`` (status): the class, the output with the most spikes (lowest index on ties);
* ``COUNT0`` .. ``COUNT<n-1>`` (status): each output neuron's spike count over the sample
  (``count_width`` bits, saturating).

The network's output spikes are drained inside the chip (the ``spikes`` stream is always
ready); each one pulses the ``event`` pin (``uio[7]``) for one clock cycle. ``busy`` is high
while an ``EVENT`` write waits for the network to take it (the first layer is walking the
previous event's synapses, a step's marker waits for the layer, the network is resetting) and
from the transfer of the sample's last marker until its result is ready. The result is taken
(and the network reset for the next sample, weights kept) by the next sample's first ``EVENT``
write, which stays pending, with ``busy`` high, until the network can take it. Weights are
constants of the logic.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
from amaranth.hdl import Module, Signal
from amaranth.lib import data

from neurotile.errors import UsageError
from neurotile.neurons.network import Network, input_events, run_network
from neurotile.neurons.spec import Param
from neurotile.tapeout.adapters import BlockText, TapeoutAdapter
from neurotile.tapeout.host import ADDRESS_BITS, BUSY_PIN, EVENT_PIN, Register, RegisterMap
from neurotile.tapeout.vectors import Script
from neurotile.tapeout.texts import submit_md

__all__ = ["ADAPTER_ID", "MAX_ADDRESSES", "register_bytes", "check_fits", "event_bits",
           "event_word", "network_regmap", "network_adapter", "readme", "test_readme"]

ADAPTER_ID = 0x4E
#: Byte addresses of the host interface.
MAX_ADDRESSES = 1 << ADDRESS_BITS


def _bits(n: int) -> int:
    return max(1, (n - 1).bit_length())


def _nbytes(width: int) -> int:
    return (width + 7) // 8


def event_bits(inputs: int, input_width: int) -> int:
    """Bits of the ``EVENT`` register: address, value (multi-bit input only), END, LAST."""
    return _bits(inputs) + (input_width if input_width > 1 else 0) + 2


def register_bytes(inputs: int, outputs: int, input_width: int = 1,
                   count_width: int = 8) -> int:
    """Byte addresses the registers of a network with these sizes take."""
    fixed = 1 + _nbytes(event_bits(inputs, input_width)) + 1 + _nbytes(_bits(outputs))
    return fixed + outputs * _nbytes(count_width)


def check_fits(inputs: int, outputs: int, input_width: int = 1, count_width: int = 8) -> None:
    """Raise :class:`UsageError` (one line) when the registers exceed the 32 addresses.

    Parameters
    ----------
    inputs, outputs : int
        The network's input addresses and output neurons.
    input_width : int
        Bits of an input value (1 for binary spikes).
    count_width : int
        Bits of each output's spike counter.
    """
    need = register_bytes(inputs, outputs, input_width, count_width)
    if need <= MAX_ADDRESSES:
        return
    per = _nbytes(count_width)
    fixed = register_bytes(inputs, 0, input_width, count_width)
    fit = max(0, (MAX_ADDRESSES - fixed) // per)
    raise UsageError(
        f"the network's {outputs} outputs need {need} register addresses ({outputs * per} for "
        f"the spike counts, {fixed} for ID, EVENT, STATUS and CLS) but the TinyTapeout host "
        f"interface has {MAX_ADDRESSES}; at most {fit} outputs fit, so train a network with "
        f"fewer classes or output neurons")


def event_word(net: Network, addr: int = 0, value: int = 1, end: bool = False,
               last: bool = False) -> int:
    """The ``EVENT`` register value of one event (the layout of ``NetworkTop.events``); an end
    marker has address and value 0."""
    word = 0 if end else int(addr)
    shift = _bits(net.inputs)
    if net.input_width > 1:
        word |= (0 if end else int(value)) << shift
        shift += net.input_width
    return word | (int(end) << shift) | (int(last) << (shift + 1))


def network_regmap(net: Network) -> RegisterMap:
    """The registers of ``net``'s host interface (see the module docstring).

    Raises
    ------
    UsageError
        When they do not fit the 32 byte addresses.
    """
    check_fits(net.inputs, net.outputs, net.input_width, net.count_width)
    a = _bits(net.inputs)
    bits = event_bits(net.inputs, net.input_width)
    value = (f", bits {a + net.input_width - 1}..{a} the input's value"
             if net.input_width > 1 else "")
    regs = [
        Register("ID", "const", 8, f"identification byte (0x{ADAPTER_ID:02X}, 'N')",
                 reset=ADAPTER_ID),
        Register("EVENT", "push", bits,
                 f"one input event: bits {a - 1}..0 input address{value}, bit {bits - 2} END "
                 f"(closes the timestep), bit {bits - 1} LAST (with END: the sample's last "
                 "step)"),
        Register("STATUS", "status", 1, "bit 0: a result is ready (CLS and the counts hold it)"),
        Register("CLS", "status", _bits(net.outputs),
                 "the class: the output with the most spikes, the lowest index on ties"),
    ]
    regs += [Register(f"COUNT{i}", "status", net.count_width,
                      f"spikes of output {i} over the sample (saturating)")
             for i in range(net.outputs)]
    return RegisterMap(tuple(regs), event="one-cycle pulse on each output spike")


def _describe_layers(net: Network) -> str:
    rows = ["| layer | NIR node | model | inputs | neurons | non-zero weights | weight bits | "
            "membrane bits |", "|---|---|---|---|---|---|---|---|"]
    for k, layer in enumerate(net.layers):
        membrane = next((f.width for f in layer.neurons.state_fields()
                         if f.name == "membrane"), layer.sparse.acc_width)
        kind = layer.neurons.NAME + (" (recurrent)" if layer.recurrent else "")
        rows.append(f"| {k} | `{layer.name}` | {kind} | {layer.inputs} | {layer.size} | "
                    f"{layer.weights.nnz} | {layer.sparse.weight_width} | {membrane} |")
    return "\n".join(rows)


def _fill(*paragraphs: str) -> str:
    """Prose paragraphs wrapped at 96 columns, a blank line between them."""
    return "\n\n".join(textwrap.fill(" ".join(p.split()), 96) for p in paragraphs if p)


def _pct(v: Any) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def network_adapter(quantised: Any, inputs: np.ndarray, labels: np.ndarray | None = None, *,
                    report: dict[str, Any] | None = None,
                    source: str = "network") -> TapeoutAdapter:
    """A :class:`TapeoutAdapter` bound to one compiled network and its test samples.

    Parameters
    ----------
    quantised : Quantised
        From the compile (:attr:`neurotile.compiler.pipeline.Compiled.quantised`): the
        integer network (``.network``), its input encoding (``binary_input``, ``input_scale``).
    inputs : numpy.ndarray
        Integer inputs ``[samples, steps, inputs]`` (``quantised.encode`` of real data) that the
        project's test streams through the host interface, every step of every sample; the
        expected class and counts come from :func:`~neurotile.neurons.network.run_network`.
    labels : numpy.ndarray, optional
        The samples' true classes, for the labels of the test's reads only.
    report : dict, optional
        The compile's report: accuracy and timing for the documentation.
    source : str
        What the network was compiled from (the graph's file name), for the documentation.

    Returns
    -------
    TapeoutAdapter
        Block ``network``, no parameters besides ``network`` (the digest of the hardware, which
        cannot be changed), ``test_steps`` the samples' steps.

    Raises
    ------
    UsageError
        For registers that do not fit the host interface, or inputs that do not fit the network.
    """
    from neurotile.rtl.network import NetworkTop, input_layout, network_digest

    net: Network = quantised.network
    if not isinstance(net, Network):
        raise TypeError(f"quantised.network must be a Network, not {net!r}")
    x = np.asarray(inputs)
    if x.ndim != 3 or x.shape[2] != net.inputs or x.shape[0] < 1 or x.shape[1] < 1:
        raise UsageError(f"the test samples must be integers [samples, steps, {net.inputs}], "
                         f"not {list(x.shape)}")
    in_max = (1 << net.input_width) - 1
    if x.dtype.kind not in "biu" or x.min() < 0 or x.max() > in_max:
        raise UsageError(f"the test samples must be the network's integer inputs, 0 to "
                         f"{in_max} (encode the data with Quantised.encode)")
    regmap = network_regmap(net)
    if data.Layout.cast(input_layout(net)).size != regmap["EVENT"].width:
        raise AssertionError("EVENT does not match the network's event layout")
    digest = network_digest(net, "constant")[:16]
    y = None if labels is None else np.asarray(labels)
    report = dict(report or {})
    shape = "-".join([str(net.inputs)] + [str(layer.size) for layer in net.layers])

    def _regmap(params: dict[str, Any]) -> RegisterMap:
        return regmap

    def _build(params: dict[str, Any]) -> NetworkTop:
        return NetworkTop(net, weights="constant")

    def _connect(m: Module, core: NetworkTop, host: Any, params: dict[str, Any]) -> None:
        ev, out, res = core.events, core.spikes, core.result
        # From the transfer of the sample's last marker until the result is on offer. (Busy is
        # not ~ev.ready: with no event offered, ready follows a stale payload; a recurrent
        # layer holding an END there is not ready until an END is offered again.)
        closing = Signal()
        took_last = host.event.valid & ev.ready & ev.payload.end & ev.payload.last
        with m.If(took_last):
            m.d.sync += closing.eq(1)
        with m.Elif(res.valid):
            m.d.sync += closing.eq(0)
        m.d.comb += [
            ev.valid.eq(host.event.valid),
            ev.payload.eq(host.event.payload),
            host.event.ready.eq(ev.ready),
            # Output spikes are counted inside; nothing waits for the host.
            out.ready.eq(1),
            # The result stays on offer (readable) until the next sample's first event.
            res.ready.eq(host.event.valid),
            host.status.eq(res.valid),
            host.cls.eq(res.payload.cls),
            *[getattr(host, f"count{i}").eq(res.payload.counts[i]) for i in range(net.outputs)],
            # With the host's own pending EVENT write, busy covers every wait.
            host.block_busy.eq(closing & ~res.valid),
            host.block_event.eq(out.valid & ~out.payload.end),
        ]

    def _vectors(params: dict[str, Any], regmap: RegisterMap, seed: int, steps: int) -> Script:
        if not 1 <= steps <= x.shape[1]:
            raise UsageError(f"the test replays 1 to {x.shape[1]} steps of each sample, "
                             f"not {steps}")
        xs = x[:, :steps]
        run = run_network(net, xs)
        s = Script(regmap)
        s.wait_idle()
        s.expect("ID", ADAPTER_ID, "ID after reset")
        s.expect("STATUS", 0, "no result after reset")
        s.expect("CLS", 0, "CLS after reset")
        for i in range(net.outputs):
            s.expect(f"COUNT{i}", 0, f"COUNT{i} after reset")
        for n in range(xs.shape[0]):
            name = f"sample {n}" + ("" if y is None else f" (label {int(y[n])})")
            for t in range(steps):
                for a, v in input_events(xs[n, t]):
                    s.write("EVENT", event_word(net, a, v))
                    s.wait_idle()
                s.write("EVENT", event_word(net, end=True, last=t == steps - 1))
                s.wait_idle()
                if t == 0 and steps > 1:
                    s.expect("STATUS", 0, f"{name} no result after step 0")
            s.expect("STATUS", 1, f"{name} result ready")
            s.expect("CLS", int(run.classes[n]), f"{name} class")
            for i in range(net.outputs):
                s.expect(f"COUNT{i}", int(run.counts[n, i]), f"{name} output {i} count")
        return s

    def _describe(params: dict[str, Any], regmap: RegisterMap) -> BlockText:
        return _text(net, quantised, regmap, report, source, shape)

    def _resolve(params: dict[str, Any]) -> dict[str, Any]:
        given = params.get("network", digest)
        if given != digest:
            raise ValueError(f"network is the digest of the compiled network ({digest}); it "
                             f"cannot be set to {given!r}")
        return {"network": digest}

    return TapeoutAdapter(
        block="network",
        summary=f"compiled spiking network {shape} behind a byte-wide register interface",
        ident=ADAPTER_ID,
        params=(Param("network", str, digest, "digest of the network's hardware (fixed)"),),
        regmap=_regmap,
        build_core=_build,
        connect=_connect,
        vectors=_vectors,
        describe=_describe,
        resolve=_resolve,
        test_steps=int(x.shape[1]),
    )


def _encoding(quantised: Any) -> str:
    net = quantised.network
    if quantised.binary_input or net.input_width == 1:
        return ("binary spikes: an input that spiked in a step is one event with its address; "
                "silent inputs send nothing")
    hi = (1 << net.input_width) - 1
    return (f"{net.input_width}-bit unsigned values: multiply a float input by "
            f"{quantised.input_scale:.6g}, round and clip to 0..{hi}; every non-zero input of "
            "a step is one event with its address and value, zero inputs send nothing")


def _text(net: Network, quantised: Any, regmap: RegisterMap, report: dict[str, Any],
          source: str, shape: str) -> BlockText:
    a = regmap.address
    ev = regmap["EVENT"]
    end_bit, last_bit = ev.width - 2, ev.width - 1
    steps = report.get("steps")
    timing = ""
    if report.get("cycles_per_sample") is not None:
        timing = (f"The compile measured {report['cycles_per_sample']:.0f} clock cycles per "
                  f"sample with events back to back ({report['latency_us_at_50MHz']:.1f} us at "
                  "50 MHz); through the register interface each event also costs the host's "
                  "write.")
    accuracy = ""
    if report.get("float_accuracy") is not None:
        accuracy = (f"On the {report.get('samples')} samples of the compile's data the float "
                    f"network classified {_pct(report.get('float_accuracy'))} correctly and "
                    f"this integer network ({report.get('widths', '')}) "
                    f"{_pct(report.get('integer_accuracy'))}.")
        if report.get("rtl_matches_integer") is not None:
            accuracy += (f" The RTL matched the integer network spike for spike on "
                         f"{_pct(report['rtl_matches_integer'])} of the "
                         f"{report.get('rtl_samples')} samples checked.")
        accuracy += " The full report is in `neurotile/report.md`."
    intro = _fill(
        f"A spiking neural network compiled by neurotile from `{source}`: {shape} neurons, "
        "weights held as constants of the logic. Each layer is an event-driven sparse synapse "
        "tile (only non-zero weights are stored and walked, one per clock cycle, into "
        "saturating accumulators) feeding a population of integer neurons, whose spikes are "
        "the events of the layer above. The output layer's spikes are counted per neuron over "
        "a sample; the class is the output with the most spikes (the lowest index on ties).")
    rest = _fill(
        f"Inputs are {_encoding(quantised)}. A sample is "
        f"{f'{steps} steps' if steps else 'a fixed number of steps'} from the reset state; "
        "after its last step the network offers the class and the counts and, when the next "
        "sample starts, resets itself (neuron state, accumulators, counts). " + timing,
        accuracy,
        "The arithmetic is exactly neurotile's integer network model (`run_network`); the "
        "test in `test/` streams real samples through the pins and checks the class and every "
        "count against it.")
    how = f"{intro}\n\n{_describe_layers(net)}\n\n{rest}\n"

    def at(name: str) -> str:
        r = regmap[name]
        lo = a(name)
        return f"0x{lo:02X}" + (f"..0x{lo + r.nbytes - 1:02X}" if r.nbytes > 1 else "")

    last = f"COUNT{net.outputs - 1}"
    counts = f"0x{a('COUNT0'):02X}..0x{a(last) + regmap[last].nbytes - 1:02X}"
    low_first = ", low byte first" if ev.nbytes > 1 else ""
    test = f"""\
1. Reset the design and wait until `busy` (`uio[{BUSY_PIN}]`) is low. Read `ID` ({at('ID')}):
   it must be 0x{ADAPTER_ID:02X}.
2. Stream one sample, step by step. For each input that is non-zero in the step, in input
   index order, write its event to `EVENT` ({at('EVENT')}{low_first}) and wait until `busy` is
   low. Then write the end of the step, bit {end_bit} (END) set, and in the sample's last step
   bit {last_bit} (LAST) too; wait until `busy` is low.
3. After the last step `busy` falls when the result is ready: `STATUS` ({at('STATUS')}) bit 0
   is 1, `CLS` ({at('CLS')}) holds the class and `COUNT0`..`COUNT{net.outputs - 1}` ({counts})
   the spike count of each output.
4. The next sample's first `EVENT` write takes the result and starts that sample (`STATUS`
   returns to 0). While a sample runs, `CLS` and the counts show the counts so far.

`uio[{EVENT_PIN}]` pulses high for one clock cycle on every output spike: watch it with a logic
analyser or count the pulses with the RP2040's PIO (they are too short to see on an LED).
"""
    return BlockText(
        title=f"neurotile spiking network {shape}",
        description=(f"A trained {shape} spiking neural network ({len(net.layers)} layers, "
                     "constant weights) that classifies spike-event streams, with a byte-wide "
                     "register interface"),
        how_it_works=how,
        how_to_test=test,
    )


def readme(title: str, description: str, version: str, command: str, top: str, area: float,
           tile: str, utilisation: float) -> str:
    """The project's ``README.md``.

    Parameters
    ----------
    title, description : str
        As in ``info.yaml``.
    version : str
        neurotile's version.
    command : str
        The command line that generated the project (relative paths only).
    top : str
        The top module.
    area : float
        Cell area in um^2 of the whole top.
    tile : str
        The TinyTapeout tile chosen.
    utilisation : float
        Cell area over the tile's core area.
    """
    return f"""\
# {title}

{description}

This TinyTapeout project was generated by neurotile {version} from a trained network:

    {command}

- `src/{top}.v`: the network, its register interface and the `{top}` top.
- `docs/info.md`: how it works, the register map, the pins and how to stream a sample.
- `test/`: a cocotb test that streams real samples through the pins and checks the class and
  every spike count against the integer model (`make`, `make GATES=yes`).
- `neurotile/`: the compile's report (`report.md`, `report.json`: accuracy, widths, RTL
  checks, timing) and the quantised network (`network.json`).
- `neurotile.json`: registers and the area estimate ({area:,.0f} um^2, tile {tile} at
  {math.floor(100 * utilisation)}% utilisation).

Check the project against TinyTapeout's rules with `neurotile check <dir>`.
""" + submit_md(top, tile)


def test_readme(top: str, samples: int, steps: int, reads: int, data: str) -> str:
    """The project's ``test/README.md``.

    Parameters
    ----------
    top : str
        The top module.
    samples, steps : int
        Samples the test streams and the steps of each.
    reads : int
        Reads it checks.
    data : str
        The data file the samples come from (its name).
    """
    return f"""\
# Test of {top}

`test.py` replays `vectors.json` through the register interface of the design: the first
{samples} samples of `{data}`, every one of their {steps} steps, as input events, then the class
and every output's spike count, compared with neurotile's integer model of the network
({reads} reads in all). It needs only cocotb (`pip install -r requirements.txt`) and Icarus
Verilog.

    make                # RTL
    make GATES=yes      # gate-level netlist (test/gate_level_netlist.v, models from $PDK_ROOT)

Waves go to `tb.fst`. The expected values come from regenerating the project with neurotile;
edit nothing here by hand.
"""
