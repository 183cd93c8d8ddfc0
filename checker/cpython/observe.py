"""Runs a replay program and compares what the process did, step by step, with what the
model predicted.

What each model outcome looks like in the process:
- returned: the thread reports the call's return (its value, whether a thread state is
  attached, whether PyGILState remembers one) within the settle time;
- exited (PyThread_exit_thread): the thread's pthread_cleanup handler runs;
- hung (PyThread_hang_thread, 3.14+): no event, the thread sits in pause();
- blocked (a deadlock at the end of the trace): no event, the thread waits in the kernel
  (futex, or any other system call);
- fatal error: SIGABRT with a "Fatal Python error" line on stderr; crash: SIGSEGV/SIGBUS;
- use after free: under valgrind (PYTHONMALLOC=malloc), an invalid access inside a freed block;
- NULL dereference: SIGSEGV at an address valgrind places in no block, below 64 KiB
  (a field read through a NULL pointer).
Timeouts decide "never": keep them short (`settle`).
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .plan import Expect, NotReplayable, Plan

# System calls a blocked thread sits in, by architecture: what `/proc/.../syscall` shows.
_SYSCALLS = {"x86_64": {"202": "futex", "34": "pause", "7": "poll", "230": "clock_nanosleep", "35": "nanosleep",
                        "0": "read", "61": "wait4"},
             "aarch64": {"98": "futex", "73": "ppoll", "115": "clock_nanosleep", "101": "nanosleep", "63": "read"}}


class TimeLimit(Exception):
    """The program ran past the time limit."""


@dataclass(frozen=True)
class StepResult:
    expect: Expect
    observed: str          # in words: "returned 0", "exited", "blocked in futex", "crash (SIGSEGV)"
    agrees: bool
    skipped: bool = False  # no boundary to observe at this step (the call goes on)
    why: str = ""          # what differs, when it does not agree


@dataclass
class Outcome:
    steps: list[StepResult] = field(default_factory=list)
    exit: str = ""          # how the process ended
    stderr: str = ""

    @property
    def divergence(self) -> StepResult | None:
        return next((s for s in self.steps if not s.agrees), None)


def run(exe: Path, plan: Plan, settle: float, time_limit: float, valgrind: bool = False) -> Outcome:
    """Runs `exe` and compares it with `plan`; under valgrind when asked (slower: settle x10)."""
    ms = int(settle * 1000) * (10 if valgrind else 1)
    cmd = [str(exe), str(ms)]
    env = dict(os.environ)
    if valgrind:
        cmd = ["valgrind", "--error-limit=no", "--quiet", "--log-fd=1", *cmd]   # in order with the obs lines
        env["PYTHONMALLOC"] = "malloc"
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=time_limit, env=env,
                              stdin=subprocess.DEVNULL, start_new_session=True)
    except subprocess.TimeoutExpired as err:
        raise TimeLimit(f"the replay program ran past the time limit ({time_limit:g} s)") from err
    return compare(plan, done.stdout, done.stderr, done.returncode)


def compare(plan: Plan, stdout: str, stderr: str, returncode: int) -> Outcome:
    obs: dict[int, str] = {}
    freed: set[int] = set()      # steps during which valgrind saw an access to a freed block
    for line in stdout.splitlines():
        m = re.fullmatch(r"obs (\d+) (\S+) (.*)", line)
        if m:
            obs[int(m.group(1))] = m.group(3)
        elif _FREED.search(line):
            freed.add(max(obs, default=0) + 1)
    ended = "end" in stdout.splitlines()
    out = Outcome(exit=_exit_words(returncode, stdout + stderr), stderr=stderr)
    death = None if ended else _death(returncode, stdout + stderr)
    for e in sorted(plan.steps, key=lambda e: e.step):
        if e.step in freed:
            ok = e.outcome == "crash:use_after_free"
            out.steps.append(StepResult(e, _UAF, ok, why="" if ok else f"predicted {e.outcome}, observed {_UAF}"))
            if not ok or e.step not in obs:
                break
            continue
        if e.step in obs:
            out.steps.append(_judge(e, obs[e.step]))
            continue
        if death is None:
            out.steps.append(StepResult(e, "nothing (the program stopped early)", False,
                                        why=f"the program stopped before this step: {out.exit}"))
        else:   # a call with no boundary inside it dies where the model completes it: judge that step's crash
            done = _completion(plan, e) if e.outcome == "inside" else e
            agrees, why = _crash_agrees(done.outcome, death)
            out.steps.append(StepResult(e, death, agrees, why=why))
        break
    return out


def _completion(plan: Plan, e: Expect) -> Expect:
    """The step where the model completes the call step `e` is inside of: its thread's next."""
    later = sorted((x for x in plan.steps if x.thread == e.thread and x.step > e.step), key=lambda x: x.step)
    return later[0] if later else e


def _judge(e: Expect, seen: str) -> StepResult:
    if seen == "skip":
        return StepResult(e, "(no boundary: the call goes on)", True, skipped=True)
    words = _words(seen)
    if e.outcome == "hook flag" and seen.startswith("hook flag finalizing=0"):
        raise NotReplayable(f"step {e.step} ({e.label}): the hook meant to run after the finalizing flag "
                            "runs before it on this version")
    if e.outcome in ("hook atexit", "hook flag", "hook pending", "hook exitfunc", "hook clear", "hook unstable_atexit",
                     "yielded", "exited"):
        ok = seen.startswith(e.outcome)
        return StepResult(e, words, ok, why="" if ok else f"predicted {e.outcome}, observed {words}")
    if e.outcome == "returned":
        m = re.fullmatch(r"returned (\S+) attached=([01?]) gilstate=(\d)", seen)
        if not m:
            return StepResult(e, words, False, why=f"predicted the call returns, observed {words}")
        value, attached, gilstate = m.group(1), m.group(2) == "1", m.group(3) == "1"
        why = []
        if e.result is not None and not _same_value(e.result, value):
            why.append(f"returned {value}, the model says {e.result}")
        if e.attached is not None and m.group(2) != "?" and attached != e.attached:   # ?: not observable (3.11)
            why.append(f"a thread state is {'' if attached else 'not '}attached, the model says "
                       f"{'it is' if e.attached else 'none is'}")
        if e.gilstate is not None and gilstate != e.gilstate:
            why.append(f"PyGILState_GetThisThreadState() is {'set' if gilstate else 'NULL'}, the model says "
                       f"{'set' if e.gilstate else 'NULL'}")
        return StepResult(e, words, not why, why="; ".join(why))
    if e.outcome in ("blocked", "hung"):
        m = re.fullmatch(r"none (\S+)", seen)
        if not m:
            return StepResult(e, words, False, why=f"predicted the thread never moves again, observed {words}")
        place = m.group(1)
        ok = place not in ("gone", "syscall=running") and (e.outcome == "blocked" or "pause" in words)
        return StepResult(e, words, ok, why="" if ok else f"predicted {e.outcome}, observed {words}")
    if e.outcome.startswith("crash:"):
        return StepResult(e, words, False, why=f"predicted {e.outcome[6:].replace('_', ' ')}, "
                                               f"but the process went on: {words}")
    return StepResult(e, words, False, why=f"cannot compare the outcome `{e.outcome}`")


def _same_value(model: str, seen: str) -> bool:
    if seen in ("ptr", "NULL"):     # a handle: the model names it, the process has a pointer
        return (model == "NULL") == (seen == "NULL")
    return model == seen


def _words(seen: str) -> str:
    m = re.fullmatch(r"none syscall=(\S+)", seen)
    if m:
        if m.group(1) == "running":
            return "still running (no event)"
        name = _SYSCALLS.get(platform.machine(), {}).get(m.group(1), f"system call {m.group(1)}")
        return f"blocked in {name}" if name != "pause" else "hung in pause()"
    if seen == "none gone":
        return "gone (the thread ended without an event)"
    m = re.fullmatch(r"returned (\S+) attached=([01?]) gilstate=(\d)", seen)
    if m:
        value = "" if m.group(1) == "-" else f" {m.group(1)}"
        return f"returned{value} (attached={m.group(2)}, gilstate={m.group(3)})"
    return seen


# Nothing is mapped in the first 64 KiB (vm.mmap_min_addr's usual value; a program never maps
# there): an access there is NULL plus a field's offset (3.13.0's new_threadstate(NULL) reads
# the interpreter at +0x1cd0, 3.12.1's at +0x60).
_NEAR_NULL = 0x10000
_FREED = re.compile(r"inside a block of size [\d,]+ free'd")
_UAF = "use after free (valgrind: an access inside a freed block)"


def _death(returncode: int, stderr: str) -> str:
    fatal = re.search(r"Fatal Python error: (.*)", stderr)
    if fatal:
        return f"fatal error: {fatal.group(1).strip()}"
    wild = ""
    m = re.search(r"Address (0x[0-9a-fA-F]+) is not stack'd, malloc'd or \(recently\) free'd", stderr)
    if m:
        near_null = int(m.group(1), 16) < _NEAR_NULL
        wild = (f"; valgrind: address {m.group(1)}, in no block" +
                (", a NULL pointer's field, not a freed one" if near_null else ", a wild pointer, not a freed one"))
    if returncode < 0:
        name = signal.Signals(-returncode).name
        kind = "fatal error" if name == "SIGABRT" else "crash"
        return f"{kind} ({name}{wild if name != 'SIGABRT' else ''})"
    if re.search(r"Process terminating with default action of signal 11", stderr):
        return f"crash (SIGSEGV{wild})"
    return f"exit status {returncode}"


def _crash_agrees(outcome: str, death: str) -> tuple[bool, str]:
    """A crash the model predicts, against how the process died."""
    if not outcome.startswith("crash:"):
        return False, f"predicted {outcome}, but the process died: {death}"
    kind = outcome[6:]
    fits = {"fatal_error": death.startswith("fatal error"),
            "no_thread_state": death.startswith(("fatal error", "crash")),
            "use_after_free": death.startswith("use after free") or (
                death.startswith("crash") and shutil.which("valgrind") is None),
            "null_deref": death.startswith("crash (SIGSEGV") and (
                "a NULL pointer's field" in death or shutil.which("valgrind") is None)}
    if fits.get(kind, False):
        return True, ""
    return False, f"predicted {kind.replace('_', ' ')}, observed {death}"


def _exit_words(returncode: int, stderr: str) -> str:
    return "exit status 0" if returncode == 0 else _death(returncode, stderr)


__all__ = ["run", "compare", "Outcome", "StepResult", "TimeLimit"]
