# SPDX-License-Identifier: Apache-2.0
"""Train the digits example networks with snnTorch and export them to NIR.

The data are scikit-learn's 8x8 handwritten digits (``sklearn.datasets.load_digits``, 1,797
images that ship with scikit-learn). A seeded permutation splits them into 1,437 training and
360 test images. Each image becomes 64 inputs ``x = pixel / 16`` in [0, 1], presented for
``STEPS`` time steps in one of two encodings:

``direct``
    ``x`` on every step (multi-bit input currents).
``spikes``
    Bernoulli rate coding: input ``i`` spikes on a step with probability ``x[i]`` (0/1 values
    drawn once from a seeded NumPy generator).

Every network is trained on the spike counts of its output layer (snnTorch's cross-entropy rate
loss, Adam) and predicts the class with the most output spikes, ties going to the lowest index.
Beta (0.9) and the threshold (1.0) are fixed, not learned; neurons reset by subtraction with
snnTorch's default delayed reset.

Outputs, all under ``--out``:

``digits_<net>.nir``
    The trained network, exported with ``snntorch.export_nir.export_to_nir``.
``digits_<net>_scalar.nir``
    The same weights exported with 0-d (scalar) beta and threshold (``--scalar``).
``digits_test.npz``, ``digits_all.npz``, ``digits_spikes_test.npz``
    ``inputs`` float32 [samples, steps, 64], ``labels`` int64 [samples] and ``index`` int64
    [samples], the row of each sample in ``load_digits``.
``golden.npz``
    snnTorch's output spike counts, ``<net>_<data file stem>_counts`` int64 [samples, 10], for
    every trained network on every data file of its encoding.

Every file is byte-for-byte the same on each run with the same arguments and package versions:
the edges of each NIR graph are sorted (nirtorch collects them in a set, whose order follows
Python's per-process string hashing). ``nir.write`` records no HDF5 timestamps and
``numpy.savez_compressed`` dates every zip member 1980-01-01, so neither file carries the time
of writing. torch, snnTorch and nirtorch are needed only here, to retrain; the files they make
are read with NumPy and nir alone.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np

try:
    import nir
    import snntorch as snn
    import torch
    from sklearn.datasets import load_digits
    from snntorch import functional as snn_functional
    from snntorch import utils as snn_utils
    from snntorch.export_nir import export_to_nir
except ImportError as error:  # pragma: no cover - only without the training packages
    sys.exit(f"{error}: retraining needs the training packages: pip install -e '.[train]'")

__all__ = ["NETS", "STEPS", "main"]

#: Time steps each image is presented for.
STEPS = 20
#: Images in the test split; the other 1,437 of load_digits' 1,797 are for training.
N_TEST = 360
#: Membrane decay per step, the same for every neuron.
BETA = 0.9
#: Synaptic-current decay per step of the ``cuba`` network.
ALPHA = 0.8
#: Firing threshold.
THRESHOLD = 1.0

#: Each network: its default hidden width, input encoding, epochs and Adam learning rate.
NETS: dict[str, dict] = {
    "lif": {"hidden": 48, "encoding": "direct", "epochs": 40, "lr": 5e-3},
    "cuba": {"hidden": 48, "encoding": "direct", "epochs": 40, "lr": 5e-3},
    "recurrent": {"hidden": 32, "encoding": "direct", "epochs": 40, "lr": 5e-3},
    "lif-spikes": {"hidden": 32, "encoding": "spikes", "epochs": 40, "lr": 5e-3},
}

#: The data files of each encoding, by stem; each holds a split of the images.
DATA_FILES = {
    "direct": {"digits_test": "test", "digits_all": "all"},
    "spikes": {"digits_spikes_test": "test"},
}

BATCH = 64


# --- data -----------------------------------------------------------------------------------


def load_images(seed: int) -> dict[str, np.ndarray]:
    """The digits as inputs in [0, 1], their labels and the seeded train/test split.

    Parameters
    ----------
    seed : int
        Seed of the permutation that splits the images.

    Returns
    -------
    dict of str to numpy.ndarray
        ``x`` float32 [1797, 64] (pixel / 16), ``y`` int64 [1797], and ``train`` and
        ``test``, int64 row indices into them (1,437 and 360).
    """
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    return {"x": x, "y": y, "train": order[N_TEST:], "test": order[:N_TEST]}


def encode(x: np.ndarray, encoding: str, seed: int) -> np.ndarray:
    """Present inputs for ``STEPS`` steps.

    Parameters
    ----------
    x : numpy.ndarray
        float32 [samples, 64] in [0, 1].
    encoding : {"direct", "spikes"}
        ``direct`` repeats ``x`` on every step; ``spikes`` draws a spike with probability ``x``
        on every step (strictly ``u < x`` for uniform ``u`` in [0, 1), so 0 never spikes and 1
        always does).
    seed : int
        Seed of the spike draws (unused for ``direct``).

    Returns
    -------
    numpy.ndarray
        float32 [samples, STEPS, 64].
    """
    if encoding == "direct":
        return np.repeat(x[:, None, :], STEPS, axis=1)
    if encoding == "spikes":
        draws = np.random.default_rng([seed, 1]).random((x.shape[0], STEPS, x.shape[1]))
        return (draws < x[:, None, :]).astype(np.float32)
    raise ValueError(f"unknown encoding {encoding!r}")


# --- networks -------------------------------------------------------------------------------


def _param(value: float, size: int, scalar: bool) -> torch.Tensor:
    """A neuron parameter: 0-d if ``scalar``, else one float32 value per neuron."""
    if scalar:
        return torch.tensor(value, dtype=torch.float32)
    return torch.full((size,), value, dtype=torch.float32)


def build(net: str, hidden: int, scalar: bool = False) -> torch.nn.Sequential:
    """The snnTorch network ``net``, stepped once per call on one time step of input.

    Parameters
    ----------
    net : str
        One of ``NETS``.
    hidden : int
        Neurons in the hidden layer.
    scalar : bool
        Give beta, alpha and the threshold as 0-d tensors instead of one value per neuron.

    Returns
    -------
    torch.nn.Sequential
        Input [batch, 64] to output spikes [batch, 10]; the last layer returns a tuple of its
        spikes and its state. Its neurons keep their state between calls
        (``init_hidden=True``); ``snntorch.utils.reset`` clears it.
    """
    if net not in NETS:
        raise ValueError(f"unknown network {net!r}; choose from {', '.join(NETS)}")

    def beta(n: int) -> torch.Tensor:
        return _param(BETA, n, scalar)

    def threshold(n: int) -> torch.Tensor:
        return _param(THRESHOLD, n, scalar)

    if net in ("lif", "lif-spikes"):
        layers = [
            torch.nn.Linear(64, hidden, bias=False),
            snn.Leaky(beta=beta(hidden), threshold=threshold(hidden), init_hidden=True),
            torch.nn.Linear(hidden, 10, bias=False),
            snn.Leaky(beta=beta(10), threshold=threshold(10), init_hidden=True, output=True),
        ]
    elif net == "cuba":
        layers = [
            torch.nn.Linear(64, hidden),
            snn.Synaptic(
                alpha=_param(ALPHA, hidden, scalar), beta=beta(hidden),
                threshold=threshold(hidden), init_hidden=True,
            ),
            torch.nn.Linear(hidden, 10),
            snn.Synaptic(
                alpha=_param(ALPHA, 10, scalar), beta=beta(10), threshold=threshold(10),
                init_hidden=True, output=True,
            ),
        ]
    else:  # recurrent
        layers = [
            torch.nn.Linear(64, hidden),
            snn.RLeaky(
                beta=beta(hidden), threshold=threshold(hidden), linear_features=hidden,
                init_hidden=True,
            ),
            torch.nn.Linear(hidden, 10),
            snn.Leaky(beta=beta(10), threshold=threshold(10), init_hidden=True, output=True),
        ]
    return torch.nn.Sequential(*layers)


def run(model: torch.nn.Sequential, inputs: torch.Tensor) -> torch.Tensor:
    """Step ``model`` through a batch from rest.

    Parameters
    ----------
    model : torch.nn.Sequential
        A network from `build`.
    inputs : torch.Tensor
        float32 [batch, steps, 64].

    Returns
    -------
    torch.Tensor
        The output spikes, [steps, batch, 10].
    """
    snn_utils.reset(model)
    spikes = []
    for step in range(inputs.shape[1]):
        out = model(inputs[:, step])
        spikes.append(out[0])
    return torch.stack(spikes)


def spike_counts(model: torch.nn.Sequential, inputs: np.ndarray) -> np.ndarray:
    """Output spike counts of ``model`` on all of ``inputs`` at once, as int64 [samples, 10]."""
    with torch.no_grad():
        spikes = run(model, torch.from_numpy(inputs))
    return spikes.sum(dim=0).to(torch.int64).numpy()


def accuracy(counts: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of samples whose most-spiking output (lowest index on ties) is the label."""
    return float(np.mean(np.argmax(counts, axis=1) == labels))


def train(
    net: str, hidden: int, inputs: np.ndarray, labels: np.ndarray, *, epochs: int, lr: float,
    seed: int,
) -> torch.nn.Sequential:
    """Train network ``net`` on ``inputs`` with the cross-entropy rate loss and Adam.

    Parameters
    ----------
    net : str
        One of ``NETS``.
    hidden : int
        Hidden-layer width.
    inputs : numpy.ndarray
        float32 [samples, steps, 64].
    labels : numpy.ndarray
        int64 [samples].
    epochs : int
        Passes over the training set, in seeded random minibatches of ``BATCH``.
    lr : float
        Adam learning rate.
    seed : int
        Seed of the initial weights and of the minibatch order.

    Returns
    -------
    torch.nn.Sequential
        The trained network.
    """
    torch.manual_seed(seed)
    model = build(net, hidden)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = snn_functional.ce_rate_loss()
    x = torch.from_numpy(inputs)
    y = torch.from_numpy(labels)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(y), generator=order).split(BATCH):
            loss = loss_fn(run(model, x[batch]), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model


def with_scalar_parameters(
    model: torch.nn.Sequential, net: str, hidden: int,
) -> torch.nn.Sequential:
    """A copy of the trained ``model`` whose beta, alpha and threshold are 0-d tensors.

    Parameters
    ----------
    model : torch.nn.Sequential
        A trained network from `train`.
    net : str
        Its name in ``NETS``.
    hidden : int
        Its hidden-layer width.

    Returns
    -------
    torch.nn.Sequential
        The same weights (and recurrent weights), with neuron parameters that broadcast to the
        same values, so the same function.
    """
    neuron = ("beta", "alpha", "threshold")
    scalar = build(net, hidden, scalar=True)
    weights = {k: v for k, v in model.state_dict().items() if not k.endswith(neuron)}
    result = scalar.load_state_dict(weights, strict=False)
    if result.unexpected_keys or not all(k.endswith(neuron) for k in result.missing_keys):
        raise RuntimeError(f"{net}: cannot copy the weights: {result}")
    return scalar


# --- files ----------------------------------------------------------------------------------


def export(model: torch.nn.Sequential) -> nir.NIRGraph:
    """``model`` as a NIR graph, from snnTorch's exporter, with its edges in sorted order.

    nirtorch collects the edges in a set, so their order would change with Python's string
    hashing from one run to the next; sorting them makes the file the same every time. When the
    exporter's type inference rejects the graph (0-d neuron parameters give it no shape to
    infer from), the graph is extracted again with the same mapping but without inference.
    """
    sample = torch.zeros(64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            graph = export_to_nir(model, sample)
        except ValueError as error:
            import nirtorch
            from snntorch.export_nir import _extract_snntorch_module

            print(f"  nir's type inference rejects the graph ({error}); exported without it")
            graph = nirtorch.extract_nir_graph(
                model, _extract_snntorch_module, sample, model_name="snntorch",
                ignore_submodules_of=[snn.RLeaky, snn.RSynaptic],
            )
    snn_utils.reset(model)
    return nir.NIRGraph(nodes=graph.nodes, edges=sorted(graph.edges), type_check=False)


def write_nir(path: pathlib.Path, graph: nir.NIRGraph) -> None:
    """Write ``graph`` with ``nir.write``, gzip-compressed unless it holds a 0-d array.

    HDF5 cannot compress a 0-d dataset and ``nir.write`` applies its compression to every
    array, so a graph with scalar neuron parameters is written uncompressed. ``nir.write``
    records no timestamps (h5py's default), so the file depends on the graph alone.
    """
    flat = [graph.to_dict()]
    zero_d = False
    while flat:
        for value in flat.pop().values():
            if isinstance(value, dict):
                flat.append(value)
            elif isinstance(value, np.ndarray) and value.ndim == 0:
                zero_d = True
    nir.write(path, graph, compression=None if zero_d else "gzip")


# --- command line ---------------------------------------------------------------------------


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="train.py",
        description="Train the digits networks with snnTorch; write NIR, data and golden files.",
    )
    parser.add_argument(
        "--net", nargs="+", choices=list(NETS), default=list(NETS), metavar="NET",
        help=f"networks to train, from {', '.join(NETS)} (default: all)",
    )
    parser.add_argument(
        "--scalar", nargs="*", choices=list(NETS), metavar="NET",
        help="trained networks to export also with 0-d beta and threshold, as "
             "digits_<net>_scalar.nir (default: lif, when it is trained; no name: none)",
    )
    parser.add_argument("--hidden", type=int, help="hidden-layer width (default: per network)")
    parser.add_argument("--epochs", type=int, help="training epochs (default: per network)")
    parser.add_argument("--seed", type=int, default=0, help="seed of everything (default: 0)")
    parser.add_argument(
        "--out", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parent,
        help="output folder (default: this script's folder)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Train, check and write every file; print each network's test accuracy.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status, 0.
    """
    args = _parse(argv)
    if args.scalar is None:
        args.scalar = ["lif"] if "lif" in args.net else []
    untrained = sorted(set(args.scalar) - set(args.net))
    if untrained:
        sys.exit(f"--scalar names networks not trained in this run: {', '.join(untrained)}")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)

    images = load_images(args.seed)
    encoded = {enc: encode(images["x"], enc, args.seed) for enc in DATA_FILES}
    splits = {"all": np.arange(len(images["y"])), "test": images["test"]}

    datasets: dict[str, tuple[str, np.ndarray, np.ndarray]] = {}
    for enc, files in DATA_FILES.items():
        if not any(NETS[net]["encoding"] == enc for net in args.net):
            continue
        for stem, split in files.items():
            rows = splits[split]
            datasets[stem] = (enc, encoded[enc][rows], images["y"][rows])
            np.savez_compressed(args.out / f"{stem}.npz", inputs=encoded[enc][rows],
                                labels=images["y"][rows], index=rows.astype(np.int64))

    golden: dict[str, np.ndarray] = {}
    for net in args.net:
        spec = NETS[net]
        hidden = args.hidden or spec["hidden"]
        epochs = args.epochs if args.epochs is not None else spec["epochs"]
        rows = images["train"]
        start = time.perf_counter()
        model = train(
            net, hidden, encoded[spec["encoding"]][rows], images["y"][rows],
            epochs=epochs, lr=spec["lr"], seed=args.seed,
        )
        seconds = time.perf_counter() - start
        for stem, (enc, inputs, labels) in datasets.items():
            if enc != spec["encoding"]:
                continue
            counts = spike_counts(model, inputs)
            golden[f"{net}_{stem}_counts"] = counts
            print(f"{net}: {stem} accuracy {accuracy(counts, labels):.4f}")
        print(f"{net}: trained in {seconds:.1f} s")
        write_nir(args.out / f"digits_{net}.nir", export(model))

        if net in args.scalar:
            scalar = with_scalar_parameters(model, net, hidden)
            for stem, (enc, inputs, _) in datasets.items():
                if enc == spec["encoding"] and not np.array_equal(
                    spike_counts(scalar, inputs), golden[f"{net}_{stem}_counts"]
                ):
                    raise RuntimeError(f"{net}: 0-d parameters change the output on {stem}")
            write_nir(args.out / f"digits_{net}_scalar.nir", export(scalar))

    np.savez_compressed(args.out / "golden.npz", **golden)
    return 0


if __name__ == "__main__":
    sys.exit(main())
