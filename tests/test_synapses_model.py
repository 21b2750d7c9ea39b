# SPDX-License-Identifier: Apache-2.0
"""The sparse synapse reference: CSR storage, W^T s, saturation, and the spiking-layer chain."""

from __future__ import annotations

import numpy as np
import pytest

from neurotile.neurons.lif import LIFIntParams, LIFIntState, lif_int_step
from neurotile.neurons.synapses import (
    CSRMatrix,
    SparseParams,
    events_from_spikes,
    random_weights,
    sparse_matvec,
    sparse_run,
    spiking_layer_run,
    spiking_layer_step,
)


def test_csr_round_trip_drops_zeros():
    rng = np.random.default_rng(3)
    w = np.where(rng.random((9, 7)) < 0.3, rng.integers(-8, 8, (9, 7)), 0)
    csr = CSRMatrix.from_dense(w)
    assert csr.nnz == np.count_nonzero(w)
    assert np.all(csr.weight != 0)
    assert list(csr.row_lengths()) == list(np.count_nonzero(w, axis=1))
    assert np.array_equal(csr.to_dense(), w)


@pytest.mark.parametrize("density", [0.01, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("act_width", [1, 3])
def test_matvec_is_wt_s_without_saturation(density, act_width):
    """With accumulators wide enough, the result is exactly W^T s and the work is the row
    lengths of the inputs that spiked."""
    p = SparseParams(inputs=40, outputs=30, weight_width=8, acc_width=24, depth=1200,
                     act_width=act_width)
    rng = np.random.default_rng(int(density * 100) + act_width)
    csr = random_weights(p, density, rng)
    s = np.where(rng.random(p.inputs) < 0.4, rng.integers(1, p.act_max + 1, p.inputs), 0)
    acc, ops = sparse_matvec(csr, events_from_spikes(s), p)
    assert np.array_equal(acc, csr.to_dense().T @ s)
    assert ops == int(csr.row_lengths()[s > 0].sum())


def test_random_weights_respects_depth_and_range():
    p = SparseParams(inputs=16, outputs=16, weight_width=4, depth=50)
    csr = random_weights(p, 1.0, np.random.default_rng(0))
    assert csr.nnz == 50
    assert csr.weight.min() >= -8 and csr.weight.max() <= 7 and np.all(csr.weight != 0)
    csr.check(p)


def test_saturation_after_every_addition():
    """Clamping happens after each addition, so order matters: up to the ceiling, then down."""
    p = SparseParams(inputs=2, outputs=1, weight_width=4, acc_width=5, depth=2)
    csr = CSRMatrix.from_dense(np.array([[7], [-8]]))
    up_then_down, _ = sparse_matvec(csr, [0] * 5 + [1], p)
    assert up_then_down[0] == p.acc_max - 8  # 35 clamps to 15, then 15 - 8
    down_then_up, _ = sparse_matvec(csr, [1] * 3 + [0] * 5, p)
    assert down_then_up[0] == p.acc_max  # -24 clamps to -16, then -16 + 35 clamps to 15
    low, _ = sparse_matvec(csr, [1] * 9, p)
    assert low[0] == p.acc_min
    plain = csr.to_dense().T @ np.array([5, 1])
    assert up_then_down[0] != plain[0]


def test_repeated_and_out_of_range_events():
    p = SparseParams(inputs=3, outputs=2, weight_width=4, acc_width=8, depth=6)
    csr = CSRMatrix.from_dense(np.array([[1, 2], [0, 3], [4, 0]]))
    acc, ops = sparse_matvec(csr, [0, 0, 3, 2], p)  # 3 is past the last input: no synapses
    assert list(acc) == [1 + 1 + 4, 2 + 2]
    assert ops == 5


def test_multibit_activation_scales_the_weight():
    p = SparseParams(inputs=2, outputs=2, weight_width=4, acc_width=10, depth=4, act_width=4)
    csr = CSRMatrix.from_dense(np.array([[3, -2], [0, 5]]))
    acc, _ = sparse_matvec(csr, [(0, 15), (1, 2), (0, 0)], p)
    assert list(acc) == [45, -30 + 10]


def test_run_accumulates_per_step_from_zero():
    p = SparseParams(inputs=2, outputs=2, weight_width=4, acc_width=8, depth=4)
    csr = CSRMatrix.from_dense(np.array([[1, 0], [2, 3]]))
    acc, ops = sparse_run(csr, [[0], [1, 1], []], p)
    assert acc.tolist() == [[1, 0], [4, 6], [0, 0]]
    assert ops == 1 + 4


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(inputs=0), ValueError, "inputs must be between 1 and 4096, not 0"),
        (dict(outputs=5000), ValueError, "outputs must be between 1 and 4096, not 5000"),
        (dict(weight_width=1), ValueError, "weight_width must be between 2 and 16, not 1"),
        (dict(depth=2.5), TypeError, "depth must be an integer, not 2.5"),
        (dict(act_width=True), TypeError, "act_width must be an integer, not True"),
        (dict(weight_width=10, acc_width=8), ValueError,
         r"acc_width must be at least weight_width \(10\) so that one weight fits an "
         r"accumulator, not 8"),
    ],
)
def test_parameter_errors(kwargs, error, message):
    with pytest.raises(error, match=f"^{message}$"):
        SparseParams(**kwargs)


def test_event_value_errors():
    p = SparseParams(inputs=2, outputs=2, depth=4, act_width=2)
    csr = CSRMatrix.from_dense(np.eye(2, dtype=np.int64))
    with pytest.raises(ValueError, match=r"^activation 4 does not fit 2 bits \(0\.\.3\)$"):
        sparse_matvec(csr, [(0, 4)], p)
    binary = SparseParams(inputs=2, outputs=2, depth=4)
    with pytest.raises(ValueError, match="^binary spike events carry the value 1, not 2$"):
        sparse_matvec(csr, [(0, 2)], binary)


@pytest.mark.parametrize(
    ("matrix", "params", "message"),
    [
        (np.ones((2, 2), np.int64), dict(inputs=3, outputs=2),
         "matrix is 2 x 2 but the tile is 3 x 2"),
        (np.ones((2, 2), np.int64), dict(inputs=2, outputs=2, depth=3),
         "4 non-zero weights do not fit a depth-3 memory"),
        (np.full((2, 2), 9, np.int64), dict(inputs=2, outputs=2, weight_width=4),
         r"weights must fit 4 bits: allowed -8\.\.7"),
    ],
)
def test_matrix_check_errors(matrix, params, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        CSRMatrix.from_dense(matrix).check(SparseParams(**params))


def test_from_dense_errors():
    with pytest.raises(ValueError, match="^weight matrix must be 2-D .inputs x outputs., not 1-D$"):
        CSRMatrix.from_dense(np.ones(3, np.int64))
    with pytest.raises(TypeError, match="^weight matrix must hold integers, not float64$"):
        CSRMatrix.from_dense(np.ones((2, 2)))


def test_layer_step_is_synapses_then_lif():
    """The layer's reference is exactly sparse_matvec feeding lif_int_step, state carried."""
    sp = SparseParams(inputs=12, outputs=10, weight_width=6, acc_width=10, depth=120)
    lp = LIFIntParams(neurons=10, width=12, input_width=10, threshold=40, decay=2,
                      refractory=1)
    rng = np.random.default_rng(5)
    csr = random_weights(sp, 0.5, rng)
    steps = [list(np.flatnonzero(rng.random(12) < 0.5)) for _ in range(30)]
    fired, mems, final = spiking_layer_run(csr, steps, sp, lp)
    state = LIFIntState.zeros(10)
    for t, events in enumerate(steps):
        current, _ = sparse_matvec(csr, events, sp)
        state, spikes = lif_int_step(state, current, lp)
        assert fired[t] == list(np.flatnonzero(spikes))
        assert np.array_equal(mems[t], state.mem)
    assert sum(len(f) for f in fired) > 0
    assert np.array_equal(final.mem, state.mem)


def test_layer_shape_mismatch():
    sp = SparseParams(inputs=4, outputs=4, depth=16)
    lp = LIFIntParams(neurons=4, input_width=8)
    csr = CSRMatrix.from_dense(np.eye(4, dtype=np.int64))
    with pytest.raises(ValueError, match=r"^LIF population \(4 neurons, 8-bit input\) does not "
                                         r"match the synapses \(4 outputs, 12-bit accumulators\)$"):
        spiking_layer_step(LIFIntState.zeros(4), csr, [0], sp, lp)
