# SPDX-License-Identifier: Apache-2.0
"""The Izhikevich (2003) neuron: float64 reference, the five cortical patterns, integer model.

Izhikevich, "Simple model of spiking neurons", IEEE Trans. Neural Networks 14(6), 2003::

    v' = 0.04 v^2 + 5 v + 140 - u + I        (v in mV, t in ms, I in mV/ms)
    u' = a (b v - u)
    if v >= 30 mV:  v <- c,  u <- u + d

Integration scheme (float and fixed alike): one forward-Euler step of ``dt = 2**-dt_shift`` ms
per step for both variables, both derivatives taken at the state the step starts from; the
spike test ``v >= 30`` and the reset follow in the same step. Izhikevich's own code takes two
0.5 ms half-steps for ``v`` and one 1 ms step for ``u`` (with the new ``v``); the hardware takes
one step of each per update, so the square, the linear terms and the recovery multiply run in
parallel on one squarer, and the default ``dt`` of 0.5 ms keeps the ``v`` step of the paper's
code and halves its ``u`` step. The float reference uses the same scheme at the same ``dt`` (by
default), so comparing the two measures the fixed-point arithmetic alone;
:func:`izhikevich_float_run` can also run the paper's scheme (``scheme="paper"``).

Reset state (hardware and reference): ``v = -65 mV``, ``u = -13 mV`` (``b v`` with the regular
spiking ``b = 0.2``), the paper's initial condition for its RS neuron.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from neurotile.neurons.spec import Field, NeuronConfig, Param, Setting, as_float, run_model

__all__ = [
    "IzhikevichParams",
    "PRESETS",
    "Pattern",
    "PATTERNS",
    "izhikevich_float_run",
    "FloatRun",
    "IzhikevichIntParams",
    "MODEL",
    "izhikevich_int_run",
    "PatternRun",
    "pattern_run",
    "QUAD_CODE",
    "QUAD_FRAC",
    "QUAD_TERMS",
    "V_PEAK_MV",
    "V_RESET_MV",
    "U_RESET_MV",
]

V_PEAK_MV = 30.0    # spike cut-off (mV)
V_RESET_MV = -65.0  # v after reset of the hardware (mV)
U_RESET_MV = -13.0  # u after reset of the hardware (mV): 0.2 * -65

#: ``0.04`` as ``QUAD_CODE / 2**QUAD_FRAC``: 5243 / 131072 = 0.0400009 (relative error 2.3e-5),
#: built as ``2**12 + 2**10 + 2**7 - 2**2 - 2**0`` (four adders, no multiplier).
QUAD_CODE = 5243
QUAD_FRAC = 17
QUAD_TERMS = ((12, 1), (10, 1), (7, 1), (2, -1), (0, -1))  # (shift, sign)


# -- float reference ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IzhikevichParams:
    """The four parameters of the model (Izhikevich 2003, Fig. 2).

    ``a``: recovery rate (1/ms); ``b``: sensitivity of ``u`` to ``v`` (dimensionless);
    ``c``: reset of ``v`` after a spike (mV); ``d``: increment of ``u`` after a spike (mV).
    """

    a: float  # 1/ms
    b: float  # 1
    c: float  # mV
    d: float  # mV

    def __post_init__(self) -> None:
        for name in ("a", "b", "c", "d"):
            as_float(getattr(self, name), name)


#: The five cortical patterns of Izhikevich (2003), Fig. 2: regular spiking, intrinsically
#: bursting, chattering, fast spiking, low-threshold spiking.
PRESETS: dict[str, IzhikevichParams] = {
    "rs": IzhikevichParams(a=0.02, b=0.2, c=-65.0, d=8.0),
    "ib": IzhikevichParams(a=0.02, b=0.2, c=-55.0, d=4.0),
    "ch": IzhikevichParams(a=0.02, b=0.2, c=-50.0, d=2.0),
    "fs": IzhikevichParams(a=0.1, b=0.2, c=-65.0, d=2.0),
    "lts": IzhikevichParams(a=0.02, b=0.25, c=-65.0, d=2.0),
}


@dataclass(frozen=True)
class Pattern:
    """A preset with its stimulus: ``current`` (mV/ms) from ``onset_ms`` to the end."""

    name: str
    title: str
    params: IzhikevichParams
    current: float = 10.0     # mV/ms
    onset_ms: float = 10.0    # ms


PATTERNS: dict[str, Pattern] = {
    "rs": Pattern("rs", "regular spiking", PRESETS["rs"]),
    "ib": Pattern("ib", "intrinsically bursting", PRESETS["ib"]),
    "ch": Pattern("ch", "chattering", PRESETS["ch"]),
    "fs": Pattern("fs", "fast spiking", PRESETS["fs"]),
    "lts": Pattern("lts", "low-threshold spiking", PRESETS["lts"]),
}


@dataclass
class FloatRun:
    """A float run: ``t`` (ms, end of each step), ``v`` and ``u`` (mV) after each step (after
    any reset), ``spikes`` (bool per step) and ``spike_times`` (ms)."""

    t: np.ndarray
    v: np.ndarray
    u: np.ndarray
    spikes: np.ndarray

    @property
    def spike_times(self) -> list[float]:
        return [float(x) for x in self.t[self.spikes]]


def izhikevich_float_run(p: IzhikevichParams, current: Any, *, dt_ms: float = 0.5,
                         scheme: str = "euler", v0: float = V_RESET_MV,
                         u0: float = U_RESET_MV) -> FloatRun:
    """Integrate one neuron in float64 over the per-step currents ``current`` (mV/ms).

    Parameters
    ----------
    p : IzhikevichParams
        ``a, b, c, d``.
    current : array of float, shape (steps,)
        Input current of each step (constant within it).
    dt_ms : float
        Step (ms).
    scheme : "euler" | "paper"
        ``"euler"``: the hardware's scheme, ``v += dt f(v, u)``, ``u += dt a (b v - u)`` from the
        same state, then ``v >= 30`` fires and resets. ``"paper"``: Izhikevich's code, two
        half-steps of ``v`` then ``u += dt a (b v - u)`` with the new ``v`` (``dt = 1`` there).
    v0, u0 : float
        Initial state (mV); the hardware's reset state by default.

    Returns
    -------
    FloatRun

    Raises
    ------
    ValueError
        For a non-positive ``dt_ms`` or an unknown ``scheme``.
    """
    dt = as_float(dt_ms, "dt_ms")
    if dt <= 0:
        raise ValueError(f"dt_ms must be positive, not {dt}")
    if scheme not in ("euler", "paper"):
        raise ValueError(f"scheme must be 'euler' or 'paper', not {scheme!r}")
    cur = np.asarray(current, np.float64)
    steps = len(cur)
    vs, us = np.empty(steps), np.empty(steps)
    fired = np.zeros(steps, bool)
    v, u = float(v0), float(u0)
    a, b, c, d = p.a, p.b, p.c, p.d
    for k in range(steps):
        i = float(cur[k])
        if scheme == "euler":
            dv = dt * (0.04 * v * v + 5.0 * v + 140.0 - u + i)
            u = u + dt * a * (b * v - u)
            v = v + dv
        else:
            for _ in range(2):
                v = v + 0.5 * dt * (0.04 * v * v + 5.0 * v + 140.0 - u + i)
            u = u + dt * a * (b * v - u)
        if v >= V_PEAK_MV:
            fired[k] = True
            v, u = c, u + d
        vs[k], us[k] = v, u
    return FloatRun(dt * np.arange(1, steps + 1), vs, us, fired)


# -- integer model of the hardware -------------------------------------------------------------

def _align(x: Any, frm: int, to: int) -> Any:
    """``x`` with ``frm`` fraction bits re-expressed with ``to`` (exact, or floor when
    dropping bits; ``>>`` is arithmetic)."""
    return x << (to - frm) if to >= frm else x >> (frm - to)


def _half(shift: int) -> int:
    """What round-half-up adds before an arithmetic right shift by ``shift`` (0 for none)."""
    return (1 << (shift - 1)) if shift > 0 else 0


def _code(value: float, frac: int) -> int:
    return int(round(value * (1 << frac)))


class IzhikevichIntParams(NeuronConfig):
    """The hardware Izhikevich population: structure and run-time settings.

    Formats (two's complement unless stated; a value with ``F`` fraction bits is ``code/2**F``):

    * ``v``: ``v_width`` bits, ``v_frac`` fraction bits, mV; at least 8 integer bits (sign
      included), so -128 <= v < 128 mV.
    * ``u``: ``u_width`` bits, ``u_frac`` fraction bits, mV; at least 6 integer bits.
    * current: ``input_width`` bits, ``input_frac`` fraction bits, mV/ms.
    * ``a``: unsigned ``a_width`` bits, ``a_frac`` fraction bits, 1/ms.
    * ``b``: ``b_width`` bits, ``b_frac`` fraction bits.
    * ``c``: the ``v`` format; ``d``: the ``u`` format.
    * ``dt = 2**-dt_shift`` ms.

    One step, with ``V``, ``U``, ``I``, ``A``, ``B``, ``C``, ``D`` the codes, ``Fv = v_frac``,
    ``Fu = u_frac``, ``k = dt_shift``, ``x >>> s = (x + 2**(s-1)) >> s`` (round half up: add
    half, then an arithmetic shift, i.e. floor) and ``al(x, f, g)`` re-expressing ``f`` fraction
    bits as ``g`` (exact shift left, or floor shift right)::

        W     = V + 62.5 * 2**Fv                                    v + 62.5 mV
        quad  = (W*W * 5243 - 16.25 * 2**(17 + 2 Fv)) >>> (17 + Fv)   0.04 (v+62.5)^2 - 16.25
        dV    = (quad - al(U, Fu, Fv) + al(I, input_frac, Fv)) >>> k
        dU    = (A * (al(B*V, b_frac + Fv, Fu) - U)) >>> (a_frac + k)
        fire  = V + dV >= 30 * 2**Fv
        V'    = C                      if fire else sat_v(V + dV)
        U'    = sat_u(U + dU + (D if fire else 0))

    ``0.04 (v + 62.5)^2 - 16.25 = 0.04 v^2 + 5 v + 140``: completing the square leaves one
    constant multiply, ``5243 / 2**17`` (``2**12 + 2**10 + 2**7 - 2**2 - 1``, shift-adds), whose
    2.3e-5 relative error then scales a term that is small near rest instead of ``0.04 v^2``
    (about 170 mV/ms there, cancelled by ``5 v + 140``). Every sum is formed at full width;
    ``sat`` clamps once, to the field, at the end: nothing wraps. Outputs: ``spike``
    (``fire``) and ``v`` (``V'``, after any reset).
    """

    NAME = "izhikevich"
    TITLE = "Izhikevich (2003) simple model"
    PARAMS = (
        Param("v_width", int, 16, "bits of v (mV), two's complement", low=10, high=24),
        Param("v_frac", int, 8, "fraction bits of v (and of c)", low=1, high=16),
        Param("u_width", int, 18, "bits of u (mV), two's complement", low=8, high=24),
        Param("u_frac", int, 12, "fraction bits of u (and of d)", low=0, high=18),
        Param("input_width", int, 8, "input current bits (mV/ms), two's complement",
              low=2, high=24),
        Param("input_frac", int, 2, "fraction bits of the input current", low=0, high=16),
        Param("dt_shift", int, 1, "Euler step dt = 2**-dt_shift ms", low=0, high=4),
        Param("a_width", int, 10, "bits of a (1/ms), unsigned", low=1, high=16),
        Param("a_frac", int, 12, "fraction bits of a", low=0, high=16),
        Param("b_width", int, 11, "bits of b, two's complement", low=2, high=16),
        Param("b_frac", int, 10, "fraction bits of b", low=0, high=16),
    )
    SETTINGS = (
        Setting("a", "recovery rate a (1/ms), a_frac fraction bits",
                field=lambda c: Field("a", c.a_width),
                default=lambda c: _code(PRESETS["rs"].a, c.a_frac), unit="2^-a_frac /ms"),
        Setting("b", "sensitivity b of u to v, b_frac fraction bits",
                field=lambda c: Field("b", c.b_width, True),
                default=lambda c: _code(PRESETS["rs"].b, c.b_frac), unit="2^-b_frac"),
        Setting("c", "v after a spike (mV), v_frac fraction bits",
                field=lambda c: Field("c", c.v_width, True),
                default=lambda c: _code(PRESETS["rs"].c, c.v_frac), unit="2^-v_frac mV"),
        Setting("d", "increment of u after a spike (mV), u_frac fraction bits",
                field=lambda c: Field("d", c.u_width, True),
                default=lambda c: _code(PRESETS["rs"].d, c.u_frac), unit="2^-u_frac mV"),
    )

    # The float model (``neurotile model izhikevich --float``) ---------------------------------
    #: Options: a firing pattern (its ``a, b, c, d``), each of which ``--a`` ... ``--d`` may
    #: override, in the units of :class:`IzhikevichParams`.
    FLOAT_PARAMS = (
        Param("pattern", str, "rs", "firing pattern whose a, b, c, d the float model takes "
              "(Izhikevich 2003, Fig. 2)", choices=tuple(PATTERNS)),
        Param("a", float, None, "recovery rate a (1/ms; default: the pattern's)"),
        Param("b", float, None, "sensitivity b of u to v (default: the pattern's)"),
        Param("c", float, None, "v after a spike (mV; default: the pattern's)"),
        Param("d", float, None, "increment of u after a spike (mV; default: the pattern's)"),
    )
    #: The float model's step: the default structure's ``dt`` (``dt_shift = 1``).
    DT_MS = 0.5
    INPUT_UNIT = "mV/ms"
    MEMBRANE_UNIT = "mV"
    OUTPUT_NAMES: ClassVar[Mapping[str, str]] = {"spike": "spikes", "v": "membrane"}

    @classmethod
    def float_options(cls, **options: Any) -> dict[str, Any]:
        """The options with ``a, b, c, d`` taken from ``pattern`` where not given."""
        out = super().float_options(**options)
        preset = PRESETS[out["pattern"]]
        for name in "abcd":
            if out[name] is None:
                out[name] = getattr(preset, name)
        return out

    @classmethod
    def float_run(cls, currents: np.ndarray, **options: Any) -> dict[str, np.ndarray]:
        """:func:`izhikevich_float_run` (the hardware's Euler scheme, ``dt = DT_MS``) of each
        neuron: ``spikes`` and ``membrane`` (``v`` in mV, after any reset) per step."""
        p = IzhikevichParams(*(options[k] for k in "abcd"))
        x = np.asarray(currents, np.float64)
        out = {"spikes": np.empty(x.shape, bool), "membrane": np.empty(x.shape)}
        for i in range(x.shape[1]):
            run = izhikevich_float_run(p, x[:, i], dt_ms=cls.DT_MS)
            out["spikes"][:, i], out["membrane"][:, i] = run.spikes, run.v
        return out

    def step_ms(self) -> float:
        return self.dt_ms

    def input_lsb(self) -> float:
        return 2.0 ** -self.input_frac

    def membrane_lsb(self) -> float:
        return 2.0 ** -self.v_frac

    def float_equivalent(self) -> dict[str, Any]:
        """The float model with the ``a, b, c, d`` this configuration's codes stand for."""
        return self.float_options(a=self.a / (1 << self.a_frac), b=self.b / (1 << self.b_frac),
                                  c=self.c / (1 << self.v_frac), d=self.d / (1 << self.u_frac))

    def check(self) -> None:
        if self.v_width - self.v_frac < 8:
            raise ValueError(f"v needs at least 8 integer bits (-128..128 mV): v_width "
                             f"{self.v_width} - v_frac {self.v_frac} = "
                             f"{self.v_width - self.v_frac}")
        if self.u_width - self.u_frac < 6:
            raise ValueError(f"u needs at least 6 integer bits (-32..32 mV): u_width "
                             f"{self.u_width} - u_frac {self.u_frac} = "
                             f"{self.u_width - self.u_frac}")
        if self.input_frac >= self.input_width:
            raise ValueError(f"input_frac must be less than input_width ({self.input_width}), "
                             f"not {self.input_frac}")
        for name, value in (("a", PRESETS["rs"].a), ("b", PRESETS["rs"].b)):
            width, frac = getattr(self, f"{name}_width"), getattr(self, f"{name}_frac")
            f = Field(name, width, name == "b")
            code = _code(value, frac)
            if not f.lo <= code <= f.hi or code == 0:
                raise ValueError(f"{name}_width {width} and {name}_frac {frac} cannot hold the "
                                 f"default {name} = {value:g} (code {code})")

        bits = self.intermediate_bits()
        if bits > 62:
            raise ValueError(f"this structure needs {bits}-bit intermediates; the integer model "
                             "computes in int64 (at most 62 bits)")

    def intermediate_bits(self) -> int:
        """Bits (sign excluded) of the largest intermediate of :meth:`step`, over every value
        the ports can carry."""
        fv, fu = self.v_frac, self.u_frac
        w = (1 << (self.v_width - 1)) + (125 << (fv - 1))
        quad = w * w * QUAD_CODE + (65 << (QUAD_FRAC + 2 * fv - 2)) + (1 << (QUAD_FRAC + fv))
        bv = 1 << (self.b_width + self.v_width - 2)
        diff = _align(bv, self.b_frac + fv, fu) + (1 << (self.u_width - 1))
        prod = ((1 << self.a_width) - 1) * diff + (1 << (self.a_frac + self.dt_shift))
        return max(quad, prod).bit_length()

    # Fields ------------------------------------------------------------------------------------
    def input_field(self) -> Field:
        return Field("current", self.input_width, True)

    def state_fields(self) -> tuple[Field, ...]:
        return (Field("v", self.v_width, True, "membrane potential v"),
                Field("u", self.u_width, True, "recovery variable u"))

    def output_fields(self) -> tuple[Field, ...]:
        return (Field("spike", 1, False, "the neuron fired (v reached 30 mV)"),
                Field("v", self.v_width, True, "v after the step (c where it fired)"))

    def reset_state(self) -> dict[str, int]:
        """``v = -65 mV``, ``u = -13 mV`` (``0.2 * -65``), whatever the settings."""
        return {"v": _code(V_RESET_MV, self.v_frac), "u": _code(U_RESET_MV, self.u_frac)}

    # Conversions -------------------------------------------------------------------------------
    @property
    def dt_ms(self) -> float:
        return 2.0 ** -self.dt_shift

    @property
    def peak(self) -> int:
        """The spike cut-off, 30 mV, as a ``v`` code."""
        return _code(V_PEAK_MV, self.v_frac)

    def to_codes(self, p: IzhikevichParams) -> dict[str, int]:
        """``a, b, c, d`` rounded to the nearest codes of this structure (``ValueError`` when
        one does not fit its field)."""
        out = {}
        for name, frac in (("a", self.a_frac), ("b", self.b_frac), ("c", self.v_frac),
                           ("d", self.u_frac)):
            value = getattr(p, name)
            code = _code(value, frac)
            f = self.setting(name).field(self)
            if not f.lo <= code <= f.hi:
                raise ValueError(f"{name} = {value:g} does not fit: code {code} is outside "
                                 f"{f.lo}..{f.hi}")
            out[name] = code
        return out

    def from_codes(self, codes: Mapping[str, int] | None = None) -> IzhikevichParams:
        """The ``a, b, c, d`` that codes stand for (this configuration's settings by default)."""
        codes = self.runtime() if codes is None else codes
        return IzhikevichParams(a=codes["a"] / (1 << self.a_frac),
                                b=codes["b"] / (1 << self.b_frac),
                                c=codes["c"] / (1 << self.v_frac),
                                d=codes["d"] / (1 << self.u_frac))

    def with_preset(self, p: IzhikevichParams | str) -> IzhikevichIntParams:
        """A copy whose run-time settings are ``p`` (or a preset name) as codes."""
        if isinstance(p, str):
            if p not in PRESETS:
                raise ValueError(f"unknown preset {p!r}; choose one of: {', '.join(PRESETS)}")
            p = PRESETS[p]
        return self.replace(**self.to_codes(p))  # type: ignore[return-value]

    def current_code(self, current: Any) -> np.ndarray:
        """Currents (mV/ms) as input codes, rounded to nearest and clamped to the field."""
        f = self.input_field()
        code = np.round(np.asarray(current, np.float64) * (1 << self.input_frac))
        return np.clip(code, f.lo, f.hi).astype(np.int64)

    def to_mv(self, v: Any) -> np.ndarray:
        """``v`` codes in mV."""
        return np.asarray(v, np.float64) / (1 << self.v_frac)

    # The model ---------------------------------------------------------------------------------
    def step(self, state: Mapping[str, np.ndarray], current: np.ndarray,
             settings: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        v = np.asarray(state["v"], np.int64)
        u = np.asarray(state["u"], np.int64)
        a, b, c, d = (settings[k] for k in "abcd")
        fv, fu, k = self.v_frac, self.u_frac, self.dt_shift
        w = v + (125 << (fv - 1))                                   # v + 62.5 mV
        sq = QUAD_FRAC + fv
        quad = (w * w * QUAD_CODE - (65 << (sq + fv - 2)) + _half(sq)) >> sq
        total = (quad - _align(u, fu, fv)
                 + _align(np.asarray(current, np.int64), self.input_frac, fv))
        v_pre = v + ((total + _half(k)) >> k)
        su = self.a_frac + k
        du = (a * (_align(b * v, self.b_frac + fv, fu) - u) + _half(su)) >> su
        fire = v_pre >= self.peak
        vf, uf = self.state_fields()
        v_new = np.where(fire, c, np.clip(v_pre, vf.lo, vf.hi))
        u_new = np.clip(u + du + np.where(fire, d, 0), uf.lo, uf.hi)
        return {"v": v_new, "u": u_new}, {"spike": fire, "v": v_new}

    def directed(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        """Saturation corners: the largest current with the largest ``c`` (fires every step, u
        runs to its top), the most negative current with the largest ``a`` and ``b`` (v and u
        run to their bottoms), and each preset under a 10 mV/ms step."""
        n = self.neurons
        lo, hi = self.input_min, self.input_max
        vf, uf = self.state_fields()
        af, bf = self.setting("a").field(self), self.setting("b").field(self)
        out: list[dict[str, Any]] = [
            {"current": np.full((40, n), hi), "c": vf.hi, "d": uf.hi, "reset_after": True},
            {"current": np.full((40, n), lo), "a": af.hi, "b": bf.hi, "d": uf.lo,
             "reset_after": True},
            {"current": np.full((30, n), lo), "a": af.hi, "b": bf.lo, "c": vf.lo,
             "reset_after": True},
        ]
        ten = int(self.current_code(10.0))
        for name in PRESETS:
            try:
                codes = self.to_codes(PRESETS[name])
            except ValueError:
                continue
            out.append({"current": np.full((60, n), ten), **codes, "reset_after": True})
        return out


MODEL = IzhikevichIntParams


def izhikevich_int_run(p: IzhikevichIntParams, currents: Any,
                       settings: Mapping[str, Any] | None = None,
                       ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run integer ``currents`` (``[steps, neurons]``) from the reset state; return
    ``(outputs, final_state)`` as :func:`neurotile.neurons.spec.run_model`."""
    return run_model(p, currents, settings=settings)


@dataclass
class PatternRun:
    """One pattern, float and fixed: times (ms, end of each step), stimulus (mV/ms), the float
    run and the fixed model's ``v`` (mV) and spike flags per step."""

    pattern: Pattern
    t: np.ndarray
    current: np.ndarray
    reference: FloatRun
    v: np.ndarray
    spikes: np.ndarray

    @property
    def spike_times(self) -> list[float]:
        return [float(x) for x in self.t[self.spikes]]

    def max_time_error(self) -> float:
        """Largest ``|fixed - float|`` spike time (ms), NaN when the counts differ."""
        ref = self.reference.spike_times
        got = self.spike_times
        if len(ref) != len(got):
            return float("nan")
        return float(np.max(np.abs(np.subtract(got, ref)))) if got else 0.0


def pattern_run(config: IzhikevichIntParams, name: str, duration_ms: float = 300.0, *,
                reference: str = "codes") -> PatternRun:
    """Run pattern ``name`` for ``duration_ms`` on the fixed model of ``config`` (one neuron,
    settings from the preset's codes) and on the float reference at the same ``dt``, both from
    the reset state.

    ``reference="codes"`` runs the float model with the values the codes stand for (so the
    comparison measures the arithmetic alone); ``"paper"`` with the paper's exact values.
    """
    if name not in PATTERNS:
        raise ValueError(f"unknown pattern {name!r}; choose one of: {', '.join(PATTERNS)}")
    if reference not in ("codes", "paper"):
        raise ValueError(f"reference must be 'codes' or 'paper', not {reference!r}")
    pat = PATTERNS[name]
    q = config.replace(neurons=1, per_neuron=None, bias=None).with_preset(name)
    steps = int(round(duration_ms / q.dt_ms))
    t = q.dt_ms * np.arange(1, steps + 1)
    current = np.where(t > pat.onset_ms, pat.current, 0.0)
    codes = q.current_code(current)
    ref = izhikevich_float_run(q.from_codes() if reference == "codes" else pat.params,
                               codes / (1 << q.input_frac), dt_ms=q.dt_ms)
    out, _ = run_model(q, codes[:, None])
    return PatternRun(pat, t, current, ref, q.to_mv(out["v"][:, 0]), out["spike"][:, 0])

