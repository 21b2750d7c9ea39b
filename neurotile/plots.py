# SPDX-License-Identifier: Apache-2.0
"""Pictures of neuron models and of checked RTL runs, as PNG files a student reads at a glance.

Two steps, so that tests check the numbers rather than the pixels:

* *prepare* the series: :func:`model_picture` runs a configuration's float model (the same
  equation unquantised, :meth:`~neurotile.neurons.spec.NeuronConfig.float_equivalent`), its
  integer model and, when given, adds what the RTL recorded; :func:`fi_curve` sweeps a constant
  input; :func:`run_picture` takes a checked bulk run. Every series is in the float model's units:
  the integer membrane times :meth:`~neurotile.neurons.spec.NeuronConfig.membrane_lsb` (mV for
  Hodgkin-Huxley and Izhikevich, membrane LSB for the step models), time in ms for a time-based
  model (the end of each step; the two models may step differently) and in steps otherwise.
* *draw*: :func:`draw_model` and :func:`draw_run` write one PNG with matplotlib's Agg canvas
  (no pyplot, no display, no global backend switch). The same data give the same bytes: fixed
  size and DPI, no date or software name in the file.

Where the RTL and the integer model differ (they must not), the places are listed in
``mismatches`` and drawn as red crosses, so a broken run cannot look like a good one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.neurons.spec import NeuronConfig, run_model

__all__ = ["Trace", "FICurve", "ModelPicture", "RunPicture", "FIGURE_SIZE", "DPI",
           "float_currents", "model_picture", "fi_curve", "mismatches", "run_picture",
           "draw_model", "draw_run"]

#: Size of every picture in inches, and its resolution: 1100 x 900 pixels.
FIGURE_SIZE = (11.0, 9.0)
DPI = 100

#: Levels of constant input an f-I curve sweeps, and the bounds of its run length: steps of
#: the integer model, and for a time-based model at least ``FI_MIN_MS``.
FI_LEVELS = 25
FI_MIN_STEPS = 200
FI_MIN_MS = 100.0
FI_MAX_STEPS = 4000

#: Neurons whose membranes a picture of a checked run shows.
RUN_NEURONS = 3

_COLOURS = {"float": "tab:blue", "integer": "black", "rtl": "tab:orange"}
#: Legends to the right of their panel, never over the data.
_OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "fontsize": 8,
            "borderaxespad": 0.0}


# -- the series --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Trace:
    """One model's run: ``time`` ``[steps]`` (ms, or step numbers from 1), ``membrane``
    ``[steps, neurons]`` in the float model's units and ``spikes`` ``[steps, neurons]`` (``None``
    for a model without spikes)."""

    label: str
    kind: str  # "float", "integer" or "rtl"
    time: np.ndarray
    membrane: np.ndarray
    spikes: np.ndarray | None


@dataclass(frozen=True)
class FICurve:
    """Firing rate (or, for a model without spikes, the membrane after the run) against a
    constant input, per model (``values[label]``, ``[levels]``)."""

    inputs: np.ndarray
    values: dict[str, np.ndarray]
    quantity: str  # the y axis label, with its unit
    input_label: str
    note: str


@dataclass(frozen=True)
class ModelPicture:
    """Everything :func:`draw_model` draws."""

    title: str
    time_label: str
    membrane_label: str
    traces: list[Trace]
    fi: FICurve | None
    #: ``[k, 2]`` (step, neuron) where the RTL differs from the integer model.
    mismatches: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    threshold: float | None = None


def _units(config: NeuronConfig) -> tuple[str, str, str]:
    """Labels of time, membrane and input axes, with units."""
    timed = config.DT_MS is not None
    time_label = "time (ms)" if timed else "step"
    unit = config.MEMBRANE_UNIT
    membrane = f"membrane ({unit})" if unit else "membrane (LSB)"
    input_label = f"input current ({config.INPUT_UNIT})" if config.INPUT_UNIT else \
        "input (LSB)"
    return time_label, membrane, input_label


def _membrane_name(config: NeuronConfig) -> str:
    """The integer output field that is the membrane."""
    names = {v: k for k, v in type(config).OUTPUT_NAMES.items()}
    return names.get("membrane", "membrane")


def _times(steps: int, dt: float | None) -> np.ndarray:
    k = np.arange(1, steps + 1, dtype=np.float64)
    return k * dt if dt is not None else k


def float_currents(currents: np.ndarray, dt_int: float | None, dt_float: float | None
                   ) -> np.ndarray:
    """``currents`` per integer step as currents per float step: each held for its step's
    time (zero-order hold); the same array when the two models step alike."""
    if dt_int is None or dt_float is None or dt_int == dt_float:
        return currents
    steps = int(round(currents.shape[0] * dt_int / dt_float))
    src = np.minimum(((np.arange(steps) + 0.5) * dt_float / dt_int).astype(np.int64),
                     currents.shape[0] - 1)
    return currents[src]


def _float_trace(config: NeuronConfig, currents: np.ndarray, options: dict[str, Any]
                 ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    model = type(config)
    x = float_currents(np.asarray(currents, np.float64), config.step_ms(), model.DT_MS)
    with np.errstate(all="ignore"):
        out = model.float_run(x, **options)
    spikes = out.get("spikes")
    return (np.asarray(out["membrane"], np.float64),
            None if spikes is None else np.asarray(spikes, bool),
            _times(x.shape[0], model.DT_MS))


def codes_of(config: NeuronConfig, currents: np.ndarray) -> np.ndarray:
    """Float currents as the integer model's input codes, clipped to the input field."""
    f = config.input_field()
    return np.clip(np.rint(np.asarray(currents, np.float64) / config.input_lsb()),
                   f.lo, f.hi).astype(np.int64)


def mismatches(expected: dict[str, np.ndarray], observed: dict[str, np.ndarray]) -> np.ndarray:
    """``[k, 2]`` (step, neuron) where any field of ``observed`` differs from ``expected``
    (both ``[steps, neurons]`` per field)."""
    bad = None
    for name, got in observed.items():
        diff = np.asarray(got, np.int64) != np.asarray(expected[name], np.int64)
        bad = diff if bad is None else bad | diff
    if bad is None:
        return np.zeros((0, 2), np.int64)
    return np.argwhere(bad).astype(np.int64)


def model_picture(config: NeuronConfig, currents: np.ndarray, *,
                  rtl: dict[str, np.ndarray] | None = None, rtl_label: str = "RTL",
                  float_options: dict[str, Any] | None = None, fi: bool = True,
                  fi_inputs: np.ndarray | None = None) -> ModelPicture:
    """The series of a picture of ``config`` driven by float ``currents`` ``[steps, neurons]``
    (in the model's input unit, one row per step of the integer model).

    The integer model gets the currents as codes (:func:`codes_of`); the float model gets them
    unrounded, with ``float_options`` (default: the configuration's float equivalent). ``rtl``
    holds what the RTL reported, every output field ``[steps, neurons]`` as integers (e.g.
    :func:`~neurotile.testbench.check.record_population`); its differences from the integer
    model become ``mismatches``. ``fi`` adds an f-I curve over ``fi_inputs`` (default: see
    :func:`fi_curve`).
    """
    currents = np.asarray(currents, np.float64)
    time_label, mem_label, _ = _units(config)
    options = config.float_equivalent() if float_options is None else float_options
    traces = []
    if options is not None:
        mem, spikes, t = _float_trace(config, currents, options)
        traces.append(Trace("float model", "float", t, mem, spikes))
    codes = codes_of(config, currents)
    raw, _ = run_model(config, codes)
    lsb = config.membrane_lsb()
    name = _membrane_name(config)
    t = _times(codes.shape[0], config.step_ms())
    spike = raw.get("spike")
    traces.append(Trace("integer model", "integer", t, raw[name] * lsb,
                        None if spike is None else np.asarray(spike, bool)))
    bad = np.zeros((0, 2), np.int64)
    if rtl is not None:
        spike = rtl.get("spike")
        traces.append(Trace(rtl_label, "rtl", t, np.asarray(rtl[name]) * lsb,
                            None if spike is None else np.asarray(spike, bool)))
        bad = mismatches(raw, rtl)
    threshold = getattr(config, "threshold", None) if "threshold" in config.runtime() else None
    curve = fi_curve(config, inputs=fi_inputs, steps=codes.shape[0], float_options=options,
                     around=currents) if fi else None
    unit = f" {config.INPUT_UNIT}" if config.INPUT_UNIT else ""
    span = f"{codes.shape[0]} steps" + (f" of {config.step_ms():g} ms"
                                        if config.step_ms() is not None else "")
    title = (f"{config.NAME}: {config.TITLE}, {config.neurons} neuron"
             f"{'s' if config.neurons != 1 else ''}, {span}; input "
             f"{_describe(currents)}{unit}")
    if rtl is not None:
        title += (f"\n{rtl_label}: {len(bad)} neuron-steps differ from the integer model"
                  if len(bad) else f"\n{rtl_label} equals the integer model at every step")
    return ModelPicture(title, time_label, mem_label, traces, curve, bad,
                        None if threshold is None else float(threshold) * lsb)


def _describe(currents: np.ndarray) -> str:
    lo, hi = float(currents.min()), float(currents.max())
    return f"{lo:.4g}" if lo == hi else f"{lo:.3g}..{hi:.3g}"


def fi_curve(config: NeuronConfig, *, inputs: np.ndarray | None = None, steps: int = 1000,
             float_options: dict[str, Any] | None = None,
             around: np.ndarray | None = None) -> FICurve:
    """Firing rate against constant input, float and integer model, one neuron per level.

    ``inputs`` (input units; default: :data:`FI_LEVELS` levels from 0 to twice the largest
    ``around`` current, or to the input field's top when that is 0, within the input field).
    Each level runs ``steps`` integer steps clamped to :data:`FI_MIN_STEPS`..
    :data:`FI_MAX_STEPS` (at least :data:`FI_MIN_MS` for a time-based model; the float model
    runs the same time). Rate: spikes counted over the run, per second (Hz) for a time-based
    model, per step for a step model; a model without spikes shows its membrane after the run
    instead.
    """
    _, mem_label, input_label = _units(config)
    lsb = config.input_lsb()
    f = config.input_field()
    if inputs is None:
        top = f.hi * lsb
        peak = 0.0 if around is None else float(np.max(np.abs(around)))
        high = min(top, 2 * peak) if peak > 0 else top
        inputs = np.linspace(0.0, high, FI_LEVELS)
    inputs = np.asarray(inputs, np.float64)
    dt = config.step_ms()
    least = FI_MIN_STEPS if dt is None else max(FI_MIN_STEPS, int(round(FI_MIN_MS / dt)))
    steps = int(min(FI_MAX_STEPS, max(least, steps)))
    k = len(inputs)
    sweep = config.replace(neurons=k, per_neuron=None, bias=None)
    currents = np.broadcast_to(inputs, (steps, k))
    raw, _ = run_model(sweep, codes_of(sweep, currents))
    options = config.float_equivalent() if float_options is None else float_options
    values: dict[str, np.ndarray] = {}
    spikes = "spike" in raw
    if spikes:
        quantity = "firing rate (Hz)" if dt is not None else "firing rate (spikes/step)"
        span = steps * dt / 1000.0 if dt is not None else steps
    else:
        quantity = f"{mem_label} after {steps} steps"
    if options is not None:
        mem, fspikes, t = _float_trace(config.replace(neurons=k, per_neuron=None, bias=None),
                                       np.asarray(currents), options)
        values["float model"] = fspikes.sum(axis=0) / span if spikes and fspikes is not None \
            else mem[-1]
    values["integer model"] = raw["spike"].sum(axis=0) / span if spikes else \
        raw[_membrane_name(config)][-1] * config.membrane_lsb()
    span_text = f"{steps * dt:g} ms" if dt is not None else f"{steps} steps"
    note = f"{span_text} of constant input, the integer model's rounded to multiples of {lsb:g}"
    return FICurve(inputs, values, quantity, input_label, note)


# -- a checked run -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RunPicture:
    """Everything :func:`draw_run` draws: per shown neuron, the steps, the RTL's and the
    model's membrane; the raster of both; resets; the mismatches."""

    title: str
    membrane_label: str
    neurons: list[int]
    steps: list[np.ndarray]
    rtl_membrane: list[np.ndarray]
    model_membrane: list[np.ndarray]
    rtl_spikes: np.ndarray      # [k, 2] (step, neuron)
    model_spikes: np.ndarray    # [k, 2]
    resets: np.ndarray          # steps after which the run reset
    mismatches: np.ndarray      # [k, 2]


def run_picture(trace: Any, *, title: str, shown: int = RUN_NEURONS) -> RunPicture:
    """The series of a checked bulk run (a :class:`~neurotile.testbench.population_bulk.
    RunTrace`): recorded outputs against the expectation, every recorded step."""
    stim = trace.stim
    config = stim.config
    name = _membrane_name(config)
    lsb = config.membrane_lsb()
    exp = stim.expected
    t, n = np.asarray(trace.t), np.asarray(trace.n)
    got = {k: np.asarray(v, np.int64) for k, v in trace.observed.items()
           if k in exp}  # the payload's index and last flags are checked elsewhere
    want = {k: np.asarray(exp[k], np.int64)[t, n] for k in got}
    bad = np.zeros(len(t), bool)
    for k in got:
        bad |= got[k] != want[k]
    neurons = list(range(min(shown, config.neurons)))
    steps, rtl_mem, model_mem = [], [], []
    for i in neurons:
        sel = n == i
        steps.append(t[sel])
        rtl_mem.append(got[name][sel] * lsb)
        model_mem.append(want[name][sel] * lsb)
    if "spike" in got:
        rtl_spikes = np.stack([t[got["spike"] != 0], n[got["spike"] != 0]], axis=1)
        model_spikes = np.stack([t[want["spike"] != 0], n[want["spike"] != 0]], axis=1)
    else:
        rtl_spikes = model_spikes = np.zeros((0, 2), np.int64)
    _, mem_label, _ = _units(config)
    return RunPicture(title, mem_label, neurons, steps, rtl_mem, model_mem, rtl_spikes,
                      model_spikes, np.flatnonzero(np.asarray(stim.cut) >= 0),
                      np.stack([t[bad], n[bad]], axis=1))


# -- drawing -----------------------------------------------------------------------------------

def _figure() -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike) -> None:
    """Write the PNG through a temporary file, so a failure leaves nothing behind."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def draw_model(pic: ModelPicture, path: str | os.PathLike) -> None:
    """Draw ``pic`` to the PNG ``path``: membrane of neuron 0, raster, f-I curve."""
    fig = _figure()
    has_spikes = any(tr.spikes is not None for tr in pic.traces)
    rows = 1 + has_spikes + (pic.fi is not None)
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    fig.suptitle(pic.title, fontsize=11)
    ax = axes[0]
    # The RTL as dots where they can be told apart, else as a dashed line over the integer model.
    dense = len(pic.traces[-1].time) > 200
    styles = {"float": dict(lw=1.4, alpha=0.8), "integer": dict(lw=1.1, drawstyle="steps-post"),
              "rtl": dict(lw=1.2, ls=(0, (4, 3)), drawstyle="steps-post") if dense
              else dict(lw=0, marker=".", ms=3)}
    for tr in pic.traces:
        ax.plot(tr.time, tr.membrane[:, 0], color=_COLOURS[tr.kind], label=tr.label,
                **styles[tr.kind])
    if pic.threshold is not None:
        ax.axhline(pic.threshold, color="grey", ls=":", lw=1, label="threshold")
    top = ax.get_ylim()[1]
    for k, tr in enumerate(pic.traces):
        if tr.spikes is not None:
            fired = tr.time[tr.spikes[:, 0]]
            ax.plot(fired, np.full(len(fired), top), ls="none", marker="v", ms=6 - k,
                    color=_COLOURS[tr.kind], label=f"{tr.label} spikes" if len(fired) else None)
    integer = next(tr for tr in pic.traces if tr.kind == "integer")
    rtl = next((tr for tr in pic.traces if tr.kind == "rtl"), integer)
    bad0 = pic.mismatches[pic.mismatches[:, 1] == 0][:, 0] if len(pic.mismatches) else []
    if len(bad0):  # at the RTL's (wrong) value
        ax.plot(rtl.time[bad0], rtl.membrane[bad0, 0], ls="none", marker="x", ms=9,
                mew=2, color="red", label="RTL differs from the integer model")
    ax.set_xlabel(pic.time_label)
    ax.set_ylabel(pic.membrane_label)
    ax.set_title("membrane of neuron 0: float model, integer model" +
                 (" and the RTL's recording" if any(t.kind == "rtl" for t in pic.traces)
                  else ""), fontsize=10)
    ax.legend(**_OUTSIDE)
    ax.grid(alpha=0.3)
    row = 1
    if has_spikes:
        ax = axes[row]
        row += 1
        offsets = {"float": 0.25, "integer": 0.0, "rtl": -0.25}
        for tr in pic.traces:
            if tr.spikes is None:
                continue
            st, sn = np.nonzero(tr.spikes)
            ax.scatter(tr.time[st], sn + offsets[tr.kind], s=8, marker="|",
                       color=_COLOURS[tr.kind], label=f"{tr.label} ({len(st)} spikes)")
        if len(pic.mismatches):
            bt, bn = pic.mismatches[:, 0], pic.mismatches[:, 1]
            ax.scatter(integer.time[bt], bn, s=40, marker="x", color="red",
                       label=f"RTL differs from the integer model ({len(bt)})")
        n = integer.membrane.shape[1]
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlim(*axes[0].get_xlim())
        ax.set_xlabel(pic.time_label)
        ax.set_ylabel("neuron")
        ax.set_title("raster: every neuron's spikes", fontsize=10)
        ax.legend(**_OUTSIDE)
        ax.grid(alpha=0.3)
    if pic.fi is not None:
        ax = axes[row]
        fi = pic.fi
        for label, values in fi.values.items():
            if label.startswith("float"):
                ax.plot(fi.inputs, values, color=_COLOURS["float"], lw=2.5, alpha=0.6,
                        marker="o", ms=6, mfc="none", label=label)
            else:
                ax.plot(fi.inputs, values, color=_COLOURS["integer"], lw=1, marker=".", ms=5,
                        label=label)
        ax.set_xlabel(fi.input_label)
        ax.set_ylabel(fi.quantity)
        ax.set_title(("f-I curve: firing rate against " if "rate" in fi.quantity else
                      "membrane against ") + fi.note, fontsize=10)
        ax.legend(**_OUTSIDE)
        ax.grid(alpha=0.3)
    fig.align_ylabels(axes)
    _save(fig, path)


def draw_run(pic: RunPicture, path: str | os.PathLike) -> None:
    """Draw ``pic`` to the PNG ``path``: membranes of the first neurons, then the raster."""
    fig = _figure()
    has_spikes = len(pic.model_spikes) > 0 or len(pic.rtl_spikes) > 0
    rows = len(pic.neurons) + has_spikes
    ratios = [1] * len(pic.neurons) + ([2] if has_spikes else [])
    axes = fig.subplots(rows, 1, squeeze=False, sharex=True,
                        gridspec_kw={"height_ratios": ratios})[:, 0]
    fig.suptitle(pic.title, fontsize=11)
    for ax, i, t, rtl, model in zip(axes, pic.neurons, pic.steps, pic.rtl_membrane,
                                    pic.model_membrane):
        ax.plot(t, model, color=_COLOURS["integer"], lw=1.1, drawstyle="steps-post",
                label="integer model (expected)")
        ax.plot(t, rtl, color=_COLOURS["rtl"], lw=0, marker=".", ms=2.5,
                label="RTL (recorded)")
        for r in pic.resets:
            ax.axvline(r + 0.5, color="grey", ls=":", lw=0.8)
        bad = pic.mismatches[pic.mismatches[:, 1] == i][:, 0]
        if len(bad):
            sel = np.isin(t, bad)
            ax.plot(t[sel], rtl[sel], ls="none", marker="x", ms=9, mew=2, color="red",
                    label="mismatch")
        ax.set_ylabel(f"neuron {i}\n{pic.membrane_label}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(**_OUTSIDE)
    if has_spikes:
        ax = axes[-1]
        ax.scatter(pic.model_spikes[:, 0], pic.model_spikes[:, 1] + 0.2, s=6, marker="|",
                   color=_COLOURS["integer"], label=f"integer model ({len(pic.model_spikes)})")
        ax.scatter(pic.rtl_spikes[:, 0], pic.rtl_spikes[:, 1] - 0.2, s=6, marker="|",
                   color=_COLOURS["rtl"], label=f"RTL ({len(pic.rtl_spikes)})")
        if len(pic.mismatches):
            ax.scatter(pic.mismatches[:, 0], pic.mismatches[:, 1], s=40, marker="x",
                       color="red", label=f"mismatches ({len(pic.mismatches)})")
        ax.set_ylabel("neuron")
        ax.set_title("raster (dotted lines: resets)", fontsize=10)
        ax.legend(**_OUTSIDE)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("step")
    fig.align_ylabels(axes)
    _save(fig, path)
