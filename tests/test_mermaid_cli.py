"""The Mermaid diagrams `check --mermaid` writes, through the real Mermaid in headless Chromium
(npm's @mermaid-js/mermaid-cli, whose `mmdc` the README tells people to render with): every
counterexample of every bundled spec, on every design that can run it, parses, renders to SVG,
no text reaches past the picture's edge, and no note's text is wider than its box. Skipped with
the reason when Node.js, Chromium or mermaid-cli is missing; .ci/run installs mermaid-cli
(outside the repository) when npm is there.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.checker.cli.matrix import run_matrix
from interpcheck.checker.cli.runner import load_all
from interpcheck.checker.cli.trace import write_traces
from interpcheck.checker.engines import Options

ROOT = Path(__file__).resolve().parent.parent
RENDER = Path(__file__).resolve().parent / "mermaid" / "render.mjs"
# Where .ci/run installs mermaid-cli: a cache outside the repository, kept between runs.
MMDC_DIR = Path(os.environ.get("INTERPCHECK_MMDC_DIR") or Path.home() / ".cache" / "interpcheck" / "mermaid-cli")
CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
NODE = shutil.which("node")


def mermaid_cli_modules() -> Path | None:
    """The node_modules folder that holds mermaid-cli and puppeteer: .ci/run's, else that of an
    `mmdc` on PATH (a global install)."""
    candidates = [MMDC_DIR / "node_modules"]
    if mmdc := shutil.which("mmdc"):
        # .../node_modules/.bin/mmdc -> .../node_modules/@mermaid-js/mermaid-cli/src/cli.js
        candidates.append(Path(mmdc).resolve().parents[3])
    for modules in candidates:
        if (modules / "@mermaid-js" / "mermaid-cli").is_dir() and (modules / "puppeteer").is_dir():
            return modules
    return None


MODULES = mermaid_cli_modules()
MISSING = ("no Node.js (apt-get install nodejs)" if NODE is None else
           "no Chromium (apt-get install chromium)" if CHROMIUM is None else
           f"no mermaid-cli in {MMDC_DIR} (.ci/run installs it: npm install @mermaid-js/mermaid-cli puppeteer)"
           if MODULES is None else None)
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def mmdc() -> list[str]:
    """`mmdc`, run through its script: a global install keeps the `mmdc` link out of node_modules."""
    return [NODE, str(MODULES / "@mermaid-js" / "mermaid-cli" / "src" / "cli.js")]


def puppeteer_config(folder: Path) -> Path:
    """mmdc's browser: Debian's Chromium, not one of puppeteer's own (which can't be downloaded
    here); no sandbox, since CI runs as root and Chromium's sandbox refuses root."""
    path = folder / "puppeteer.json"
    path.write_text(json.dumps({"executablePath": CHROMIUM, "args": ["--no-sandbox", "--disable-gpu"]}))
    return path


def write_every_counterexample(folder: Path) -> int:
    """Every bundled spec on every design that can run it, as `interpcheck matrix` checks them,
    each counterexample written as `check --mermaid` writes it."""
    checked = run_matrix(load_all((str(ROOT / "specs"),)), Options())
    return len(write_traces(checked, None, str(folder)))


def render_all(src: Path, out: Path) -> list[dict]:
    """One browser for all: Chromium per file would cost a second or two each."""
    done = subprocess.run([NODE, str(RENDER), str(MODULES), CHROMIUM, str(src), str(out)],
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_mmdc_renders_a_counterexample_to_svg(tmp_path):
    """The command the README gives, on one diagram: the CLI itself works with this Chromium."""
    CliRunner().invoke(main, ["check", "-q", str(ROOT / "specs" / "s1_isfinalizing_toctou.toml"),
                              "--mermaid", str(tmp_path / "mmd")])
    mmd = sorted((tmp_path / "mmd").rglob("*.mmd"))[0]
    svg = tmp_path / "out.svg"
    command = [*mmdc(), "-q", "-p", str(puppeteer_config(tmp_path)), "-i", str(mmd), "-o", str(svg)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert svg.read_text().startswith("<svg")


@pytest.mark.slow   # hundreds of diagrams through Chromium: .ci/run runs it (pytest -m slow)
def test_every_counterexample_renders_and_no_text_is_clipped(tmp_path):
    src, out = tmp_path / "mmd", tmp_path / "svg"
    written = write_every_counterexample(src)
    assert written > 100
    report = render_all(src, out)
    assert len(report) == written
    errors = [f"{r['file']}: {r['error']}" for r in report if r["error"]]
    assert not errors, f"{len(errors)} of {written} diagrams do not render:\n" + "\n".join(errors[:10])
    clipped = [f"{r['file']}: {c['textWidth']} px of text in a {c['boxWidth']} px note: {c['text']!r}"
               for r in report for c in r["clipped"]]
    spoilt = sum(1 for r in report if r["clipped"])
    assert not clipped, f"{len(clipped)} note lines in {spoilt} of {written} diagrams are wider than their box:\n" + \
        "\n".join(clipped[:10])
    outside = [f"{r['file']}: {o['text']!r} spans {o['left']}..{o['right']} px of a {o['pictureWidth']} px picture"
               for r in report for o in r["outside"]]
    spoilt = sum(1 for r in report if r["outside"])
    assert not outside, f"{len(outside)} texts in {spoilt} of {written} diagrams reach past the picture's edge:\n" + \
        "\n".join(outside[:10])
