"""The HTML report in a real headless Chromium: it renders, and stepping works through the
URL hash, the buttons and the arrow keys. Skipped when no Chromium is installed
(Debian: apt-get install chromium)."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium) for browser tests")
FIRST = "s1_isfinalizing_toctou-cpython_3_11-no_attach_after_finalize"
STALE = "s1_isfinalizing_toctou-cpython_3_14-no_stale_check"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    r = CliRunner().invoke(main, ["report", "-q", str(ROOT / "specs" / "s1_isfinalizing_toctou.toml"),
                                  "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def chromium(tmp_path: Path, url: str, *extra: str) -> str:
    profile = tmp_path / f"profile{len(list(tmp_path.iterdir()))}"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           f"--user-data-dir={profile}", "--virtual-time-budget=3000", *extra, url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def section(dom: str, trace_id: str) -> str:
    start = dom.index(f'id="{trace_id}"')
    return dom[dom.rindex("<section", 0, start):dom.index("</section>", start)]


def current_step(dom: str, trace_id: str) -> int:
    head = section(dom, trace_id).split(">", 1)[0]
    return int(re.search(r'data-step="(\d+)"', head).group(1))


def test_hash_selects_the_step_of_the_first_trace(report, tmp_path):
    dom = chromium(tmp_path, report.as_uri() + "#step=3", "--dump-dom")
    part = section(dom, FIRST)
    assert current_step(dom, FIRST) == 3
    assert "step 3 of 5" in part
    assert re.search(r'<li data-step="3" class="step current">', part)
    assert re.search(r'<g class="seq-step current" data-step="3">', part)
    # the state panel is filled in, and step 3 (the finalizing flag) is marked as a change
    assert re.search(r'<tr class="changed"><td>phase\[main\]</td><td>finalizing <span class="old">prefinal', part)


def test_hash_selects_a_named_trace(report, tmp_path):
    dom = chromium(tmp_path, report.as_uri() + f"#trace={STALE}&step=5", "--dump-dom")
    assert current_step(dom, STALE) == 5
    assert current_step(dom, FIRST) == 0
    part = section(dom, STALE)
    assert '<g class="seq-step violating current" data-step="5">' in part
    assert re.search(r'<tr class="changed"><td>status\[T1\]</td><td>hung', part)


def test_buttons_and_arrow_keys_step(report, tmp_path):
    # Drive the page as a user would: two clicks on "next", one on "previous", then keys.
    page = report.read_text().replace("</body>", """<script>
var s = document.getElementById("%s");
s.querySelector(".next").click(); s.querySelector(".next").click(); s.querySelector(".prev").click();
document.body.dataset.afterClicks = s.dataset.step;
function key(k) { document.dispatchEvent(new KeyboardEvent("keydown", {key: k, bubbles: true})); }
key("ArrowRight"); key("ArrowRight"); key("ArrowRight"); key("ArrowLeft");
document.body.dataset.afterKeys = s.dataset.step;
key("End"); document.body.dataset.atEnd = s.dataset.step + " " + s.querySelector(".next").disabled;
key("ArrowRight"); document.body.dataset.pastEnd = s.dataset.step;
key("Home"); document.body.dataset.home = s.dataset.step + " " + s.querySelector(".prev").disabled;
document.body.dataset.hash = location.hash;
</script></body>""" % STALE)
    driven = tmp_path / "driven.html"
    driven.write_text(page)
    dom = chromium(tmp_path, driven.as_uri(), "--dump-dom")
    body = re.search(r"<body([^>]*)>", dom).group(1)
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body))
    assert attrs["after-clicks"] == "1"
    assert attrs["after-keys"] == "3"
    assert attrs["at-end"] == "5 true"
    assert attrs["past-end"] == "5"
    assert attrs["home"] == "0 true"
    assert attrs["hash"] == f"#trace={STALE}&amp;step=0"


def test_screenshot_shows_the_report(report, tmp_path):
    png = tmp_path / "report.png"
    chromium(tmp_path, report.as_uri() + "#step=4", f"--screenshot={png}", "--window-size=1400,1600",
             "--hide-scrollbars")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 60_000, "the screenshot looks empty"


@pytest.fixture(scope="module")
def queries_report(tmp_path_factory) -> Path:
    """Two specs, one with reachability queries (witnesses), one with counterexamples."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    CliRunner().invoke(main, ["report", "-q", str(ROOT / "specs" / "query_guard_after_isfinalizing.toml"),
                              str(ROOT / "specs" / "s1_isfinalizing_toctou.toml"), "--out", str(out)])
    return out


def visible(dom: str, pattern: str) -> list[str]:
    """The opening tags matching `pattern` that are not hidden."""
    return [t for t in re.findall(pattern, dom) if " hidden" not in t]


def test_matrix_per_spec_links_counterexamples_and_witnesses(queries_report):
    html = queries_report.read_text()
    matrices = re.findall(r'<div class="spec-matrix">.*?</table></div>', html, re.S)
    assert len(matrices) == 2
    s1 = next(m for m in matrices if "s1_isfinalizing_toctou" in m)
    assert '<th data-design="cpython_3_13">cpython_3_13</th><th data-design="cpython_3_13_8">cpython_3_13_8</th>' in s1
    assert f'href="#trace={STALE}&amp;step=0"' in s1
    witness = "query_guard_after_isfinalizing-final-refused_before_finalizing"
    assert f'href="#trace={witness}&amp;step=0"' in html and f'<section class="trace" id="{witness}"' in html


def test_filter_by_design_from_the_url(queries_report, tmp_path):
    dom = chromium(tmp_path, queries_report.as_uri() + "#design=cpython_3_13", "--dump-dom")
    rows = visible(dom, r'<tr data-design="[^"]*"[^>]*>')
    assert rows and all('data-design="cpython_3_13"' in r for r in rows)
    assert not visible(dom, r'<section class="trace" id="s1_isfinalizing_toctou-cpython_3_14-[^"]*"[^>]*>')
    assert visible(dom, r'<section class="trace" id="s1_isfinalizing_toctou-cpython_3_13-[^"]*"[^>]*>')
    assert re.search(rf"{len(rows)} of \d+ verdicts shown", dom)
    # the spec without that design has no matrix left to show
    assert re.search(r'<div class="spec-matrix" hidden="">\s*<h3[^>]*>query_guard_after_isfinalizing', dom)


def test_filter_by_property_and_unexpected_only(queries_report, tmp_path):
    dom = chromium(tmp_path, queries_report.as_uri() + "#property=no_stale_check", "--dump-dom")
    rows = visible(dom, r'<tr data-design="[^"]*"[^>]*>')
    assert len(rows) == 5 and all('data-property="no_stale_check"' in r for r in rows)   # one per release design
    dom = chromium(tmp_path, queries_report.as_uri() + "#only=unexpected", "--dump-dom")
    assert not visible(dom, r'<tr data-design="[^"]*"[^>]*>')   # every verdict here is as expected
    assert "0 of" in dom


def test_what_a_filter_hides_is_not_displayed(queries_report, tmp_path):
    """`hidden` must win over the matrices' own display (inline-block)."""
    page = queries_report.read_text().replace("</body>", """<script>
var shown = Array.prototype.filter.call(document.querySelectorAll(".spec-matrix"), function (box) {
  return getComputedStyle(box).display !== "none";
});
document.body.dataset.matrices = String(shown.length);
</script></body>""")
    driven = tmp_path / "driven.html"
    driven.write_text(page)
    dom = chromium(tmp_path, driven.as_uri() + "#design=cpython_3_13", "--dump-dom")
    assert re.search(r'<body[^>]*data-matrices="1"', dom)
