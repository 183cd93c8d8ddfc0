"""Every parametric verdict on the bundled specs, for diffing two versions of the engine.

    python benchmarks/parametric_verdicts.py [--time-limit 60] [--out FILE] [PATHS...]

Runs `interpcheck check --engine parametric --format json` on each spec with a `count`
(default: specs/*.toml and benchmarks/*.toml) and writes one line per spec, design and
property: verdict, abstract states and transitions (when not cut by a limit) and the reason
with its numbers of seconds removed. Two runs' outputs should be identical.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def has_count(path: Path) -> bool:
    return re.search(r"(?m)^count\s*=", path.read_text()) is not None


def run(path: Path, time_limit: float) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "interpcheck", "check", "--engine", "parametric", "--format",
                           "json", "-q", "--time-limit", str(time_limit), str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    try:
        results = json.loads(proc.stdout)["results"]
    except (ValueError, KeyError):
        return [f"{path.name}: exit {proc.returncode} {proc.stderr.strip()[-300:]}"]
    out = []
    cut = {r["design"] for r in results if "limit reached" in (r["reason"] or "")}
    for r in results:
        limited = "limit reached" in (r["reason"] or "")
        stats = r["stats"] or {}
        # a search a limit stopped met a load-dependent number of states: only the verdict counts
        counted = "" if r["design"] in cut else f" states={stats.get('states')} transitions={stats.get('transitions')}"
        reason = re.sub(r"\d+(\.\d+)?s\b", "#s", r["reason"] or "")
        if limited:
            reason = re.sub(r"[\d,]+ abstract states", "# abstract states", reason)
        out.append(f"{r['spec']} {r['design']} {r['property']}: {r['verdict']}{counted} | {reason}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("paths", nargs="*", type=Path)
    args = ap.parse_args()
    paths = args.paths or sorted((ROOT / "specs").glob("*.toml")) + sorted((ROOT / "benchmarks").glob("*.toml"))
    lines = []
    for path in paths:
        if not has_count(path):
            continue
        start = time.perf_counter()
        got = run(path, args.time_limit)
        print(f"{path.name}: {time.perf_counter() - start:.1f}s", file=sys.stderr, flush=True)
        lines += got
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
