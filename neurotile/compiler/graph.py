# SPDX-License-Identifier: Apache-2.0
"""Reading a NIR graph into a chain of float layers the hardware can run.

A NIR graph (the ``nir`` package's ``NIRGraph``, read from a ``.nir`` file) is a set of nodes
and edges. neurotile runs *chains of spiking layers*: each layer is an affine map of its input
(any composition of ``Linear``, ``Affine``, ``Scale``, ``Flatten``, ``Conv1d``, ``Conv2d`` and
``SumPool2d``, composed into one dense matrix and bias) into a population of ``LIF``,
``CubaLIF``, ``IF``, ``LI`` or ``I`` (integrator) neurons, optionally with a recurrent affine map
from the layer's own spikes of the previous step (the cycle ``neurons -> Linear -> neurons`` that
snnTorch's ``RLeaky`` exports). Nested graphs are inlined. The first layer reads the graph's
``Input``; the last layer's spikes are the graph's ``Output``.

NIR describes continuous-time equations. neurotile reads them the way the exporting libraries
simulate them, by forward Euler with a step ``dt`` (NIR does not record it; snnTorch's exporter
uses 1e-4 s): for a ``LIF`` node ``tau dv/dt = (v_leak - v) + r I`` this is::

    v[t] = beta v[t-1] + g I[t] + o,   beta = 1 - dt/tau,  g = dt r / tau,  o = dt v_leak / tau

For a graph exported from snnTorch, ``tau = dt/(1-beta)`` and ``r = tau/dt``, so ``g = 1`` and
this is exactly snnTorch's ``U = beta U + I``. ``g`` and ``o`` are folded into the layer's
weights and bias, so every layer's input is in membrane units. ``CubaLIF``: ``alpha = 1 -
dt/tau_syn``, the current's input gain ``dt w_in / tau_syn`` and the membrane's ``dt r /
tau_mem`` fold into the weights the same way. ``IF``: ``beta = 1``, ``g = dt r``. ``LI``: a
``LIF`` that never fires; ``I``: ``beta = 1``, ``g = dt r``.

NIR does not record the reset either: the reset mechanism (``subtract`` or ``zero``) and
whether it is delayed by a step (snnTorch's ``reset_delay``) are options of :func:`read_graph`.
``v_reset`` must be 0 (snnTorch writes 0 whatever the reset), and ``v_leak`` of a ``CubaLIF``
must be 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.errors import UsageError

__all__ = ["FloatLayer", "FloatNetwork", "read_graph", "from_nir", "NEURON_TYPES",
           "SYNAPSE_TYPES", "SUPPORTED"]

#: NIR node types that hold neurons, and the neuron model each becomes.
NEURON_TYPES = {"LIF": "lif", "CubaLIF": "cuba-lif", "IF": "if", "LI": "li", "I": "li"}
#: NIR node types composed into a layer's affine map.
SYNAPSE_TYPES = ("Linear", "Affine", "Scale", "Flatten", "Conv1d", "Conv2d", "SumPool2d")
SUPPORTED = ("Input", "Output", *SYNAPSE_TYPES, *NEURON_TYPES)


@dataclass
class FloatLayer:
    """One layer in the float reference's terms (membrane units, per-neuron arrays).

    ``weight``: ``[neurons, inputs]``; ``bias``: ``[neurons]`` (added every step);
    ``recurrent``: ``[neurons, neurons]`` from the layer's previous-step spikes, or ``None``.
    ``beta``, ``threshold`` (``inf`` for a layer that never fires), ``alpha`` (``CubaLIF``, else
    ``None``): ``[neurons]``. ``model``: ``lif``, ``cuba-lif``, ``if`` or ``li``. ``shape``: the
    NIR shape of the neurons. ``sources``: the NIR nodes the layer was built from.
    """

    name: str
    model: str
    weight: np.ndarray
    bias: np.ndarray
    beta: np.ndarray
    threshold: np.ndarray
    alpha: np.ndarray | None = None
    recurrent: np.ndarray | None = None
    shape: tuple[int, ...] = ()
    sources: list[tuple[str, str]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.weight.shape[0]

    @property
    def inputs(self) -> int:
        return self.weight.shape[1]

    @property
    def spiking(self) -> bool:
        return bool(np.all(np.isfinite(self.threshold)))


@dataclass
class FloatNetwork:
    """A chain of layers with the conventions it was read with."""

    layers: list[FloatLayer]
    input_shape: tuple[int, ...]
    reset: str = "subtract"
    reset_delay: bool = True
    dt: float = 1e-4
    nodes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def inputs(self) -> int:
        return int(np.prod(self.input_shape))

    @property
    def outputs(self) -> int:
        return self.layers[-1].size

    def conventions(self) -> dict[str, Any]:
        return {"reset": self.reset, "reset_delay": self.reset_delay, "dt": self.dt}


# -- reading -------------------------------------------------------------------------------------

def read_graph(path: str | os.PathLike, *, reset: str = "subtract", reset_delay: bool = True,
               dt: float = 1e-4) -> FloatNetwork:
    """Read a ``.nir`` file into a :class:`FloatNetwork`.

    Raises
    ------
    UsageError
        For a file that is missing or not a NIR graph, an unsupported node or structure, or
        parameters the hardware cannot take; the message names the node.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file; give the path of a .nir graph")
    try:
        import nir
    except ImportError as exc:  # pragma: no cover - a dependency
        raise UsageError(f"the nir package is missing ({exc}); reinstall neurotile") from None
    try:
        graph = nir.read(str(path), type_check=False)
    except Exception as exc:  # h5py, KeyError, AssertionError: all mean "not a NIR file"
        raise UsageError(f"{path} is not a NIR graph file ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'}); "
                         "export one with nir.write or your library's NIR exporter") from None
    return from_nir(graph, reset=reset, reset_delay=reset_delay, dt=dt, where=str(path))


def from_nir(graph: Any, *, reset: str = "subtract", reset_delay: bool = True,
             dt: float = 1e-4, where: str = "graph") -> FloatNetwork:
    """A :class:`FloatNetwork` from a ``nir.NIRGraph`` object (see :func:`read_graph`)."""
    if reset not in ("subtract", "zero"):
        raise UsageError(f"reset must be 'subtract' or 'zero', not {reset!r}")
    if not (isinstance(dt, (int, float)) and 0 < dt < 1):
        raise UsageError(f"dt must be a time step in seconds between 0 and 1, not {dt!r}")
    nodes, edges = _inline(graph, "")
    reader = _Reader(nodes, edges, float(dt), where)
    layers, input_shape = reader.chain()
    return FloatNetwork(layers=layers, input_shape=input_shape, reset=reset,
                        reset_delay=bool(reset_delay), dt=float(dt),
                        nodes=[(n, type(v).__name__) for n, v in nodes.items()])


def _type(node: Any) -> str:
    return type(node).__name__


def _inline(graph: Any, prefix: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Nodes and edges of ``graph`` with nested graphs inlined; inner ``Input``/``Output``
    nodes stay as pass-through nodes named ``outer.inner``."""
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    inner_io: dict[str, tuple[list[str], list[str]]] = {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if _type(node) == "NIRGraph":
            sub_nodes, sub_edges = _inline(node, full + ".")
            nodes.update(sub_nodes)
            edges += sub_edges
            ins = [n for n, v in sub_nodes.items() if _type(v) == "Input"
                   and n.count(".") == full.count(".") + 1]
            outs = [n for n, v in sub_nodes.items() if _type(v) == "Output"
                    and n.count(".") == full.count(".") + 1]
            inner_io[full] = (ins, outs)
        else:
            nodes[full] = node
    for src, dst in graph.edges:
        s, d = prefix + src, prefix + dst
        if s in inner_io:  # out of a nested graph: from its Output node(s)
            outs = inner_io[s][1]
            s = outs[0] if len(outs) == 1 else s
        if d in inner_io:
            ins = inner_io[d][0]
            d = ins[0] if len(ins) == 1 else d
        edges.append((s, d))
    return nodes, edges


@dataclass
class _Map:
    """An affine map ``y = M x + b`` with the NIR shape of ``y``."""

    matrix: np.ndarray
    bias: np.ndarray
    shape: tuple[int, ...]

    @classmethod
    def identity(cls, shape: tuple[int, ...]) -> _Map:
        n = int(np.prod(shape))
        return cls(np.eye(n), np.zeros(n), shape)

    def then(self, matrix: np.ndarray, bias: np.ndarray | None, shape: tuple[int, ...]) -> _Map:
        b = matrix @ self.bias + (0.0 if bias is None else bias)
        return _Map(matrix @ self.matrix, b, shape)


def _array(node: Any, name: str, what: str) -> np.ndarray:
    value = getattr(node, name, None)
    if value is None:
        raise UsageError(f"{what} has no {name}")
    arr = np.asarray(value, np.float64)
    if not np.all(np.isfinite(arr)):
        raise UsageError(f"{what}: {name} holds values that are not finite")
    return arr


def _per_neuron(arr: np.ndarray, size: int, name: str, what: str) -> np.ndarray:
    """A parameter as one value per neuron; 0-d (scalar) parameters are broadcast."""
    flat = arr.reshape(-1)
    if flat.size == 1:
        return np.full(size, flat[0])
    if flat.size != size:
        raise UsageError(f"{what}: {name} has {flat.size} values but the layer has {size} "
                         "neurons; the shapes of the graph do not match")
    return flat


class _Reader:
    def __init__(self, nodes: dict[str, Any], edges: list[tuple[str, str]], dt: float,
                 where: str) -> None:
        self.nodes = nodes
        self.dt = dt
        self.where = where
        self.preds: dict[str, list[str]] = {n: [] for n in nodes}
        self.succs: dict[str, list[str]] = {n: [] for n in nodes}
        for s, d in edges:
            for end in (s, d):
                if end not in nodes:
                    raise UsageError(f"{where}: an edge names node {end!r}, which the graph does "
                                     "not have")
            self.preds[d].append(s)
            self.succs[s].append(d)
        for name, node in nodes.items():
            t = _type(node)
            if t not in SUPPORTED:
                raise UsageError(f"{where}: node {name!r} is a {t}, which neurotile does not "
                                 f"map to hardware; supported: {', '.join(SUPPORTED)}")

    def what(self, name: str) -> str:
        return f"{self.where}: node {name!r} ({_type(self.nodes[name])})"

    # -- structure -------------------------------------------------------------------------------
    def _kind(self, name: str) -> str:
        t = _type(self.nodes[name])
        if t in NEURON_TYPES:
            return "neuron"
        if t == "Input" and not self.preds[name]:
            return "input"
        if t == "Output" and not self.succs[name]:
            return "output"
        return "pass"  # synapse nodes and the Input/Output nodes of inlined graphs

    def _paths(self, name: str) -> list[tuple[str, list[str]]]:
        """Every path into node ``name`` back to a neuron or the input: (source, the nodes
        between, in signal order)."""
        out = []
        for pred in self.preds[name]:
            chain: list[str] = []
            node = pred
            while self._kind(node) == "pass":
                chain.append(node)
                if len(self.preds[node]) != 1:
                    raise UsageError(f"{self.what(node)} has {len(self.preds[node])} inputs; "
                                     "neurotile maps chains of layers, where every synapse node "
                                     "has one input")
                node = self.preds[node][0]
            out.append((node, chain[::-1]))
        return out

    def chain(self) -> tuple[list[FloatLayer], tuple[int, ...]]:
        inputs = [n for n in self.nodes if self._kind(n) == "input"]
        outputs = [n for n in self.nodes if self._kind(n) == "output"]
        if len(inputs) != 1 or len(outputs) != 1:
            raise UsageError(f"{self.where}: the graph has {len(inputs)} inputs and "
                             f"{len(outputs)} outputs; neurotile maps graphs with one of each")
        inp = inputs[0]
        input_shape = self._input_shape(inp)
        # The output: the last layer's spikes, directly (or through a Flatten).
        paths = self._paths(outputs[0])
        if len(paths) != 1:
            raise UsageError(f"{self.where}: the output has {len(paths)} inputs; it must take "
                             "the spikes of one layer")
        last, between = paths[0]
        bad = [n for n in between if _type(self.nodes[n]) not in ("Flatten", "Input", "Output")]
        if bad or self._kind(last) != "neuron":
            node = bad[-1] if bad else last
            raise UsageError(f"{self.what(node)} feeds the output; neurotile needs the output "
                             "to be the spikes of a layer of neurons (add a LIF or IF layer)")
        # Walk back from the last layer to the input.
        order: list[str] = []
        node = last
        seen = set()
        while node != inp:
            if node in seen:
                raise UsageError(f"{self.what(node)} is reached twice; the graph is not a chain")
            seen.add(node)
            order.append(node)
            sources = {s for s, _ in self._paths(node) if s != node}
            if len(sources) != 1:
                raise UsageError(f"{self.what(node)} takes input from "
                                 f"{', '.join(sorted(sources)) or 'nothing'}; neurotile maps "
                                 "chains where each layer takes one layer below (and itself)")
            node = sources.pop()
        order.reverse()
        layers: list[FloatLayer] = []
        shape = input_shape
        below = inp
        for name in order:
            layer = self._layer(name, below, shape)
            layers.append(layer)
            shape, below = layer.shape, name
        used = {inp, outputs[0], *order}
        for name in order + [outputs[0]]:
            for _, chain in self._paths(name):
                used.update(chain)
        unused = sorted(set(self.nodes) - used)
        if unused:
            raise UsageError(f"{self.what(unused[0])} is not on the path from the input to the "
                             "output; remove it from the graph")
        return layers, input_shape

    def _input_shape(self, name: str) -> tuple[int, ...]:
        node = self.nodes[name]
        shape = getattr(node, "input_type", {}).get("input")
        if shape is None:
            shape = getattr(node, "output_type", {}).get("output")
        if shape is None:
            raise UsageError(f"{self.what(name)} has no shape")
        shape = tuple(int(v) for v in np.asarray(shape).reshape(-1))
        if not shape or min(shape) < 1:
            raise UsageError(f"{self.what(name)} has shape {shape}")
        return shape

    # -- maps ------------------------------------------------------------------------------------
    def _compose(self, chain: list[str], shape: tuple[int, ...]) -> _Map:
        m = _Map.identity(shape)
        for name in chain:
            node = self.nodes[name]
            t = _type(node)
            if t in ("Input", "Output"):
                continue
            if t == "Flatten":
                m = _Map(m.matrix, m.bias, (int(np.prod(m.shape)),))
                continue
            n_in = int(np.prod(m.shape))
            if t in ("Linear", "Affine"):
                w = _array(node, "weight", self.what(name))
                if w.ndim != 2 or w.shape[1] != n_in:
                    raise UsageError(f"{self.what(name)}: weight is {list(w.shape)} but its "
                                     f"input has {n_in} values; the shapes do not match")
                b = _per_neuron(_array(node, "bias", self.what(name)), w.shape[0], "bias",
                                self.what(name)) if t == "Affine" else None
                m = m.then(w, b, (w.shape[0],))
            elif t == "Scale":
                s = _per_neuron(_array(node, "scale", self.what(name)), n_in, "scale",
                                self.what(name))
                m = m.then(np.diag(s), None, m.shape)
            elif t in ("Conv1d", "Conv2d"):
                matrix, bias, out_shape = _conv_matrix(node, m.shape, self.what(name))
                m = m.then(matrix, bias, out_shape)
            elif t == "SumPool2d":
                matrix, out_shape = _pool_matrix(node, m.shape, self.what(name))
                m = m.then(matrix, None, out_shape)
            else:  # pragma: no cover - every synapse type is handled above
                raise UsageError(f"{self.what(name)} cannot be mapped")
        return m

    def _layer(self, name: str, below: str, below_shape: tuple[int, ...]) -> FloatLayer:
        node = self.nodes[name]
        what = self.what(name)
        ff: _Map | None = None
        rec: _Map | None = None
        sources: list[tuple[str, str]] = []
        own = self._neuron_shape(node)
        paths = sorted(self._paths(name), key=lambda p: p[0] == name)  # feed-forward first
        for src, chain in paths:
            sources += [(n, _type(self.nodes[n])) for n in chain]
            if src == name:
                assert ff is not None
                m = self._compose(chain, own or ff.shape)
                rec = m if rec is None else _Map(rec.matrix + m.matrix, rec.bias + m.bias,
                                                  m.shape)
            else:
                m = self._compose(chain, below_shape)
                if ff is not None and ff.matrix.shape != m.matrix.shape:
                    raise UsageError(f"{what}: its inputs from {below!r} have different shapes")
                ff = m if ff is None else _Map(ff.matrix + m.matrix, ff.bias + m.bias, m.shape)
        assert ff is not None
        size = ff.matrix.shape[0]
        if own is not None and int(np.prod(own)) != size:
            raise UsageError(f"{what} has {int(np.prod(own))} neurons but its input map gives "
                             f"{size} values; the shapes do not match")
        if rec is not None and rec.matrix.shape != (size, size):
            raise UsageError(f"{what}: the recurrent map is {list(rec.matrix.shape)}, not "
                             f"{size} x {size}")
        shape = own if own is not None else ff.shape
        params = self._neuron(node, name, size)
        gain = _snap(params.pop("gain"))
        offset = params.pop("offset")
        weight = ff.matrix * gain[:, None]
        bias = ff.bias * gain + offset
        recurrent = None
        if rec is not None:
            recurrent = rec.matrix * gain[:, None]
            bias = bias + rec.bias * gain
        return FloatLayer(name=name, weight=weight, bias=bias, recurrent=recurrent,
                          shape=tuple(shape), sources=sources + [(name, _type(node))], **params)

    def _neuron_shape(self, node: Any) -> tuple[int, ...] | None:
        for key in ("v_threshold", "tau", "tau_mem", "r"):
            v = getattr(node, key, None)
            if v is not None and np.ndim(v) > 0:
                return tuple(int(s) for s in np.shape(v))
        return None

    def _neuron(self, node: Any, name: str, n: int) -> dict[str, Any]:
        """beta, threshold, alpha, gain and offset of a neuron node, per neuron."""
        t = _type(node)
        what = self.what(name)
        dt = self.dt

        def get(key: str, default: float | None = None) -> np.ndarray:
            if default is not None and getattr(node, key, None) is None:
                return np.full(n, default)
            return _per_neuron(_array(node, key, what), n, key, what)

        def tau(key: str) -> np.ndarray:
            v = get(key)
            if np.any(v <= 0):
                raise UsageError(f"{what}: {key} must be positive")
            if np.any(v < dt):
                raise UsageError(f"{what}: {key} is shorter than dt ({dt:g} s); forward Euler "
                                 "would be unstable: give the step the graph was trained with "
                                 "(--dt)")
            return v

        def zero_reset_potential() -> None:
            v_reset = getattr(node, "v_reset", None)
            if v_reset is not None and np.any(np.asarray(v_reset) != 0):
                raise UsageError(f"{what}: v_reset must be 0 (the hardware resets to 0 or "
                                 "subtracts the threshold)")

        inf = np.full(n, np.inf)
        if t == "LIF":
            tm = tau("tau")
            zero_reset_potential()
            return {"model": "lif", "beta": 1 - dt / tm, "threshold": get("v_threshold"),
                    "alpha": None, "gain": dt * get("r") / tm,
                    "offset": dt * get("v_leak", 0.0) / tm}
        if t == "CubaLIF":
            ts, tm = tau("tau_syn"), tau("tau_mem")
            zero_reset_potential()
            if np.any(get("v_leak", 0.0) != 0):
                raise UsageError(f"{what}: v_leak must be 0 for a CubaLIF layer")
            return {"model": "cuba-lif", "beta": 1 - dt / tm, "threshold": get("v_threshold"),
                    "alpha": 1 - dt / ts,
                    "gain": (dt * get("w_in", 1.0) / ts) * (dt * get("r") / tm),
                    "offset": np.zeros(n)}
        if t == "IF":
            zero_reset_potential()
            return {"model": "if", "beta": np.ones(n), "threshold": get("v_threshold"),
                    "alpha": None, "gain": dt * get("r"), "offset": np.zeros(n)}
        if t == "LI":
            tm = tau("tau")
            return {"model": "li", "beta": 1 - dt / tm, "threshold": inf, "alpha": None,
                    "gain": dt * get("r") / tm, "offset": dt * get("v_leak", 0.0) / tm}
        # I: the integrator
        return {"model": "li", "beta": np.ones(n), "threshold": inf, "alpha": None,
                "gain": dt * get("r"), "offset": np.zeros(n)}


def _snap(gain: np.ndarray) -> np.ndarray:
    """Input gains within float32 rounding of 1 are 1: an exporter's ``r = tau/dt`` read back
    as ``dt r / tau`` is 1 up to rounding, and folding ``1 + 1e-7`` into the weights would
    change their float32 values."""
    return np.where(np.abs(gain - 1.0) < 1e-6, 1.0, gain)


def _ints(value: Any) -> tuple[int, ...]:
    """A number or an array of numbers as a tuple of ints."""
    return tuple(int(v) for v in np.asarray(value).reshape(-1))


def _conv_matrix(node: Any, in_shape: tuple[int, ...], what: str
                 ) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """The dense matrix of a ``Conv1d``/``Conv2d`` on inputs of shape ``in_shape``."""
    w = _array(node, "weight", what)
    dims = w.ndim - 2
    c_out, c_in_g = w.shape[:2]
    groups = int(getattr(node, "groups", 1) or 1)
    given = getattr(node, "input_shape", None)
    if len(in_shape) == dims:  # a shape without channels: one channel
        in_shape = (1, *in_shape)
    if len(in_shape) != dims + 1 and given is not None:
        spatial = _ints(given)
        in_shape = (c_in_g * groups, *spatial)
    if len(in_shape) != dims + 1 or in_shape[0] != c_in_g * groups:
        raise UsageError(f"{what}: weight {list(w.shape)} (groups {groups}) does not fit an "
                         f"input of shape {list(in_shape)}")
    spatial_in = in_shape[1:]
    kernel = w.shape[2:]

    def per_dim(value: Any) -> tuple[int, ...]:
        v = _ints(value)
        return v * dims if len(v) == 1 else v

    stride = per_dim(getattr(node, "stride", 1))
    dilation = per_dim(getattr(node, "dilation", 1))
    padding = getattr(node, "padding", 0)
    if isinstance(padding, (bytes, np.bytes_)):
        padding = padding.decode()
    if isinstance(padding, np.ndarray) and padding.dtype.kind in "SU":
        padding = str(padding.reshape(-1)[0])
        padding = padding.decode() if isinstance(padding, bytes) else padding
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0,) * dims
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise UsageError(f"{what}: padding 'same' needs stride 1")
            pad = tuple(d * (k - 1) // 2 for d, k in zip(dilation, kernel))
        else:
            raise UsageError(f"{what}: padding {padding!r} is not 'same', 'valid' or a number")
    else:
        pad = per_dim(padding)
    out_sp = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                   for n, p, d, k, s in zip(spatial_in, pad, dilation, kernel, stride))
    if min(out_sp) < 1:
        raise UsageError(f"{what}: the kernel does not fit the input {list(in_shape)}")
    n_in = int(np.prod(in_shape))
    out_shape = (c_out, *out_sp)
    matrix = np.zeros((int(np.prod(out_shape)), n_in))
    in_idx = np.arange(n_in).reshape(in_shape)
    for co in range(c_out):
        g = co // (c_out // groups)
        for ci_g in range(c_in_g):
            ci = g * c_in_g + ci_g
            for k in np.ndindex(*kernel):
                weight = w[(co, ci_g, *k)]
                if weight == 0:
                    continue
                # output positions o read input o*s - p + k*d
                grids = np.meshgrid(*[np.arange(o) for o in out_sp], indexing="ij")
                pos = [grids[i] * stride[i] - pad[i] + k[i] * dilation[i] for i in range(dims)]
                ok = np.ones(out_sp, bool)
                for i in range(dims):
                    ok &= (pos[i] >= 0) & (pos[i] < spatial_in[i])
                out_flat = np.ravel_multi_index(
                    (np.full(out_sp, co), *grids), out_shape)[ok]
                src = in_idx[(ci, *[p[ok] for p in pos])]
                np.add.at(matrix, (out_flat, src), weight)
    bias_v = getattr(node, "bias", None)
    bias = np.zeros(matrix.shape[0])
    if bias_v is not None:
        b = np.asarray(bias_v, np.float64).reshape(-1)
        if b.size == c_out:
            bias = np.repeat(b, int(np.prod(out_sp)))
        elif b.size not in (0, 1) or (b.size == 1 and b[0] != 0):
            raise UsageError(f"{what}: bias has {b.size} values for {c_out} channels")
    return matrix, bias, out_shape


def _pool_matrix(node: Any, in_shape: tuple[int, ...], what: str
                 ) -> tuple[np.ndarray, tuple[int, ...]]:
    """The matrix of a ``SumPool2d`` on inputs ``(channels, height, width)``."""
    if len(in_shape) != 3:
        raise UsageError(f"{what}: needs an input of shape (channels, height, width), not "
                         f"{list(in_shape)}")
    kernel = _ints(node.kernel_size)
    stride = _ints(node.stride)
    padding = _ints(node.padding)
    kernel, stride, padding = (v * 2 if len(v) == 1 else v for v in (kernel, stride, padding))
    c, h, w = in_shape
    oh = (h + 2 * padding[0] - kernel[0]) // stride[0] + 1
    ow = (w + 2 * padding[1] - kernel[1]) // stride[1] + 1
    if oh < 1 or ow < 1:
        raise UsageError(f"{what}: the window does not fit the input {list(in_shape)}")
    out_shape = (c, oh, ow)
    matrix = np.zeros((c * oh * ow, c * h * w))
    for ch, i, j in np.ndindex(c, oh, ow):
        for di, dj in np.ndindex(*kernel):
            y, x = i * stride[0] - padding[0] + di, j * stride[1] - padding[1] + dj
            if 0 <= y < h and 0 <= x < w:
                matrix[(ch * oh + i) * ow + j, (ch * h + y) * w + x] += 1
    return matrix, out_shape

