"""Runs specs: the one place where the spec files (model side) meet the engines.

`check`, `matrix` and `gate` all go through `run_spec`, so they agree on what was checked.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import interpcheck.checker

from interpcheck.model.ir import LeadsTo, NoDeadlock, NoHang, Sometimes, System
from interpcheck.model.spec import Spec, SpecError, load_spec
from interpcheck.model.spec_schema import did_you_mean

from ..engines import run
from ..options import Options
from ..explicit import StderrReporter
from ..result import Result, Verdict

EXIT_OK, EXIT_DEADLOCK, EXIT_SAFETY, EXIT_LIVENESS = 0, 11, 12, 13
EXIT_BAD_INPUT, EXIT_LIMIT, EXIT_INTERNAL = 150, 152, 255
EXIT_PIPE = 141   # the reader of stdout went away (`| head`): 128 + SIGPIPE, as the shell reports for cat


@dataclass
class Checked:
    spec: Spec
    design: str
    system: System
    result: Result
    expected: str | None
    pinned: bool = True     # False: `expected` is the default "holds" of a spec with no [expect]

    @property
    def as_expected(self) -> bool:
        return self.expected is None or self.result.verdict.value == self.expected

    def exit_code(self) -> int:
        """TLC's codes: 11 deadlock, 12 safety, 13 liveness; 152 no verdict; 0 as expected."""
        if self.result.verdict is Verdict.UNKNOWN:
            if self.result.undecided:
                return EXIT_OK   # another engine's job, said in the reason: no limit was reached
            return EXIT_LIMIT if (self.expected is not None and self.pinned) or self.result.limit is not None \
                else EXIT_OK
        if self.as_expected:
            return EXIT_OK
        if self.result.verdict is Verdict.HOLDS:
            return EXIT_SAFETY   # an expected violation was not found
        prop = self.system.prop(self.result.prop)
        if isinstance(prop, NoDeadlock):
            return EXIT_DEADLOCK
        if isinstance(prop, (NoHang, LeadsTo)):
            return EXIT_LIVENESS
        return EXIT_SAFETY


def bundled_specs() -> Path:
    """The specs shipped with interpcheck: specs/ in a checkout, interpcheck/specs/ when installed
    (setup.py maps both under the package)."""
    return Path(interpcheck.checker.__file__).resolve().parent.parent / "specs"


def spec_paths(paths: tuple[str, ...]) -> list[Path]:
    if not paths:
        paths = ("specs",)
        if not Path("specs").is_dir() and bundled_specs().is_dir():
            # Installed use outside a project: check the bundled examples rather than fail.
            print(f"note: no specs/ folder here; using the bundled specs in {bundled_specs()} "
                  "(`interpcheck init DIR` copies a starter spec)", file=sys.stderr)
            paths = (str(bundled_specs()),)
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(p.rglob("*.toml"))
        elif p.exists():
            out.append(p)
        else:
            raise SpecError(str(p), 0, "no such file or directory")
    if not out:
        raise SpecError(str(paths[0]), 0, "no spec files (*.toml) there")
    return out


def run_spec(spec: Spec, opts: Options, designs: tuple[str, ...] = (), props: tuple[str, ...] = (),
             progress: bool = True, unpinned_must_hold: bool = False) -> list[Checked]:
    """`unpinned_must_hold`: a design the spec pins no verdict for is held to every bug-class
    property holding, as TLC holds a spec to every property it names (`check`, `report`);
    reachability questions (queries, `completes`) only inform."""
    out = []
    for design in spec.designs:
        if designs and design not in designs:
            continue
        system = spec.system(design)
        expect = spec.expect.get(design, {})
        names = list(props) if props else (list(expect) or None)
        if props:
            known = {p.name for p in system.properties}
            for name in props:
                if name not in known:
                    raise SpecError(spec.path, 0, f"unknown property `{name}`; {did_you_mean(name, known)}known: {', '.join(sorted(known))}")
        reporter = StderrReporter(f"{spec.name} [{design}]: ") if progress else StderrReporter(after=1e18)
        family = spec.family(design) if opts.engine == "parametric" else None
        for result in run(system, names, opts, reporter, family):
            checked = result.system or system
            pinned = expect.get(result.prop)
            if pinned is None and unpinned_must_hold and not expect \
                    and not isinstance(checked.prop(result.prop), Sometimes):
                out.append(Checked(spec, design, checked, result, "holds", pinned=False))
            else:
                out.append(Checked(spec, design, checked, result, pinned))
    return out


def load_all(paths: tuple[str, ...]) -> list[Spec]:
    return [load_spec(p) for p in spec_paths(paths)]


def overall_exit(checked: list[Checked]) -> int:
    codes = [c.exit_code() for c in checked]
    violations = [c for c in codes if c in (EXIT_DEADLOCK, EXIT_SAFETY, EXIT_LIVENESS)]
    if violations:
        return violations[0]
    return EXIT_LIMIT if EXIT_LIMIT in codes else EXIT_OK
