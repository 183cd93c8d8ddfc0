"""Translates a C function into a thread program (docs/specs.md "Programs").

Direct style, linear in the size of the function: `return`, `break`, `continue` and
`goto cleanup` become forward `goto`s to labels of the program (after an inlined callee,
after a loop, at the function's end), each after the C++ destructors of the scopes they
leave; loops are unrolled to a bound; a condition the model cannot read becomes
`choose()`, a nondeterministic branch; `&&`/`||` jump too when their branches are large.
Every emitted line carries the C file:line it came from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from tree_sitter import Node

from ..programs.parse import KEYWORDS
from .source import Function, text_of

# Calls that take or give back a C mutex, by name: (acquire, release) and where the lock is.
LOCKS = {"pthread_mutex_lock": "lock", "PyMutex_Lock": "lock", "PyThread_acquire_lock": "lock",
         "PyThread_acquire_lock_timed": "lock", "mtx_lock": "lock", "EnterCriticalSection": "lock",
         "AcquireSRWLockExclusive": "lock", "uv_mutex_lock": "lock",
         "pthread_mutex_unlock": "unlock", "PyMutex_Unlock": "unlock", "PyThread_release_lock": "unlock",
         "mtx_unlock": "unlock", "LeaveCriticalSection": "unlock", "ReleaseSRWLockExclusive": "unlock",
         "uv_mutex_unlock": "unlock"}
# Py* names that need no thread state (macros on C values, raw memory, locks, initialization checks).
NO_TSTATE = re.compile(r"^(Py_IsInitialized|PyGILState_Check|PyMem_Raw\w*|PyThread_\w*|Py_UNUSED|Py_ARRAY_LENGTH|"
                       r"Py_MIN|Py_MAX|Py_ABS|Py_MEMBER_SIZE|Py_STRINGIFY|Py_BUILD_ASSERT\w*|Py_UNREACHABLE|"
                       r"PyEval_ThreadsInitialized|PyOS_\w*|"
                       # initialization and configuration, called before Python runs (Doc/c-api/init_config.rst)
                       r"PyConfig_\w*|PyPreConfig_\w*|PyStatus_\w*|PyWideStringList_\w*|Py_PreInitialize\w*|"
                       r"Py_Initialize\w*|Py_SetPythonHome|Py_SetProgramName|Py_SetPath|Py_DecodeLocale|"
                       r"Py_EncodeLocale|PyImport_AppendInittab|PyImport_ExtendInittab|Py_GetVersion|"
                       r"Py_GetBuildInfo|Py_GetCompiler|Py_GetPlatform|Py_GetCopyright|"
                       r"PyMutex_IsLocked|Py_AtExit|Py_IsFinalizing_unlocked|"
                       # pointer comparisons (Include/object.h): no thread state read
                       r"Py_Is|Py_IsNone|Py_IsTrue|Py_IsFalse)$")
# Functions with the semantics of a modelled one (Python/ceval_gil.c): the extra arguments dropped.
ALIASES = {"PyEval_AcquireThread": "PyEval_RestoreThread", "PyEval_ReleaseThread": "PyEval_SaveThread"}
# Modelled functions whose C arguments past the model's are the callback and its data, which
# the model does not follow: Py_AddPendingCall(func, arg), Py_AtExit(func), PyUnstable_AtExit(interp, func, data).
CALLBACK_ARGS = {"Py_AddPendingCall", "Py_AtExit", "PyUnstable_AtExit"}
MACROS = {"Py_BEGIN_ALLOW_THREADS": "Py_BEGIN_ALLOW_THREADS", "Py_END_ALLOW_THREADS": "Py_END_ALLOW_THREADS",
          "Py_UNBLOCK_THREADS": "Py_BEGIN_ALLOW_THREADS", "Py_BLOCK_THREADS": "Py_END_ALLOW_THREADS"}
RAII_LOCKS = re.compile(r"\b(lock_guard|unique_lock|scoped_lock|shared_lock|MutexLock|QMutexLocker)\b")
RAII_GIL = re.compile(r"\bgil_scoped_(acquire|release)\b")
GILSTATES = {"PyGILState_LOCKED": "0", "PyGILState_UNLOCKED": "1"}
NULLS = {"NULL", "nullptr", "0", "false", "Py_None"}
MAX_LINES = 20000


@dataclass(frozen=True)
class Line:
    depth: int
    text: str
    where: tuple[str, int] | None


Lines = list[Line]


@dataclass(frozen=True)
class Warning_:
    where: tuple[str, int]
    message: str

    def __str__(self) -> str:
        return f"{self.where[0]}:{self.where[1]}: warning: {self.message}"


class TooLarge(Exception):
    pass


@dataclass(eq=False)
class Target:
    """A label of the program; written only when some `goto` uses it."""
    name: str
    used: bool = False

    def goto(self, where) -> Line:
        self.used = True
        return Line(0, f"goto {self.name}", where)

    def here(self, where=None) -> Lines:
        return [Line(0, f"label {self.name}", where)] if self.used else []


@dataclass(frozen=True)
class Jump:
    """Where a `break` or `continue` goes, and how many destructors are live outside it."""
    target: Target
    depth: int


@dataclass(frozen=True)
class Ctx:
    fn: Function
    prefix: str                                 # register prefix of this function's locals ("" for the entry)
    locals: frozenset[str]
    aliases: tuple[tuple[str, str], ...]        # C name → register (parameters bound to the caller's names)
    exit: Target | None                         # where `return` goes (None: the thread returns)
    base: int = 0                               # destructors live when this function was entered
    brk: Jump | None = None
    cont: Jump | None = None
    labels: tuple[tuple[str, Target, int, bool], ...] = ()   # C label → target, its byte offset, top level
    stack: tuple[str, ...] = ()                 # functions being inlined (recursion is cut)
    cleanups: tuple[tuple[int, tuple[Line, ...]], ...] = ()  # C++ destructors: (scope, lines), innermost last
    result: str | None = None                   # an inlined function's `return X;` sets this caller's register
    catch: Jump | None = None                   # where a C++ `throw` goes: the innermost try's handlers

    def name(self, cname: str) -> str:
        for c, r in self.aliases:
            if c == cname:
                return r
        return _register(self.prefix + cname if cname in self.locals else cname)


def _register(name: str) -> str:
    """A C name as a register: the spec language's words (`pass`, `not`, `repeat`, ...) are fine
    C names but not registers, and its names are ASCII (`état` becomes `u_e9_tat`)."""
    if name in KEYWORDS:
        return name + "_"
    if not name.isascii():
        return "u_" + "".join(c if c.isascii() else f"{ord(c):x}_" for c in name)
    return name


def _indent(lines: Lines) -> Lines:
    return [replace(x, depth=x.depth + 1) for x in lines] or [Line(1, "pass", None)]


def _strip_parens(node: Node) -> Node:
    while node is not None and node.type in ("parenthesized_expression", "condition_clause") and \
            node.named_child_count == 1:
        node = node.named_children[0]
    return node


class Translator:
    """One translation: the design's functions, the files' functions, warnings, handle kinds."""

    def __init__(self, api: dict, functions: dict[str, Function], loop_bound: int = 2, inline_depth: int = 4):
        self.api = api                                   # name → Api of the design
        self.functions = functions
        self.loop_bound, self.inline_depth = loop_bound, inline_depth
        self.warnings: list[Warning_] = []
        self._warned: set[tuple] = set()
        self.locks: list[str] = []
        self.assigned: set[str] = set()                  # registers some API call assigned
        self.free: dict[str, str] = {}                   # register read before any assignment → its kind
        self.kinds: dict[str, str] = {}                  # register → kind of API value it holds
        self.handles: set[str] = set()                   # registers an API call takes or sets
        self.taken: dict[str, str] = {}                  # register an API call takes → the kind it takes
        self.known: dict[str, str | None] = {}           # the first pass's handles → kind: what `x = y;` copies
        self.temps = 0
        self.emitted = 0
        self.targets = 0
        self.assume_success = False   # setup code: an unmodelled failure check is taken as passed
        self._effects: dict[str, str] = {}
        self.namespace = ""           # prefix of this translation's labels (several may share one program)
        self._escape: Target | None = None
        self.macros: set[str] = set()   # function-like macros the files #define: not expanded

    # ----- entry points ------------------------------------------------------------------------
    def function(self, fn: Function, epilogue: Lines = ()) -> Lines:
        """The entry's body; `epilogue` runs wherever it returns (a harness's own steps)."""
        exit = self._target("exit") if epilogue else None
        self._escape = exit   # where an exception no `catch` takes leaves the entry
        ctx = self._ctx(fn, "", (), exit, ())
        lines = self._block(fn.body, ctx)
        if exit is not None:
            lines += exit.here() + list(epilogue)
        return _coalesce(lines)

    def warn(self, where: tuple[str, int], message: str) -> None:
        if (where, message) not in self._warned:
            self._warned.add((where, message))
            self.warnings.append(Warning_(where, message))

    def _target(self, hint: str) -> Target:
        self.targets += 1
        return Target(self.namespace + re.sub(r"\W", "_", hint) + f"_{self.targets}")

    def _ctx(self, fn: Function, prefix: str, aliases, exit: Target | None, stack, base: int = 0,
             cleanups=(), result: str | None = None, catch: Jump | None = None) -> Ctx:
        labels = []
        stack_nodes = [fn.body]
        while stack_nodes:
            n = stack_nodes.pop()
            if n.type == "labeled_statement":
                name = text_of(n.child_by_field_name("label"))
                labels.append((name, self._target(f"{fn.name}_{name}"), n.start_byte, n.parent == fn.body))
            stack_nodes.extend(n.named_children)
        local = {n for n, _ in fn.params()} | _declared_locals(fn.body)
        return Ctx(fn, prefix, frozenset(local), aliases, exit, base, labels=tuple(labels),
                   stack=stack + (fn.qualified,), cleanups=cleanups, result=result, catch=catch)

    def _line(self, ctx: Ctx, node: Node, text: str) -> Line:
        self.emitted += 1
        if self.emitted > MAX_LINES:
            raise TooLarge(f"the translation grew past {MAX_LINES} lines")
        return Line(0, text, ctx.fn.file.where(node))

    def _unwind(self, ctx: Ctx, depth: int) -> Lines:
        """The destructors of the scopes a jump leaves, innermost first."""
        return [x for _, lines in reversed(ctx.cleanups[depth:]) for x in lines]

    def _return(self, ctx: Ctx, where) -> Lines:
        out = self._unwind(ctx, ctx.base)
        return out + ([ctx.exit.goto(where)] if ctx.exit is not None else [Line(0, "return", where)])

    # ----- statements --------------------------------------------------------------------------
    def _block(self, node: Node, ctx: Ctx) -> Lines:
        """A compound statement: its destructors run when it ends normally."""
        scope = id(node)
        stmts = [c for c in node.named_children if c.type != "comment"] if node.type == "compound_statement" \
            else [node]
        out: Lines = []
        c = ctx
        for st in stmts:
            lines, c = self._stmt(st, c, scope)
            out += lines
        if out and out[-1].depth == 0 and (out[-1].text == "return" or out[-1].text.startswith("goto ")):
            return out   # it jumped: the destructors already ran on the way out
        return out + [x for s, lines in reversed(c.cleanups) if s == scope for x in lines]

    def _body(self, node: Node | None, ctx: Ctx) -> Lines:
        return self._block(node, ctx) if node is not None else []

    def _stmt(self, node: Node, ctx: Ctx, scope: int) -> tuple[Lines, Ctx]:
        try:
            return self._statement(node, ctx, scope)
        except (TooLarge, RecursionError):
            raise
        except Exception as err:   # a shape we did not foresee: said, and the statement skipped
            self.warn(ctx.fn.file.where(node), f"could not translate this {node.type.replace('_', ' ')} "
                                               f"({type(err).__name__}: {err}); skipped")
            return [], ctx

    def _statement(self, node: Node, ctx: Ctx, scope: int) -> tuple[Lines, Ctx]:
        kind = node.type
        where = ctx.fn.file.where(node)
        if kind == "compound_statement":
            return self._block(node, ctx), ctx
        if kind == "expression_statement":
            if re.fullmatch(r"Py_RETURN_\w+;?", text_of(node).strip()):   # `return Py_NewRef(Py_None)`
                return [self._line(ctx, node, "run_python()")] + self._return(ctx, where), ctx
            return self._expr(node, ctx), ctx
        if kind == "declaration":
            return self._declaration(node, ctx, scope)
        if kind == "if_statement":
            return self._if(node, ctx), ctx
        if kind in LOOPS:
            return self._loop(node, ctx), ctx
        if kind == "switch_statement":
            return self._switch(node, ctx), ctx
        if kind == "return_statement":
            return self._return_statement(node, ctx), ctx
        if kind in ("break_statement", "continue_statement"):
            jump = ctx.brk if kind == "break_statement" else ctx.cont
            if jump is None:
                self.warn(where, f"`{kind.split('_')[0]}` outside a loop or switch: the function returns here")
                return self._return(ctx, where), ctx
            return self._unwind(ctx, jump.depth) + [jump.target.goto(where)], ctx
        if kind == "goto_statement":
            return self._goto(node, ctx), ctx
        if kind == "labeled_statement":
            name = text_of(node.child_by_field_name("label"))
            found = next((t for n, t, _, _ in ctx.labels if n == name), None)
            here = found.here(where) if found is not None else []
            if found is not None and not found.used:   # used later by a backward goto: not followed
                found.used = True
                here = found.here(where)
            inner = [c for c in node.named_children if c.type != "statement_identifier"]
            out, c = here, ctx
            for st in inner:
                lines, c = self._stmt(st, c, scope)
                out += lines
            return out, c
        if kind in ("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef"):
            return self._preproc(node, ctx, scope), ctx
        if kind == "try_statement":
            return self._try(node, ctx), ctx
        if kind == "throw_statement":
            return self._throw(node, ctx), ctx
        if kind in ("comment", "empty_statement", "type_definition", "struct_specifier", "enum_specifier",
                    "preproc_def", "preproc_function_def", "preproc_call", "preproc_include",
                    "static_assert_declaration"):
            return [], ctx
        if kind != "seh_try_statement":
            self.warn(where, f"cannot read this {'code' if kind == 'ERROR' else kind.replace('_', ' ')}"
                             f" (`{_short(node)}`): only its calls are kept, in order")
        return self._expr(node, ctx), ctx

    def _return_statement(self, node: Node, ctx: Ctx) -> Lines:
        """Its calls, then out; in an inlined helper, `return X;` sets the caller's register."""
        value = node.named_children[0] if node.named_children else None
        plain = _strip_value(value) if value is not None else None
        if ctx.result and plain is not None and (text_of(plain) in NULLS or plain.type == "identifier"):
            out = self._set(ctx, node, ctx.result, plain)   # `return NULL;` / `return g;`
        else:
            out = self._expr(value, ctx, target=ctx.result if plain is not None
                             and plain.type == "call_expression" else None)
        return out + self._return(ctx, ctx.fn.file.where(node))

    def _throw(self, node: Node, ctx: Ctx) -> Lines:
        """Its calls, then to the innermost try's handlers (or out of the entry), leaving the
        scopes between."""
        where, to = ctx.fn.file.where(node), ctx.catch
        leave = [to.target.goto(where)] if to is not None else \
            [self._escape.goto(where)] if self._escape is not None else [Line(0, "return", where)]
        return self._expr(node, ctx) + self._unwind(ctx, to.depth if to is not None else 0) + leave

    def _try(self, node: Node, ctx: Ctx) -> Lines:
        """C++ `try`: the body; where a `throw` in it (or in a function it inlines) goes, one of
        the handlers, which the model does not choose between (it cannot match types). A call
        that throws without a `throw` in these files is not modelled."""
        handlers = [c for c in node.named_children if c.type == "catch_clause"]
        caught, end = self._target("catch"), self._target("try_end")
        inner = replace(ctx, catch=Jump(caught, len(ctx.cleanups)))
        out = self._block(node.child_by_field_name("body"), inner)
        if not caught.used or not handlers:
            return out
        where = ctx.fn.file.where(handlers[0])
        bodies = [self._body(h.child_by_field_name("body"), ctx) for h in handlers]
        chosen = bodies[-1]
        for body, h in zip(reversed(bodies[:-1]), reversed(handlers[:-1])):
            chosen = self._if_lines(ctx, h, "choose()", body, chosen, "catch: any handler")
        return out + [end.goto(where)] + caught.here(where) + chosen + end.here(where)

    def _preproc(self, node: Node, ctx: Ctx, scope: int) -> Lines:
        """#if/#ifdef inside a function: either branch may be compiled in."""
        ours = [c for c in node.named_children if c.type not in ("identifier", "preproc_defined", "binary_expression",
                                                                 "preproc_else", "preproc_elif", "preproc_elifdef",
                                                                 "call_expression", "unary_expression",
                                                                 "number_literal", "parenthesized_expression")]
        out, c = [], ctx
        for st in ours:
            lines, c = self._stmt(st, c, scope)
            out += lines
        alt = node.child_by_field_name("alternative")
        if alt is None and (node.type == "preproc_else" or not out):
            return out
        # without #else, the code is compiled in or not: `#if X return; #endif` must not always return
        other = self._preproc(alt, ctx, scope) if alt is not None else []
        first = self._line(ctx, node, "if choose():   # #if: either branch may be compiled in")
        return [first] + _indent(out) + ([Line(0, "else:", first.where)] + _indent(other) if other else [])

    def _goto(self, node: Node, ctx: Ctx) -> Lines:
        label = text_of(node.child_by_field_name("label"))
        where = ctx.fn.file.where(node)
        found = next(((t, at, top) for n, t, at, top in ctx.labels if n == label), None)
        if found is None:
            self.warn(where, f"`goto {label}`: no such label in {ctx.fn.name}(); the function returns here")
            return self._return(ctx, where)
        target, at, top = found
        if at < node.start_byte:
            self.warn(where, f"`goto {label}` jumps backwards: not followed, the function returns here "
                             "(raise nothing: loops are what --loop-bound unrolls)")
            return self._return(ctx, where)
        if _into_loop(ctx.fn.body, at, node):   # each unrolled iteration has its own copy of the label
            self.warn(where, f"`goto {label}` jumps into a loop: not followed, the function returns here")
            return self._return(ctx, where)
        return (self._unwind(ctx, ctx.base) if top else []) + [target.goto(where)]

    def _declaration(self, node: Node, ctx: Ctx, scope: int) -> tuple[Lines, Ctx]:
        typ = text_of(node.child_by_field_name("type"))
        decls = node.children_by_field_name("declarator")
        where = ctx.fn.file.where(node)
        if RAII_GIL.search(typ):
            name = ctx.name(_name(decls[0]) or "gil") if decls else "gil"
            if "acquire" in typ:
                enter, leave = f"{name} = PyGILState_Ensure()", f"PyGILState_Release({name})"
                self._note_assign(name, "gilstate")
            else:
                enter, leave = "Py_BEGIN_ALLOW_THREADS", "Py_END_ALLOW_THREADS"
            return self._raii(node, ctx, scope, enter, leave)
        if RAII_LOCKS.search(typ) and decls:
            arg = _ctor_arg(decls[0])
            if arg is None:
                self.warn(where, f"cannot tell which mutex `{_short(node)}` locks: ignored")
                return [], ctx
            lock = self._lock_name(arg)
            return self._raii(node, ctx, scope, f"lock({lock})", f"unlock({lock})")
        out: Lines = []
        c = ctx
        for d in decls:
            value = d.child_by_field_name("value") if d.type == "init_declarator" else None
            if value is None:
                continue
            cname = _name(d.child_by_field_name("declarator")) or ""
            plain = _strip_value(value)
            if cname and text_of(plain) in NULLS:   # `T *x = NULL;`: x holds NULL, not a handle to be given
                out += self._set(c, d, c.name(cname), plain)
                continue
            if plain.type == "identifier" and cname and (text_of(plain) in c.locals or
                                                         any(a == text_of(plain) for a, _ in c.aliases)):
                # `T *view = (T *)arg;`: the same handle under another name
                c = replace(c, aliases=c.aliases + ((cname, c.name(text_of(plain))),))
                continue
            out += self._expr(value, c, target=c.name(cname) or None)
        return out, c

    def _raii(self, node: Node, ctx: Ctx, scope: int, enter: str, leave: str) -> tuple[Lines, Ctx]:
        """A C++ guard object: `enter` now, `leave` when its scope ends, however it ends."""
        after = (Line(0, leave + "   # scope exit", ctx.fn.file.where(node)),)
        return [self._line(ctx, node, enter)], replace(ctx, cleanups=ctx.cleanups + ((scope, after),))

    def _if(self, node: Node, ctx: Ctx) -> Lines:
        cond = node.child_by_field_name("condition")
        then = node.child_by_field_name("consequence")
        alt = node.child_by_field_name("alternative")
        if alt is not None and alt.type == "else_clause":
            alt = alt.named_children[0] if alt.named_children else None
        chain = _else_ifs(node)
        if len(chain) > 8:   # flat, or a long `else if` chain passes the program's depth limit
            end, where = self._target("elif_end"), ctx.fn.file.where(node)
            out: Lines = []
            for c, body in chain[:-1]:
                out += self._branch(c, ctx, self._body(body, ctx) + [end.goto(where)], [], node)
            return out + self._body(chain[-1][1], ctx) + end.here(where)
        if self.assume_success and _error_exit(then) and not self._evaluable(cond, ctx):
            # setup code (registration): the harness assumes it succeeded, so the entry runs
            return self._body(alt, ctx)
        return self._branch(cond, ctx, self._body(then, ctx), self._body(alt, ctx), node)

    def _loop(self, node: Node, ctx: Ctx) -> Lines:
        """Unrolled to the bound; each iteration runs only if the condition holds."""
        kind = node.type
        body = node.child_by_field_name("body")
        cond = node.child_by_field_name("condition")
        update = node.child_by_field_name("update")
        if kind == "for_range_loop":
            cond = node.child_by_field_name("right")   # not modelled: any number of elements
        init = node.child_by_field_name("initializer")
        exit = self._target("loop_end")
        depth = len(ctx.cleanups)
        out: Lines = []
        if init is not None:
            out += self._declaration(init, ctx, 0)[0] if init.type == "declaration" else self._expr(init, ctx)

        def iteration(n: int) -> Lines:
            if n == 0:
                return []   # the bound: the loop ends here
            nxt = self._target("loop_next")
            # each copy of the body has labels of its own (a program names each label once)
            labels = tuple((n, self._target(t.name.rsplit("_", 1)[0]) if body.start_byte <= at < body.end_byte else t,
                            at, top) for n, t, at, top in ctx.labels)
            inner = replace(ctx, brk=Jump(exit, depth), cont=Jump(nxt, depth), labels=labels)
            lines = self._body(body, inner)
            lines += nxt.here(ctx.fn.file.where(node))
            if kind == "do_statement":
                return lines + self._branch(cond, ctx, iteration(n - 1), [], node)
            lines += self._expr(update, ctx)
            return lines + (iteration(n - 1) if n > 1 else [])

        if kind == "do_statement":
            out += iteration(self.loop_bound)
        else:
            out += self._unrolled(cond, ctx, node, iteration)
        if kind != "for_range_loop" and _always(cond):
            self.warn(ctx.fn.file.where(node), f"`{_short(node).split('{')[0].strip()}` is left after "
                      f"{self.loop_bound} iterations (--loop-bound), which C cannot do: what follows that way "
                      "may be a false alarm")
        return out + exit.here(ctx.fn.file.where(node))

    def _unrolled(self, cond, ctx: Ctx, node: Node, iteration) -> Lines:
        """while/for: `if cond: body; update; if cond: body; ...` (the condition before each body)."""
        def guarded(n: int) -> Lines:
            if n == 0:
                return []
            return self._branch(cond, ctx, iteration_body(n), [], node)

        def iteration_body(n: int) -> Lines:
            lines = iteration(1)          # one body (with its own labels) ...
            return lines + guarded(n - 1)  # ... then the next test
        return guarded(self.loop_bound)

    def _switch(self, node: Node, ctx: Ctx) -> Lines:
        """Any case may be taken (the value is not modelled); `break` leaves the switch."""
        cond = node.child_by_field_name("condition")
        body = node.child_by_field_name("body")
        cases = [c for c in body.named_children if c.type == "case_statement"]
        exit = self._target("switch_end")
        inner = replace(ctx, brk=Jump(exit, len(ctx.cleanups)))
        where = ctx.fn.file.where(node)
        targets = [self._target("case") for _ in cases]
        has_default = any(c.child_by_field_name("value") is None for c in cases)
        options = [t for t in targets] + ([] if has_default else [exit])

        # one level: `if choose(): goto case` per case, in turn (nesting them would pass the
        # program's depth limit at 32 cases); the last option taken when none was
        dispatch: Lines = []
        for option in options[:-1]:
            dispatch += [self._line(ctx, node, "if choose():   # switch: any case")] + _indent([option.goto(where)])
        out = self._expr(cond, ctx) + (dispatch + [options[-1].goto(where)] if options else [])
        c = inner
        for case, target in zip(cases, targets):
            target.used = True
            out += target.here(ctx.fn.file.where(case))
            for st in case.named_children:
                if st == case.child_by_field_name("value"):
                    continue
                lines, c = self._stmt(st, c, id(body))
                out += lines
        out += [x for s, lines in reversed(c.cleanups) if s == id(body) for x in lines]
        return out + exit.here(where)

    # ----- conditions --------------------------------------------------------------------------
    def _evaluable(self, node: Node | None, ctx: Ctx) -> bool:
        """The condition reads an API result (a call the design models, or a register it set)."""
        if node is None:
            return False
        if node.type == "call_expression" and self._api_call(node) is not None:
            return True
        if node.type == "identifier" and ctx.name(text_of(node)) in self.assigned | set(self.free):
            return True
        return any(self._evaluable(c, ctx) for c in node.named_children)

    def _branch(self, cond: Node | None, ctx: Ctx, then: Lines, other: Lines, node: Node) -> Lines:
        """`if cond: then else: other`, with what the condition itself calls before it."""
        if cond is not None and cond.type == "condition_clause":
            init = cond.child_by_field_name("initializer")
            value = cond.child_by_field_name("value")
            pre: Lines = []
            if init is not None:
                decl = init.named_children[0] if init.named_children else init
                pre, ctx = self._declaration(decl, ctx, 0)
            if value is not None and value.type == "declaration":
                lines, c = self._declaration(value, ctx, 0)
                name = _name(value.child_by_field_name("declarator"))
                return pre + lines + self._if_lines(ctx, value, c.name(name or ""), then, other)
            return pre + self._cond(value, ctx, then, other)
        return self._cond(cond, ctx, then, other)

    def _cond(self, node: Node | None, ctx: Ctx, then: Lines, other: Lines) -> Lines:
        if node is None:
            return then
        node = _strip_parens(node)
        if node.type == "binary_expression" and text_of(node.child_by_field_name("operator")) in ("&&", "||"):
            small = len(then) + len(other) <= 12 and not any(x.text.startswith("label ") for x in then + other)
            if small:   # short branches are copied: the program stays readable
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if text_of(node.child_by_field_name("operator")) == "&&":
                    return self._cond(left, ctx, self._cond(right, ctx, then, other), other)
                return self._cond(left, ctx, then, self._cond(right, ctx, then, other))
            yes, no, end = self._target("then"), self._target("else"), self._target("endif")
            where = ctx.fn.file.where(node)
            out = self._jump(node, ctx, yes, no)
            return out + yes.here(where) + then + [end.goto(where)] + no.here(where) + other + end.here(where)
        return self._atom(node, ctx, then, other)

    def _jump(self, node: Node, ctx: Ctx, yes: Target, no: Target) -> Lines:
        """Jumping code for a condition: every way out is a `goto yes` or a `goto no`."""
        node = _strip_parens(node)
        where = ctx.fn.file.where(node)
        if node.type == "binary_expression" and text_of(node.child_by_field_name("operator")) in ("&&", "||"):
            mid = self._target("cond")
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if text_of(node.child_by_field_name("operator")) == "&&":
                first = self._jump(left, ctx, mid, no)
            else:
                first = self._jump(left, ctx, yes, mid)
            return first + mid.here(where) + self._jump(right, ctx, yes, no)
        if node.type == "unary_expression" and text_of(node.child_by_field_name("operator")) == "!" and \
                _strip_parens(node.child_by_field_name("argument")).type == "binary_expression":
            return self._jump(node.child_by_field_name("argument"), ctx, no, yes)
        return self._atom(node, ctx, [yes.goto(where)], [no.goto(where)])

    def _atom(self, node: Node, ctx: Ctx, then: Lines, other: Lines) -> Lines:
        kind = node.type
        if kind in ("number_literal", "true", "false", "null") or text_of(node) in ("NULL", "nullptr"):
            return then if text_of(node) not in ("0", "false", "NULL", "nullptr", "0L", "0u") else other
        if kind == "unary_expression" and text_of(node.child_by_field_name("operator")) == "!":
            arg = _strip_parens(node.child_by_field_name("argument"))
            if arg.type in ("identifier", "call_expression", "assignment_expression"):
                return self._cond_value(arg, "==", ctx, then, other)   # `!g` reads as `if not g:`
            return self._cond(arg, ctx, other, then)
        if kind == "binary_expression":
            op = text_of(node.child_by_field_name("operator"))
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op in ("==", "!="):
                l, r = _strip_parens(left), _strip_parens(right)
                if text_of(l) in NULLS:
                    l, r = r, l
                if text_of(r) in NULLS:
                    return self._cond_value(l, op, ctx, then, other)
        return self._cond_value(node, "!=", ctx, then, other)

    def _cond_value(self, node: Node, op: str, ctx: Ctx, then: Lines, other: Lines) -> Lines:
        """Test `node op 0`: on an API value when it is one, else a nondeterministic choice."""
        node = _strip_parens(node)
        kind = node.type
        if kind == "identifier" and ctx.name(text_of(node)) in self.assigned | set(self.free):
            return self._if_lines(ctx, node, ctx.name(text_of(node)) if op == "!=" else
                                  f"not {ctx.name(text_of(node))}", then, other)
        if kind == "assignment_expression" and text_of(node.child_by_field_name("operator")) == "=":
            target = self._lvalue(node.child_by_field_name("left"), ctx)
            rhs = _strip_parens(node.child_by_field_name("right"))
            if target and self._api_call(rhs) is not None:
                return self._expr(rhs, ctx, target=target) + self._if_lines(
                    ctx, node, target if op == "!=" else f"not {target}", then, other)
        if kind == "call_expression" and (api := self._api_call(node)) is not None and api.result is not None:
            pre, args = self._args(node, ctx, api, {})
            if args is not None:
                call = f"{api.name}({', '.join(args)})"
                return pre + self._if_lines(ctx, node, call if op == "!=" else f"not {call}", then, other)
        if op == "==":
            then, other = other, then
        return self._expr(node, ctx) + self._if_lines(ctx, node, "choose()", then, other,
                                                      f"the model cannot evaluate `{_short(node)}`: either way")

    def _if_lines(self, ctx: Ctx, node: Node, cond: str, then: Lines, other: Lines, note: str = "") -> Lines:
        if not then and other:   # `if x: pass else: B` reads better as `if not x: B`
            then, other = other, then
            if cond != "choose()":
                cond = cond[4:] if cond.startswith("not ") else f"not {cond}"
        first = self._line(ctx, node, f"if {cond}:" + (f"   # {note}" if note else ""))
        out = [first] + _indent(then)
        if other:
            out += [Line(0, "else:", first.where)] + _indent(other)
        return out

    # ----- expressions -------------------------------------------------------------------------
    def _expr(self, node: Node | None, ctx: Ctx, target: str | None = None) -> Lines:
        """The calls in `node`, in evaluation order (arguments first)."""
        if node is None:
            return []
        node = _strip_parens(node)
        kind = node.type
        if target and text_of(_strip_value(node)) in NULLS:   # `ts = c ? PyEval_SaveThread() : NULL;`
            return self._set(ctx, node, target, _strip_value(node))
        if kind == "call_expression":
            return self._call(node, ctx, target)
        if kind == "assignment_expression":
            lhs, rhs = node.child_by_field_name("left"), node.child_by_field_name("right")
            name = self._lvalue(lhs, ctx) if text_of(node.child_by_field_name("operator")) == "=" else None
            plain = _strip_value(rhs) if rhs is not None else None
            if name and plain is not None and (text_of(plain) in NULLS or plain.type in
                                               ("identifier", "field_expression", "subscript_expression")):
                return self._set(ctx, node, name, plain)   # `x = NULL;`, `x = y;`
            return self._expr(rhs, ctx, target=name)
        if kind in ("cast_expression", "pointer_expression", "parenthesized_expression"):
            value = node.child_by_field_name("value") or node.child_by_field_name("argument")
            if value is not None:
                return self._expr(value, ctx, target)
        if kind == "lambda_expression":   # its body runs when something calls it, not here
            text = text_of(node)
            if RAII_GIL.search(text) or any(self._api_call(n) is not None for n in _calls_in(node)):
                self.warn(ctx.fn.file.where(node), "a lambda uses the thread-state API: its body runs where it is "
                                                   "called, which is not modelled; make it a function to check it")
            return []
        if kind in ("string_literal", "identifier", "number_literal", "field_identifier"):
            return []
        if kind == "conditional_expression":
            c = node.child_by_field_name("condition")
            a, b = node.child_by_field_name("consequence"), node.child_by_field_name("alternative")
            return self._branch(c, ctx, self._expr(a, ctx, target), self._expr(b, ctx, target), node)
        out: Lines = []
        for c in node.named_children:
            if c.type != "comment":
                out += self._expr(c, ctx)
        return out

    def _set(self, ctx: Ctx, node: Node, name: str, value: Node) -> Lines:
        """`name = NULL` or `name = y` for a register an API call takes or sets (the first
        pass found them); other C data is not modelled."""
        if name not in self.known:
            return []
        if text_of(value) in NULLS:
            self.assigned.add(name)
            return [self._line(ctx, node, f"{name} = NULL")]
        source = ctx.name(text_of(value)) if value.type == "identifier" else _sanitize(text_of(value))
        kind = self.known.get(source) or self.known.get(name)
        if source == name or source not in self.known or kind is None:
            return []
        if source not in self.assigned:   # a parameter or global: the harness gives it (program.free)
            self.free.setdefault(source, kind)
        self._note_assign(name, kind)
        return [self._line(ctx, node, f"{name} = {source}")]

    def _lvalue(self, node: Node, ctx: Ctx) -> str | None:
        node = _strip_parens(node)
        if node.type == "identifier":
            return ctx.name(text_of(node))
        if node.type == "pointer_expression" and _strip_value(node.child_by_field_name("argument")).type == "identifier":
            return ctx.name(text_of(_strip_value(node.child_by_field_name("argument"))))   # `*out = ...`
        if node.type in ("field_expression", "subscript_expression", "pointer_expression", "qualified_identifier"):
            return _sanitize(text_of(node))
        return None

    def _api_call(self, node: Node):
        if node is None or node.type != "call_expression":
            return None
        name = _callee(node)
        if name in self.functions:
            return None
        api = self.api.get(ALIASES.get(name, name))
        return api if api is not None and name not in CLIENT_ONLY else None

    def _call(self, node: Node, ctx: Ctx, target: str | None) -> Lines:
        name = _callee(node)
        fn_node = node.child_by_field_name("function")
        args = [a for a in node.child_by_field_name("arguments").named_children if a.type != "comment"] \
            if node.child_by_field_name("arguments") is not None else []
        where = ctx.fn.file.where(node)
        if name in MACROS:
            return [self._line(ctx, node, MACROS[name])]
        if name in self.functions:
            return self._inline(self.functions[name], node, args, ctx, target)
        api = self._api_call(node)
        if api is not None:
            if api.name == "Py_FinalizeEx" or api.name == "Py_EndInterpreter":
                self.warn(where, f"{api.name} on this thread: the harness's main thread also finalizes")
            at = next((i for i, a in enumerate(args) if _strip_value(a).type == "conditional_expression"), None)
            if at is not None:   # `Release(flip ? outer : inner)`: the call with one or the other
                pick = _strip_value(args[at])
                return self._branch(pick.child_by_field_name("condition"), ctx,
                                    self._api(node, ctx, api, target, {at: pick.child_by_field_name("consequence")}),
                                    self._api(node, ctx, api, target, {at: pick.child_by_field_name("alternative")}),
                                    node)
            return self._api(node, ctx, api, target, {})
        field_name = text_of(fn_node.child_by_field_name("field")) if fn_node is not None and \
            fn_node.type == "field_expression" else ""
        lock_kind = LOCKS.get(name) or ({"lock": "lock", "unlock": "unlock"}.get(field_name)
                                        if ctx.fn.file.cpp else None)
        if lock_kind:
            subject = args[0] if name in LOCKS and args else fn_node.child_by_field_name("argument") \
                if field_name else None
            if subject is None:
                self.warn(where, f"cannot tell which mutex `{_short(node)}` takes: ignored")
                return []
            return [self._line(ctx, node, f"{lock_kind}({self._lock_name(subject)})")]
        if name == "pthread_cond_wait" and len(args) >= 2:
            lock = self._lock_name(args[1])
            return self._args_effects(args, ctx) + [self._line(ctx, node, f"unlock({lock})   # cond wait"),
                                                    self._line(ctx, node, f"lock({lock})")]
        if name in self.macros:
            self.warn(where, f"`{name}(...)` is a macro these files #define: not expanded (no preprocessing), "
                             "so the calls in its definition are not modelled; write them out to check them")
        needs_python = bool(re.match(r"^_?Py", name)) and not NO_TSTATE.match(name) or \
            bool(re.match(r"^(py|pybind11|nb|nanobind)::", _callee_qualified(node)))
        return self._args_effects(args, ctx) + [self._line(ctx, node, "run_python()" if needs_python else "work()")]

    def _api(self, node: Node, ctx: Ctx, api, target: str | None, swap: dict[int, Node]) -> Lines:
        """The API call's line (`swap`: argument i written as that node instead)."""
        pre, texts = self._args(node, ctx, api, swap)
        if texts is None:
            return pre + [self._line(ctx, node, "run_python()")]
        call = f"{api.name}({', '.join(texts)})"
        if target and api.result is not None:
            self._note_assign(target, api.result)
            call = f"{target} = {call}"
        return pre + [self._line(ctx, node, call)]

    def _args_effects(self, args: list[Node], ctx: Ctx) -> Lines:
        return [x for a in args for x in self._expr(a, ctx)]

    def _args(self, node: Node, ctx: Ctx, api, swap: dict[int, Node]) -> tuple[Lines, list[str] | None]:
        """The program arguments of an API call, with any call inside them hoisted before it."""
        args = [swap.get(i, a) for i, a in
                enumerate(a for a in node.child_by_field_name("arguments").named_children if a.type != "comment")]
        where = ctx.fn.file.where(node)
        if _callee(node) in ALIASES or api.name in CALLBACK_ARGS:
            args = args[:len(api.args)]
        if len(args) != len(api.args):
            self.warn(where, f"{api.name} takes {len(api.args)} argument(s), the call has {len(args)}: "
                             "treated as Python code that needs a thread state")
            return [], None
        pre: Lines = []
        texts = []
        for want, a in zip(api.args, args):
            a = _strip_value(a)
            if want == "lock":   # a mutex the API function takes (PyMutex_Lock(&m)): the spec's lock `m`
                texts.append(self._lock_name(a))
            elif text_of(a) in NULLS:
                texts.append("NULL")
            elif text_of(a) in GILSTATES:   # the enum's values, as model/vocabulary.py's GILSTATE numbers them
                texts.append(GILSTATES[text_of(a)])
            elif a.type == "number_literal" and re.fullmatch(r"-?\d+", text_of(a)):
                texts.append(text_of(a))
            elif a.type == "call_expression" and self._api_call(a) is not None:
                self.temps += 1
                tmp = f"tmp{self.temps}"
                pre += self._call(a, ctx, tmp)
                texts.append(tmp)
            elif a.type in ("identifier", "field_expression", "subscript_expression", "qualified_identifier"):
                reg = ctx.name(text_of(a)) if a.type == "identifier" else _sanitize(text_of(a))
                self.handles.add(reg)
                self.taken.setdefault(reg, want)
                if reg not in self.assigned:
                    if want in ("gilstate", "token", "threadref"):
                        self.warn(where, f"`{text_of(a)}` holds a {want} this thread never got: passed as NULL")
                        texts.append("NULL")
                        continue
                    self.free.setdefault(reg, want)
                texts.append(reg)
            else:
                self.warn(where, f"argument `{_short(a)}` of {api.name} is not understood: passed as NULL")
                texts.append("NULL")
        return pre, texts

    def _note_assign(self, reg: str, kind: str) -> None:
        self.assigned.add(reg)
        self.kinds.setdefault(reg, kind)
        self.handles.add(reg)

    def _lock_name(self, node: Node) -> str:
        name = _sanitize(text_of(_strip_value(node)))
        if name not in self.locks:
            self.locks.append(name)
        return name

    def _effect(self, fn: Function, seen: frozenset = frozenset()) -> str:
        """What a function of the files can do, with what it calls: "api" (the thread-state
        API, a macro, a lock, or a C++ `throw`, which changes where its caller goes), "python"
        (other Py* calls) or "c" (nothing Python sees)."""
        if fn.qualified in self._effects:
            return self._effects[fn.qualified]
        body = fn.body.text.decode("utf8", "replace")
        found = "api" if RAII_GIL.search(body) or RAII_LOCKS.search(body) or any(m in body for m in MACROS) \
            else "c"
        stack = [fn.body]
        while stack and found != "api":
            n = stack.pop()
            if n.type == "throw_statement":
                found = "api"
            elif n.type == "call_expression":
                name = _callee(n)
                fld = n.child_by_field_name("function")
                if self._api_call(n) is not None or name in LOCKS or name == "pthread_cond_wait" or (
                        fld is not None and fld.type == "field_expression"
                        and text_of(fld.child_by_field_name("field")) in ("lock", "unlock")):
                    found = "api"
                elif name in self.functions and self.functions[name].qualified not in seen | {fn.qualified}:
                    sub = self._effect(self.functions[name], seen | {fn.qualified})
                    found = sub if sub == "api" or found == "c" else found
                elif re.match(r"^_?Py", name) and not NO_TSTATE.match(name) or \
                        re.match(r"^(py|pybind11|nb|nanobind)::", _callee_qualified(n)):
                    found = "python"
            stack.extend(n.named_children)
        self._effects[fn.qualified] = found
        return found

    def _inline(self, fn: Function, call: Node, args: list[Node], ctx: Ctx, target: str | None) -> Lines:
        where = ctx.fn.file.where(call)
        effect = self._effect(fn)
        if effect != "api" and not target:
            # Nothing of the thread-state API inside: one step stands for the whole call.
            text = "run_python()" if effect == "python" else "work()"
            return self._args_effects(args, ctx) + [self._line(ctx, call, f"{text}   # {fn.name}()")]
        if fn.qualified in ctx.stack:
            self.warn(where, f"recursive call of {fn.name}: not followed (treated as C work)")
            return [self._line(ctx, call, "work()   # recursion cut")]
        if len(ctx.stack) > self.inline_depth:
            self.warn(where, f"call of {fn.name} nested deeper than {self.inline_depth} functions: not followed")
            return [self._line(ctx, call, "work()   # inlining depth reached")]
        aliases: list[tuple[str, str]] = []
        pre: Lines = []
        for (pname, _), a in zip(fn.params(), args):
            a = _strip_value(a)
            if a.type == "identifier":
                aliases.append((pname, ctx.name(text_of(a))))
            elif a.type in ("field_expression", "subscript_expression"):
                aliases.append((pname, _sanitize(text_of(a))))
            elif a.type == "call_expression" and self._api_call(a) is not None:
                self.temps += 1
                tmp = f"tmp{self.temps}"
                pre += self._call(a, ctx, tmp)
                aliases.append((pname, tmp))
            elif text_of(a) in NULLS:
                aliases.append((pname, "NULL"))
            else:
                pre += self._expr(a, ctx)
        returned = _returned_names(fn.body)
        if target and len(returned) == 1:
            aliases.append((returned.pop(), target))
        end = self._target(f"{fn.name}_end")
        inner = self._ctx(fn, f"{fn.name}_", tuple(aliases), end, ctx.stack, len(ctx.cleanups), ctx.cleanups,
                          result=target, catch=ctx.catch)
        head = [self._line(ctx, call, f"pass   # enter {fn.name}() (inlined)")]
        body = self._block(fn.body, inner)
        if body and body[-1].text == f"goto {end.name}" and body[-1].depth == 0:
            body = body[:-1]   # a return at the very end falls through anyway
        return pre + head + body + end.here(ctx.fn.file.where(fn.body.children[-1]) if fn.body.children else where)


CLIENT_ONLY = {"lock", "unlock", "wait", "set", "work", "run_python", "use_object", "choose",
               "Py_BEGIN_ALLOW_THREADS", "Py_END_ALLOW_THREADS"}


LOOPS = ("while_statement", "for_statement", "do_statement", "for_range_loop")


def _calls_in(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.type == "call_expression":
            out.append(n)
        stack.extend(n.named_children)
    return out


def _into_loop(body: Node, at: int, goto: Node) -> bool:
    """Whether the label at byte `at` is inside a loop the `goto` is not inside."""
    stack = [body]
    while stack:
        n = stack.pop()
        if n.type in LOOPS and n.start_byte <= at < n.end_byte and not n.start_byte <= goto.start_byte < n.end_byte:
            return True
        stack.extend(c for c in n.named_children if c.start_byte <= at < c.end_byte)
    return False


def _else_ifs(node: Node) -> list[tuple[Node | None, Node | None]]:
    """`if (a) A else if (b) B ... else Z` as [(a, A), (b, B), ..., (None, Z)]."""
    out = []
    while node is not None and node.type == "if_statement":
        out.append((node.child_by_field_name("condition"), node.child_by_field_name("consequence")))
        alt = node.child_by_field_name("alternative")
        if alt is not None and alt.type == "else_clause":
            alt = alt.named_children[0] if alt.named_children else None
        node = alt
    return out + [(None, node)]


def _always(cond: Node | None) -> bool:
    """A loop condition C never finds false: `for (;;)`, `while (1)`, `while (true)`."""
    if cond is None:
        return True
    cond = _strip_parens(cond)
    return text_of(cond) in ("true", "TRUE") or (cond.type == "number_literal" and text_of(cond).strip("uUlL") not in
                                                  ("0", "0x0"))


def _strip_value(node: Node) -> Node:
    """`(T)x`, `&x`, `(x)` → x."""
    while True:
        if node.type == "cast_expression":
            node = node.child_by_field_name("value")
        elif node.type == "pointer_expression" and text_of(node.child_by_field_name("operator")) == "&":
            node = node.child_by_field_name("argument")
        elif node.type == "parenthesized_expression" and node.named_child_count == 1:
            node = node.named_children[0]
        else:
            return node


def _callee(node: Node) -> str:
    fn = node.child_by_field_name("function")
    if fn is None:
        return ""
    if fn.type == "identifier":
        return text_of(fn)
    if fn.type == "qualified_identifier":
        return text_of(fn).split("::")[-1]
    if fn.type == "template_function":
        return text_of(fn.child_by_field_name("name")).split("::")[-1]
    return ""


def _callee_qualified(node: Node) -> str:
    fn = node.child_by_field_name("function")
    return text_of(fn) if fn is not None else ""


def _name(node: Node | None) -> str | None:
    while node is not None:
        if node.type in ("identifier", "field_identifier"):
            return text_of(node)
        node = node.child_by_field_name("declarator")
    return None


def _ctor_arg(decl: Node) -> Node | None:
    """The mutex of `std::lock_guard<std::mutex> lk(m)` (parsed as a function declarator), `lk{m}` or `lk = ...`."""
    if decl.type == "function_declarator":
        params = decl.child_by_field_name("parameters")
        first = params.named_children[0] if params is not None and params.named_children else None
        return first
    if decl.type == "init_declarator":
        value = decl.child_by_field_name("value")
        if value is not None and value.named_children:
            return value.named_children[0]
    return None


def _sanitize(text: str) -> str:
    name = re.sub(r"\W+", "_", text.strip("&*() \t").replace("->", "_").replace(".", "_"))
    return _register(name if re.match(r"[A-Za-z_]", name or "") else f"x_{name}")


def _short(node: Node) -> str:
    text = " ".join(text_of(node).split())
    return text if len(text) <= 50 else text[:47] + "..."


def _declared_locals(body: Node) -> set[str]:
    out: set[str] = set()

    def walk(n: Node) -> None:
        if n.type == "declaration":
            for d in n.children_by_field_name("declarator"):
                name = _name(d)
                if name:
                    out.add(name)
        for c in n.named_children:
            if c.type not in ("lambda_expression",):
                walk(c)
    walk(body)
    return out


def _returned_names(body: Node) -> set[str]:
    """Identifiers a function returns (`return tok;`), NULLs aside."""
    out: set[str] = set()

    def walk(n: Node) -> None:
        if n.type == "return_statement" and n.named_children:
            v = _strip_value(n.named_children[0])
            if v.type == "identifier" and text_of(v) not in NULLS:
                out.add(text_of(v))
        for c in n.named_children:
            walk(c)
    walk(body)
    return out


def _error_exit(node: Node) -> bool:
    """`return NULL;`, `return -1;` or `goto error;`: how C code says it failed."""
    if node.type == "return_statement" and node.named_children:
        v = text_of(node.named_children[0]).strip()
        return v in ("NULL", "nullptr") or bool(re.fullmatch(r"-\s*\d+", v))
    if node.type == "goto_statement":
        return bool(re.search(r"err|fail|bail|except", text_of(node.child_by_field_name("label")), re.I))
    return any(_error_exit(c) for c in node.named_children if c.type in (
        "compound_statement", "return_statement", "goto_statement", "expression_statement"))


def _coalesce(lines: Lines) -> Lines:
    """One `work()` for a run of C work at the same depth; no `return` as the last line."""
    if lines and lines[-1].text == "return" and lines[-1].depth == 0:
        lines = lines[:-1]
    out: Lines = []
    for x in lines:
        if x.text.startswith("work()") and out and out[-1].text.startswith("work()") and out[-1].depth == x.depth:
            continue
        out.append(x)
    return out
