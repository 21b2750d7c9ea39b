# SPDX-License-Identifier: Apache-2.0
"""The whole compile job: NIR graph and data in; Verilog, checked network and report out.

:func:`compile_network` reads the graph (:mod:`.graph`), runs the float reference on the data
(:mod:`.floatsim`), quantises (:mod:`.quantise`; with ``max_drop``, searching the smallest
widths that keep the accuracy), runs the integer network (:mod:`neurotile.neurons.network`),
generates the network top (:mod:`neurotile.rtl.network`), checks the Verilog against the integer
network spike for spike on every sample (the bulk path on Verilator, and on Icarus for a
subset), sizes it in Sky130 cells, and collects everything in a report.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.compiler.floatsim import FloatRun, simulate
from neurotile.compiler.graph import FloatNetwork, read_graph
from neurotile.compiler.quantise import QuantOptions, Quantised, candidates, quantise
from neurotile.errors import UsageError
from neurotile.neurons.network import NetworkRun, describe, run_network

__all__ = ["CompileOptions", "Compiled", "load_data", "search_widths", "compile_network",
           "format_report", "markdown_report"]

#: The TinyTapeout clock the latency is quoted at.
TT_CLOCK_HZ = 50_000_000


@dataclass(frozen=True)
class CompileOptions:
    """Everything ``neurotile compile`` can be told.

    ``reset``/``reset_delay``/``dt``: how to read the graph (NIR does not record them).
    ``quant``: widths and leak. ``max_drop``: search the smallest widths within this many
    percentage points of the float accuracy (``None``: use ``quant`` as given).
    ``weights``: ``constant`` or ``programmable``. ``storage``: what the programmable weights
    (and the tiles' accumulators) are built from, ``memory`` (flip-flops) or ``latch``
    (``None``: latches for programmable weights, see
    :func:`~neurotile.rtl.network.default_storage`); ``layout``: ``csr`` or ``dense`` (latch
    storage only; ``None``: whichever stores fewer bits, see
    :func:`~neurotile.rtl.network.choose_layout`). Constant weights are ROMs: ``memory`` and
    ``csr`` only. ``verify``: simulators to check the RTL on; ``icarus_samples``: how many
    samples Icarus checks. ``synth``: size the design; ``gate_samples``: how many samples the
    synthesised netlist then runs (Icarus, Sky130 cell models; 0: none).
    """

    reset: str = "subtract"
    reset_delay: bool = True
    dt: float = 1e-4
    quant: QuantOptions = QuantOptions()
    max_drop: float | None = None
    weights: str = "constant"
    storage: str | None = None
    layout: str | None = None
    verify: tuple[str, ...] = ("verilator", "icarus")
    icarus_samples: int = 20
    gate_samples: int = 3
    synth: bool = True
    seed: int = 1

    @property
    def tile_storage(self) -> str:
        """``storage``, or the default for the weight mode when it is ``None``."""
        from neurotile.rtl.network import default_storage

        return self.storage if self.storage is not None else default_storage(self.weights)

    def check(self) -> None:
        """Raise :class:`~neurotile.errors.UsageError` (one line, saying what to do) unless the
        weight mode, storage and layout go together."""
        from neurotile.rtl.network import LAYOUTS, STORAGES

        if self.weights not in ("constant", "programmable"):
            raise UsageError(f"weights must be 'constant' or 'programmable', not "
                             f"{self.weights!r}")
        if self.tile_storage not in STORAGES:
            raise UsageError(f"storage must be 'memory' or 'latch', not {self.storage!r}")
        if self.layout is not None and self.layout not in LAYOUTS:
            raise UsageError(f"layout must be 'csr' or 'dense', not {self.layout!r}")
        if self.weights == "constant" and self.tile_storage != "memory":
            raise UsageError("--storage latch holds weights the host writes, but constant "
                             "weights are logic (ROMs); add --weights programmable or drop "
                             "--storage latch")
        if self.weights == "constant" and self.layout == "dense":
            raise UsageError("--layout dense holds weights the host writes, but constant "
                             "weights are logic (ROMs); add --weights programmable or drop "
                             "--layout dense")
        if self.layout == "dense" and self.tile_storage != "latch":
            raise UsageError("--layout dense needs --storage latch (the default with "
                             "--weights programmable); drop --storage memory or --layout dense")


@dataclass
class Compiled:
    """The outcome: the report (JSON-ready), the files to write and the pieces behind them."""

    report: dict[str, Any]
    files: dict[str, str | bytes]
    graph: FloatNetwork
    quantised: Quantised
    integer: NetworkRun
    search: list[dict[str, Any]] = field(default_factory=list)


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# -- data ----------------------------------------------------------------------------------------

def load_data(path: str | os.PathLike, net: FloatNetwork) -> tuple[np.ndarray, np.ndarray]:
    """``inputs`` (float ``[samples, steps, inputs]``) and ``labels`` (int ``[samples]``) from
    an ``.npz`` file, checked against the graph."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p}: no such data file; give an .npz with 'inputs' and 'labels'")
    try:
        with np.load(p, allow_pickle=False) as data:
            keys = set(data.files)
            missing = [k for k in ("inputs", "labels") if k not in keys]
            if missing:
                raise UsageError(f"{p} has no {' or '.join(repr(k) for k in missing)} array; "
                                 "it needs 'inputs' [samples, steps, inputs] and 'labels' "
                                 "[samples]")
            x, y = data["inputs"], data["labels"]
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(f"{p} is not a NumPy .npz file ({type(exc).__name__}); write one "
                         "with numpy.savez(path, inputs=..., labels=...)") from None
    if x.dtype.kind not in "biuf":
        raise UsageError(f"{p}: inputs must be numbers, not {x.dtype}")
    if x.ndim != 3:
        raise UsageError(f"{p}: inputs has shape {list(x.shape)}; it must be "
                         f"[samples, steps, {net.inputs}]")
    if x.shape[2] != net.inputs:
        raise UsageError(f"{p}: inputs has {x.shape[2]} values per step but the graph's input "
                         f"has {net.inputs} (shape {list(net.input_shape)}); the data does not "
                         "fit the graph")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise UsageError(f"{p}: inputs holds no samples or no steps")
    if y.dtype.kind not in "biu" or y.shape != (x.shape[0],):
        raise UsageError(f"{p}: labels must be {x.shape[0]} integers (one per sample), not "
                         f"{y.dtype} of shape {list(y.shape)}")
    if y.min() < 0 or y.max() >= net.outputs:
        raise UsageError(f"{p}: labels must be classes 0..{net.outputs - 1} (the graph has "
                         f"{net.outputs} outputs), not {int(y.min())}..{int(y.max())}")
    return x.astype(np.float64 if x.dtype == np.float64 else np.float32), y.astype(np.int64)


def _accuracy(classes: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(classes == labels)) if len(labels) else 0.0


# -- the width search ----------------------------------------------------------------------------

def search_widths(graph: FloatNetwork, calibration: FloatRun, x: np.ndarray, y: np.ndarray,
                  base: QuantOptions, max_drop: float, float_accuracy: float,
                  progress: Progress = _quiet) -> tuple[QuantOptions, list[dict[str, Any]]]:
    """The cheapest widths whose integer accuracy is within ``max_drop`` points of the float.

    Uniform widths are tried cheapest first (weight bits count four times a membrane bit);
    from the first that passes, each layer's membrane is narrowed while the accuracy holds.
    Returns the options and every row tried (``widths``, ``accuracy``, ``drop_pp``, ``ok``).
    """
    table: list[dict[str, Any]] = []
    n = len(graph.layers)

    def trial(opts: QuantOptions) -> bool:
        q = quantise(graph, calibration, x, opts)
        acc = _accuracy(run_network(q.network, q.encode(x)).classes, y)
        drop = 100 * (float_accuracy - acc)
        ok = drop <= max_drop + 1e-9
        table.append({"widths": opts.label(n), "weight_bits": opts.weight_bits,
                      "membrane_bits": list(opts.membrane_widths(n)),
                      "integer_accuracy": acc, "drop_pp": round(drop, 3), "ok": ok})
        progress(f"  {opts.label(n):<14} accuracy {100 * acc:6.2f}%  drop {drop:+.2f} pp"
                 f"{'  ok' if ok else ''}")
        return ok

    chosen = None
    for cand in candidates(n):
        opts = replace(base, weight_bits=cand.weight_bits, membrane_bits=cand.membrane_bits)
        if trial(opts):
            chosen = opts
            break
    if chosen is None:
        raise UsageError(f"no widths up to 8-bit weights and 16-bit membranes keep the integer "
                         f"accuracy within {max_drop} points of the float "
                         f"({100 * float_accuracy:.2f}%); raise --max-drop or give widths")
    widths = list(chosen.membrane_widths(n))
    for i in range(n):
        while widths[i] > 6:
            narrower = widths.copy()
            narrower[i] -= 2
            opts = replace(chosen, membrane_bits=tuple(narrower))
            if not trial(opts):
                break
            widths = narrower
    return replace(chosen, membrane_bits=tuple(widths) if len(set(widths)) > 1 else widths[0]), \
        table


# -- the job -------------------------------------------------------------------------------------

def compile_network(nir_path: str | os.PathLike, data_path: str | os.PathLike,
                    options: CompileOptions = CompileOptions(), *,
                    build_dir: str | os.PathLike | None = None,
                    progress: Progress = _quiet) -> Compiled:
    """Run the compile job; nothing is written outside ``build_dir`` (the caller writes
    :attr:`Compiled.files` into the user's folder). ``build_dir`` defaults to ``compile/``
    under :func:`neurotile.flows.synth.work_root` (``build/``, or a cache folder when the
    current folder is under ``/tmp``, which Yosys cannot see)."""
    if build_dir is None:
        from neurotile.flows.synth import work_root

        build_dir = work_root() / "compile"
    options.check()
    storage = options.tile_storage
    t_start = time.perf_counter()
    progress(f"reading {nir_path}")
    graph = read_graph(nir_path, reset=options.reset, reset_delay=options.reset_delay,
                       dt=options.dt)
    x, y = load_data(data_path, graph)
    samples, steps, _ = x.shape
    progress(f"float reference: {samples} samples x {steps} steps, "
             f"{' -> '.join([str(graph.inputs)] + [str(l.size) for l in graph.layers])}")
    f32 = simulate(graph, x, dtype=np.float32)
    f64 = simulate(graph, x, dtype=np.float64)
    float_acc = _accuracy(f32.classes, y)

    search: list[dict[str, Any]] = []
    quant = options.quant
    if options.max_drop is not None:
        progress(f"searching widths within {options.max_drop} pp of the float accuracy "
                 f"({100 * float_acc:.2f}%)")
        quant, search = search_widths(graph, f32, x, y, quant, options.max_drop, float_acc,
                                      progress)
    q = quantise(graph, f32, x, quant)
    xi = q.encode(x)
    progress(f"integer model ({quant.label(len(graph.layers))})")
    irun = run_network(q.network, xi)
    int_acc = _accuracy(irun.classes, y)

    from neurotile.rtl.network import (DENSE_MAX_WEIGHTS, choose_layout, too_large_for_dense,
                                       weight_bits)

    layout = options.layout or choose_layout(q.network, options.weights, storage)
    layout_bits, layout_reason = None, None
    if options.weights == "programmable":
        layout_bits = {name: weight_bits(q.network, name) for name in ("csr", "dense")}
        if options.layout is not None:
            layout_reason = "as asked"
        elif storage != "latch":
            layout_reason = "the only layout of flip-flop memories"
        elif layout == "csr" and layout_bits["dense"] < layout_bits["csr"]:
            layout_reason = (f"a layer has more weights than the dense layout's "
                             f"{DENSE_MAX_WEIGHTS:,}")
        else:
            layout_reason = "the one that stores fewer bits"
        progress(f"weight layout: {layout}, {layout_reason} ({layout_bits[layout]:,} bits; "
                 f"CSR {layout_bits['csr']:,}, dense {layout_bits['dense']:,})")
    too_large = too_large_for_dense(q.network) if layout == "dense" else None
    if too_large is not None:
        sp = too_large.sparse
        raise UsageError(f"layer {too_large.name} has {sp.inputs * sp.outputs:,} weights "
                         f"({sp.inputs} x {sp.outputs}), more than the dense layout's "
                         f"{DENSE_MAX_WEIGHTS:,}; use --layout csr")

    from neurotile.testbench.network_bulk import network_design

    progress(f"generating the network top ({_held(options.weights, storage, layout)})")
    verilog, top, _ports = network_design(q.network, options.weights, storage, layout)
    build = Path(build_dir).resolve() / top
    build.mkdir(parents=True, exist_ok=True)

    checks: dict[str, Any] = {}
    rtl_classes = None
    rtl_identical = None
    rtl_count = 0
    for sim in options.verify:
        from neurotile.testbench.network_bulk import run_network_bulk

        count = samples if sim == "verilator" else min(samples, options.icarus_samples)
        progress(f"checking the RTL on {sim}: {count} samples")
        res = run_network_bulk(q.network, xi[:count], sim=sim, weights=options.weights,
                               storage=storage, layout=layout,
                               build_dir=build / f"bulk-{sim}", seed=options.seed)
        checks[sim] = {k: res[k] for k in ("samples", "mismatches", "samples_identical",
                                            "cycles", "cycles_per_sample", "build_seconds",
                                            "run_seconds", "samples_per_second")}
        checks[sim]["first_mismatches"] = res["first_mismatches"][:5]
        if rtl_classes is None or count == samples:
            rtl_classes = np.asarray(res["rtl_classes"])
            rtl_identical = float(res["samples_identical"])
            rtl_count = count
    synth_info: dict[str, Any] = {}
    if options.synth:
        synth_info = _size(verilog, top, build / "synth", progress)
        count = min(samples, options.gate_samples)
        if count and options.verify:
            from neurotile.testbench.network_bulk import run_network_bulk

            progress(f"checking the gate-level netlist on icarus: {count} samples")
            res = run_network_bulk(q.network, xi[:count], sim="icarus", weights=options.weights,
                                   storage=storage, layout=layout,
                                   build_dir=build / "bulk-gates", seed=options.seed,
                                   netlist=synth_info["netlist"])
            checks["gate-level"] = {k: res[k] for k in (
                "samples", "mismatches", "samples_identical", "cycles", "cycles_per_sample",
                "build_seconds", "run_seconds", "samples_per_second")}
            checks["gate-level"]["first_mismatches"] = res["first_mismatches"][:5]

    layers = []
    for i, (info, layer) in enumerate(zip(q.layers, q.network.layers)):
        fl = graph.layers[i]
        layers.append(info | {
            "inputs": layer.inputs, "neurons": layer.size, "recurrent": layer.recurrent,
            "acc_saturations": irun.acc_saturations[i],
            "membrane_saturations": irun.membrane_saturations[i],
            "float_spike_rate": float(f32.spikes[i].mean()),
            "integer_spike_rate": float(irun.spikes[i].mean()),
            "nodes": [f"{n} ({t})" for n, t in fl.sources],
        })
    cycles = None
    if "verilator" in checks:
        cycles = checks["verilator"]["cycles_per_sample"]
    elif checks:
        cycles = next(iter(checks.values()))["cycles_per_sample"]
    report: dict[str, Any] = {
        "graph": str(nir_path),
        "data": str(data_path),
        "samples": samples,
        "steps": steps,
        "conventions": graph.conventions(),
        "input_encoding": "binary spikes" if q.binary_input else
        f"direct, {q.network.input_width}-bit unsigned (scale {q.input_scale:.6g})",
        "float_accuracy": float_acc,
        "float64_accuracy": _accuracy(f64.classes, y),
        "float32_float64_agreement": float(np.mean(f32.classes == f64.classes)),
        "integer_accuracy": int_acc,
        "integer_float_agreement": float(np.mean(irun.classes == f32.classes)),
        "rtl_accuracy": None if rtl_classes is None else
        _accuracy(rtl_classes, y[:len(rtl_classes)]),
        "rtl_samples": None if rtl_classes is None else rtl_count,
        "rtl_matches_integer": rtl_identical,
        "rtl_checks": checks,
        "weights": options.weights,
        "storage": storage,
        "layout": layout,
        "layout_reason": layout_reason,
        "weight_bits": layout_bits,
        "widths": quant.label(len(graph.layers)),
        "layers": layers,
        "synaptic_ops_per_sample": float(irun.synaptic_ops.mean()),
        "cycles_per_sample": cycles,
        "cycles_per_step": None if cycles is None else cycles / steps,
        "latency_us_at_50MHz": None if cycles is None else 1e6 * cycles / TT_CLOCK_HZ,
        "top": top,
        "area_um2": synth_info.get("area_um2"),
        "cells": synth_info.get("cells"),
        "flip_flops": synth_info.get("flip_flops"),
        "tile": synth_info.get("tile"),
        "utilisation": synth_info.get("utilisation"),
        "width_search": search,
        "seconds": round(time.perf_counter() - t_start, 1),
    }
    predictions = io.BytesIO()
    np.savez_compressed(predictions, float=f32.classes.astype(np.int16),
                        integer=irun.classes.astype(np.int16),
                        rtl=(np.full(0, 0, np.int16) if rtl_classes is None
                             else rtl_classes.astype(np.int16)),
                        labels=y.astype(np.int16))
    files: dict[str, str | bytes] = {
        f"{top}.v": verilog,
        "network.json": json.dumps(_network_json(q), indent=1) + "\n",
        "report.json": json.dumps(report, indent=2) + "\n",
        "report.md": markdown_report(report),
        "predictions.npz": predictions.getvalue(),
    }
    return Compiled(report=report, files=files, graph=graph, quantised=q, integer=irun,
                    search=search)


def _size(verilog: str, top: str, work: Path, progress: Progress) -> dict[str, Any]:
    from neurotile.flows.synth import synthesize
    from neurotile.flows.tiles import DEFAULT_DENSITY

    progress("synthesising to Sky130 cells (Yosys)")
    work.mkdir(parents=True, exist_ok=True)
    src = work.parent / f"{top}.v"
    src.write_text(verilog)
    res = synthesize([src], top=top, work_dir=work)
    tile = res.smallest_tile()
    return {"netlist": res.netlist, "area_um2": res.area, "cells": res.cells,
            "flip_flops": res.flip_flops,
            "tile": None if tile is None else tile.name,
            "utilisation": None if tile is None else round(res.fit(tile).utilisation, 4),
            "density": DEFAULT_DENSITY}


def _network_json(q: Quantised) -> dict[str, Any]:
    """The quantised network, complete: enough to rebuild the integer model."""
    out = {"input_width": q.network.input_width, "count_width": q.network.count_width,
           "input_scale": q.input_scale, "binary_input": q.binary_input, "layers": []}
    for layer, summary_ in zip(q.network.layers, describe(q.network)):
        w = layer.weights
        out["layers"].append(summary_ | {
            "config": layer.neurons.as_dict(),
            "row_ptr": w.row_ptr.tolist(), "col": w.col.tolist(), "weight": w.weight.tolist(),
        })
    return out


# -- reports -------------------------------------------------------------------------------------

def _held(weights: str, storage: str, layout: str) -> str:
    """How the weights are held, in words: ``constant weights``, ``programmable weights in
    latches, dense layout``."""
    if weights == "constant":
        return "constant weights"
    where = "latches" if storage == "latch" else "flip-flops"
    return f"programmable weights in {where}" + (", dense layout" if layout == "dense" else "")


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def format_report(r: dict[str, Any]) -> str:
    """The terminal table."""
    lines = [
        f"graph {r['graph']}: {r['samples']} samples x {r['steps']} steps; "
        f"reset {r['conventions']['reset']}, "
        f"{'delayed' if r['conventions']['reset_delay'] else 'immediate'}, "
        f"dt {r['conventions']['dt']:g} s; input {r['input_encoding']}",
        "",
        f"  {'layer':<10} {'model':<9} {'in':>5} {'out':>5} {'nnz':>6} {'w':>3} {'mem':>4} "
        f"{'acc sat':>8} {'mem sat':>8} {'rate':>6}",
    ]
    for lay in r["layers"]:
        lines.append(
            f"  {lay['name']:<10} {lay['model']:<9} {lay['inputs']:>5} {lay['neurons']:>5} "
            f"{lay['nonzero_weights']:>6} {lay['weight_bits']:>3} {lay['membrane_bits']:>4} "
            f"{lay['acc_saturations']:>8} {lay['membrane_saturations']:>8} "
            f"{lay['integer_spike_rate']:>6.3f}")
    lines += [
        "",
        f"  accuracy     float {_pct(r['float_accuracy'])}   integer "
        f"{_pct(r['integer_accuracy'])}   RTL {_pct(r['rtl_accuracy'])}"
        + ("" if r["rtl_samples"] in (None, r["samples"]) else
           f" (on {r['rtl_samples']} samples)"),
        f"  agreement    integer = float on {_pct(r['integer_float_agreement'])} of samples; "
        f"RTL spikes = integer on {_pct(r['rtl_matches_integer'])}",
    ]
    for sim, c in r["rtl_checks"].items():
        lines.append(f"  {sim:<12} {c['samples']} samples, {c['mismatches']} mismatches, "
                     f"{c['samples_per_second']:.0f} samples/s")
    if r["cycles_per_sample"] is not None:
        lines.append(f"  timing       {r['cycles_per_sample']:.0f} cycles per sample "
                     f"({r['cycles_per_step']:.0f} per step), "
                     f"{r['latency_us_at_50MHz']:.1f} us at 50 MHz; "
                     f"{r['synaptic_ops_per_sample']:.0f} synaptic ops per sample")
    if r["area_um2"] is not None:
        lines.append(f"  size         {r['cells']} cells, {r['area_um2']:.0f} um^2, "
                     f"{_held(r['weights'], r['storage'], r['layout'])}; tile "
                     f"{r['tile'] or 'none (larger than 8x2)'}")
    return "\n".join(lines) + "\n"


def markdown_report(r: dict[str, Any]) -> str:
    """The report as Markdown."""
    out = io.StringIO()
    w = out.write
    w(f"# Compiled network: {Path(r['graph']).name}\n\n")
    w(f"- data: `{r['data']}`, {r['samples']} samples of {r['steps']} steps\n")
    c = r["conventions"]
    w(f"- read with reset `{c['reset']}`, reset delay `{c['reset_delay']}`, dt {c['dt']:g} s "
      "(NIR does not record them)\n")
    w(f"- input: {r['input_encoding']}; widths {r['widths']}; "
      f"{_held(r['weights'], r['storage'], r['layout'])}\n")
    if r.get("weight_bits"):
        bits = r["weight_bits"]
        w(f"- weight memories: {bits[r['layout']]:,} bits in the {r['layout']} layout, "
          f"{r['layout_reason']} (CSR {bits['csr']:,}, dense {bits['dense']:,})\n")
    w("\n")
    w("| | float32 | integer | RTL |\n|---|---|---|---|\n")
    w(f"| accuracy | {_pct(r['float_accuracy'])} | {_pct(r['integer_accuracy'])} | "
      f"{_pct(r['rtl_accuracy'])} |\n\n")
    w(f"Integer predictions equal the float ones on {_pct(r['integer_float_agreement'])} of "
      f"samples; the RTL's output spikes equal the integer model's on "
      f"{_pct(r['rtl_matches_integer'])}.\n\n")
    w("| layer | model | inputs | neurons | non-zero weights | weight bits | membrane bits | "
      "accumulator saturations | membrane saturations | spike rate |\n")
    w("|---|---|---|---|---|---|---|---|---|---|\n")
    for lay in r["layers"]:
        w(f"| {lay['name']} | {lay['model']}{' (recurrent)' if lay['recurrent'] else ''} | "
          f"{lay['inputs']} | {lay['neurons']} | {lay['nonzero_weights']} | "
          f"{lay['weight_bits']} | {lay['membrane_bits']} | {lay['acc_saturations']} | "
          f"{lay['membrane_saturations']} | {lay['integer_spike_rate']:.3f} |\n")
    w("\n")
    if r["rtl_checks"]:
        w("| simulator | samples | mismatches | samples/s |\n|---|---|---|---|\n")
        for sim, ch in r["rtl_checks"].items():
            w(f"| {sim} | {ch['samples']} | {ch['mismatches']} | "
              f"{ch['samples_per_second']:.0f} |\n")
        w("\n")
    if r["cycles_per_sample"] is not None:
        w(f"Timing: {r['cycles_per_sample']:.0f} cycles per sample, "
          f"{r['cycles_per_step']:.0f} per step, {r['latency_us_at_50MHz']:.1f} us at 50 MHz; "
          f"{r['synaptic_ops_per_sample']:.0f} synaptic operations per sample.\n\n")
    if r["area_um2"] is not None:
        w(f"Size: {r['cells']} Sky130 cells, {r['area_um2']:.0f} um^2 of cell area; "
          f"smallest tile {r['tile'] or 'none'}.\n\n")
    if r["width_search"]:
        w("Width search:\n\n| widths | integer accuracy | drop (pp) | within |\n"
          "|---|---|---|---|\n")
        for row in r["width_search"]:
            w(f"| {row['widths']} | {_pct(row['integer_accuracy'])} | {row['drop_pp']:+.2f} | "
              f"{'yes' if row['ok'] else 'no'} |\n")
    return out.getvalue()

