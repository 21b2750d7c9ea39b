# SPDX-License-Identifier: Apache-2.0
"""``neurotile model BLOCK``: every neuron model's fixed and float model from the command line.

The fixed model's output is the model's own :func:`~neurotile.neurons.spec.run_model`, the float
model's the library-convention functions (and snnTorch's recorded traces); bad input is one line
and exit code 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurotile.blocks import blocks
from neurotile.cli import main
from neurotile.neurons.cuba_lif import SynapticParams, synaptic_step
from neurotile.neurons.hodgkin_huxley import hh_float_run, hh_int_run, HHIntParams
from neurotile.neurons.integrate_fire import IFParams, if_step, leaky_f32_step
from neurotile.neurons.izhikevich import PATTERNS, IzhikevichIntParams, pattern_run
from neurotile.neurons.leaky_integrator import li_step
from neurotile.neurons.lif import LeakyParams, LIFIntParams
from neurotile.neurons.spec import models, run_model

GOLDEN = Path(__file__).parent / "data" / "snntorch_golden.npz"
SEED = 20260
#: Every neuron model that is a block of the catalogue.
NAMES = sorted(name for name in models() if name in blocks())


def model_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    """The JSON object of ``neurotile model ARGS --json`` (run in this process)."""
    capsys.readouterr()
    assert main(["model", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The one error line of ``neurotile model ARGS`` (exit 2, nothing on stdout)."""
    capsys.readouterr()
    assert main(["model", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    return err.removeprefix("neurotile: error: ").rstrip("\n")


def save(tmp_path: Path, array: np.ndarray, name: str = "x.npy") -> str:
    path = tmp_path / name
    np.save(path, array)
    return str(path)


def test_every_model_has_a_command():
    assert {"lif", "cuba-lif", "if", "li", "izhikevich", "hh"} <= set(NAMES)


# -- the fixed model is run_model --------------------------------------------------------------

def _stimulus(config, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random codes well inside the input field, and float currents that round to them."""
    f = config.input_field()
    codes = rng.integers(f.lo // 8, f.hi // 2, (steps, config.neurons))
    jitter = rng.uniform(-0.4, 0.4, codes.shape)
    return codes, (codes + jitter) * config.input_lsb()


@pytest.mark.parametrize("name", NAMES)
def test_fixed_json_is_run_model(tmp_path, capsys, name):
    model = models()[name]
    config = model(neurons=3)
    codes, currents = _stimulus(config, 200, np.random.default_rng(SEED))
    data = model_json(capsys, name, "--input", save(tmp_path, currents))
    expected, _ = run_model(config, codes)
    assert data["model"] == "fixed"
    assert data["params"] | config.structural() == data["params"]
    for field, values in expected.items():
        assert data[model.OUTPUT_NAMES.get(field, field)] == values.tolist(), field
    if "spike" in expected:
        assert expected["spike"].any()  # the comparison covers spikes
    if model.DT_MS is None:
        assert "spike_times_ms" not in data
    else:
        dt = config.step_ms()
        assert data["spike_times_ms"] == [
            [round(float(t), 6) for t in (np.flatnonzero(expected["spike"][:, i]) + 1) * dt]
            for i in range(3)]


def test_fixed_takes_the_block_options(capsys):
    data = model_json(capsys, "lif", "--current", "30", "--steps", "40", "--neurons", "2",
                      "--beta", "0.9", "--refractory", "2", "--reset", "zero",
                      "--no-reset-delay", "--threshold", "50")
    config = LIFIntParams.from_beta(0.9, neurons=2, refractory=2, reset="zero",
                                    reset_delay=False, threshold=50)
    expected, _ = run_model(config, np.full((40, 2), 30))
    assert data["membrane"] == expected["membrane"].tolist()
    assert data["spikes"] == expected["spike"].tolist() and expected["spike"].any()
    assert data["params"]["decay"] == config.decay and data["params"]["current_code"] == 30
    # the comparison can fail: the default configuration fires differently
    other, _ = run_model(LIFIntParams(neurons=2), np.full((40, 2), 30))
    assert data["spikes"] != other["spike"].tolist()


def test_duration_uses_the_structure_dt(capsys):
    data = model_json(capsys, "izhikevich", "--dt-shift", "2", "--current", "10",
                      "--duration-ms", "50")
    config = IzhikevichIntParams(neurons=1, dt_shift=2)
    expected, _ = run_model(config, np.full((200, 1), 40))
    assert data["params"]["steps"] == 200 and data["params"]["dt_ms"] == 0.25
    assert data["membrane"] == expected["v"].tolist()


def test_hh_keeps_its_current_and_duration(capsys):
    fixed = model_json(capsys, "hh", "--current", "10", "--duration-ms", "40")
    run = hh_int_run(HHIntParams(), 2560, 1600)
    assert fixed["params"]["current_code"] == 2560 and fixed["params"]["dt_us"] == 25
    assert fixed["spike_times_ms"] == [[round(float(t), 6) for t in run.spike_times[0]]]
    assert fixed["membrane"] == run.v.tolist()
    flo = model_json(capsys, "hh", "--current", "10", "--duration-ms", "40", "--float")
    ref = hh_float_run(10.0, 40.0)
    assert flo["spike_times_ms"] == [[round(t, 6) for t in ref.spike_times[0]]]
    assert len(flo["spike_times_ms"][0]) == 3 and np.sum(flo["spikes"]) == 3


# -- the float model is the library's ----------------------------------------------------------

def _currents(steps: int = 120, neurons: int = 3) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    return (rng.normal(0.3, 0.5, (steps, neurons))
            + np.where(rng.random((steps, neurons)) < 0.05, 2.5, 0.0)).astype(np.float32)


def _delay(flag: bool) -> str:
    return "--reset-delay" if flag else "--no-reset-delay"


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("delay", [True, False])
def test_float_lif_is_snntorch_leaky(tmp_path, capsys, reset, delay):
    x = _currents()
    data = model_json(capsys, "lif", "--float", "--input", save(tmp_path, x), "--beta", "0.8",
                      "--threshold", "0.5", "--reset", reset, _delay(delay))
    p = LeakyParams(beta=0.8, threshold=0.5, reset=reset, reset_delay=delay)
    mem = np.zeros(3, np.float32)
    for t in range(len(x)):
        mem, spk = leaky_f32_step(mem, x[t], p)
        assert np.array_equal(np.array(data["membrane"][t], np.float32), mem)
        assert data["spikes"][t] == spk.tolist()
    assert data["model"] == "float" and data["params"]["reset"] == reset
    assert np.any(data["spikes"])


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("delay", [True, False])
def test_float_cuba_lif_is_snntorch_synaptic(tmp_path, capsys, reset, delay):
    x = _currents()
    data = model_json(capsys, "cuba-lif", "--float", "--input", save(tmp_path, x), "--alpha",
                      "0.6", "--beta", "0.9", "--threshold", "1.5", "--reset", reset,
                      _delay(delay))
    p = SynapticParams(alpha=0.6, beta=0.9, threshold=1.5, reset=reset, reset_delay=delay)
    syn = mem = np.zeros(3, np.float32)
    for t in range(len(x)):
        syn, mem, spk = synaptic_step(syn, mem, x[t], p)
        assert np.array_equal(np.array(data["membrane"][t], np.float32), mem)
        assert np.array_equal(np.array(data["synaptic"][t], np.float32), syn)
        assert data["spikes"][t] == spk.tolist()
    assert np.any(data["spikes"])


def test_float_matches_snntorch_golden(tmp_path, capsys):
    g = np.load(GOLDEN)
    x = g["input"][:, :1]  # neuron 0: beta 0.9, alpha 0.8, threshold 1
    path = save(tmp_path, x)
    leaky = model_json(capsys, "lif", "--float", "--input", path, "--beta",
                       str(float(g["leaky_beta"][0])), "--threshold", "1")
    assert np.array_equal(np.array(leaky["membrane"], np.float32),
                          g["leaky_subtract_delay_mem"][:, :1])
    assert np.array_equal(np.array(leaky["spikes"]), g["leaky_subtract_delay_spk"][:, :1] > 0)
    syn = model_json(capsys, "cuba-lif", "--float", "--input", path, "--alpha",
                     str(float(g["synaptic_alpha"][0])), "--beta",
                     str(float(g["synaptic_beta"][0])), "--threshold", "1", "--reset", "zero",
                     "--no-reset-delay")
    for key in ("syn", "mem"):
        name = {"syn": "synaptic", "mem": "membrane"}[key]
        assert np.array_equal(np.array(syn[name], np.float32),
                              g[f"synaptic_zero_nodelay_{key}"][:, :1])
    assert np.array_equal(np.array(syn["spikes"]), g["synaptic_zero_nodelay_spk"][:, :1] > 0)


def test_float_if_and_li(tmp_path, capsys):
    x = _currents()
    path = save(tmp_path, x)
    fire = model_json(capsys, "if", "--float", "--input", path, "--threshold", "2", "--reset",
                      "zero")
    li = model_json(capsys, "li", "--float", "--input", path, "--beta", "0.7")
    assert "spikes" not in li
    u = v = np.zeros(3, np.float32)
    for t in range(len(x)):
        u, spk = if_step(u, x[t], IFParams(threshold=2.0, reset="zero"))
        v = li_step(v, x[t], 0.7)
        assert np.array_equal(np.array(fire["membrane"][t], np.float32), u)
        assert fire["spikes"][t] == spk.tolist()
        assert np.array_equal(np.array(li["membrane"][t], np.float32), v)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_izhikevich_pattern_spike_count(tmp_path, capsys, name):
    run = pattern_run(IzhikevichIntParams(), name, reference="paper")
    path = save(tmp_path, run.current[:, None])
    flo = model_json(capsys, "izhikevich", "--float", "--pattern", name, "--input", path)
    assert np.sum(flo["spikes"]) == len(run.reference.spike_times) > 0
    assert flo["spike_times_ms"] == [[round(t, 6) for t in run.reference.spike_times]]
    # the fixed model with the pattern's codes fires as pattern_run's
    config = IzhikevichIntParams().with_preset(name)
    codes = [f"--{k}={config.runtime()[k]}" for k in "abcd"]
    fixed = model_json(capsys, "izhikevich", *codes, "--input", path)
    assert np.sum(fixed["spikes"]) == int(run.spikes.sum())


# -- bad input ---------------------------------------------------------------------------------

def test_bad_input_is_one_line(tmp_path, capsys):
    cases = {
        "flat": np.zeros(5), "cube": np.zeros((2, 2, 2)), "empty": np.zeros((0, 3)),
        "nan": np.array([[0.0], [np.nan]]), "big": np.array([[1.0, 127.6]]),
        "text": np.array([["a"]]),
    }
    p = {k: save(tmp_path, v, f"{k}.npy") for k, v in cases.items()}
    (tmp_path / "junk.npy").write_text("not an array\n")
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 2)))
    expected = {
        ("lif", "--input", p["flat"]): f"--input {p['flat']} must have shape [steps, neurons], "
        "not [5]",
        ("lif", "--input", p["cube"]): f"--input {p['cube']} must have shape [steps, neurons], "
        "not [2, 2, 2]",
        ("lif", "--input", p["empty"]): f"--input {p['empty']} has shape [0, 3]: it needs at "
        "least one step and one neuron",
        ("lif", "--input", p["nan"], "--float"): f"--input {p['nan']} holds nan at step 1, "
        "neuron 0: currents must be finite numbers",
        ("lif", "--input", p["big"]): "lif: current 127.6 (--input step 0, neuron 1) is "
        "outside the 8-bit input's range -128..127 (the fixed model rounds currents to "
        "integers)",
        ("izhikevich", "--current", "40", "--steps", "3"): "izhikevich: current 40.0 mV/ms is "
        "outside the 8-bit input's range -32..31.75 mV/ms (the fixed model rounds currents to "
        "multiples of 0.25 mV/ms)",
        ("lif", "--input", p["text"]): f"--input {p['text']} holds <U1, not numbers; give "
        "float currents",
        ("lif", "--input", str(tmp_path / "junk.npy")): f"--input {tmp_path / 'junk.npy'} is "
        "not a NumPy .npy array of numbers (np.save writes one)",
        ("lif", "--input", str(tmp_path / "two.npz")): f"--input {tmp_path / 'two.npz'} is an "
        ".npz archive; save the one array with np.save",
        ("lif", "--input", str(tmp_path / "no.npy")): f"--input {tmp_path / 'no.npy'}: no such "
        "file",
        ("lif",): "give a stimulus: --input FILE.npy, or --current I with --steps N",
        ("hh", "--float"): "give a stimulus: --input FILE.npy, or --current I with --steps N "
        "or --duration-ms T",
        ("lif", "--input", p["big"], "--current", "1"): "give --input or --current, not both",
        ("lif", "--input", p["big"], "--steps", "4"): "--steps goes with --current; the rows "
        "of --input are the steps",
        ("lif", "--input", p["big"], "--neurons", "3"): "--neurons 3 does not match --input, "
        "which has 2 neurons (columns); drop --neurons",
        ("lif", "--current", "1"): "--current needs --steps N",
        ("lif", "--current", "nan", "--steps", "3"): "--current must be a finite number, "
        "not nan",
        ("lif", "--current", "1", "--duration-ms", "5"): "lif is a step model with no time "
        "step: give --steps N instead of --duration-ms",
        ("lif", "--current", "1", "--steps", "0"): "--steps must be at least 1, not 0",
        ("lif", "--current", "1", "--steps", "2000000"): "--steps 2000000 is too long: "
        "2,000,000 steps, at most 1,000,000 per run",
        ("lif", "--current", "1", "--steps", "10000", "--neurons", "4096"): "--steps 10000 is "
        "too large: 10,000 steps x 4096 neurons, at most 20,000,000 values per run",
        ("hh", "--current", "10", "--duration-ms", "0.001"): "--duration-ms 0.001 is shorter "
        "than one step of 0.025 ms",
        ("izhikevich", "--pattern", "ch", "--current", "1", "--steps", "3"): "--pattern is an "
        "option of the float model; add --float",
        ("lif", "--width", "6", "--float", "--current", "1", "--steps", "3"): "--width is an "
        "option of the fixed model; drop it, or drop --float",
        ("lif", "--threshold", "2.5", "--current", "1", "--steps", "3"): "lif: threshold must "
        "be an integer, not 2.5",
        ("lif", "--float", "--beta", "1.5", "--current", "1", "--steps", "3"): "lif: beta must "
        "be between 0 and 1, not 1.5",
        ("lif", "--float", "--current", "3e38", "--steps", "3"): "lif: the float model's "
        "membrane overflows at step 1; give smaller currents",
    }
    for args, message in expected.items():
        assert refused(capsys, *args) == message, args


def test_bad_input_in_a_fresh_process(tmp_path):
    np.save(tmp_path / "x.npy", np.array([[np.inf]]))
    out = subprocess.run([sys.executable, "-m", "neurotile", "model", "cuba-lif", "--input",
                          "x.npy"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == ("neurotile: error: --input x.npy holds inf at step 0, neuron 0: "
                          "currents must be finite numbers\n")


def test_summary_without_json(capsys):
    assert main(["model", "izhikevich", "--current", "10", "--duration-ms", "50"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("izhikevich fixed model, 100 steps of 0.5 ms, 1 neuron: ")
    assert lines[1].startswith("  neuron 0: ") and " ms" in lines[1]
    assert main(["model", "li", "--current", "4", "--steps", "5", "--neurons", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "li fixed model, 5 steps, 20 neurons (no spikes: membrane only)"
    assert lines[-1] == "  ... and 4 more neurons (--json has them all)"
