# SPDX-License-Identifier: Apache-2.0
"""Pictures (:mod:`neurotile.plots`, ``neurotile model/simulate --plot``): the plotted series
are the models' own outputs, a difference between the RTL and the integer model is flagged, the
PNG is a real image of the promised size, and a bad ``--plot`` is one line, exit 2, nothing
written."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from neurotile.cli import main
from neurotile.neurons.spec import models, run_model
from neurotile.plots import (DPI, FIGURE_SIZE, codes_of, draw_model, draw_run, fi_curve,
                             float_currents, model_picture, run_picture)
from neurotile.testbench.population import Stimulus
from neurotile.testbench.population_bulk import RunTrace

SEED = 4242
SIZE = (int(FIGURE_SIZE[0] * DPI), int(FIGURE_SIZE[1] * DPI))
#: A small configuration and a stimulus range (input units) per model.
CASES = {
    "lif": ({"neurons": 3}, 40.0),
    "if": ({"neurons": 3}, 40.0),
    "li": ({"neurons": 3}, 40.0),
    "cuba-lif": ({"neurons": 3}, 40.0),
    "izhikevich": ({"neurons": 2}, 15.0),
    "hh": ({"neurons": 1}, 12.0),
}


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (after checking it is a PNG)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def stimulus(name: str, steps: int = 60) -> tuple[object, np.ndarray]:
    kwargs, top = CASES[name]
    config = models()[name](**kwargs)
    rng = np.random.default_rng(SEED)
    currents = rng.uniform(0.0, top, (steps, config.neurons))
    return config, currents


def test_every_model_with_a_block_is_covered():
    assert set(CASES) == {n for n, m in models().items() if m.FLOAT_PARAMS or n == "hh"}


# -- the series are the models' own -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CASES))
def test_plotted_series_are_the_models_outputs(name):
    config, currents = stimulus(name)
    pic = model_picture(config, currents, fi=False)
    model = type(config)
    flo, integer = pic.traces
    assert (flo.kind, integer.kind) == ("float", "integer")
    # the float model: the configuration's equation on the unrounded currents
    x = float_currents(currents, config.step_ms(), model.DT_MS)
    with np.errstate(all="ignore"):
        ref = model.float_run(x, **config.float_equivalent())
    np.testing.assert_array_equal(flo.membrane, np.asarray(ref["membrane"], np.float64))
    if "spikes" in ref:
        np.testing.assert_array_equal(flo.spikes, ref["spikes"])
    assert flo.time[-1] == pytest.approx(x.shape[0] * (model.DT_MS or 1))
    # the integer model: run_model on the rounded codes, the membrane scaled to float units
    raw, _ = run_model(config, codes_of(config, currents))
    mem = next(k for k, v in model.OUTPUT_NAMES.items() if v == "membrane") \
        if "membrane" in model.OUTPUT_NAMES.values() else "membrane"
    np.testing.assert_array_equal(integer.membrane, raw[mem] * config.membrane_lsb())
    if "spike" in raw:
        np.testing.assert_array_equal(integer.spikes, raw["spike"])
    assert len(pic.mismatches) == 0


def test_float_equivalent_is_the_configurations_equation():
    lif = models()["lif"](neurons=1, decay=2, threshold=50, reset="zero")
    assert lif.float_equivalent() == {"beta": 0.75, "threshold": 50.0, "reset": "zero",
                                      "reset_delay": True}
    izh = models()["izhikevich"](neurons=1)
    opts = izh.float_equivalent()
    assert opts["a"] == izh.a / 2 ** izh.a_frac and opts["c"] == izh.c / 2 ** izh.v_frac


def test_fi_curve_counts_spikes_of_both_models():
    config = models()["lif"](neurons=1)
    inputs = np.array([0.0, 5.0, 10.0, 20.0, 40.5])
    fi = fi_curve(config, inputs=inputs, steps=300)
    sweep = config.replace(neurons=len(inputs))
    raw, _ = run_model(sweep, np.broadcast_to(np.rint(inputs).astype(np.int64), (300, 5)))
    np.testing.assert_array_equal(fi.values["integer model"], raw["spike"].sum(axis=0) / 300)
    ref = type(config).float_run(np.broadcast_to(inputs, (300, 5)),
                                 **config.float_equivalent())
    np.testing.assert_array_equal(fi.values["float model"], ref["spikes"].sum(axis=0) / 300)
    assert fi.quantity == "firing rate (spikes/step)" and fi.input_label == "input (LSB)"
    assert fi.values["integer model"][0] == 0 and fi.values["integer model"][-1] > 0


def test_fi_curve_of_a_timed_model_is_in_hz_over_physical_input():
    config = models()["izhikevich"](neurons=1)
    fi = fi_curve(config, inputs=np.array([0.0, 10.0]), steps=10)
    assert fi.quantity == "firing rate (Hz)" and fi.input_label == "input current (mV/ms)"
    assert fi.note.startswith("100 ms of")  # at least FI_MIN_MS of model time
    assert fi.values["integer model"][0] == 0 and fi.values["integer model"][1] > 0


# -- the RTL's recording: a difference is flagged -----------------------------------------------

def test_a_planted_rtl_difference_is_flagged_and_drawn(tmp_path):
    config, currents = stimulus("lif", steps=40)
    raw, _ = run_model(config, codes_of(config, currents))
    rtl = {k: np.asarray(v, np.int64).copy() for k, v in raw.items()}
    assert len(model_picture(config, currents, rtl=rtl, fi=False).mismatches) == 0
    rtl["membrane"][17, 2] += 1
    pic = model_picture(config, currents, rtl=rtl, fi=False)
    assert pic.mismatches.tolist() == [[17, 2]]
    assert [t.kind for t in pic.traces] == ["float", "integer", "rtl"]
    draw_model(pic, tmp_path / "bad.png")
    assert png_size(tmp_path / "bad.png") == SIZE


def test_run_picture_marks_mismatches_of_a_checked_run(tmp_path):
    config = models()["lif"](neurons=4)
    rng = np.random.default_rng(SEED)
    steps = 30
    cut = np.full(steps, -1)
    cut[12] = 4
    stim = Stimulus(config, rng.integers(0, 60, (steps, 4)),
                    {s.name: np.full(steps, getattr(config, s.name)) for s in config.ports()},
                    cut)
    stim.compute_expected()
    t, n = np.divmod(np.arange(steps * 4), 4)
    observed = {k: stim.expected[k][t, n].astype(np.int64) for k in ("spike", "membrane")}
    good = run_picture(RunTrace(stim, t, n, observed), title="good")
    assert len(good.mismatches) == 0 and good.resets.tolist() == [12]
    np.testing.assert_array_equal(good.rtl_membrane[1], stim.expected["membrane"][:, 1])
    observed["spike"] = observed["spike"].copy()
    observed["spike"][4 * 20 + 3] ^= 1
    bad = run_picture(RunTrace(stim, t, n, observed), title="bad")
    assert bad.mismatches.tolist() == [[20, 3]]
    draw_run(bad, tmp_path / "run.png")
    assert png_size(tmp_path / "run.png") == SIZE


# -- the file -----------------------------------------------------------------------------------

def test_png_has_the_promised_size_and_the_same_bytes_every_time(tmp_path):
    config, currents = stimulus("if", steps=30)
    pic = model_picture(config, currents, fi_inputs=np.array([0.0, 20.0, 40.0]))
    draw_model(pic, tmp_path / "a.png")
    draw_model(pic, tmp_path / "b.png")
    assert png_size(tmp_path / "a.png") == SIZE
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]  # no temporaries


def test_model_plot_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "pics" / "lif.png"
    assert main(["model", "lif", "--current", "20", "--steps", "40", "--plot", str(out)]) == 0
    assert f"picture: {out}" in capsys.readouterr().out
    assert png_size(out) == SIZE


def refused(capsys, *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1, err
    assert out == "", f"refused before anything runs, yet printed {out!r}"
    return err.removeprefix("neurotile: error: ").rstrip("\n")


def test_bad_plot_options_are_one_line_and_write_nothing(tmp_path, capsys):
    run = ["model", "lif", "--current", "20", "--steps", "10"]
    assert refused(capsys, *run, "--plot", str(tmp_path / "x.jpg")) == \
        f"--plot {tmp_path / 'x.jpg'} must end in .png (the picture is written as PNG)"
    existing = tmp_path / "old.png"
    existing.write_bytes(b"mine")
    assert refused(capsys, *run, "--plot", str(existing)) == \
        f"--plot {existing} exists; pass --force to overwrite it or choose another name"
    assert existing.read_bytes() == b"mine"
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert refused(capsys, *run, "--plot", str(blocker / "x.png")) == \
        f"--plot {blocker / 'x.png'}: {blocker} is a file, not a folder; choose another name"
    assert refused(capsys, *run, "--plot", str(tmp_path)) == \
        f"--plot {tmp_path} is a folder; give a file name ending in .png"
    assert refused(capsys, *run, "--plot", str(tmp_path / "f.png"), "--float") == \
        "--plot draws the float and the integer model of the block's configuration; drop --float"
    assert refused(capsys, *run, "--sim", "icarus") == \
        "--sim records the RTL for a picture; add --plot FILE.png"
    assert refused(capsys, *run, "--force") == "--force goes with --plot FILE.png"
    assert refused(capsys, "model", "hh", "--current", "10", "--steps", "5", "--neurons", "2",
                   "--plot", str(tmp_path / "h.png"), "--sim", "icarus") == \
        "--sim: the hh RTL is 1 neuron; give --neurons 1, not 2"
    assert refused(capsys, "simulate", "hh", "--plot", str(tmp_path / "h.png")) == \
        "--plot draws population blocks' runs; hh has no picture of its run (neurotile model " \
        "BLOCK --plot draws models)"
    assert refused(capsys, "simulate", "lif", "--sim", "amaranth", "--plot",
                   str(tmp_path / "a.png")) == \
        "--plot draws the bulk path's recording: use --sim icarus or --sim verilator, " \
        "without --no-bulk"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "old.png"]
