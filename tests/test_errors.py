# SPDX-License-Identifier: Apache-2.0
"""Bad input: one line on stderr saying what is wrong and how to fix it, exit 2, no traceback,
and nothing written or changed on disk."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder`` (hidden ones too) with its content."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``neurotile ARGS`` in a fresh process, as a user would run it."""
    return subprocess.run([sys.executable, "-m", "neurotile", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


def one_line(result: subprocess.CompletedProcess) -> str:
    """The single error line of a refused run (exit 2, no traceback, no warnings)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("neurotile: error: "), lines[0]
    return lines[0].removeprefix("neurotile: error: ")


def refused(tmp_path: Path, *args: str, env: dict | None = None) -> str:
    """Run ``args`` in ``tmp_path``; check it is refused and changed nothing there."""
    (tmp_path / "keep.txt").write_text("the user's file\n")
    before = snapshot(tmp_path)
    line = one_line(run(*args, cwd=tmp_path, env=env))
    assert snapshot(tmp_path) == before
    return line


# -- one line per case, nothing written -------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    # seeds (NumPy ValueError before)
    (["tapeout", "lif", "--seed", "-1", "-o", "out"],
     "--seed must be an integer from 0 to 4294967295, not -1"),
    (["flow", "lif", "--seed", "-1", "-o", "out"],
     "--seed must be an integer from 0 to 4294967295, not -1"),
    (["simulate", "lif", "--seed", "-1", "--no-bulk"],
     "--seed must be an integer from 0 to 4294967295, not -1"),
    (["simulate", "lif", "--seed", "-1"],
     "--seed must be an integer from 0 to 4294967295, not -1"),
    (["simulate", "lif", "--seed", str(2**32)],
     "--seed must be an integer from 0 to 4294967295, not 4294967296"),
    # probabilities (simulator time-out or AssertionError before)
    (["simulate", "lif", "--gap", "1.0"],
     "--gap is a probability per cycle and must be in [0, 1), not 1 (1 would stop the stream)"),
    (["simulate", "lif", "--gap", "1.5"],
     "--gap is a probability per cycle and must be in [0, 1), not 1.5 (1 would stop the stream)"),
    (["simulate", "lif", "--gap", "-0.5"],
     "--gap is a probability per cycle and must be in [0, 1), not -0.5 (1 would stop the stream)"),
    (["simulate", "lif", "--stall", "1.0", "--sim", "amaranth"],
     "--stall is a probability per cycle and must be in [0, 1), not 1 (1 would stop the stream)"),
    (["simulate", "lif", "--gap", "nan"], "--gap must be a finite number, not nan"),
    (["generate", "lif", "--beta", "nan", "-o", "out"], "--beta must be a finite number, not nan"),
    # runs that would exhaust memory (MemoryError before)
    (["simulate", "lif", "--steps", "1000000000"],
     "--steps 1000000000 is too long for one run: at most 625,000 steps with 32 outputs per step "
     "(20,000,000 checked outputs); split it into several seeds"),
    (["model", "hh", "--current", "10", "--duration-ms", "1e12"],
     "--duration-ms 1e+12 is too long: at most 10,000 ms of model time per run"),
    (["flow", "lif", "--sim-steps", "0", "-o", "out"], "--sim-steps must be at least 1, not 0"),
    (["tapeout", "lif", "--steps", "0", "-o", "out"], "--steps must be at least 1, not 0"),
    # messages that misled
    (["generate", "lif", "-o", "keep.txt/sub"],
     "cannot create output folder keep.txt/sub: {tmp}/keep.txt is a file, not a folder; "
     "choose another -o"),
    (["generate", "lif", "-o", "keep.txt"],
     "output path keep.txt is a file, not a folder; choose another -o"),
    (["check", "keep.txt"],
     "keep.txt is a file, not a project folder; give the folder that holds info.yaml"),
    (["check", "missing"], "project folder missing does not exist"),
    (["generate", "lif", "-o", ""],
     "the output folder is an empty name; give a folder with -o, e.g. -o build/out"),
    (["generate", "lif", "--beta", "0.001", "-o", "out"],
     "lif: beta 0.001 rounds to 0/2**8 with beta_bits 8, outside (0, 1); with 8 bits beta must "
     "lie in [0.00195312, 0.998047); give more beta_bits or another beta"),
    (["generate", "lif", "--beta", "0.9", "--leak", "shift", "-o", "out"],
     "lif: --beta sets the multiply leak; drop --leak shift or use --decay K"),
    (["model", "hh", "--current", "1e9", "--duration-ms", "10", "--float"],
     "hh: the stimulus drives the float model out of its numerical range at 0 ms (the rate "
     "functions overflow); give a current closer to 0 uA/cm^2"),
    # the sparse blocks' dense weight layout: latch storage, the whole matrix
    (["generate", "sparse-matmul", "--layout", "dense", "-o", "out"],
     "sparse-matmul: layout 'dense' needs storage='latch' and programmable weights"),
    (["simulate", "sparse-matmul", "--layout", "dense", "--storage", "latch", "--depth", "255"],
     "sparse-matmul: layout 'dense' needs depth of at least inputs x outputs (256), not 255"),
    (["simulate", "spiking-layer", "--layout", "dense", "--storage", "memory"],
     "spiking-layer: layout 'dense' needs storage='latch' and programmable weights"),
    (["tapeout", "sparse-matmul", "--layout", "dense", "--storage", "memory", "-o", "out"],
     "sparse-matmul: layout 'dense' needs storage='latch' and programmable weights"),
    (["flow", "spiking-layer", "--layout", "dense", "--depth", "63", "-o", "out"],
     "spiking-layer: layout 'dense' needs depth of at least inputs x outputs (64), not 63"),
    (["generate", "spiking-layer", "--layout", "coo", "-o", "out"],
     "neurotile generate spiking-layer: argument --layout: invalid choice: 'coo' (choose from "
     "'csr', 'dense') (see 'neurotile generate spiking-layer --help')"),
    (["synth", "keep.txt"],
     "design folder keep.txt is a file, not a folder; give the folder 'neurotile generate' or "
     "'neurotile tapeout' wrote"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_refused_in_one_line(tmp_path, args, message):
    assert refused(tmp_path, *args) == message.format(tmp=tmp_path.resolve())


def test_beta_message_names_no_internal_field(tmp_path):
    assert "beta_code" not in refused(tmp_path, "generate", "lif", "--beta", "0.001", "-o", "o")


def _path_without(*tools: str) -> str:
    """A PATH with this interpreter's folder but none of ``tools``."""
    keep = [str(Path(sys.executable).parent)]
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder and not any((Path(folder) / t).exists() for t in tools):
            keep.append(folder)
    return os.pathsep.join(keep)


def test_flow_checks_its_simulators_before_writing(tmp_path):
    env = dict(os.environ, PATH=_path_without("iverilog", "vvp"))
    line = refused(tmp_path, "flow", "lif", "-o", "out", env=env)
    assert line == ("Icarus Verilog (iverilog, vvp) is not on PATH; install it with "
                    "'sudo apt-get install iverilog' or choose --sim verilator")
    # the rerun is not refused as "not empty": there is nothing there
    assert not (tmp_path / "out").exists()


def test_flow_checks_the_compiler_before_writing(tmp_path, tmp_path_factory):
    import shutil

    tools = tmp_path_factory.mktemp("bin")  # every tool the flow runs but g++
    for tool in ("iverilog", "vvp", "make", "perl"):
        if shutil.which(tool):
            (tools / tool).symlink_to(shutil.which(tool))
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), str(tools)]))
    line = refused(tmp_path, "flow", "lif", "-o", "out", env=env)
    assert line == ("Verilator needs g++ to compile a simulation; install them with "
                    "'sudo apt-get install g++ make perl' or choose --sim icarus")


# -- output pipes ------------------------------------------------------------------------------

def test_closed_pipe_is_quiet(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "neurotile", "model", "hh", "--current", "10",
                             "--duration-ms", "100", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    proc.stdout.close()  # the reader goes away before anything is printed (`| head -c 0`)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert stderr == ""


# -- Python API --------------------------------------------------------------------------------

def test_numpy_integers_build_a_population():
    from neurotile.rtl.lif import LIFPopulation

    pop = LIFPopulation(neurons=np.int64(8), width=np.int32(8))
    assert pop.p.neurons == 8 and type(pop.p.neurons) is int


def test_from_beta_takes_numpy_floats():
    from neurotile.neurons.lif import LIFIntParams

    assert LIFIntParams.from_beta(np.float32(0.9)) == LIFIntParams.from_beta(0.9)
    assert LIFIntParams.from_beta(np.float64(0.5)).decay == 128


def test_from_beta_with_shift_leak_says_why():
    from neurotile.neurons.lif import LIFIntParams

    with pytest.raises(ValueError, match=r"^beta selects the multiply leak; leak must be "
                                         r"'multiply', not 'shift'$"):
        LIFIntParams.from_beta(0.9, leak="shift")


def test_from_beta_that_rounds_to_zero():
    from neurotile.neurons.lif import LIFIntParams

    with pytest.raises(ValueError, match=r"^beta 0\.001 rounds to 0/2\*\*8 with beta_bits 8"):
        LIFIntParams.from_beta(0.001)


@pytest.mark.parametrize("current", [1e9, -1e9, -50.0])
def test_float_hh_refuses_a_diverging_stimulus_without_warnings(current):
    from neurotile.neurons.hodgkin_huxley import hh_float_run

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^the stimulus drives the float model out of its "
                                             r"numerical range at [0-9.]+ ms \(the rate "
                                             r"functions overflow\); give a current closer to "
                                             r"0 uA/cm\^2$"):
            hh_float_run(current, 20.0)


def test_float_hh_still_runs_physiological_currents():
    from neurotile.neurons.hodgkin_huxley import hh_float_run

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = hh_float_run(10.0, 50.0)
    assert len(run.spike_times[0]) >= 2
