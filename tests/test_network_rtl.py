# SPDX-License-Identifier: Apache-2.0
"""The hardware of whole networks (rtl/network.py) against the integer model, run_network.

Seeded random networks: a saturating one (LIF, recurrent CubaLIF and IF layers, 3-bit input,
narrow accumulators and membranes, 2-bit spike counters, constant ROM weights) and a wide one
that never saturates (recurrent CubaLIF into LIF, binary input, programmable weights, then
reprogrammed without a rebuild); both with per-neuron thresholds and bias. The wide network is
also built with its weights and accumulators in Sky130 latches (the compile default for
programmable weights; reprogrammed too), in both layouts. Every output spike event,
end marker, count and class is compared: on Verilator for all samples, on Icarus for a few,
with random gaps and back-pressure; a planted error must be the only mismatch. Small random
networks of every shape run in Amaranth's simulator, with flip-flop and latch storage and
both layouts. Each design is generated and built once per module.
"""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from neurotile.neurons.network import Network, run_network
from neurotile.neurons.synapses import CSRMatrix, SparseParams, random_weights
from neurotile.rtl.network import (DENSE_MAX_WEIGHTS, NetworkTop, choose_layout, network_digest,
                                  network_verilog, weight_bits)
from neurotile.rtl.sparse_matmul import SparseMatmul
from neurotile.testbench.network_bulk import (assert_network_found, network_design,
                                              random_inputs, random_network,
                                              run_network_amaranth, run_network_bulk)
from neurotile.testbench.runner import lint

#: Narrow widths: accumulators, membranes, synaptic currents and counters all saturate.
SATURATING = dict(sizes=[12, 10, 8, 6], models=["lif", "cuba-lif", "if"],
                  recurrent=[False, True, False], input_width=3, count_width=2, weight_width=4,
                  acc_width=5, width=6, syn_width=5, density=[0.5, 0.6, 0.7], banks=[1, 2, 1])
#: Wide widths and small weights: nothing ever saturates.
WIDE = dict(sizes=[9, 7, 5], models=["cuba-lif", "lif"], recurrent=[True, False],
            input_width=1, count_width=6, weight_width=5, acc_width=14, width=16, syn_width=16,
            density=0.6, threshold=(8, 40), banks=[2, 1])


def _saturating() -> tuple[Network, np.ndarray]:
    net = random_network(29, **SATURATING)
    return net, random_inputs(net, 40, 10, 129, rate=0.5)


def _wide() -> tuple[Network, np.ndarray]:
    net = random_network(10, **WIDE)
    return net, random_inputs(net, 40, 12, 110, rate=0.4)


def _reprogrammed(net: Network, seed: int) -> Network:
    """``net`` with other weights in the same memories (the same programmable hardware)."""
    rng = np.random.default_rng(seed)
    layers = []
    for layer in net.layers:
        sp = layer.sparse
        w = random_weights(sp, 0.6, rng, low=sp.weight_min, high=sp.weight_max)
        layers.append(replace(layer, weights=w))
    return Network(tuple(layers), input_width=net.input_width, count_width=net.count_width)


@pytest.fixture(scope="module")
def saturating():
    net, x = _saturating()
    return net, x, network_design(net, "constant")


@pytest.fixture(scope="module")
def wide():
    net, x = _wide()
    return net, x, network_design(net, "programmable")


@pytest.fixture(scope="module")
def wide_latch():
    """The wide network with its tiles' memories in latches, CSR and dense layouts."""
    net, x = _wide()
    return net, x, {layout: network_design(net, "programmable", "latch", layout)
                    for layout in ("csr", "dense")}


# -- without an HDL simulator -----------------------------------------------------------------


def test_layout_choice_counts_the_bits_of_each_layout():
    """CSR stores each synapse's weight and output index plus the row pointers, dense every
    weight; the compile default takes the smaller, with latches only, and CSR for a layer too
    large for the dense tile's address."""
    kw = dict(sizes=[16, 12, 6], models=["lif", "lif"], weight_width=6, spare_depth=0)
    full, sparse = random_network(4, density=0.95, **kw), random_network(4, density=0.1, **kw)
    for net in (full, sparse):
        csr = sum(layer.sparse.depth * (6 + layer.sparse.index_width)
                  + (layer.sparse.inputs + 1) * layer.sparse.ptr_width for layer in net.layers)
        assert weight_bits(net, "csr") == csr
        assert weight_bits(net, "dense") == (16 * 12 + 12 * 6) * 6
    assert choose_layout(full, "programmable", "latch") == "dense"
    assert choose_layout(sparse, "programmable", "latch") == "csr"
    assert choose_layout(full, "programmable", "memory") == "csr"
    assert choose_layout(full, "constant", "memory") == "csr"
    # Only the tiles' parameters count: a stand-in network whose first layer is too wide.
    huge = replace(full.layers[0].sparse, inputs=4096, outputs=17, depth=65536)
    assert huge.inputs * huge.outputs > DENSE_MAX_WEIGHTS
    layers = [SimpleNamespace(sparse=huge), *full.layers[1:]]
    assert choose_layout(SimpleNamespace(layers=layers), "programmable", "latch") == "csr"


def test_tile_with_constant_weights_has_roms_and_no_write_ports():
    p = SparseParams(inputs=5, outputs=3, weight_width=4, depth=9)
    w = CSRMatrix.from_dense(np.array([[1, 0, -2], [0, 0, 0], [7, 7, 7], [0, -8, 0], [3, 0, 0]]))
    tile = SparseMatmul(**p.structural(), weights=w)
    assert set(tile.signature.members) == {"events", "results"}
    assert not hasattr(tile, "ptr_write") and not hasattr(tile, "syn_write")
    assert {"ptr_write", "syn_write"} <= set(SparseMatmul(**p.structural()).signature.members)
    with pytest.raises(ValueError, match="do not fit"):
        SparseMatmul(**(p.structural() | {"depth": 6}), weights=w)
    with pytest.raises(TypeError):
        SparseMatmul(**p.structural(), weights=w.to_dense())


def _small(seed: int) -> tuple[Network, np.ndarray, str]:
    """A random network of one to three layers of every model, sizes down to one neuron."""
    rng = np.random.default_rng(seed)
    layers = int(rng.integers(1, 4))
    sizes = [int(rng.integers(1, 8)) for _ in range(layers + 1)]
    net = random_network(rng, sizes, [str(rng.choice(["lif", "cuba-lif", "if"]))
                                      for _ in range(layers)],
                         recurrent=[bool(rng.integers(2)) for _ in range(layers)],
                         input_width=int(rng.choice([1, 3, 4])),
                         banks=[int(rng.integers(1, 3)) for _ in range(layers)],
                         count_width=int(rng.integers(1, 5)), density=float(rng.uniform(0.3, 1)))
    x = random_inputs(net, 4, int(rng.integers(1, 8)), rng, rate=float(rng.uniform(0.1, 0.9)))
    return net, x, "programmable" if seed % 2 else "constant"


@pytest.mark.parametrize("seed", range(6))
def test_small_random_networks_in_amaranth(seed):
    net, x, weights = _small(seed)
    report = run_network_amaranth(net, x, weights=weights, seed=seed, gap=0.25, stall=0.25)
    assert_network_found(report, None)
    assert report["samples_identical"] == 1.0


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_recurrent_replay_waits_for_the_previous_step(seed):
    """A recurrent first layer with two accumulator banks and sparse input: the next step's
    marker arrives while the layer still reports the previous step, whose spikes the replay
    must wait for (without the wait these runs differ from the model)."""
    net = random_network(seed, [4, 6, 3], ["lif", "if"], recurrent=[True, False], banks=[2, 1],
                         density=0.8, threshold=(1, 3), weight_range=(1, 7))
    x = random_inputs(net, 6, 10, seed, rate=0.1)
    report = run_network_amaranth(net, x)
    assert_network_found(report, None)
    assert report["spikes"] > 50


@pytest.mark.parametrize("seed,layout", [(1, "csr"), (3, "dense"), (5, "csr"), (6, "dense")])
def test_small_random_latch_networks_in_amaranth(seed, layout):
    net, x, _ = _small(seed)
    report = run_network_amaranth(net, x, weights="programmable", storage="latch",
                                  layout=layout, seed=seed, gap=0.25, stall=0.25)
    assert_network_found(report, None)
    assert report["samples_identical"] == 1.0


def test_planted_error_in_amaranth():
    net, x, weights = _small(4)
    plant = (2, x.shape[1] - 1, net.outputs - 1)
    report = run_network_amaranth(net, x, weights=weights, plant=plant)
    assert_network_found(report, plant)


def test_verilog_is_deterministic_and_named_by_the_network(saturating, wide):
    net, _, (verilog, top, _) = saturating
    again, _ = _saturating()  # an equal network, built anew
    text, name, _ = network_verilog(again, "constant")
    assert text == verilog and name == top
    assert re.fullmatch(r"nt_network_[0-9a-f]{8}", top)
    assert f"module {top}(" in verilog
    # Other weights: another constant design, the same programmable one.
    other = _reprogrammed(net, 5)
    assert network_verilog(other, "constant")[1] != top
    assert network_design(other, "programmable")[1] == network_design(net, "programmable")[1]
    wnet, _, (_, wtop, _) = wide
    assert network_design(_reprogrammed(wnet, 3), "programmable")[1] == wtop


def test_write_ports_only_when_programmable(saturating, wide):
    net, _, (verilog, _, ports) = saturating
    names = {p["name"] for p in ports}
    assert not any("write" in n for n in names) and "ptr_write" not in verilog
    assert {n.split("__")[0] for n in names} == {"events", "spikes", "result"}
    wnet, _, (_, _, wports) = wide
    wnames = {p["name"].split("__")[0] for p in wports}
    assert wnames == {"events", "spikes", "result"} | {
        f"{kind}_write_{k}" for k in range(len(wnet.layers)) for kind in ("ptr", "syn")}
    with pytest.raises(ValueError, match="constant"):
        NetworkTop(net, weights="rom")


def test_storage_and_layout_ports_names_and_refusals(saturating, wide_latch):
    net, _, designs = wide_latch
    layers = range(len(net.layers))
    for layout, kinds in (("csr", ("ptr", "syn")), ("dense", ("weight",))):
        verilog, top, ports = designs[layout]
        assert {p["name"].split("__")[0] for p in ports} == {"events", "spikes", "result"} | {
            f"{kind}_write_{k}" for k in layers for kind in kinds}
        assert "sky130_fd_sc_hd__dlxtp_1" in verilog and "sky130_fd_sc_hd__dlclkp_1" in verilog
        assert f"programmable weights in latches{', dense layout' * (layout == 'dense')}," \
            in verilog.splitlines()[0]
    # Each storage and layout its own design; the flip-flop design keeps its name.
    tops = {designs["csr"][1], designs["dense"][1], network_design(net, "programmable")[1]}
    assert len(tops) == 3
    assert network_digest(net, "programmable", "memory", "csr") == \
        network_digest(net, "programmable")
    # Another matrix of the same structure: the same latch designs.
    other = _reprogrammed(net, 4)
    for layout in ("csr", "dense"):
        assert network_design(other, "programmable", "latch", layout)[1] == designs[layout][1]
    cnet = saturating[0]
    for storage, layout in (("latch", "csr"), ("memory", "dense"), ("latch", "dense")):
        with pytest.raises(ValueError, match="constant weights are ROMs"):
            NetworkTop(cnet, storage=storage, layout=layout)
    with pytest.raises(ValueError, match="the dense layout needs latch storage"):
        NetworkTop(net, weights="programmable", layout="dense")
    with pytest.raises(ValueError, match="storage must be"):
        network_digest(net, "programmable", "sram")


def test_networks_cover_what_they_claim(saturating, wide):
    """The saturating network saturates every layer's accumulators and membranes and the
    counters (with ties for the class); the wide one never saturates."""
    for net, x, _ in (saturating, wide):
        for layer in net.layers:
            assert layer.neurons.tables() and layer.neurons.bias is not None
    net, x, _ = saturating
    ref = run_network(net, x)
    assert all(ref.acc_saturations) and all(ref.membrane_saturations)
    assert (ref.spikes[-1].sum(axis=1) > net.count_max).any()
    assert any((c == c.max()).sum() > 1 for c in ref.counts)
    assert len(set(ref.classes.tolist())) > 1
    wnet, wx, _ = wide
    wref = run_network(wnet, wx)
    assert not any(wref.acc_saturations) and not any(wref.membrane_saturations)
    assert wref.spikes[-1].sum() > 50


# -- Icarus and Verilator ---------------------------------------------------------------------

@pytest.mark.sim
def test_verilator_lint_clean(saturating, wide, wide_latch, tmp_path):
    designs = [saturating[2], wide[2], *wide_latch[2].values()]
    for verilog, top, _ in designs:
        result = lint(verilog, top, tmp_path)
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def saturating_verilator(saturating, build_root):
    net, x, _ = saturating
    return run_network_bulk(net, x, sim="verilator", weights="constant", seed=3, gap=0.3,
                            stall=0.3, build_dir=build_root / "network")


@pytest.mark.sim
def test_saturating_network_on_verilator(saturating_verilator):
    report = saturating_verilator
    assert_network_found(report, None)
    assert report["samples"] == 40 and report["samples_identical"] == 1.0
    assert report["classes_agree"] == 1.0 and report["spikes"] > 100
    assert report["samples_per_second"] > 0


@pytest.mark.sim
def test_saturating_network_on_icarus(saturating, build_root):
    net, x, _ = saturating
    report = run_network_bulk(net, x[:3], sim="icarus", weights="constant", seed=4, gap=0.2,
                              stall=0.4, build_dir=build_root / "network")
    assert_network_found(report, None)
    assert report["samples"] == 3 and report["samples_identical"] == 1.0


@pytest.mark.sim
def test_planted_error_is_the_only_mismatch(saturating, build_root):
    net, x, _ = saturating
    plant = (17, 6, 2)
    report = run_network_bulk(net, x, sim="verilator", weights="constant", seed=5,
                              build_dir=build_root / "network", plant=plant)
    assert_network_found(report, plant)
    assert report["samples_identical"] == 39 / 40


def _layer_cycles(net: Network, x: np.ndarray) -> np.ndarray:
    """The documented cost of each layer's step: ``W + neurons + 2`` with one accumulator
    bank, ``max(W + 2, neurons + 1)`` with two (``W`` sums ``max(1, L(a))`` over its events,
    replayed spikes included); ``[samples, steps, layers]``."""
    ref = run_network(net, x)
    out = []
    below = x != 0
    for k, layer in enumerate(net.layers):
        rows = np.maximum(1, layer.weights.row_lengths())
        work = below.astype(np.int64) @ rows[:layer.inputs]
        if layer.recurrent:
            prev = np.concatenate([np.zeros_like(ref.spikes[k][:, :1]), ref.spikes[k][:, :-1]],
                                  axis=1)
            work = work + prev.astype(np.int64) @ rows[layer.inputs:]
        if layer.sparse.banks == 1:
            out.append(work + layer.size + 2)
        else:
            out.append(np.maximum(work + 2, layer.size + 1))
        below = ref.spikes[k]
    return np.stack(out, axis=-1)


@pytest.mark.sim
def test_wide_programmable_network_on_verilator(wide, build_root):
    net, x, (_, top, _) = wide
    report = run_network_bulk(net, x, sim="verilator", weights="programmable", seed=6,
                              build_dir=build_root / "network")
    assert_network_found(report, None)
    assert report["top"] == top and report["samples_identical"] == 1.0
    # Cycles: between the slowest layer's steps (layers overlapping perfectly) and every layer's
    # steps one after the other plus the readout and reset.
    cost = _layer_cycles(net, x)
    fastest = cost.max(axis=2).sum(axis=1).mean()
    slowest = (cost + 2).sum(axis=(1, 2)).mean() + max(layer.size for layer in net.layers) + 8
    assert fastest <= report["cycles_per_sample"] <= slowest, (fastest, slowest)
    # Other weights into the same hardware: no rebuild, still exact.
    other = _reprogrammed(net, 3)
    again = run_network_bulk(other, x, sim="verilator", weights="programmable", seed=7,
                             gap=0.2, stall=0.2, build_dir=build_root / "network")
    assert_network_found(again, None)
    assert again["top"] == top and again["build_seconds"] < 2.0
    assert not np.array_equal(again["rtl_counts"], report["rtl_counts"])


@pytest.mark.sim
def test_wide_programmable_network_on_icarus(wide, build_root):
    net, x, _ = wide
    report = run_network_bulk(net, x[:3], sim="icarus", weights="programmable", seed=8,
                              gap=0.3, stall=0.3, build_dir=build_root / "network")
    assert_network_found(report, None)
    assert report["samples"] == 3 and report["samples_identical"] == 1.0


@pytest.mark.sim
@pytest.mark.parametrize("layout", ["csr", "dense"])
def test_wide_latch_network_on_verilator(wide_latch, build_root, layout):
    """Weights and accumulators in latches, programmed back to back after the reset (one write
    per layer and cycle), then reprogrammed with other weights: the same hardware, no
    rebuild, still exact."""
    net, x, designs = wide_latch
    report = run_network_bulk(net, x, sim="verilator", weights="programmable", storage="latch",
                              layout=layout, seed=9, gap=0.3, stall=0.3,
                              build_dir=build_root / "network")
    assert_network_found(report, None)
    assert report["top"] == designs[layout][1] and report["samples_identical"] == 1.0
    assert report["spikes"] > 100
    other = _reprogrammed(net, 3)
    again = run_network_bulk(other, x, sim="verilator", weights="programmable",
                             storage="latch", layout=layout, seed=10,
                             build_dir=build_root / "network")
    assert_network_found(again, None)
    assert again["top"] == report["top"] and again["build_seconds"] < 2.0
    assert not np.array_equal(again["rtl_counts"], report["rtl_counts"])


@pytest.mark.sim
@pytest.mark.parametrize("layout", ["csr", "dense"])
def test_wide_latch_network_on_icarus(wide_latch, build_root, layout):
    net, x, designs = wide_latch
    plant = (1, 4, 2)
    report = run_network_bulk(net, x[:3], sim="icarus", weights="programmable",
                              storage="latch", layout=layout, seed=11, gap=0.3, stall=0.3,
                              build_dir=build_root / "network", plant=plant)
    assert report["top"] == designs[layout][1] and report["spikes"] > 10
    assert_network_found(report, plant)
