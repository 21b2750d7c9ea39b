# SPDX-License-Identifier: Apache-2.0
"""Leaky integrate-and-fire reference models.

Two models live here:

* a float model of the discrete-time LIF that deep-learning SNN libraries use, with the modes of
  snnTorch's ``Leaky`` (reset by subtraction, to zero or none; with and without ``reset_delay``)
  and forward Euler of NIR's continuous-time ``LIF`` node;
* an integer model that mirrors :class:`neurotile.rtl.lif.LIFPopulation` bit for bit.

Both are vectorised over neurons: state and inputs are NumPy arrays of shape ``(neurons,)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = [
    "LeakyParams",
    "leaky_step",
    "NIRLIFParams",
    "nir_lif_step",
    "LIFIntParams",
    "LIFIntState",
    "lif_int_step",
    "lif_int_run",
]


# -- float models ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LeakyParams:
    """snnTorch ``Leaky`` conventions.

    ``beta``: membrane decay per step (dimensionless, 0..1). ``threshold``: firing threshold
    (membrane units). ``reset``: ``"subtract"`` (snnTorch default), ``"zero"`` or ``"none"``.
    ``reset_delay``: snnTorch's default ``True`` applies a spike's reset on the next step; ``False``
    applies it in the step the spike fires.
    """

    beta: float
    threshold: float = 1.0
    reset: str = "subtract"
    reset_delay: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1], not {self.beta}")
        if self.reset not in ("subtract", "zero", "none"):
            raise ValueError(f"reset must be 'subtract', 'zero' or 'none', not {self.reset!r}")


def leaky_step(mem: np.ndarray, current: np.ndarray, p: LeakyParams) -> tuple[np.ndarray, np.ndarray]:
    """Advance snnTorch ``Leaky`` by one step; return ``(mem, spikes)``.

    ``R = H(U[t-1] - theta)``; subtract: ``U = beta U + I - R theta``; zero:
    ``U = beta (1 - R) U + I``; none: ``U = beta U + I``; ``S = H(U[t] - theta)`` with ``H(x) = 1``
    for ``x > 0``. With ``reset_delay=False`` the reset of ``S`` is also applied to ``U[t]``.
    """
    mem = np.asarray(mem, dtype=np.float64)
    current = np.asarray(current, dtype=np.float64)
    r = (mem > p.threshold).astype(np.float64) if p.reset_delay else 0.0
    if p.reset == "subtract":
        new = p.beta * mem + current - r * p.threshold
    elif p.reset == "zero":
        new = p.beta * (1.0 - r) * mem + current
    else:
        new = p.beta * mem + current
    spikes = new > p.threshold
    if not p.reset_delay and p.reset != "none":
        new = np.where(spikes, new - p.threshold if p.reset == "subtract" else 0.0, new)
    return new, spikes


@dataclass(frozen=True)
class NIRLIFParams:
    """NIR ``LIF`` node: ``tau dv/dt = (v_leak - v) + r I``; spike when ``v > v_threshold``.

    ``tau`` and ``dt`` in seconds, ``r`` in membrane units per input unit, voltages in membrane
    units.
    """

    tau: float
    r: float
    v_leak: float = 0.0
    v_threshold: float = 1.0
    v_reset: float = 0.0

    @classmethod
    def from_leaky(cls, beta: float, threshold: float = 1.0, dt: float = 1e-4) -> NIRLIFParams:
        """The node snnTorch exports for ``Leaky(beta)``: ``tau = dt/(1-beta)``, ``r = tau/dt``."""
        tau = dt / (1.0 - beta)
        return cls(tau=tau, r=tau / dt, v_threshold=threshold)


def nir_lif_step(
    v: np.ndarray, current: np.ndarray, p: NIRLIFParams, dt: float = 1e-4
) -> tuple[np.ndarray, np.ndarray]:
    """Advance NIR's LIF by one forward-Euler step of ``dt`` seconds; return ``(v, spikes)``."""
    v = np.asarray(v, dtype=np.float64)
    v = v + dt / p.tau * ((p.v_leak - v) + p.r * np.asarray(current, dtype=np.float64))
    spikes = v > p.v_threshold
    return np.where(spikes, p.v_reset, v), spikes


# -- integer model of the hardware -------------------------------------------------------------

def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class LIFIntParams:
    """Parameters of the hardware LIF population and its run-time settings.

    Structural (generator) parameters:

    ``neurons``: population size. ``width``: membrane bits (two's complement). ``input_width``:
    input current bits (two's complement). ``leak``: ``"shift"`` (``beta = 1 - 2**-k``) or
    ``"multiply"`` (``beta = b / 2**beta_bits``). ``beta_bits``: fraction bits of ``b``.
    ``refractory_width``: bits of the per-neuron refractory counter (0 removes it).
    ``reset``: ``"subtract"`` or ``"zero"``. ``reset_delay``: as snnTorch (see :func:`lif_int_step`).

    Run-time settings (ports of the hardware; the values here are what simulations and the
    TinyTapeout wrapper start with; left out, they scale with the structure):

    ``threshold``: membrane units, ``0 <= threshold < 2**(width-1)`` (default ``2**(width-2)``).
    ``leak_shift``: ``k`` for shift mode (default ``min(3, width-1)``). ``beta_code``: ``b`` for
    multiply mode (default ``round(0.875 * 2**beta_bits)``). ``refractory``: steps a neuron ignores
    its input after a spike, ``0 <= refractory < 2**refractory_width`` (default 0).
    """

    neurons: int = 32
    width: int = 8
    input_width: int = 8
    leak: str = "shift"
    beta_bits: int = 8
    refractory_width: int = 2
    reset: str = "subtract"
    reset_delay: bool = True
    threshold: int = None  # type: ignore[assignment]  # default 2**(width-2)
    leak_shift: int = None  # type: ignore[assignment]  # default min(3, width-1)
    beta_code: int = None  # type: ignore[assignment]  # default round(0.875 * 2**beta_bits)
    refractory: int = 0

    def __post_init__(self) -> None:
        for name, lo, hi in (
            ("neurons", 1, 4096),
            ("width", 2, 32),
            ("input_width", 1, 32),
            ("beta_bits", 1, 16),
            ("refractory_width", 0, 8),
        ):
            value = getattr(self, name)
            if not _is_int(value):
                raise TypeError(f"{name} must be an integer, not {value!r}")
            if not lo <= value <= hi:
                raise ValueError(f"{name} must be between {lo} and {hi}, not {value}")
            object.__setattr__(self, name, int(value))  # NumPy integers become Python ints
        # Run-time defaults that scale with the structure (set before they are checked).
        if self.threshold is None:
            object.__setattr__(self, "threshold", 1 << (self.width - 2))
        if self.leak_shift is None:
            object.__setattr__(self, "leak_shift", min(3, self.width - 1))
        if self.beta_code is None:
            object.__setattr__(self, "beta_code", round(0.875 * (1 << self.beta_bits)))
        if self.leak not in ("shift", "multiply"):
            raise ValueError(f"leak must be 'shift' or 'multiply', not {self.leak!r}")
        if self.reset not in ("subtract", "zero"):
            raise ValueError(f"reset must be 'subtract' or 'zero', not {self.reset!r}")
        if not isinstance(self.reset_delay, bool):
            raise TypeError(f"reset_delay must be a bool, not {self.reset_delay!r}")
        for name in ("threshold", "leak_shift", "beta_code", "refractory"):
            if not _is_int(getattr(self, name)):
                raise TypeError(f"{name} must be an integer, not {getattr(self, name)!r}")
            object.__setattr__(self, name, int(getattr(self, name)))
        if not 0 <= self.threshold <= self.mem_max:
            raise ValueError(
                f"threshold {self.threshold} does not fit a {self.width}-bit membrane; "
                f"allowed 0..{self.mem_max}"
            )
        if not 1 <= self.leak_shift <= self.width - 1:
            raise ValueError(
                f"leak_shift must be between 1 and {self.width - 1} (beta = 1 - 2**-k in (0, 1)) "
                f"for a {self.width}-bit membrane, not {self.leak_shift}"
            )
        if not 1 <= self.beta_code <= (1 << self.beta_bits) - 1:
            raise ValueError(
                f"beta_code must be between 1 and {(1 << self.beta_bits) - 1} "
                f"(beta = code / 2**{self.beta_bits} in (0, 1)), not {self.beta_code}"
            )
        if not 0 <= self.refractory <= self.refractory_max:
            raise ValueError(
                f"refractory must be between 0 and {self.refractory_max} for a "
                f"{self.refractory_width}-bit counter, not {self.refractory}"
            )

    # Derived ranges --------------------------------------------------------------------------
    @property
    def mem_min(self) -> int:
        return -(1 << (self.width - 1))

    @property
    def mem_max(self) -> int:
        return (1 << (self.width - 1)) - 1

    @property
    def input_min(self) -> int:
        return -(1 << (self.input_width - 1))

    @property
    def input_max(self) -> int:
        return (1 << (self.input_width - 1)) - 1

    @property
    def refractory_max(self) -> int:
        return (1 << self.refractory_width) - 1

    @property
    def leak_port_width(self) -> int:
        """Bits of the run-time ``leak`` port: ``k`` (shift) or ``b`` (multiply)."""
        if self.leak == "shift":
            return max(1, (self.width - 1).bit_length())
        return self.beta_bits

    @property
    def leak_value(self) -> int:
        """The run-time ``leak`` port value these parameters select."""
        return self.leak_shift if self.leak == "shift" else self.beta_code

    @property
    def beta(self) -> float:
        """The decay factor the run-time leak setting stands for."""
        if self.leak == "shift":
            return 1.0 - 2.0 ** -self.leak_shift
        return self.beta_code / (1 << self.beta_bits)

    @classmethod
    def from_beta(cls, beta: float, **kwargs: object) -> LIFIntParams:
        """Multiply-mode parameters whose ``beta_code`` is ``beta`` rounded to ``beta_bits``."""
        if not isinstance(beta, (int, float, np.integer, np.floating)) or isinstance(beta, bool):
            raise TypeError(f"beta must be a number, not {beta!r}")
        beta = float(beta)
        if not 0.0 < beta < 1.0 or math.isnan(beta):
            raise ValueError(f"beta must be in the open interval (0, 1), not {beta}")
        leak = kwargs.pop("leak", "multiply")
        if leak != "multiply":
            raise ValueError(f"beta selects the multiply leak; leak must be 'multiply', "
                             f"not {leak!r}")
        bits = kwargs.get("beta_bits", cls.beta_bits)
        if _is_int(bits) and 1 <= bits <= 16:
            code = int(round(beta * (1 << bits)))
            if not 1 <= code <= (1 << bits) - 1:
                step = 1 / (1 << bits)
                raise ValueError(
                    f"beta {beta:g} rounds to {code}/2**{bits} with beta_bits {bits}, outside "
                    f"(0, 1); with {bits} bits beta must lie in [{step / 2:.6g}, "
                    f"{1 - step / 2:.6g}); give more beta_bits or another beta")
        else:
            code = 1  # beta_bits itself is refused below, with its own message
        return cls(leak="multiply", beta_code=code, **kwargs)  # type: ignore[arg-type]

    def with_runtime(self, **kwargs: int) -> LIFIntParams:
        """A copy with other run-time settings (validated)."""
        return replace(self, **kwargs)

    def structural(self) -> dict[str, object]:
        """The generator parameters (what the hardware is built from)."""
        return {
            "neurons": self.neurons,
            "width": self.width,
            "input_width": self.input_width,
            "leak": self.leak,
            "beta_bits": self.beta_bits,
            "refractory_width": self.refractory_width,
            "reset": self.reset,
            "reset_delay": self.reset_delay,
        }


@dataclass
class LIFIntState:
    """Per-neuron state held by the hardware: membrane and refractory counter (int64 arrays)."""

    mem: np.ndarray
    refr: np.ndarray = field(default=None)  # type: ignore[assignment]

    @classmethod
    def zeros(cls, neurons: int) -> LIFIntState:
        """The state the hardware holds after reset."""
        return cls(np.zeros(neurons, np.int64), np.zeros(neurons, np.int64))

    def copy(self) -> LIFIntState:
        return LIFIntState(self.mem.copy(), self.refr.copy())


def lif_int_step(
    state: LIFIntState,
    current: np.ndarray,
    p: LIFIntParams,
    *,
    threshold: int | None = None,
    leak: int | None = None,
    refractory: int | None = None,
) -> tuple[LIFIntState, np.ndarray]:
    """Advance the integer LIF by one step, exactly as the hardware does; return ``(state, spikes)``.

    With ``th`` the threshold and ``U`` the stored membrane of each neuron::

        R      = U > th                      if reset_delay else 0     # delayed reset
        L      = U - (U >> k)                (shift; >> is arithmetic, rounds toward -inf)
               = (U * b) >> beta_bits        (multiply)
        active = refractory counter == 0
        I'     = I if active else 0
        subtract: v = sat(L + I' - R*th)     zero: v = sat((0 if R else L) + I')
        S      = active and v > th
        U'     = v, or with reset_delay=False: v - th (subtract) / 0 (zero) where S
        counter' = refractory if S else (0 if active else counter - 1)

    ``sat`` clamps once, to the membrane range, after the whole sum is formed at full width.
    ``threshold``, ``leak`` and ``refractory`` override the run-time settings of ``p`` (they are
    ports of the hardware and may change between steps); ``leak`` is ``k`` or ``b`` by mode.
    """
    mem = state.mem
    cur = _checked_currents(current, p, mem.shape)
    th = p.threshold if threshold is None else int(threshold)
    lk = p.leak_value if leak is None else int(leak)
    rf = p.refractory if refractory is None else int(refractory)
    v, refr, spikes = _advance(mem, state.refr, cur, p, th, lk, rf)
    return LIFIntState(v, refr), spikes


def _checked_currents(current: np.ndarray, p: LIFIntParams, shape: tuple[int, ...]) -> np.ndarray:
    cur = np.asarray(current, dtype=np.int64)
    if cur.shape != shape:
        raise ValueError(f"current must have shape {shape}, not {cur.shape}")
    if cur.min(initial=0) < p.input_min or cur.max(initial=0) > p.input_max:
        raise ValueError(
            f"current out of range for {p.input_width}-bit input: allowed {p.input_min}..{p.input_max}"
        )
    return cur


def _advance(mem: np.ndarray, refr: np.ndarray, cur: np.ndarray, p: LIFIntParams, th: int,
             lk: int, rf: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The arithmetic of :func:`lif_int_step` on validated arrays (the inner loop of runs)."""
    if p.leak == "shift":
        leaked = mem - (mem >> lk)
    else:
        leaked = (mem * lk) >> p.beta_bits
    active = refr == 0
    v = leaked
    if p.reset_delay:
        r = mem > th
        if p.reset == "subtract":
            v = v - r * th
        else:
            v = np.where(r, 0, v)
    v = v + cur * active
    np.clip(v, p.mem_min, p.mem_max, out=v)
    spikes = active & (v > th)
    if not p.reset_delay:
        v = np.where(spikes, v - th if p.reset == "subtract" else 0, v)
    if p.refractory_width:
        refr = np.where(spikes, rf, np.where(active, 0, refr - 1))
    return v, refr, spikes


def lif_int_run(
    p: LIFIntParams,
    currents: np.ndarray,
    *,
    state: LIFIntState | None = None,
    threshold: np.ndarray | None = None,
    leak: np.ndarray | None = None,
    refractory: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, LIFIntState]:
    """Run ``currents`` (shape ``(steps, neurons)``); return ``(membranes, spikes, final_state)``.

    ``membranes`` and ``spikes`` have the shape of ``currents`` and hold the state after each step.
    ``threshold``, ``leak`` and ``refractory``, when given, are per-step run-time settings (shape
    ``(steps,)``).
    """
    currents = _checked_currents(currents, p, (len(currents), p.neurons))
    steps = currents.shape[0]
    state = LIFIntState.zeros(p.neurons) if state is None else state.copy()
    th = np.full(steps, p.threshold) if threshold is None else np.asarray(threshold)
    lk = np.full(steps, p.leak_value) if leak is None else np.asarray(leak)
    rf = np.full(steps, p.refractory) if refractory is None else np.asarray(refractory)
    mems = np.empty_like(currents)
    spikes = np.empty(currents.shape, dtype=bool)
    mem, refr = state.mem, state.refr
    for t in range(steps):
        mem, refr, spikes[t] = _advance(mem, refr, currents[t], p, int(th[t]), int(lk[t]),
                                        int(rf[t]))
        mems[t] = mem
    return mems, spikes, LIFIntState(mem, refr)
