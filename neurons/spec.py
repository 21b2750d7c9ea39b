# SPDX-License-Identifier: Apache-2.0
"""What a neuron model is made of, declared once: parameters, run-time settings, integer fields.

A neuron model of the kit is one subclass of :class:`NeuronConfig`. Its class attributes are the
single source of truth for the model:

* ``PARAMS``: the structural (generator) parameters, each a :class:`Param` with type, default,
  range and help. They decide what hardware is built.
* ``SETTINGS``: the run-time settings, each a :class:`Setting`. They become input ports of the
  hardware, ``config`` registers of a TinyTapeout project and command-line options; their value
  in a configuration is what simulations and the TinyTapeout registers start with.
* :meth:`~NeuronConfig.state_fields`, :meth:`~NeuronConfig.output_fields` and
  :meth:`~NeuronConfig.input_field`: the integer fields of the per-neuron state, of the result
  each neuron reports per step and of the input current, as :class:`Field` (width, sign).
* :meth:`~NeuronConfig.step`: the integer model, bit-exact with the hardware, vectorised over
  neurons.
* :attr:`~NeuronConfig.FLOAT_PARAMS` and :meth:`~NeuronConfig.float_run` (with ``DT_MS`` for a
  time-based model): the float model in its library's conventions, for ``neurotile model``.

Validation, defaults, command-line options, register maps, bulk-record offsets and checker
decoding are all derived from these; nothing else lists a model's parameters.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "Param", "Field", "Setting", "NeuronConfig", "as_int", "as_float", "as_bool",
    "models", "get_model", "run_model",
]


# -- plain values ------------------------------------------------------------------------------

def as_int(value: Any, name: str) -> int:
    """``value`` as a Python int (NumPy integers accepted); ``TypeError`` naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    return int(value)


def as_float(value: Any, name: str) -> float:
    """``value`` as a finite Python float (NumPy numbers accepted); errors name ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, not {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be a finite number, not {out}")
    return out


def as_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, not {value!r}")
    return bool(value)


# -- declarations ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One structural parameter: what the hardware is built from.

    ``name`` is the Python keyword (``refractory_width``); the command-line flag is
    ``--refractory-width``. ``type`` is ``int``, ``float``, ``str`` or ``bool``. ``default`` of
    ``None`` means "derived" (the model fills it in). ``low``/``high`` bound numbers (inclusive);
    ``choices`` lists the allowed values of a string.
    """

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> Any:
        """``value`` validated and normalised (NumPy scalars become Python values)."""
        if self.type is int:
            value = as_int(value, self.name)
        elif self.type is float:
            value = as_float(value, self.name)
        elif self.type is bool:
            value = as_bool(value, self.name)
        elif not isinstance(value, self.type):
            raise TypeError(f"{self.name} must be a {self.type.__name__}, not {value!r}")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise ValueError(f"{self.name} must be one of {allowed}, not {value!r}")
        if self.low is not None and self.high is not None and not self.low <= value <= self.high:
            raise ValueError(f"{self.name} must be between {_num(self.low)} and "
                             f"{_num(self.high)}, not {value}")
        if self.low is not None and self.high is None and value < self.low:
            raise ValueError(f"{self.name} must be at least {_num(self.low)}, not {value}")
        return value


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


@dataclass(frozen=True)
class Field:
    """An integer field of the hardware: ``width`` bits, two's complement when ``signed``."""

    name: str
    width: int
    signed: bool = False
    doc: str = ""

    @property
    def lo(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    def contains(self, value: Any) -> bool:
        arr = np.asarray(value)
        return bool(arr.size == 0 or (arr.min() >= self.lo and arr.max() <= self.hi))

    def wrap(self, value: np.ndarray) -> np.ndarray:
        """Raw bits (as unsigned int64) of ``value``, e.g. from a register of this width."""
        return np.asarray(value, np.int64) & ((1 << self.width) - 1)


@dataclass(frozen=True)
class Setting:
    """One run-time setting: a hardware input port, a TinyTapeout register, a CLI option.

    ``field(config)`` gives its width and sign for a structure; ``default(config)`` its value
    after reset (what simulations and TinyTapeout registers start with); ``low``/``high``, when
    given, narrow the legal range inside the field's (``config -> int``).
    """

    name: str
    help: str
    field: Callable[[Any], Field]
    default: Callable[[Any], int]
    low: Callable[[Any], int] | None = None
    high: Callable[[Any], int] | None = None
    unit: str = ""
    #: ``when(config)`` false: the structure has no such setting (no port, no register; the
    #: value is the default).
    when: Callable[[Any], bool] | None = None
    #: ``explain(config)``: why the range is what it is, for error messages ("for an 8-bit
    #: membrane"); default "for this structure".
    explain: Callable[[Any], str] | None = None

    def present(self, config: Any) -> bool:
        return self.when is None or bool(self.when(config))

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def bounds(self, config: Any) -> tuple[int, int]:
        f = self.field(config)
        lo = f.lo if self.low is None else self.low(config)
        hi = f.hi if self.high is None else self.high(config)
        return lo, hi


# -- the model base class ----------------------------------------------------------------------

#: The population size every model has; the engine runs ``neurons`` copies of the state.
NEURONS = Param("neurons", int, 32, "number of neurons (1..4096)", low=1, high=4096)


def _table(value: Any, name: str, n: int, lo: int, hi: int) -> tuple[int, ...]:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" or arr.shape != (n,):
        raise ValueError(f"{name} must be {n} integers (one per neuron), not shape "
                         f"{arr.shape} of {arr.dtype}")
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise ValueError(f"{name} values must be between {lo} and {hi}")
    return tuple(int(v) for v in arr)


class NeuronConfig:
    """Base of a neuron model: a validated, immutable configuration of one population.

    Subclasses set ``NAME`` (the block name, ``"lif"``), ``TITLE``, ``PARAMS``, ``SETTINGS`` and
    implement :meth:`input_field`, :meth:`state_fields`, :meth:`output_fields` and :meth:`step`;
    :meth:`check` adds checks that involve several parameters. ``neurons`` is a parameter of
    every model.

    Construct with keyword arguments: structural parameters (missing ones take their default)
    and run-time settings (missing ones take ``Setting.default``). Unknown names raise
    ``TypeError``; values of the wrong type ``TypeError``; out-of-range values ``ValueError``;
    every message names the parameter.
    """

    NAME: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    PARAMS: ClassVar[tuple[Param, ...]] = ()
    SETTINGS: ClassVar[tuple[Setting, ...]] = ()
    #: Directed stimulus episodes for the checkers, ``directed(config, rng) -> list[Episode]``.
    _values: dict[str, Any]

    def __init__(self, *, per_neuron: Mapping[str, Any] | Any = None, bias: Any = None,
                 **kwargs: Any) -> None:
        names = [p.name for p in self.params()] + [s.name for s in self.SETTINGS]
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise TypeError(f"unknown {self.NAME or type(self).__name__} parameter(s) "
                            f"{', '.join(unknown)}; allowed: {', '.join(names)}")
        values: dict[str, Any] = {}
        object.__setattr__(self, "_values", values)
        for p in self.params():
            raw = kwargs.get(p.name)
            values[p.name] = p.default if raw is None else p.check(raw)
        self.check()
        for s in self.SETTINGS:
            raw = kwargs.get(s.name)
            value = s.default(self) if raw is None else as_int(raw, s.name)
            why = self._where() if s.explain is None else s.explain(self)
            if not s.present(self):
                if value != s.default(self):
                    raise ValueError(f"{s.name} cannot be set {why}")
                values[s.name] = value
                continue
            lo, hi = s.bounds(self)
            if not lo <= value <= hi:
                raise ValueError(f"{s.name} must be between {lo} and {hi} {why}, not {value}")
            values[s.name] = value
        self.check_settings()
        # Per-neuron values: generate-time constants (NIR graphs carry per-neuron arrays).
        tables: dict[str, tuple[int, ...]] = {}
        for key, value in dict(per_neuron or {}).items():
            if key not in {s.name for s in self.present_settings()}:
                raise ValueError(f"per_neuron names {key!r}, which is not a run-time setting "
                                 f"{self._where()}; settings: "
                                 f"{', '.join(s.name for s in self.present_settings())}")
            lo, hi = self.setting(key).bounds(self)
            tables[key] = _table(value, f"per_neuron[{key!r}]", self.neurons, lo, hi)
        values["per_neuron"] = tuple(sorted(tables.items()))
        f = self.input_field()
        values["bias"] = None if bias is None else _table(bias, "bias", self.neurons, f.lo, f.hi)

    # The declarations -------------------------------------------------------------------------
    @classmethod
    def params(cls) -> tuple[Param, ...]:
        """Structural parameters, ``neurons`` first."""
        return (NEURONS,) + cls.PARAMS

    @classmethod
    def setting(cls, name: str) -> Setting:
        for s in cls.SETTINGS:
            if s.name == name:
                return s
        raise KeyError(f"{cls.NAME} has no setting {name!r}")

    def check(self) -> None:
        """Checks across structural parameters (``ValueError``); the default has none."""

    def check_settings(self) -> None:
        """Checks across run-time settings (``ValueError``); the default has none."""

    def _where(self) -> str:
        return "for this structure"

    # Values -----------------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use replace()")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values == self._values  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self._values.items()))))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"{type(self).__name__}({inner})"

    def structural(self) -> dict[str, Any]:
        """The generator parameters (what the hardware is built from), per-neuron tables and
        bias included when they are set."""
        out = {p.name: self._values[p.name] for p in self.params()}
        if self.per_neuron:
            out["per_neuron"] = dict(self.per_neuron)
        if self.bias is not None:
            out["bias"] = self.bias
        return out

    def tables(self) -> dict[str, tuple[int, ...]]:
        """Settings held per neuron as generate-time constants (not ports)."""
        return dict(self.per_neuron)

    def ports(self) -> tuple[Setting, ...]:
        """The run-time settings that are input ports (present, not held per neuron)."""
        held = dict(self.per_neuron)
        return tuple(s for s in self.present_settings() if s.name not in held)

    def runtime(self) -> dict[str, int]:
        """The run-time settings."""
        return {s.name: self._values[s.name] for s in self.SETTINGS}

    def as_dict(self) -> dict[str, Any]:
        """Every value, structural and run-time (JSON-ready; ``type(self)(**d)`` rebuilds it)."""
        out = dict(self._values)
        out["per_neuron"] = {k: list(v) for k, v in self.per_neuron} or None
        out["bias"] = None if self.bias is None else list(self.bias)
        return out

    def replace(self, **kwargs: Any) -> NeuronConfig:
        """A copy with some values changed (validated). Settings not given keep their value."""
        return type(self)(**(self.as_dict() | kwargs))

    def with_runtime(self, **kwargs: int) -> NeuronConfig:
        """A copy with other run-time settings (validated)."""
        unknown = sorted(set(kwargs) - {s.name for s in self.SETTINGS})
        if unknown:
            raise TypeError(f"{', '.join(unknown)} are not run-time settings of {self.NAME}")
        return self.replace(**kwargs)

    # Fields -----------------------------------------------------------------------------------
    def input_field(self) -> Field:
        """The input current of one neuron for one step."""
        raise NotImplementedError

    def state_fields(self) -> tuple[Field, ...]:
        """The state each neuron keeps between steps (stored by the population)."""
        raise NotImplementedError

    def output_fields(self) -> tuple[Field, ...]:
        """What each neuron reports per step, in payload order (LSB first)."""
        raise NotImplementedError

    def present_settings(self) -> tuple[Setting, ...]:
        """The run-time settings this structure has (each one a port), in declaration order."""
        return tuple(s for s in self.SETTINGS if s.present(self))

    def setting_fields(self) -> tuple[Field, ...]:
        """The present run-time settings as hardware fields (port widths)."""
        return tuple(s.field(self) for s in self.present_settings())

    def reset_state(self) -> dict[str, int]:
        """State of every neuron after reset; a constant of the structure (zeros by default)."""
        return {f.name: 0 for f in self.state_fields()}

    @property
    def input_min(self) -> int:
        return self.input_field().lo

    @property
    def input_max(self) -> int:
        return self.input_field().hi

    # The integer model ------------------------------------------------------------------------
    def initial_state(self) -> dict[str, np.ndarray]:
        """The state arrays (int64, shape ``(neurons,)``) the hardware holds after reset."""
        return {k: np.full(self.neurons, v, np.int64) for k, v in self.reset_state().items()}

    def step(self, state: Mapping[str, np.ndarray], current: np.ndarray,
             settings: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """One step of every neuron, exactly as the hardware does it.

        ``state`` maps state field names to int64 arrays of shape ``(neurons,)``; ``current``
        holds validated integer inputs of that shape; ``settings`` maps every setting name to an
        int or an int64 array of shape ``(neurons,)`` (per-neuron values). Returns
        ``(new_state, outputs)``: dicts of int64 (or bool for 1-bit outputs) arrays keyed by the
        field names of :meth:`state_fields` and :meth:`output_fields`.
        """
        raise NotImplementedError

    # The float model (``neurotile model BLOCK --float``) --------------------------------------
    #: Options of the float model, in its library's conventions (snnTorch's ``beta``,
    #: ``threshold``, ...); they become ``neurotile model`` options. Empty: no float model.
    FLOAT_PARAMS: ClassVar[tuple[Param, ...]] = ()
    #: Step of the float model in ms for a time-based model (its equations have a time
    #: constant); ``None`` for a step model, whose runs are counted in steps.
    DT_MS: ClassVar[float | None] = None
    #: Unit of the input current of both models ("" for the membrane units of a step model).
    INPUT_UNIT: ClassVar[str] = ""
    #: Names the output fields of the integer model take in ``neurotile model`` (the float
    #: model's keys): ``spikes``, ``membrane``, ``synaptic``; unlisted fields keep their name.
    OUTPUT_NAMES: ClassVar[Mapping[str, str]] = {"spike": "spikes"}

    @classmethod
    def float_options(cls, **options: Any) -> dict[str, Any]:
        """``options`` of :attr:`FLOAT_PARAMS` validated, with the defaults of the missing ones.

        A model whose options depend on each other (a preset naming the others) completes them
        here. Unknown names raise ``TypeError``; bad values ``TypeError``/``ValueError``.
        """
        known = {p.name: p for p in cls.FLOAT_PARAMS}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise TypeError(f"unknown option(s) {', '.join(unknown)} of the {cls.NAME} float "
                            f"model; allowed: {', '.join(known) or 'none'}")
        return {name: p.default if options.get(name) is None else p.check(options[name])
                for name, p in known.items()}

    @classmethod
    def float_run(cls, currents: np.ndarray, **options: Any) -> dict[str, np.ndarray]:
        """Run the float model from rest over ``currents`` (float, ``[steps, neurons]``).

        ``options`` are complete (:meth:`float_options`). Returns arrays of shape
        ``[steps, neurons]`` under the names of :attr:`OUTPUT_NAMES` (``spikes`` as bool,
        ``membrane``...), each the value after the step; a time-based model may add
        ``spike_times_ms``, a list of spike times per neuron finer than a step.
        """
        raise NotImplementedError(f"{cls.NAME} has no float model")

    def step_ms(self) -> float | None:
        """The time one step of the integer model stands for (ms); ``None`` for step models."""
        return self.DT_MS

    def input_lsb(self) -> float:
        """What one unit of the integer input stands for, in :attr:`INPUT_UNIT` (1 by default):
        a float current ``x`` is the code ``round(x / input_lsb())``."""
        return 1.0

    #: Unit of the float model's membrane ("" for the membrane units of a step model, whose
    #: integer codes and float values are the same units).
    MEMBRANE_UNIT: ClassVar[str] = ""

    def membrane_lsb(self) -> float:
        """What one unit of the integer ``membrane`` output stands for, in
        :attr:`MEMBRANE_UNIT` (1 by default)."""
        return 1.0

    def float_equivalent(self) -> dict[str, Any] | None:
        """The float model's options (complete, as :meth:`float_options` returns them) for the
        equation this configuration quantises: its leak, threshold and reset unrounded, so the
        two models differ only by quantisation. ``None`` when the model has no float model."""
        return None

    # Stimulus hooks for the checkers ----------------------------------------------------------
    def directed(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        """Directed episodes for the checkers: ``{"current": [steps, neurons], settings...,
        "reset_after": bool}``; the default has none (random stimulus only)."""
        return []

    def random_settings(self, rng: np.random.Generator) -> dict[str, int]:
        """Run-time settings for a random episode: each setting, by a draw, uniform over its
        legal range (a quarter of episodes), over everything its port can carry (a quarter:
        the hardware must match the model there too) or the configured value."""
        out = {s.name: self._values[s.name] for s in self.SETTINGS}
        for s in self.present_settings():
            draw = rng.random()
            if draw < 0.25:
                lo, hi = s.bounds(self)
            elif draw < 0.5:
                f = s.field(self)
                lo, hi = f.lo, f.hi
            else:
                continue
            out[s.name] = int(rng.integers(lo, hi + 1))
        return out


# -- the catalogue of models -------------------------------------------------------------------

_MODELS: dict[str, type[NeuronConfig]] | None = None


def models() -> dict[str, type[NeuronConfig]]:
    """Every neuron model of :mod:`neurotile.neurons` (a module-level ``MODEL``), by name."""
    global _MODELS
    if _MODELS is None:
        import neurotile.neurons as pkg

        found: dict[str, type[NeuronConfig]] = {}
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            module = importlib.import_module(f"{pkg.__name__}.{info.name}")
            model = getattr(module, "MODEL", None)
            if isinstance(model, type) and issubclass(model, NeuronConfig):
                found[model.NAME] = model
        _MODELS = found
    return _MODELS


def get_model(name: str) -> type[NeuronConfig]:
    """The model class called ``name``; ``KeyError`` naming the choices otherwise."""
    found = models()
    if name not in found:
        raise KeyError(f"unknown neuron model {name!r}; choose one of: {', '.join(found)}")
    return found[name]


# -- whole runs --------------------------------------------------------------------------------

def checked_currents(config: NeuronConfig, current: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``current`` as int64 of ``shape``, each value inside the input field (``ValueError``)."""
    cur = np.asarray(current)
    if cur.dtype.kind not in "biu":
        raise TypeError(f"current must hold integers, not {cur.dtype}")
    cur = cur.astype(np.int64)
    if cur.shape != shape:
        raise ValueError(f"current must have shape {shape}, not {cur.shape}")
    f = config.input_field()
    if not f.contains(cur):
        raise ValueError(f"current out of range for {f.width}-bit input: allowed "
                         f"{f.lo}..{f.hi}")
    return cur


def run_model(config: NeuronConfig, currents: Any, *,
              state: Mapping[str, np.ndarray] | None = None,
              settings: Mapping[str, Any] | None = None,
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run ``currents`` (``[steps, neurons]``) through the integer model.

    ``settings`` maps setting names to per-step arrays (``[steps]``) or per-step-and-neuron
    arrays (``[steps, neurons]``); missing ones keep the configuration's value. Returns
    ``(outputs, final_state)``: ``outputs[name]`` has shape ``[steps, neurons]``.
    """
    n = config.neurons
    currents = checked_currents(config, currents, (len(np.asarray(currents)), n))
    steps = currents.shape[0]
    state = config.initial_state() if state is None else {k: np.array(v, np.int64)
                                                          for k, v in state.items()}
    per_step: dict[str, np.ndarray] = {}
    held = config.tables()
    for s in config.SETTINGS:
        given = None if settings is None else settings.get(s.name)
        if s.name in held:
            value = np.broadcast_to(np.array(held[s.name], np.int64), (steps, n))
        elif given is None:
            value = np.full(steps, getattr(config, s.name), np.int64)
        else:
            value = np.asarray(given, np.int64)
        per_step[s.name] = value
    if config.bias is not None:
        f = config.input_field()
        currents = np.clip(currents + np.array(config.bias, np.int64), f.lo, f.hi)
    outputs = {f.name: np.empty((steps, n), bool if f.width == 1 and not f.signed else np.int64)
               for f in config.output_fields()}
    for t in range(steps):
        now = {k: (int(v[t]) if v.ndim == 1 else v[t]) for k, v in per_step.items()}
        state, out = config.step(state, currents[t], now)
        for k, v in out.items():
            outputs[k][t] = v
    return outputs, state


def iter_fields(fields: tuple[Field, ...]) -> Iterator[tuple[Field, int]]:
    """``(field, lsb)`` of fields packed LSB first, as a payload lays them out."""
    lsb = 0
    for f in fields:
        yield f, lsb
        lsb += f.width
