# SPDX-License-Identifier: Apache-2.0
"""``neurotile model BLOCK [options] (--input FILE.npy | --current I (--steps N | --duration-ms T))
[--fixed | --float] [--json] [--plot FILE.png [--sim SIM]]``.

Runs a neuron model's reference models without any hardware, for every block whose neuron model
is a :class:`~neurotile.neurons.spec.NeuronConfig` (the block's ``model``, or the model of
:func:`~neurotile.neurons.spec.models` with the block's name). Everything comes from the model's
declaration; no block is named here:

* ``--fixed`` (default): the integer model, bit-exact with the hardware
  (:func:`~neurotile.neurons.spec.run_model`), configured by the block's own options (its
  structural parameters and run-time settings, as ``generate`` and ``simulate`` take them). Float
  currents become input codes, ``round(x / config.input_lsb())``, and must fit the input field.
* ``--float``: the model's float model, ``MODEL.float_run``, with the options of
  ``MODEL.FLOAT_PARAMS`` (its library's conventions). An option both models have (``--threshold``,
  ``--reset``) is one option read by the selected model; an option of the other model only is
  refused.
* Stimulus: ``--input`` (an ``.npy`` array ``[steps, neurons]``, one row per step of the selected
  model) or ``--current I`` for ``--steps N``; a time-based model (``MODEL.DT_MS`` set) also takes
  ``--duration-ms T``, ``round(T / dt)`` steps of the selected model's ``dt``. A step model has no
  ``dt``: ``--duration-ms`` is refused with a pointer to ``--steps``. With ``--current`` the
  population has ``--neurons`` neurons (default 1: they would all see the same current).
* Output: one JSON object (``--json``), ``model``, ``params`` and the outputs ``[steps][neurons]``
  (``spikes``, ``membrane``, ``synaptic`` as the model names them), with ``spike_times_ms``
  (``[neurons][...]``, end of the firing step, or finer where the float model knows) for a
  time-based model; else a short summary per neuron.
* ``--plot FILE.png`` (:mod:`neurotile.plots`): the membrane of neuron 0 of the float model
  (the configuration's own equation unquantised) and of the integer model, the raster and the
  f-I curve; ``--sim icarus|verilator`` adds the RTL's recording of the same stimulus (bulk
  path) and exits 1 if it differs from the integer model.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from neurotile.blocks import Block, blocks
from neurotile.commands import Command
from neurotile.commands.inputs import (MAX_UPDATES, check_duration_ms, check_finite,
                                       check_params, check_steps)
from neurotile.commands.model_denoiser import add_parser as _add_denoiser
from neurotile.commands.pictures import add_plot_options, check_rtl, model_plot, plot_path
from neurotile.errors import UsageError
from neurotile.neurons.spec import NEURONS, NeuronConfig, Param, models, run_model

__all__ = ["MAX_MODEL_STEPS", "COMMAND"]

#: Blocks whose model runs on event streams: name -> add their sub-parser (own options, run).
EVENT_MODELS = {"denoiser": _add_denoiser}

#: Most steps one run takes (as many as ``MAX_MODEL_MS`` of 0.01 ms float steps).
MAX_MODEL_STEPS = 1_000_000

#: Neurons listed by the summary without ``--json``; spike times listed per neuron.
_SHOWN_NEURONS = 16
_SHOWN_TIMES = 8


# -- options -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Option:
    """One option of ``neurotile model BLOCK``: the fixed model's, the float model's or both."""

    param: Param            # what the parser adds (help and choices of both)
    fixed: Param | None     # the block's option
    float: Param | None     # the float model's option
    number: bool = False    # an int option of one model and a float one of the other

    def applies(self, kind: str) -> bool:
        return self.param.name == "neurons" or \
            (self.fixed if kind == "fixed" else self.float) is not None


def number(text: str) -> int | float:
    """An int when ``text`` is one, else a float (options read as either by the two models)."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def _model_of(block: Block) -> type[NeuronConfig] | None:
    model = block.model or models().get(block.name)
    return model if model is not None and model.NAME == block.name else None


def _options(block: Block, model: type[NeuronConfig]) -> tuple[_Option, ...]:
    fixed = {p.name: p for p in block.params}
    fixed["neurons"] = replace(fixed.get("neurons", NEURONS), default=None,
                               help="number of neurons (1..4096; default: the columns of "
                               "--input, else 1)")
    fixed = {"neurons": fixed.pop("neurons")} | fixed
    floats = {p.name: p for p in model.FLOAT_PARAMS}
    out = []
    for name in [*fixed, *(n for n in floats if n not in fixed)]:
        f, g = fixed.get(name), floats.get(name)
        if g is None:
            out.append(_Option(f, f, None))  # type: ignore[arg-type]
            continue
        shown = "" if g.default is None else f", default: {g.default}"
        if f is None:
            out.append(_Option(replace(g, default=None, help=f"{g.help} (--float{shown})"),
                               None, g))
            continue
        mixed = f.type is not g.type
        if mixed and {f.type, g.type} != {int, float}:
            raise TypeError(f"{block.name}: option {name} is a {f.type.__name__} and a "
                            f"{g.type.__name__}")
        choices = None if f.choices is None or g.choices is None else \
            tuple(dict.fromkeys(f.choices + g.choices))
        fixed_shown = "" if f.default is None else f", default: {f.default}"
        text = f"--fixed: {f.help}{fixed_shown}; --float: {g.help}{shown}"
        param = replace(f, type=float if mixed else f.type, default=None, choices=choices,
                        help=text, metavar=f.metavar or g.metavar)
        out.append(_Option(param, f, g, number=mixed))
    return tuple(out)


def _add_option(parser: argparse.ArgumentParser, o: _Option) -> None:
    p = o.param
    text = p.help if o.fixed is None or o.float is not None or p.default is None \
        else f"{p.help} (default: {p.default})"
    if p.type is bool:
        parser.add_argument(p.flag, dest=p.name, action=argparse.BooleanOptionalAction,
                            default=None, help=text)
        return
    parser.add_argument(p.flag, dest=p.name, type=number if o.number else p.type, default=None,
                        choices=p.choices, help=text,
                        metavar=p.metavar or (None if p.choices else p.type.__name__.upper()))


def _common(p: argparse.ArgumentParser, timed: bool) -> None:
    p.add_argument("--input", metavar="FILE.npy",
                   help="stimulus: currents [steps, neurons] in a NumPy .npy file")
    p.add_argument("--current", type=float, metavar="I",
                   help="stimulus: one constant current for every neuron and step")
    p.add_argument("--steps", type=int, metavar="N", help="steps of --current")
    p.add_argument("--duration-ms", type=float, metavar="T",
                   help="model time of --current in ms, round(T / dt) steps" if timed else
                   "(time-based models only: this one counts --steps)")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--float", dest="kind", action="store_const", const="float",
                      help="the float model, in its library's conventions")
    kind.add_argument("--fixed", dest="kind", action="store_const", const="fixed",
                      help="the integer model the hardware matches bit for bit (default)")
    p.set_defaults(kind="fixed")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: model, params and the outputs per step")
    add_plot_options(p, "the membrane of neuron 0 (float model, integer model, and the RTL "
                     "with --sim), the raster and the f-I curve", rtl=True)


def _add(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    with_model = {name: (b, m) for name, b in blocks().items() if (m := _model_of(b))}
    events = [name for name in blocks() if name in EVENT_MODELS]
    parser.epilog = ("blocks with reference models: " + (", ".join([*with_model, *events])
                                                          or "none")
                     + "\n'neurotile model BLOCK --help' lists the options of both models")
    sub = parser.add_subparsers(dest="block", metavar="BLOCK", required=True,
                                parser_class=type(parser))
    for name in events:  # event-stream blocks: their own options and run
        EVENT_MODELS[name](sub, blocks()[name])
    for block, model in with_model.values():
        p = sub.add_parser(block.name, help=block.summary, description=(
            f"{block.summary}. --fixed (default) runs the integer model with the block's "
            "options; --float runs the float model with its own (marked --float)."))
        options = _options(block, model)
        for o in options:
            _add_option(p, o)
        _common(p, model.DT_MS is not None)
        p.set_defaults(_block=block, _model=model, _options=options)


# -- stimulus ----------------------------------------------------------------------------------

def _check_size(steps: int, neurons: int, what: str) -> None:
    if steps > MAX_MODEL_STEPS:
        raise UsageError(f"{what} is too long: {steps:,} steps, at most {MAX_MODEL_STEPS:,} "
                         "per run")
    if steps * neurons > MAX_UPDATES:
        raise UsageError(f"{what} is too large: {steps:,} steps x {neurons} neurons, at most "
                         f"{MAX_UPDATES:,} values per run")


def _load(path: str) -> np.ndarray:
    """The ``--input`` array, checked (numbers, ``[steps, neurons]``, size, finite) before and
    after it is read."""
    flag = f"--input {path}"
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise UsageError(f"{flag}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{flag} is a folder; give a .npy file") from None
    except PermissionError:
        raise UsageError(f"{flag} cannot be read (permission denied)") from None
    except (ValueError, OSError, EOFError):
        raise UsageError(f"{flag} is not a NumPy .npy array of numbers (np.save writes one)"
                         ) from None
    if not isinstance(arr, np.ndarray):
        if hasattr(arr, "close"):
            arr.close()
        raise UsageError(f"{flag} is an .npz archive; save the one array with np.save")
    if arr.dtype.kind not in "iuf":
        raise UsageError(f"{flag} holds {arr.dtype}, not numbers; give float currents")
    if arr.ndim != 2:
        raise UsageError(f"{flag} must have shape [steps, neurons], not {list(arr.shape)}")
    steps, neurons = arr.shape
    if not steps or not neurons:
        raise UsageError(f"{flag} has shape {list(arr.shape)}: it needs at least one step and "
                         "one neuron")
    if neurons > NEURONS.high:  # type: ignore[operator]
        raise UsageError(f"{flag} has {neurons} neurons (columns): at most {NEURONS.high:g}")
    _check_size(steps, neurons, flag)
    out = np.array(arr, np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        t, i = (int(k) for k in np.argwhere(bad)[0])
        raise UsageError(f"{flag} holds {out[t, i]} at step {t}, neuron {i}: currents must be "
                         "finite numbers")
    return out


def _neurons(args: argparse.Namespace, loaded: np.ndarray | None) -> int:
    given = getattr(args, "neurons", None)
    if loaded is not None:
        if given is not None and given != loaded.shape[1]:
            raise UsageError(f"--neurons {given} does not match --input, which has "
                             f"{loaded.shape[1]} neurons (columns); drop --neurons")
        return loaded.shape[1]
    n = 1 if given is None else given
    if not NEURONS.low <= n <= NEURONS.high:  # type: ignore[operator]
        raise UsageError(f"--neurons must be between {NEURONS.low:g} and {NEURONS.high:g}, "
                         f"not {n}")
    return n


def _check_stimulus(args: argparse.Namespace, name: str, timed: bool) -> None:
    duration = args.duration_ms
    if duration is not None and not timed:
        raise UsageError(f"{name} is a step model with no time step: give --steps N instead of "
                         "--duration-ms")
    length = "--steps N or --duration-ms T" if timed else "--steps N"
    if args.input is None and args.current is None:
        raise UsageError(f"give a stimulus: --input FILE.npy, or --current I with {length}")
    if args.input is not None and args.current is not None:
        raise UsageError("give --input or --current, not both")
    if args.input is not None:
        if args.steps is not None or duration is not None:
            flag = "--steps" if args.steps is not None else "--duration-ms"
            raise UsageError(f"{flag} goes with --current; the rows of --input are the steps")
        return
    check_finite(args.current, "--current")
    if args.steps is not None and duration is not None:
        raise UsageError("give --steps or --duration-ms, not both")
    if args.steps is None and duration is None:
        raise UsageError(f"--current needs {length}")
    if args.steps is not None:
        check_steps(args.steps, "--steps")
    else:
        check_duration_ms(duration)


def _steps(args: argparse.Namespace, dt: float | None, neurons: int) -> int:
    duration = args.duration_ms
    if args.steps is not None:
        _check_size(args.steps, neurons, f"--steps {args.steps}")
        return args.steps
    if dt is None:  # refused by _check_stimulus
        raise UsageError("give --steps N: this model counts steps, it has no time step")
    steps = int(round(duration / dt))
    if steps < 1:
        raise UsageError(f"--duration-ms {duration:g} is shorter than one step of {dt:g} ms")
    _check_size(steps, neurons, f"--duration-ms {duration:g} ({dt:g} ms per step)")
    return steps


# -- the run -----------------------------------------------------------------------------------

def _config(block: Block, model: type[NeuronConfig], params: dict[str, Any]) -> NeuronConfig:
    config_of = block.extras.get("config")
    if config_of is not None:
        return config_of(params)[0]
    return model(**params)


def _codes(config: NeuronConfig, currents: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    """``currents`` as input codes of ``config`` (``UsageError`` when one does not fit)."""
    lsb = config.input_lsb()
    codes = np.rint(currents / lsb)
    f = config.input_field()
    bad = (codes < f.lo) | (codes > f.hi)
    if bad.any():
        t, i = (int(k) for k in np.argwhere(bad)[0])
        unit = f" {config.INPUT_UNIT}" if config.INPUT_UNIT else ""
        where = "" if args.input is None else f" (--input step {t}, neuron {i})"
        grain = "integers" if lsb == 1 else f"multiples of {lsb:g}{unit}"
        raise UsageError(f"{config.NAME}: current {float(currents[t, i])!r}{unit}{where} is "
                         f"outside the {f.width}-bit input's range {f.lo * lsb:g}.."
                         f"{f.hi * lsb:g}{unit} (the fixed model rounds currents to {grain})")
    return codes.astype(np.int64)


def _times(spikes: np.ndarray, dt: float) -> list[list[float]]:
    return [[round(float(t), 6) for t in (np.flatnonzero(spikes[:, i]) + 1) * dt]
            for i in range(spikes.shape[1])]


def _run(args: argparse.Namespace) -> int:
    block, model, options = args._block, args._model, args._options
    kind = args.kind
    timed = model.DT_MS is not None
    check_params(args, [o.param for o in options])
    given = {o.param.name: getattr(args, o.param.name) for o in options
             if getattr(args, o.param.name, None) is not None}
    for o in options:
        if o.param.name in given and not o.applies(kind):
            other = "float" if kind == "fixed" else "fixed"
            hint = "add --float" if other == "float" else "drop it, or drop --float"
            raise UsageError(f"{o.param.flag} is an option of the {other} model; {hint}")
    if kind == "float" and model.float_run.__func__ is NeuronConfig.float_run.__func__:
        raise UsageError(f"{block.name} has no float model; drop --float")
    _check_stimulus(args, block.name, timed)
    picture = plot_path(args)
    if picture is not None and kind == "float":
        raise UsageError("--plot draws the float and the integer model of the block's "
                         "configuration; drop --float")
    if args.sim is not None and picture is None:
        raise UsageError("--sim records the RTL for a picture; add --plot FILE.png")
    check_rtl(block, args.sim)
    loaded = None if args.input is None else _load(args.input)
    neurons = _neurons(args, loaded)
    check_rtl(block, args.sim, neurons)
    try:
        if kind == "fixed":
            fixed = {o.param.name: given[o.param.name] for o in options
                     if o.fixed is not None and o.param.name in given}
            config = _config(block, model, fixed | {"neurons": neurons})
            dt, params = config.step_ms(), config.structural() | config.runtime()
        else:
            params = model.float_options(**{o.float.name: given[o.param.name] for o in options
                                            if o.float is not None and o.param.name in given})
            dt = model.DT_MS
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{block.name}: {exc}") from None
    steps = loaded.shape[0] if loaded is not None else _steps(args, dt, neurons)
    currents = loaded if loaded is not None else np.full((steps, neurons), args.current)
    stimulus: dict[str, Any] = {"steps": steps, "neurons": neurons}
    if timed:
        stimulus["dt_ms"] = dt
    if args.input is not None:
        stimulus["input"] = args.input
    else:
        stimulus["current"] = args.current
    if args.duration_ms is not None:
        stimulus["duration_ms"] = args.duration_ms

    if kind == "fixed":
        codes = _codes(config, currents, args)
        if args.current is not None:
            stimulus["current_code"] = int(codes[0, 0])
        try:
            raw, _ = run_model(config, codes)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{block.name}: {exc}") from None
        outputs = {model.OUTPUT_NAMES.get(k, k): v for k, v in raw.items()}
        times = _times(outputs["spikes"], dt) if timed and "spikes" in outputs else None
    else:
        try:
            with np.errstate(all="ignore"):
                outputs = model.float_run(currents, **params)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{block.name}: {exc}") from None
        fine = outputs.pop("spike_times_ms", None)
        for name, arr in outputs.items():
            bad = ~np.isfinite(np.asarray(arr, np.float64))
            if bad.any():
                t = int(np.argwhere(bad)[0][0])
                raise UsageError(f"{block.name}: the float model's {name} overflows at step "
                                 f"{t}; give smaller currents")
        times = None
        if timed and "spikes" in outputs:
            times = _times(outputs["spikes"], dt) if fine is None else \
                [[round(float(t), 6) for t in ts] for ts in fine]

    result: dict[str, Any] = {"model": kind, "params": params | stimulus}
    result |= {name: np.asarray(arr).tolist() for name, arr in outputs.items()}
    if times is not None:
        result["spike_times_ms"] = times
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        _summary(block.name, kind, outputs, times, steps, neurons, dt if timed else None)
    if picture is not None:
        return model_plot(block, config, currents, picture, sim=args.sim,
                          build_dir=args.build_dir, quiet=args.json)
    return 0


def _summary(name: str, kind: str, outputs: dict[str, np.ndarray],
             times: list[list[float]] | None, steps: int, neurons: int,
             dt: float | None) -> None:
    span = f"{steps} steps" + (f" of {dt:g} ms" if dt is not None else "")
    who = f"{neurons} neuron" + ("s" if neurons != 1 else "")
    spikes = outputs.get("spikes")
    if spikes is None:
        print(f"{name} {kind} model, {span}, {who} (no spikes: membrane only)")
    else:
        print(f"{name} {kind} model, {span}, {who}: {int(np.sum(spikes))} spikes")
    for i in range(min(neurons, _SHOWN_NEURONS)):
        if spikes is None:
            mem = np.asarray(outputs["membrane"])[:, i]
            print(f"  neuron {i}: membrane {mem[-1]:g} after the last step "
                  f"(min {mem.min():g}, max {mem.max():g})")
            continue
        fired = np.flatnonzero(spikes[:, i])
        line = f"  neuron {i}: {len(fired)} spikes"
        if len(fired):
            if times is not None:
                first = " ".join(f"{t:.3f}" for t in times[i][:_SHOWN_TIMES])
                line += f", first at {first} ms"
            else:
                line += ", first at steps " + " ".join(str(t) for t in fired[:_SHOWN_TIMES])
        print(line)
    if neurons > _SHOWN_NEURONS:
        print(f"  ... and {neurons - _SHOWN_NEURONS} more neurons (--json has them all)")


COMMAND = Command("model", "run a neuron model's float or bit-exact integer reference model",
                  _add, _run, order=30)
