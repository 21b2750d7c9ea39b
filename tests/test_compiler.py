# SPDX-License-Identifier: Apache-2.0
"""The NIR reader, the float reference and the quantiser, on graphs built here.

The float reference is checked against the per-model float steps that match snnTorch
(:func:`leaky_f32_step`, :func:`synaptic_step`); convolutions and pooling against direct loops;
every unsupported structure against its one-line message.
"""

from __future__ import annotations

import numpy as np
import pytest

nir = pytest.importorskip("nir")

from neurotile.compiler.floatsim import simulate  # noqa: E402
from neurotile.compiler.graph import from_nir, read_graph  # noqa: E402
from neurotile.compiler.pipeline import load_data  # noqa: E402
from neurotile.compiler.quantise import QuantOptions, quantise  # noqa: E402
from neurotile.errors import UsageError  # noqa: E402
from neurotile.neurons.cuba_lif import SynapticParams, synaptic_step  # noqa: E402
from neurotile.neurons.lif import LeakyParams, leaky_f32_step  # noqa: E402
from neurotile.neurons.network import run_network  # noqa: E402

DT = 1e-4
F32 = np.float32


def lif_node(n: int | None, beta: float = 0.9, threshold: float = 1.0) -> object:
    """The node snnTorch exports for Leaky(beta); ``n=None`` gives 0-d parameters."""
    shape = () if n is None else (n,)
    tau = F32(DT) / (F32(1) - F32(beta))
    return nir.LIF(tau=np.full(shape, tau, F32), r=np.full(shape, tau / F32(DT), F32),
                   v_leak=np.zeros(shape, F32), v_threshold=np.full(shape, threshold, F32),
                   v_reset=np.zeros(shape, F32))


def cuba_node(n: int, alpha: float = 0.8, beta: float = 0.9) -> object:
    ts = F32(DT) / (F32(1) - F32(alpha))
    tm = F32(DT) / (F32(1) - F32(beta))
    return nir.CubaLIF(tau_syn=np.full(n, ts, F32), tau_mem=np.full(n, tm, F32),
                       r=np.full(n, tm / F32(DT), F32), v_leak=np.zeros(n, F32),
                       v_threshold=np.ones(n, F32), v_reset=np.zeros(n, F32),
                       w_in=np.full(n, ts / F32(DT), F32))


def chain(nodes: dict, n_in: int, n_out: int, extra_edges=()) -> object:
    names = list(nodes)
    all_nodes = {"input": nir.Input(input_type=np.array([n_in])), **nodes,
                 "output": nir.Output(output_type=np.array([n_out]))}
    order = ["input", *names, "output"]
    edges = list(zip(order, order[1:])) + list(extra_edges)
    return nir.NIRGraph(nodes=all_nodes, edges=edges, type_check=False)


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(20261202)


def two_layer(rng: np.random.Generator, n: int | None = 6):
    w1 = rng.normal(0, 0.5, (6, 5)).astype(F32)
    w2 = rng.normal(0, 0.8, (3, 6)).astype(F32)
    g = chain({"0": nir.Linear(weight=w1), "1": lif_node(n), "2": nir.Linear(weight=w2),
               "3": lif_node(None if n is None else 3)}, 5, 3)
    return g, w1, w2


def test_lif_chain_matches_snntorch_leaky_steps(rng, tmp_path):
    g, w1, w2 = two_layer(rng)
    nir.write(tmp_path / "g.nir", g)
    net = read_graph(tmp_path / "g.nir")
    assert [l.model for l in net.layers] == ["lif", "lif"]
    assert net.layers[0].beta.astype(F32)[0] == F32(0.9)  # beta recovered exactly in float32
    x = (rng.random((5, 12, 5)) * 2).astype(F32)
    run = simulate(net, x)
    p = LeakyParams(beta=float(F32(0.9)))
    for s in range(len(x)):
        m1, m2 = np.zeros(6, F32), np.zeros(3, F32)
        for t in range(x.shape[1]):
            m1, s1 = leaky_f32_step(m1, x[s, t] @ w1.T, p)
            m2, s2 = leaky_f32_step(m2, s1.astype(F32) @ w2.T, p)
            assert (s1 == run.spikes[0][s, t]).all() and (s2 == run.spikes[1][s, t]).all()
    assert run.counts.sum() > 0, "the test network must spike to test anything"


def test_zero_dimensional_parameters_are_broadcast():
    # Same weights (same generator seed) in both graphs: same spikes.
    per, _, _ = two_layer(np.random.default_rng(5), 6)
    scalar, _, _ = two_layer(np.random.default_rng(5), None)
    x = (np.random.default_rng(3).random((4, 10, 5)) * 2).astype(F32)
    a = simulate(from_nir(per), x)
    b = simulate(from_nir(scalar), x)
    assert (a.counts == b.counts).all()


def test_cuba_lif_and_affine_match_synaptic_steps(rng):
    w = rng.normal(0, 0.6, (4, 5)).astype(F32)
    b = rng.normal(0, 0.1, 4).astype(F32)
    g = chain({"0": nir.Affine(weight=w, bias=b), "1": cuba_node(4)}, 5, 4)
    net = from_nir(g)
    assert net.layers[0].model == "cuba-lif"
    x = (rng.random((3, 15, 5))).astype(F32)
    run = simulate(net, x)
    p = SynapticParams(alpha=float(F32(0.8)), beta=float(F32(0.9)))
    for s in range(3):
        syn, mem = np.zeros(4, F32), np.zeros(4, F32)
        for t in range(15):
            syn, mem, spk = synaptic_step(syn, mem, x[s, t] @ w.T + b, p)
            assert (spk == run.spikes[0][s, t]).all()


def test_recurrent_edge_uses_the_previous_steps_spikes(rng):
    w = rng.normal(0, 0.7, (4, 3)).astype(F32)
    wr = rng.normal(0, 0.5, (4, 4)).astype(F32)
    g = chain({"0": nir.Linear(weight=w), "1": lif_node(4)}, 3, 4,
              extra_edges=[("1", "rec"), ("rec", "1")])
    g.nodes["rec"] = nir.Linear(weight=wr)
    net = from_nir(g)
    assert net.layers[0].recurrent is not None
    x = rng.random((3, 12, 3)).astype(F32) * 2
    run = simulate(net, x)
    p = LeakyParams(beta=float(F32(0.9)))
    for s in range(3):
        mem, spk = np.zeros(4, F32), np.zeros(4, F32)
        for t in range(12):
            mem, out = leaky_f32_step(mem, x[s, t] @ w.T + spk @ wr.T, p)
            spk = out.astype(F32)
            assert (out == run.spikes[0][s, t]).all()


def naive_conv2d(x, w, stride, pad, dil, groups):
    c_in, h, wd = x.shape
    c_out, cg, kh, kw = w.shape
    oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    xp = np.pad(x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    out = np.zeros((c_out, oh, ow))
    per = c_out // groups
    for co in range(c_out):
        g = co // per
        for i in range(oh):
            for j in range(ow):
                for ci in range(cg):
                    for a in range(kh):
                        for b in range(kw):
                            out[co, i, j] += w[co, ci, a, b] * xp[g * cg + ci,
                                                                  i * stride[0] + a * dil[0],
                                                                  j * stride[1] + b * dil[1]]
    return out


@pytest.mark.parametrize("stride,pad,dil,groups", [
    ((1, 1), (0, 0), (1, 1), 1), ((2, 1), (1, 2), (1, 1), 1), ((1, 1), (1, 1), (2, 1), 2)])
def test_conv2d_becomes_the_right_sparse_matrix(rng, stride, pad, dil, groups):
    from neurotile.compiler.graph import _conv_matrix

    c_in, c_out = 2, 4
    w = rng.normal(size=(c_out, c_in // groups, 3, 2))
    node = nir.Conv2d(input_shape=(5, 6), weight=w, stride=stride, padding=pad, dilation=dil,
                      groups=groups, bias=np.arange(c_out, dtype=float))
    matrix, bias, shape = _conv_matrix(node, (c_in, 5, 6), "conv")
    x = rng.normal(size=(c_in, 5, 6))
    want = naive_conv2d(x, w, stride, pad, dil, groups)
    assert shape == want.shape
    np.testing.assert_allclose((matrix @ x.reshape(-1)).reshape(shape), want, atol=1e-12)
    np.testing.assert_array_equal(bias.reshape(shape)[:, 0, 0], np.arange(c_out))


def test_conv1d_and_sum_pooling(rng):
    from neurotile.compiler.graph import _conv_matrix, _pool_matrix

    w = rng.normal(size=(3, 2, 3))
    node = nir.Conv1d(input_shape=7, weight=w, stride=2, padding=1, dilation=1, groups=1,
                      bias=np.zeros(3))
    matrix, _, shape = _conv_matrix(node, (2, 7), "conv1d")
    x = rng.normal(size=(2, 7))
    want = naive_conv2d(x[:, None, :], w[:, :, None, :], (1, 2), (0, 1), (1, 1), 1)[:, 0, :]
    np.testing.assert_allclose((matrix @ x.reshape(-1)).reshape(shape), want, atol=1e-12)
    pool = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                         padding=np.array([0, 0]))
    pm, pshape = _pool_matrix(pool, (2, 4, 4), "pool")
    y = rng.normal(size=(2, 4, 4))
    want = y.reshape(2, 2, 2, 2, 2).sum(axis=(2, 4))
    np.testing.assert_allclose((pm @ y.reshape(-1)).reshape(pshape), want)


def test_conv_network_reads_and_runs(rng):
    w = rng.normal(0, 0.5, (2, 1, 3, 3)).astype(F32)
    conv = nir.Conv2d(input_shape=(6, 6), weight=w, stride=1, padding=0, dilation=1, groups=1,
                      bias=np.zeros(2, F32))
    n = 2 * 4 * 4
    g = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([1, 6, 6])), "conv": conv,
        "lif": lif_node(None), "flat": nir.Flatten(input_type={"input": np.array([2, 4, 4])},
                                                   start_dim=0),
        "fc": nir.Linear(weight=rng.normal(0, 0.3, (3, n)).astype(F32)),
        "out_lif": lif_node(3), "output": nir.Output(output_type=np.array([3]))},
        edges=[("input", "conv"), ("conv", "lif"), ("lif", "flat"), ("flat", "fc"),
               ("fc", "out_lif"), ("out_lif", "output")], type_check=False)
    net = from_nir(g)
    assert [l.size for l in net.layers] == [n, 3]
    assert net.layers[0].shape == (2, 4, 4)
    run = simulate(net, rng.random((2, 5, 36)).astype(F32) * 3)
    assert run.spikes[0].shape == (2, 5, n)


@pytest.mark.parametrize("case,message", [
    ("unsupported", "is a Delay, which neurotile does not map"),
    ("ends_in_linear", "feeds the output"),
    ("branch", "takes input from"),
    ("shape", "the shapes do not match"),
    ("v_reset", "v_reset must be 0"),
])
def test_unsupported_graphs_are_refused_in_one_line(rng, case, message):
    w = rng.normal(size=(4, 3)).astype(F32)
    if case == "unsupported":
        g = chain({"0": nir.Linear(weight=w), "d": nir.Delay(delay=np.ones(4, F32)),
                   "1": lif_node(4)}, 3, 4)
    elif case == "ends_in_linear":
        g = chain({"0": nir.Linear(weight=w), "1": lif_node(4),
                   "2": nir.Linear(weight=np.ones((2, 4), F32))}, 3, 2)
    elif case == "branch":
        g = chain({"0": nir.Linear(weight=w), "1": lif_node(4),
                   "2": nir.Linear(weight=np.ones((4, 4), F32)), "3": lif_node(4)}, 3, 4,
                  extra_edges=[("input", "skip"), ("skip", "3")])
        g.nodes["skip"] = nir.Linear(weight=np.ones((4, 3), F32))
    elif case == "shape":
        g = chain({"0": nir.Linear(weight=w), "1": lif_node(5)}, 3, 5)
    else:
        node = lif_node(4)
        node.v_reset = np.full(4, -0.5, F32)
        g = chain({"0": nir.Linear(weight=w), "1": node}, 3, 4)
    with pytest.raises(UsageError, match=message) as info:
        from_nir(g)
    assert "\n" not in str(info.value)


def test_a_file_that_is_not_nir(tmp_path):
    bad = tmp_path / "net.nir"
    bad.write_text("not hdf5\n")
    with pytest.raises(UsageError, match="is not a NIR graph file"):
        read_graph(bad)
    with pytest.raises(UsageError, match="no such file"):
        read_graph(tmp_path / "missing.nir")


def test_data_files_are_checked(rng, tmp_path):
    g, _, _ = two_layer(rng)
    net = from_nir(g)
    cases = {
        "keys": ({"x": np.zeros((2, 3, 5))}, "has no 'inputs' or 'labels'"),
        "width": ({"inputs": np.zeros((2, 3, 4)), "labels": np.zeros(2, int)},
                  "does not fit the graph"),
        "rank": ({"inputs": np.zeros((2, 5)), "labels": np.zeros(2, int)}, "must be"),
        "labels": ({"inputs": np.zeros((2, 3, 5)), "labels": np.array([0, 7])},
                   "classes 0..2"),
    }
    for name, (arrays, message) in cases.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, **arrays)
        with pytest.raises(UsageError, match=message):
            load_data(path, net)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"junk")
    with pytest.raises(UsageError, match="not a NumPy .npz"):
        load_data(junk, net)


def test_quantised_network_follows_the_float_one(rng):
    # A network that spikes moderately; with 8-bit weights and 16-bit membranes the integer
    # network's output spike counts stay close to the float ones.
    w1 = rng.normal(0, 0.6, (16, 8)).astype(F32)
    w2 = rng.normal(0, 0.5, (4, 16)).astype(F32)
    g = chain({"0": nir.Linear(weight=w1), "1": lif_node(16), "2": nir.Linear(weight=w2),
               "3": lif_node(4)}, 8, 4)
    net = from_nir(g)
    x = rng.random((64, 20, 8)).astype(F32)
    f = simulate(net, x)
    q = quantise(net, f, x, QuantOptions(weight_bits=8, membrane_bits=16))
    assert q.network.input_width == 4 and not q.binary_input
    lay = q.network.layers[0]
    assert np.abs(lay.weights.weight).max() <= 127
    r = run_network(q.network, q.encode(x))
    # Spike rates of the hidden layer agree within a few percent of the float model's.
    assert abs(r.spikes[0].mean() - f.spikes[0].mean()) < 0.03
    assert np.mean(r.classes == f.classes) > 0.8
    # Binary data passes unscaled, 1 bit wide.
    xb = (rng.random((8, 10, 8)) < 0.3).astype(F32)
    qb = quantise(net, simulate(net, xb), xb)
    assert qb.binary_input and qb.network.input_width == 1
    assert (qb.encode(xb) == xb).all()


def test_a_layer_that_never_fires_is_refused(rng):
    g = chain({"0": nir.Linear(weight=np.ones((2, 3), F32)),
               "1": nir.LI(tau=np.full(2, 1e-3, F32), r=np.full(2, 10.0, F32),
                           v_leak=np.zeros(2, F32))}, 3, 2)
    net = from_nir(g)
    x = np.ones((2, 4, 3), F32)
    run = simulate(net, x)
    assert not run.spikes[0].any()
    with pytest.raises(UsageError, match="never fires"):
        quantise(net, run, x)
