# SPDX-License-Identifier: Apache-2.0
"""The tape-out adapter of every population, derived from its neuron model's declaration.

Registers (:mod:`neurotile.tapeout.host`), all read from the model and the population's
signature, none listed by hand:

* ``ID`` (const): the model's identification byte;
* one ``config`` register per run-time setting port, named and sized like the port, reset to the
  configured value;
* ``CURRENT`` (push): each write is one input to the next neuron in index order, so ``neurons``
  writes make one timestep; unbuffered when the input fits a byte (write it only while ``busy``
  is low; it reads 0);
* ``STATUS`` (status): the 1-bit outputs of the latest update (``spike`` for spiking models), then
  ``last`` (the update was the last neuron of its timestep);
* ``INDEX`` and one register per multi-bit output (``MEMBRANE``, ...) of the latest update;
* with ``spike_vector`` (spiking models, up to 32 neurons), ``SPIKES``: bit ``i`` is neuron
  ``i``'s spike in its latest update.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from amaranth.hdl import Module, Signal

from neurotile.neurons.spec import NeuronConfig, Param, run_model
from neurotile.rtl.population import STORAGES, Population, datapath_for
from neurotile.tapeout.adapters import POPULATION_TAPEOUT_STORAGE, BlockText, TapeoutAdapter
from neurotile.tapeout.host import Register, RegisterMap
from neurotile.tapeout.vectors import Script

__all__ = ["SPIKE_VECTOR_MAX", "ident", "population_adapter"]

#: Largest population whose spikes are also readable as one bit vector.
SPIKE_VECTOR_MAX = 32


def ident(model: type[NeuronConfig]) -> int:
    """The identification byte of a model: the low byte of the CRC-32 of its name."""
    return zlib.crc32(model.NAME.encode()) & 0xFF


def _spiking(config: NeuronConfig) -> bool:
    return any(f.name == "spike" for f in config.output_fields())


def _flags(config: NeuronConfig) -> list[str]:
    """The bits of ``STATUS``, LSB first: 1-bit outputs, then ``last``."""
    return [f.name for f in config.output_fields() if f.width == 1] + ["last"]


def _values(config: NeuronConfig) -> list[Any]:
    return [f for f in config.output_fields() if f.width > 1]


def population_adapter(model: type[NeuronConfig], *, summary: str | None = None,
                       test_steps: int = 8, extra: tuple[Param, ...] = (),
                       prepare: Any = None) -> TapeoutAdapter:
    """The :class:`TapeoutAdapter` of the population of ``model``.

    ``extra`` and ``prepare`` are the block's own options and how they become the model's
    (:func:`neurotile.blocks.population.neuron_block`), so ``tapeout`` and ``flow`` take the
    same options as ``generate`` (``--beta`` for LIF).
    """
    byte = ident(model)
    names = [p.name for p in model.params()] + [s.name for s in model.SETTINGS]
    extra_names = {p.name for p in extra}

    defaults = {p.name: p.default for p in model.params()}

    def config_of(params: dict[str, Any]) -> NeuronConfig:
        kwargs = {k: params[k] for k in names if params.get(k) is not None}
        if prepare is not None:
            # The project fills in every default; the block's options see only what differs
            # (``--beta`` selects the multiply leak over the default shift leak).
            kwargs = prepare(params, {k: v for k, v in kwargs.items()
                                      if k not in defaults or v != defaults[k]})
        return model(**{k: v for k, v in kwargs.items() if k in names and v is not None})

    def regmap(params: dict[str, Any]) -> RegisterMap:
        c = config_of(params)
        regs = [Register("ID", "const", 8, f"identification byte (0x{byte:02X})", reset=byte)]
        for s in c.ports():
            f = s.field(c)
            unit = f" ({s.unit})" if s.unit else ""
            regs.append(Register(s.name.upper(), "config", f.width, s.help + unit,
                                 reset=getattr(c, s.name) & ((1 << f.width) - 1),
                                 signed=f.signed))
        cur = c.input_field()
        # One byte: handed to the population as it is written (no register; the population is
        # ready whenever busy is low). Wider inputs are staged byte by byte.
        regs.append(Register("CURRENT", "push", cur.width, "input of the next neuron; each "
                             "write updates one neuron, in index order", signed=cur.signed,
                             buffered=cur.width > 8))
        flags = _flags(c)
        regs.append(Register("STATUS", "status", len(flags), "latest update: " + ", ".join(
            f"bit {i} {name}" for i, name in enumerate(flags))))
        regs.append(Register("INDEX", "status", max(1, (c.neurons - 1).bit_length()),
                             "latest update: neuron index"))
        for f in _values(c):
            regs.append(Register(f.name.upper(), "status", f.width, f"latest update: {f.doc}",
                                 signed=f.signed))
        if params.get("spike_vector"):
            regs.append(Register("SPIKES", "status", c.neurons,
                                 "bit i: spike of neuron i in its latest update"))
        event = "spike of the latest update" if _spiking(c) else "latest update was the last " \
            "neuron of its timestep"
        return RegisterMap(tuple(regs), event=event)

    def build(params: dict[str, Any]) -> Population:
        c = config_of(params)
        return Population(c, datapath=datapath_for(model.NAME),
                          storage=params.get("storage") or POPULATION_TAPEOUT_STORAGE)

    def connect(m: Module, core: Population, host: Any, params: dict[str, Any]) -> None:
        c = core.config
        out = core.output
        for s in c.ports():
            m.d.comb += getattr(core, s.name).eq(getattr(host, s.name))
        m.d.comb += [
            core.current.valid.eq(host.current.valid),
            core.current.payload.eq(host.current.payload),
            host.current.ready.eq(core.current.ready),
            out.ready.eq(1),
            host.block_busy.eq(out.valid | ~core.current.ready),
        ]
        # The output register keeps the latest result until the next update, so the status
        # registers read it directly.
        result = out.payload
        flags = [getattr(result, name) for name in _flags(c)]
        status = flags[0]
        for i, bit in enumerate(flags[1:], start=1):
            status = status | (bit << i)
        m.d.comb += [host.status.eq(status), host.index.eq(result.index),
                     host.block_event.eq(result.spike if _spiking(c) else result.last)]
        for f in _values(c):
            m.d.comb += getattr(host, f.name).eq(getattr(result, f.name))
        if params.get("spike_vector"):
            vector = Signal(c.neurons)
            with m.If(out.valid):
                m.d.sync += vector.bit_select(result.index, 1).eq(result.spike)
            m.d.comb += host.spikes.eq(vector)

    def vectors(params: dict[str, Any], regs: RegisterMap, seed: int, steps: int) -> Script:
        c = config_of(params)
        rng = np.random.default_rng(seed)
        ports = [s.name for s in c.ports()]
        has_vector = "SPIKES" in {r.name for r in regs.registers}
        s = Script(regs)

        def check_reset_values(when: str) -> None:
            s.wait_idle()
            s.expect("ID", byte, f"ID {when}")
            for name in ports:
                s.expect(name.upper(), getattr(c, name), f"{name.upper()} {when}")

        check_reset_values("after reset")
        settings = {k: getattr(c, k) for k in ports}
        state = None
        spikes = np.zeros(c.neurons, dtype=bool)
        for t, step in enumerate(_plan(c, steps, rng)):
            if step.get("reset"):
                s.reset()
                check_reset_values(f"after the reset before step {t}")
                settings = {k: getattr(c, k) for k in ports}
                state, spikes = None, np.zeros(c.neurons, dtype=bool)
            for name in ports:
                if name in step and step[name] != settings[name]:
                    s.write(name.upper(), step[name])
                    s.expect(name.upper(), step[name], f"step {t} {name.upper()} read back")
                    settings[name] = step[name]
            out, state = run_model(c, step["current"][None, :], state=state,
                                   settings={k: [v] for k, v in settings.items()})
            flags = _flags(c)
            for i in range(c.neurons):
                s.write("CURRENT", int(step["current"][i]))
                s.wait_idle()
                where = f"step {t} neuron {i}"
                for f in _values(c):
                    s.expect(f.name.upper(), int(out[f.name][0, i]), f"{where} {f.name}")
                bits = {name: int(out[name][0, i]) for name in flags[:-1]}
                bits["last"] = int(i == c.neurons - 1)
                s.expect("STATUS", sum(bits[name] << k for k, name in enumerate(flags)),
                         f"{where} status")
                s.expect("INDEX", i, f"{where} index")
            if _spiking(c):
                spikes = out["spike"][0].astype(bool)
            if has_vector:
                s.expect("SPIKES", sum(1 << i for i in range(c.neurons) if spikes[i]),
                         f"step {t} spike vector")
        return s

    def describe(params: dict[str, Any], regs: RegisterMap) -> BlockText:
        c = config_of(params)
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n    ", " ")
        settings = "".join(
            f"- `{s.name.upper()}` (0x{regs.address(s.name.upper()):02X}): {s.help} "
            f"(default {getattr(c, s.name)})\n" for s in c.ports()) or "- none\n"
        outputs = ", ".join(f"`{f.name}`" for f in c.output_fields())
        shown = ", ".join(f"{k}={v}" for k, v in c.structural().items() if k != "neurons")
        how = f"""\
A population of {c.neurons} {model.TITLE} neurons that share one update datapath; each
neuron's state is stored on chip and one timestep updates every neuron once, in index order 0
to {c.neurons - 1}. Structure: {shown}.

{doc}

Run-time settings (registers):

{settings}
The arithmetic is exactly neurotile's integer reference model of `{model.NAME}`, and the test in
`test/` compares every output the chip reports ({outputs}, index) with it.

The neurons are driven through a byte-wide register port: `ui[7:0]` carries write data,
`uio[4:0]` a register address and `uio[5]` a write strobe; `uo[7:0]` returns the addressed
register. Each write to `CURRENT` updates the next neuron; `STATUS`, `INDEX` and the output
registers then hold its result. `uio[7]` shows the {regs.event}.
"""
        test = f"""\
1. Reset the design (`rst_n` low, then high) and wait until `busy` (`uio[6]`) is low: after
   reset the chip clears all {c.neurons} neurons, one per clock cycle.
2. Read `ID` (address 0x00): it must be 0x{byte:02X}.
3. Optionally write the settings registers listed above.
4. For each of the {c.neurons} neurons write its input to `CURRENT`
   (0x{regs.address('CURRENT'):02X}, two's complement), wait for `busy` to fall, and read the
   result registers. After {c.neurons} writes one timestep is complete (`STATUS` bit `last`).
5. Repeat step 4 for as many timesteps as you like; a constant positive input makes spiking
   neurons fire periodically (the `uio[7]` LED blinks).
"""
        return BlockText(
            title=f"neurotile {model.TITLE} population ({c.neurons} neurons)",
            description=f"{c.neurons} {model.TITLE} neurons with a byte-wide register interface",
            how_it_works=how, how_to_test=test)

    def resolve(params: dict[str, Any]) -> dict[str, Any]:
        c = config_of(params)
        if params.get("spike_vector"):
            if not _spiking(c):
                raise ValueError(f"spike_vector needs a spiking model; {model.NAME} has no "
                                 "spike output")
            if c.neurons > SPIKE_VECTOR_MAX:
                raise ValueError(f"spike_vector needs at most {SPIKE_VECTOR_MAX} neurons, "
                                 f"not {c.neurons}")
        # The block's own options are resolved into the model's (--beta into leak and decay).
        own = {p.name: getattr(c, p.name) for p in model.params()} if extra_names else {}
        return {k: v for k, v in params.items() if k not in extra_names} | own | c.runtime()

    params = tuple(model.params()) + tuple(
        Param(s.name, int, None, f"{s.name.upper()} after reset: {s.help} (default: derived)")
        for s in model.SETTINGS) + (
        Param("storage", str, POPULATION_TAPEOUT_STORAGE, "state storage: ring (clock-gated "
              "flip-flop ring, the default here: smallest, no read multiplexer), latch (Sky130 "
              "latches and integrated clock gates) or memory (flip-flop register file); see "
              "docs/latches.md", choices=STORAGES),
        Param("spike_vector", bool, False, "add the SPIKES register: every neuron's latest "
              f"spike as one bit vector (up to {SPIKE_VECTOR_MAX} neurons; costs area)"),
    ) + extra
    return TapeoutAdapter(
        block=model.NAME, summary=summary or f"{model.TITLE} population behind a byte-wide "
        "register interface", ident=byte, params=params, regmap=regmap, build_core=build,
        connect=connect, vectors=vectors, describe=describe, resolve=resolve,
        test_steps=test_steps)


def _plan(c: NeuronConfig, steps: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Per-step settings and currents: the model's directed episodes (one step of each, a reset
    between), then random steps with random settings."""
    plan: list[dict[str, Any]] = []
    for episode in c.directed(rng):
        cur = np.asarray(episode["current"], np.int64)
        settings = {k: v for k, v in episode.items() if k not in ("current", "reset_after")}
        for row in cur[:2]:
            plan.append(settings | {"current": np.clip(row, c.input_min, c.input_max)})
        if episode.get("reset_after"):
            plan.append({"reset": True, "current": np.zeros(c.neurons, np.int64)})
    lo, hi = c.input_min, c.input_max
    while len(plan) < steps:
        plan.append(c.random_settings(rng) | {
            "current": rng.integers(max(lo, -hi // 4), hi + 1, c.neurons)})
    return plan[:steps]
