# SPDX-License-Identifier: Apache-2.0
"""The time-multiplexed population: one neuron datapath shared by every neuron of a population.

Any neuron model of :mod:`neurotile.neurons.spec` becomes hardware by writing its update as a
combinational *datapath* component with the signature :func:`datapath_signature`;
:class:`Population` supplies everything else: the state storage (register file or flip-flop
ring), the input and output streams, the clearing sweep after reset, the run-time setting ports,
per-neuron constant settings and the per-neuron bias.
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Shape, Signal, Value, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from neurotile.neurons.spec import Field, NeuronConfig
from neurotile.rtl.regfile import LatchRegisterFile, RingRegisterFile

__all__ = ["Datapath", "STORAGES", "shape_of", "index_shape", "state_layout", "output_layout", "datapaths", "datapath_for", "top_name",
           "datapath_signature", "Population"]

#: Where a population of two or more neurons keeps its state.
STORAGES = ("memory", "ring", "latch")


def shape_of(f: Field) -> Shape:
    """The Amaranth shape of a field."""
    return signed(f.width) if f.signed else unsigned(f.width)


def index_shape(neurons: int) -> Shape:
    """Shape of a neuron index (at least one bit)."""
    return unsigned(max(1, (neurons - 1).bit_length()))


def state_layout(config: NeuronConfig) -> data.StructLayout:
    """One neuron's stored state."""
    return data.StructLayout({f.name: shape_of(f) for f in config.state_fields()})


def output_layout(config: NeuronConfig) -> data.StructLayout:
    """Payload of the output stream: the model's output fields (LSB first), then ``index``
    (which neuron) and ``last`` (set for the last neuron of the step)."""
    fields = {f.name: shape_of(f) for f in config.output_fields()}
    fields |= {"index": index_shape(config.neurons), "last": unsigned(1)}
    return data.StructLayout(fields)


def datapath_signature(config: NeuronConfig) -> wiring.Signature:
    """The ports of a model's combinational update.

    In: one port per state field (its name), ``current`` and one port per present run-time
    setting. Out: ``next_<name>`` per state field and ``out_<name>`` per output field.
    """
    members: dict[str, wiring.Member] = {}
    for f in config.state_fields():
        members[f.name] = In(shape_of(f))
    members["current"] = In(shape_of(config.input_field()))
    for s in config.present_settings():
        members[s.name] = In(shape_of(s.field(config)))
    for f in config.state_fields():
        members[f"next_{f.name}"] = Out(shape_of(f))
    for f in config.output_fields():
        members[f"out_{f.name}"] = Out(shape_of(f))
    return wiring.Signature(members)


class Datapath(wiring.Component):
    """Base of a model's combinational update: built from the model's configuration, with the
    ports of :func:`datapath_signature`.

    Subclasses set ``MODEL`` (the configuration class they implement) and write ``elaborate``;
    the configuration is ``self.config``.

    Raises
    ------
    TypeError
        For a configuration of another model.
    """

    MODEL: type[NeuronConfig] = NeuronConfig
    #: Output fields that always equal the next state's field of the same name. A population
    #: whose storage keeps the word written last (the ring) reads them from there instead of
    #: registering them.
    OUTPUTS_FROM_STATE: tuple[str, ...] = ()

    def __init__(self, config: NeuronConfig) -> None:
        if not isinstance(config, self.MODEL):
            name = self.MODEL.__name__
            article = "an" if name[0] in "AEIOU" else "a"
            raise TypeError(f"config must be {article} {name}, not {config!r}")
        self.config = config
        super().__init__(datapath_signature(config))


class Population(wiring.Component):
    """``neurons`` neurons of one model sharing one datapath, one neuron per clock cycle.

    Neurons are updated in index order ``0 .. neurons-1``; then the next timestep starts again
    at 0, so a timestep takes ``neurons`` accepted inputs.

    Streams (``amaranth.lib.stream``; a transfer happens on a cycle with ``valid`` and ``ready``):

    * ``current`` (in): one input per neuron, in index order.
    * ``output`` (out): one result per accepted input, one cycle later, laid out by
      :func:`output_layout`: the model's outputs, the neuron ``index`` and ``last``. The output
      comes from registers and holds until the next accepted input (``index`` and ``last`` are
      derived from the index register, outputs a datapath declares in ``OUTPUTS_FROM_STATE``
      come from a ring's word written last, the others have registers of their own); the
      payload is meaningful while ``valid`` is high. ``current.ready`` is high when the output
      is empty or being read.

    Reset: ``rst`` empties the output register, returns the index to 0 and, for populations of
    more than one neuron, starts a clearing sweep that writes the model's reset state to every
    neuron, one per cycle, while ``current.ready`` stays low (``neurons`` cycles).

    Parameters
    ----------
    config : NeuronConfig
        The model and its structure; its run-time settings are not used (they are ports), except
        those given per neuron (``config.per_neuron``), which become constant tables.
    datapath : type
        The model's update: a component class taking ``config``, with
        :func:`datapath_signature`.
    storage : "memory" | "ring" | "latch"
        Where the state of two or more neurons lives: an ``amaranth.lib.memory`` register file,
        a :class:`~neurotile.rtl.regfile.RingRegisterFile` (one clock-gated flip-flop per bit,
        no read multiplexer), or a :class:`~neurotile.rtl.regfile.LatchRegisterFile` (one Sky130
        latch per bit and a clock gate per neuron); the datapath has the full period with each.

    Members
    -------
    current : In(stream.Signature(input field))
    output : Out(stream.Signature(output_layout(config)))
    <setting> : In(setting field)
        One port per run-time setting the structure has and ``per_neuron`` does not hold.

    Raises
    ------
    TypeError, ValueError
        For a configuration, datapath or storage of the wrong kind.
    """

    def __init__(self, config: NeuronConfig, *, datapath: type, storage: str = "memory") -> None:
        if not isinstance(config, NeuronConfig):
            raise TypeError(f"config must be a NeuronConfig, not {config!r}")
        if not isinstance(storage, str):
            raise TypeError(f"storage must be a string, not {storage!r}")
        if storage not in STORAGES:
            raise ValueError(f"storage must be 'memory', 'ring' or 'latch', not {storage!r}")
        self.config = config
        self.storage = storage
        self.datapath_class = datapath
        members = {
            "current": In(stream.Signature(shape_of(config.input_field()))),
            "output": Out(stream.Signature(output_layout(config))),
        }
        for s in config.ports():
            members[s.name] = In(shape_of(s.field(config)))
        super().__init__(members)

    @property
    def p(self) -> NeuronConfig:
        return self.config

    def elaborate(self, platform):
        m = Module()
        c = self.config
        n = c.neurons
        m.submodules.datapath = dp = self.datapath_class(c)
        layout = state_layout(c)
        reset_word = Value.cast(layout.const(c.reset_state()))

        # The neuron of the next update (``index``), or, with the ring, of the latest one
        # (``latest``): the ring needs no address, and the output's index is then the register
        # itself rather than the register less one.
        ring_index = n > 1 and self.storage == "ring"
        if ring_index:
            latest = Signal(index_shape(n), init=n - 1)
            last = latest == n - 1
            index = Mux(last, 0, latest + 1)
        else:
            index = Signal(index_shape(n))
            last = index == n - 1
        out_valid = self.output.valid
        accept = Signal()
        next_state = Signal(layout)
        for f in c.state_fields():
            m.d.comb += getattr(next_state, f.name).eq(getattr(dp, f"next_{f.name}"))

        # State storage: a register for one neuron; for more, a register file, a ring or latches,
        # whose contents have no reset of their own, so a clearing sweep writes the reset state.
        tail = None  # a view of the word written last, where the storage offers one
        if n == 1:
            read = Signal(layout, init=c.reset_state())
            clearing = Const(0)
            with m.If(accept):
                m.d.sync += read.eq(next_state)
        elif self.storage == "ring":
            m.submodules.state = ring = RingRegisterFile(shape=layout, depth=n)
            clearing = Signal(init=1)
            read = ring.read_data
            tail = ring.last_data
            # Continuous expressions: nothing procedural feeds the ring (see RingRegisterFile).
            m.d.comb += [ring.write_en.eq(clearing | accept),
                         ring.write_data.eq(Mux(accept, next_state.as_value(), reset_word))]
        elif self.storage == "latch":
            m.submodules.state = latches = LatchRegisterFile(shape=layout, depth=n)
            clearing = Signal(init=1)
            read = latches.read_data
            m.d.comb += [latches.read_addr.eq(index), latches.write_addr.eq(index),
                         latches.write_en.eq(clearing | accept),
                         latches.write_data.eq(Mux(accept, next_state.as_value(), reset_word))]
        else:
            m.submodules.state = mem = memory.Memory(shape=layout, depth=n, init=[])
            rd = mem.read_port(domain="comb")
            wr = mem.write_port()
            clearing = Signal(init=1)
            read = rd.data
            m.d.comb += [rd.addr.eq(index), wr.addr.eq(index),
                         wr.en.eq(clearing | accept),
                         wr.data.eq(Mux(accept, next_state.as_value(), reset_word))]

        # Per-neuron constants: a ROM per table, addressed like the state.
        def table(name: str, values: tuple[int, ...], shape: Shape):
            rom = memory.Memory(shape=shape, depth=n, init=values)
            m.submodules[f"{name}_table"] = rom
            port = rom.read_port(domain="comb")
            m.d.comb += port.addr.eq(index)
            return port.data

        # The shared datapath on the addressed neuron.
        for f in c.state_fields():
            m.d.comb += getattr(dp, f.name).eq(getattr(read, f.name))
        held = c.tables()
        for s in c.present_settings():
            shape = shape_of(s.field(c))
            source = table(s.name, held[s.name], shape) if s.name in held else \
                getattr(self, s.name)
            m.d.comb += getattr(dp, s.name).eq(source)
        current = self.current.payload
        if c.bias is not None:
            f = c.input_field()
            biased = Signal(signed(f.width + 2))
            m.d.comb += biased.eq(current + table("bias", c.bias, shape_of(f)))
            current = Mux(biased > f.hi, f.hi, Mux(biased < f.lo, f.lo, biased))
        m.d.comb += dp.current.eq(current)

        m.d.comb += [
            self.current.ready.eq(~clearing & (~out_valid | self.output.ready)),
            accept.eq(self.current.valid & self.current.ready),
        ]
        if ring_index:
            # The sweep starts and ends with ``latest`` at the last neuron (the ring's words are
            # all alike after it, so its position does not matter).
            with m.If(clearing):
                m.d.sync += latest.eq(index)
                with m.If(latest == n - 2):
                    m.d.sync += clearing.eq(0)
        elif n > 1:
            with m.If(clearing):
                m.d.sync += index.eq(Mux(last, 0, index + 1))
                with m.If(last):
                    m.d.sync += clearing.eq(0)
        # The output: ``index`` and ``last`` follow from the index register (one step behind
        # it after every update, or the ring's ``latest`` itself), the model's outputs are
        # registered, except those the datapath declares equal to a state field when the ring's
        # tail already holds that state.
        payload = self.output.payload
        if ring_index:
            m.d.comb += [payload.index.eq(latest), payload.last.eq(last)]
        else:
            m.d.comb += [payload.index.eq(Mux(index == 0, n - 1, index - 1)),
                         payload.last.eq(index == 0)]
        from_state = set(getattr(self.datapath_class, "OUTPUTS_FROM_STATE", ())) \
            if tail is not None else set()
        registered = []
        for f in c.output_fields():
            if f.name in from_state:
                m.d.comb += getattr(payload, f.name).eq(getattr(tail, f.name))
            else:
                held = Signal(shape_of(f), name=f"out_{f.name}")
                m.d.comb += getattr(payload, f.name).eq(held)
                registered.append(held.eq(getattr(dp, f"out_{f.name}")))
        advance = latest.eq(index) if ring_index else index.eq(Mux(last, 0, index + 1))
        with m.If(accept):
            m.d.sync += [advance, out_valid.eq(1)] + registered
        with m.Elif(self.output.ready):
            m.d.sync += out_valid.eq(0)
        return m


# -- the catalogue of datapaths ------------------------------------------------------------------

_DATAPATHS: dict[str, type] | None = None


def datapaths() -> dict[str, type]:
    """Every model's datapath in :mod:`neurotile.rtl` (a module-level ``DATAPATH`` whose
    ``MODEL`` is the model's configuration class), by model name."""
    global _DATAPATHS
    if _DATAPATHS is None:
        import importlib
        import pkgutil

        import neurotile.rtl as pkg

        found: dict[str, type] = {}
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            module = importlib.import_module(f"{pkg.__name__}.{info.name}")
            datapath = getattr(module, "DATAPATH", None)
            if datapath is not None:
                found[datapath.MODEL.NAME] = datapath
        _DATAPATHS = found
    return _DATAPATHS


def datapath_for(model: str) -> type:
    """The datapath class of the model called ``model``."""
    found = datapaths()
    if model not in found:
        raise KeyError(f"no datapath for neuron model {model!r}; have: {', '.join(found)}")
    return found[model]


def top_name(config: NeuronConfig, storage: str = "memory") -> str:
    """The Verilog module name of a population: model, size, membrane width, storage."""
    name = f"{config.NAME.replace('-', '_')}_population_n{config.neurons}"
    if "width" in config.structural():
        name += f"_w{config.width}"
    return name + ("" if storage == "memory" else f"_{storage}")
