"""Translates a C function into a thread program (docs/specs.md "Programs").

Continuation-passing: each statement is translated together with what runs after it, so
`return`, `goto cleanup`, `break` and `continue` become the code they jump to (the program
language has no jumps), and an inlined callee's `return` continues its caller. Code after
an `if` is copied into its branches only when a branch jumps; loops are unrolled to a
bound; a condition the model cannot read becomes `choose()`, a nondeterministic branch.
Every emitted line carries the C file:line it came from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable

from tree_sitter import Node

from .source import Function, SourceFile, text_of

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
                       r"PyMutex_IsLocked|Py_AtExit|Py_IsFinalizing_unlocked)$")
MACROS = {"Py_BEGIN_ALLOW_THREADS": "Py_BEGIN_ALLOW_THREADS", "Py_END_ALLOW_THREADS": "Py_END_ALLOW_THREADS",
          "Py_UNBLOCK_THREADS": "Py_BEGIN_ALLOW_THREADS", "Py_BLOCK_THREADS": "Py_END_ALLOW_THREADS"}
RAII_LOCKS = re.compile(r"\b(lock_guard|unique_lock|scoped_lock|shared_lock|MutexLock|QMutexLocker)\b")
RAII_GIL = re.compile(r"\bgil_scoped_(acquire|release)\b")
NULLS = {"NULL", "nullptr", "0", "false", "Py_None"}
JUMPS = {"return_statement", "break_statement", "continue_statement", "goto_statement"}
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


@dataclass(frozen=True)
class Ctx:
    fn: Function
    prefix: str                                 # register prefix of this function's locals ("" for the entry)
    locals: frozenset[str]
    aliases: tuple[tuple[str, str], ...]        # C name → register (parameters bound to the caller's names)
    ret: Callable[[], Lines]
    brk: Callable[[], Lines] | None = None
    cont: Callable[[], Lines] | None = None
    labels: tuple[tuple[str, int], ...] = ()    # label → index in the function body's statements
    body: tuple[Node, ...] = ()
    gotos: tuple[tuple[str, int], ...] = ()     # times each label was jumped to on this path
    stack: tuple[str, ...] = ()                 # functions being inlined (recursion is cut)
    cleanups: tuple[tuple[int, Lines], ...] = ()  # RAII destructors: (scope id, lines), innermost last
    top: "Ctx | None" = None                    # the function-level context a goto restarts from

    def name(self, cname: str) -> str:
        for c, r in self.aliases:
            if c == cname:
                return r
        return self.prefix + cname if cname in self.locals else cname


def _indent(lines: Lines) -> Lines:
    return [replace(x, depth=x.depth + 1) for x in lines] or [Line(1, "pass", None)]


def _strip_parens(node: Node) -> Node:
    while node is not None and node.type in ("parenthesized_expression", "condition_clause") and \
            node.named_child_count == 1:
        node = node.named_children[0]
    return node


def _contains(node: Node, kinds: set[str], stop: set[str] = frozenset()) -> bool:
    if node.type in kinds:
        return True
    return any(c.type not in stop and _contains(c, kinds, stop) for c in node.children)


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
        self.temps = 0
        self.emitted = 0
        self.assume_success = False   # setup code: an unmodelled failure check is taken as passed

    # ----- entry points ------------------------------------------------------------------------
    def function(self, fn: Function, epilogue: Lines = ()) -> Lines:
        """The entry's body; `epilogue` runs wherever it returns (a harness's own steps)."""
        tail = list(epilogue)
        ctx = self._ctx(fn, "", (), lambda: tail + [Line(0, "return", None)], ())
        lines = self._block(fn.body, ctx, lambda c: list(tail))
        return _coalesce(lines)

    def warn(self, where: tuple[str, int], message: str) -> None:
        if (where, message) not in self._warned:
            self._warned.add((where, message))
            self.warnings.append(Warning_(where, message))

    def _ctx(self, fn: Function, prefix: str, aliases, ret, stack) -> Ctx:
        body = tuple(fn.body.named_children)
        labels = tuple((text_of(s.child_by_field_name("label")), i) for i, s in enumerate(body)
                       if s.type == "labeled_statement")
        local = {n for n, _ in fn.params()} | _declared_locals(fn.body)
        ctx = Ctx(fn, prefix, frozenset(local), aliases, ret, labels=labels, body=body, stack=stack + (fn.qualified,))
        return replace(ctx, top=ctx)

    def _line(self, ctx: Ctx, node: Node, text: str) -> Line:
        self.emitted += 1
        if self.emitted > MAX_LINES:
            raise TooLarge(f"the translation grew past {MAX_LINES} lines (jumps copy the code after them)")
        return Line(0, text, ctx.fn.file.where(node))

    # ----- statements --------------------------------------------------------------------------
    def _block(self, node: Node, ctx: Ctx, k: Callable[[Ctx], Lines]) -> Lines:
        """A compound statement: its RAII cleanups run when it ends normally."""
        scope = id(node)
        stmts = [c for c in node.named_children if c.type != "comment"] if node.type == "compound_statement" \
            else [node]

        def end(c: Ctx) -> Lines:
            mine = [lines for s, lines in reversed(c.cleanups) if s == scope]
            kept = tuple(x for x in c.cleanups if x[0] != scope)
            return [x for lines in mine for x in lines] + k(replace(c, cleanups=kept, brk=ctx.brk, cont=ctx.cont,
                                                                     ret=ctx.ret))
        return self._seq(stmts, replace(ctx, cleanups=ctx.cleanups), end, scope)

    def _seq(self, stmts: list[Node], ctx: Ctx, k: Callable[[Ctx], Lines], scope: int) -> Lines:
        if not stmts:
            return k(ctx)
        first, rest = stmts[0], stmts[1:]
        return self._stmt(first, ctx, lambda c: self._seq(rest, c, k, scope), scope)

    def _stmt(self, node: Node, ctx: Ctx, k: Callable[[Ctx], Lines], scope: int = 0) -> Lines:
        kind = node.type
        where = ctx.fn.file.where(node)
        if kind == "compound_statement":
            return self._block(node, ctx, k)
        if kind == "expression_statement":
            if re.fullmatch(r"Py_RETURN_\w+;?", text_of(node).strip()):   # `return Py_NewRef(Py_None)`
                return [self._line(ctx, node, "run_python()")] + ctx.ret()
            return self._expr(node, ctx, lambda: k(ctx))
        if kind == "declaration":
            return self._declaration(node, ctx, k, scope)
        if kind == "if_statement":
            return self._if(node, ctx, k)
        if kind in ("while_statement", "for_statement", "do_statement", "for_range_loop"):
            return self._loop(node, ctx, k)
        if kind == "switch_statement":
            return self._switch(node, ctx, k)
        if kind == "return_statement":
            value = node.named_children[0] if node.named_children else None
            ret = (lambda: [replace(x, where=where) if x.text == "return" and x.where is None else x
                            for x in ctx.ret()])
            return ret() if value is None else self._expr(value, ctx, ret)
        if kind == "break_statement":
            if ctx.brk is None:
                self.warn(where, "`break` outside a loop or switch: ends the function here")
                return ctx.ret()
            return ctx.brk()
        if kind == "continue_statement":
            if ctx.cont is None:
                self.warn(where, "`continue` outside a loop: ends the function here")
                return ctx.ret()
            return ctx.cont()
        if kind == "goto_statement":
            return self._goto(node, ctx)
        if kind == "labeled_statement":
            inner = [c for c in node.named_children if c.type != "statement_identifier"]
            return self._seq(inner, ctx, k, scope)
        if kind in ("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef"):
            return self._preproc(node, ctx, k, scope)
        if kind == "try_statement":
            body = node.child_by_field_name("body")
            return self._block(body, ctx, k)
        if kind in ("comment", "empty_statement", "type_definition", "struct_specifier", "enum_specifier",
                    "preproc_def", "preproc_function_def", "preproc_call", "preproc_include", "static_assert_declaration"):
            return k(ctx)
        if kind == "ERROR" or node.is_missing or kind not in ("throw_statement", "seh_try_statement"):
            self.warn(where, f"cannot read this {'code' if kind == 'ERROR' else kind.replace('_', ' ')}"
                             f" (`{_short(node)}`): only its calls are kept, in order")
        return self._expr(node, ctx, lambda: k(ctx))

    def _preproc(self, node: Node, ctx: Ctx, k, scope: int) -> Lines:
        """#if/#ifdef inside a function: either branch may be compiled in."""
        ours = [c for c in node.named_children if c.type not in ("identifier", "preproc_defined", "binary_expression",
                                                                 "preproc_else", "preproc_elif", "preproc_elifdef",
                                                                 "call_expression", "unary_expression",
                                                                 "number_literal", "parenthesized_expression")]
        alt = node.child_by_field_name("alternative")
        if alt is None:
            return self._seq(ours, ctx, k, scope)
        first = self._line(ctx, node, "if choose():   # #if: either branch may be compiled in")
        return [first] + _indent(self._seq(ours, ctx, k, scope)) + [Line(0, "else:", first.where)] + \
            _indent(self._stmt(alt, ctx, k, scope))

    def _goto(self, node: Node, ctx: Ctx) -> Lines:
        label = text_of(node.child_by_field_name("label"))
        where = ctx.fn.file.where(node)
        at = dict(ctx.labels).get(label)
        if at is None:
            self.warn(where, f"`goto {label}`: the label is not at the top level of the function; ends it here")
            return ctx.ret()
        count = dict(ctx.gotos).get(label, 0)
        if count >= self.loop_bound:
            self.warn(where, f"`goto {label}` jumps back more than --loop-bound={self.loop_bound} times: "
                             "the path ends there")
            return ctx.ret()
        top = ctx.top
        gotos = tuple(x for x in ctx.gotos if x[0] != label) + ((label, count + 1),)
        # Leaving inner scopes runs their cleanups; the labelled code runs in the function's own scope.
        cleanups = [x for s, lines in reversed(ctx.cleanups) if s not in {s2 for s2, _ in top.cleanups}
                    for x in lines]
        here = replace(top, gotos=gotos, top=top)
        return cleanups + self._seq(list(top.body[at:]), here, lambda c: top.ret(), id(top.fn.body))

    def _declaration(self, node: Node, ctx: Ctx, k, scope: int) -> Lines:
        typ = text_of(node.child_by_field_name("type"))
        decls = node.children_by_field_name("declarator")
        where = ctx.fn.file.where(node)
        if RAII_GIL.search(typ):
            name = ctx.name(_name(decls[0]) or "gil")
            if "acquire" in typ:
                enter, leave = f"{name} = PyGILState_Ensure()", f"PyGILState_Release({name})"
                self._note_assign(name, "gilstate")
            else:
                enter, leave = "Py_BEGIN_ALLOW_THREADS", "Py_END_ALLOW_THREADS"
            return self._raii(node, ctx, k, scope, enter, leave)
        if RAII_LOCKS.search(typ) and decls:
            arg = _ctor_arg(decls[0])
            if arg is None:
                self.warn(where, f"cannot tell which mutex `{_short(node)}` locks: ignored")
                return k(ctx)
            lock = self._lock_name(arg)
            return self._raii(node, ctx, k, scope, f"lock({lock})", f"unlock({lock})")

        def each(i: int, c: Ctx) -> Lines:
            if i == len(decls):
                return k(c)
            d = decls[i]
            value = d.child_by_field_name("value") if d.type == "init_declarator" else None
            if value is None:
                return each(i + 1, c)
            cname = _name(d.child_by_field_name("declarator")) or ""
            plain = _strip_value(value)
            if plain.type == "identifier" and text_of(plain) not in NULLS and cname:
                # `T *view = (T *)arg;`: the same handle under another name
                return each(i + 1, replace(c, aliases=c.aliases + ((cname, c.name(text_of(plain))),)))
            return self._expr(value, c, lambda: each(i + 1, c), target=c.name(cname) or None)
        return each(0, ctx)

    def _raii(self, node: Node, ctx: Ctx, k, scope: int, enter: str, leave: str) -> Lines:
        """A C++ guard object: `enter` now, `leave` when its scope ends, however it ends."""
        after = [Line(0, leave + "   # scope exit", ctx.fn.file.where(node))]
        first = self._line(ctx, node, enter)

        def wrap(jump):
            return None if jump is None else (lambda: after + jump())
        inner = replace(ctx, cleanups=ctx.cleanups + ((scope, after),), ret=wrap(ctx.ret), brk=wrap(ctx.brk),
                        cont=wrap(ctx.cont))
        return [first] + k(inner)

    def _if(self, node: Node, ctx: Ctx, k) -> Lines:
        cond = node.child_by_field_name("condition")
        then = node.child_by_field_name("consequence")
        alt = node.child_by_field_name("alternative")
        if alt is not None and alt.type == "else_clause":
            alt = alt.named_children[0] if alt.named_children else None
        if self.assume_success and _error_exit(then) and not self._evaluable(cond, ctx):
            # setup code (registration): the harness assumes it succeeded, so the entry runs
            return self._stmt(alt, ctx, k) if alt is not None else k(ctx)
        jumps = _contains(then, JUMPS) or (alt is not None and _contains(alt, JUMPS))
        if not jumps:   # structured: the code after the if is emitted once
            return self._branch(cond, ctx, lambda: self._stmt(then, ctx, lambda c: []),
                                lambda: self._stmt(alt, ctx, lambda c: []) if alt is not None else [],
                                after=lambda: k(ctx))
        return self._branch(cond, ctx, lambda: self._stmt(then, ctx, k),
                            lambda: self._stmt(alt, ctx, k) if alt is not None else k(ctx))

    def _loop(self, node: Node, ctx: Ctx, k) -> Lines:
        kind = node.type
        body = node.child_by_field_name("body")
        cond = node.child_by_field_name("condition")
        update = node.child_by_field_name("update")
        where = ctx.fn.file.where(node)
        if kind == "for_range_loop":
            cond = node.child_by_field_name("right")   # not modelled: any number of elements
        init = node.child_by_field_name("initializer")
        jumps = _contains(body, JUMPS, stop={"while_statement", "for_statement", "do_statement", "switch_statement"}) \
            or _contains(body, {"return_statement", "goto_statement"})

        def upd(rest: Callable[[], Lines]) -> Lines:
            return self._expr(update, ctx, rest) if update is not None else rest()

        def iterate(n: int, leave: Callable[[], Lines]) -> Lines:
            if n == 0:
                return leave()   # the bound: the loop ends here
            if kind == "do_statement":
                check = (lambda: self._branch(cond, ctx, lambda: iterate(n - 1, leave), leave))
                return self._stmt(body, replace(ctx, brk=leave, cont=check), lambda c: check())
            again = (lambda: upd(lambda: iterate(n - 1, leave)))
            inner = replace(ctx, brk=leave, cont=again)
            return self._branch(cond, ctx, lambda: self._stmt(body, inner, lambda c: again()), leave)

        def start(rest: Callable[[], Lines]) -> Lines:
            if init is None:
                return rest()
            if init.type == "declaration":
                return self._declaration(init, ctx, lambda c: rest(), 0)
            return self._expr(init, ctx, rest)
        if not jumps:
            return start(lambda: iterate(self.loop_bound, lambda: []) + k(ctx))
        return start(lambda: iterate(self.loop_bound, lambda: k(ctx)))

    def _switch(self, node: Node, ctx: Ctx, k) -> Lines:
        """Any case may be taken (the value is not modelled); `break` leaves the switch."""
        cond = node.child_by_field_name("condition")
        body = node.child_by_field_name("body")
        cases = [c for c in body.named_children if c.type == "case_statement"]
        leave = (lambda: k(ctx))
        inner = replace(ctx, brk=leave)

        def arm(i: int) -> Lines:   # case i and everything after it (fall-through)
            stmts = [s for c in cases[i:] for s in c.named_children if c.child_by_field_name("value") != s]
            return self._seq(stmts, inner, lambda c: leave(), id(body))
        has_default = any(c.child_by_field_name("value") is None for c in cases)
        options = [lambda i=i: arm(i) for i in range(len(cases))]
        if not has_default:
            options.append(leave)

        def choose(i: int) -> Lines:
            if i == len(options) - 1:
                return options[i]()
            first = self._line(ctx, node, "if choose():   # switch: any case")
            return [first] + _indent(options[i]()) + [Line(0, "else:", first.where)] + _indent(choose(i + 1))
        return self._expr(cond, ctx, lambda: choose(0)) if options else self._expr(cond, ctx, leave)

    def _evaluable(self, node: Node | None, ctx: Ctx) -> bool:
        """The condition reads an API result (a call the design models, or a register it set)."""
        if node is None:
            return False
        if node.type == "call_expression" and self._api_call(node) is not None:
            return True
        if node.type == "identifier" and ctx.name(text_of(node)) in self.assigned | set(self.free):
            return True
        return any(self._evaluable(c, ctx) for c in node.named_children)

    # ----- conditions --------------------------------------------------------------------------
    def _branch(self, cond: Node | None, ctx: Ctx, then: Callable[[], Lines], other: Callable[[], Lines],
                after: Callable[[], Lines] | None = None) -> Lines:
        """`if cond: then else: other`, followed by `after` (emitted once)."""
        tail = after() if after is not None else []
        if cond is not None and cond.type == "condition_clause":
            init = cond.child_by_field_name("initializer")
            value = cond.child_by_field_name("value")
            if init is not None:
                decl = init.named_children[0] if init.named_children else init
                return self._declaration(decl, ctx, lambda c: self._branch(value, c, then, other), 0) + tail
            if value is not None and value.type == "declaration":
                d = value.child_by_field_name("declarator") or value
                name = _name(d)
                return self._declaration(value, ctx, lambda c: self._test(ctx.name(name or ""), "!=", ctx,
                                                                          value, then, other), 0) + tail
            cond = value
        return self._cond(_strip_parens(cond) if cond is not None else None, ctx, then, other) + tail

    def _cond(self, node: Node | None, ctx: Ctx, then, other) -> Lines:
        if node is None:
            return then()
        node = _strip_parens(node)
        kind = node.type
        if kind in ("number_literal", "true", "false", "null") or text_of(node) in ("NULL", "nullptr"):
            return then() if text_of(node) not in ("0", "false", "NULL", "nullptr", "0L", "0u") else other()
        if kind == "unary_expression" and text_of(node.child_by_field_name("operator")) == "!":
            arg = _strip_parens(node.child_by_field_name("argument"))
            if arg.type in ("identifier", "call_expression", "assignment_expression"):
                return self._cond_value(arg, "==", ctx, then, other)   # `!g` reads as `if not g:`
            return self._cond(arg, ctx, other, then)
        if kind == "binary_expression":
            op = text_of(node.child_by_field_name("operator"))
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op == "&&":
                return self._cond(left, ctx, lambda: self._cond(right, ctx, then, other), other)
            if op == "||":
                return self._cond(left, ctx, then, lambda: self._cond(right, ctx, then, other))
            if op in ("==", "!="):
                l, r = _strip_parens(left), _strip_parens(right)
                if text_of(l) in NULLS:
                    l, r = r, l
                if text_of(r) in NULLS:
                    return self._cond_value(l, op, ctx, then, other)
        return self._cond_value(node, "!=", ctx, then, other)

    def _cond_value(self, node: Node, op: str, ctx: Ctx, then, other) -> Lines:
        """Test `node op 0`: on an API value when it is one, else a nondeterministic choice."""
        node = _strip_parens(node)
        kind = node.type
        if kind == "identifier" and ctx.name(text_of(node)) in self.assigned | set(self.free):
            return self._test(ctx.name(text_of(node)), op, ctx, node, then, other)
        if kind == "assignment_expression" and text_of(node.child_by_field_name("operator")) == "=":
            target = self._lvalue(node.child_by_field_name("left"), ctx)
            rhs = _strip_parens(node.child_by_field_name("right"))
            if target and self._api_call(rhs) is not None:
                return self._expr(rhs, ctx, lambda: self._test(target, op, ctx, node, then, other), target=target)
        if kind == "call_expression" and (api := self._api_call(node)) is not None and api.result is not None \
                and not self.functions.get(_callee(node)):
            pre, args = self._args(node, ctx, api)
            if args is not None:
                call = f"{api.name}({', '.join(args)})"
                return pre + self._if_lines(ctx, node, call if op == "!=" else f"not {call}", then, other)
        if op == "==":
            then, other = other, then
        return self._expr(node, ctx, lambda: self._if_lines(ctx, node, "choose()", then, other, "the model "
                                                             f"cannot evaluate `{_short(node)}`: either way"))

    def _test(self, reg: str, op: str, ctx: Ctx, node: Node, then, other) -> Lines:
        return self._if_lines(ctx, node, reg if op == "!=" else f"not {reg}", then, other)

    def _if_lines(self, ctx: Ctx, node: Node, cond: str, then, other, note: str = "") -> Lines:
        first = self._line(ctx, node, f"if {cond}:" + (f"   # {note}" if note else ""))
        a, b = then(), other()
        out = [first] + _indent(a)
        if b:
            out += [Line(0, "else:", first.where)] + _indent(b)
        return out

    # ----- expressions -------------------------------------------------------------------------
    def _expr(self, node: Node | None, ctx: Ctx, k: Callable[[], Lines], target: str | None = None) -> Lines:
        """The calls in `node`, in evaluation order (arguments first), then `k`."""
        if node is None:
            return k()
        node = _strip_parens(node)
        kind = node.type
        if kind == "call_expression":
            return self._call(node, ctx, k, target)
        if kind == "assignment_expression":
            lhs, rhs = node.child_by_field_name("left"), node.child_by_field_name("right")
            name = self._lvalue(lhs, ctx) if text_of(node.child_by_field_name("operator")) == "=" else None
            return self._expr(rhs, ctx, k, target=name)
        if kind in ("cast_expression", "pointer_expression", "parenthesized_expression"):
            value = node.child_by_field_name("value") or node.child_by_field_name("argument")
            if value is not None:
                return self._expr(value, ctx, k, target)
        if kind in ("lambda_expression", "string_literal", "identifier", "number_literal", "field_identifier"):
            return k()
        if kind == "conditional_expression":
            c = node.child_by_field_name("condition")
            a, b = node.child_by_field_name("consequence"), node.child_by_field_name("alternative")
            return self._branch(c, ctx, lambda: self._expr(a, ctx, lambda: [], target),
                                lambda: self._expr(b, ctx, lambda: [], target), after=k)
        kids = [c for c in node.named_children if c.type != "comment"]

        def each(i: int) -> Lines:
            return k() if i == len(kids) else self._expr(kids[i], ctx, lambda: each(i + 1))
        return each(0)

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
        api = self.api.get(name)
        return api if api is not None and name not in CLIENT_ONLY else None

    def _call(self, node: Node, ctx: Ctx, k: Callable[[], Lines], target: str | None) -> Lines:
        name = _callee(node)
        fn_node = node.child_by_field_name("function")
        args = [a for a in node.child_by_field_name("arguments").named_children if a.type != "comment"] \
            if node.child_by_field_name("arguments") is not None else []
        where = ctx.fn.file.where(node)
        if name in MACROS:
            return [self._line(ctx, node, MACROS[name])] + k()
        if name in self.functions:
            return self._inline(self.functions[name], node, args, ctx, k, target)
        api = self._api_call(node)
        if api is not None:
            if api.name == "Py_FinalizeEx" or api.name == "Py_EndInterpreter":
                self.warn(where, f"{api.name} on this thread: the harness's main thread also finalizes")
            pre, texts = self._args(node, ctx, api)
            if texts is None:
                return pre + [self._line(ctx, node, "run_python()")] + k()
            call = f"{api.name}({', '.join(texts)})"
            if target and api.result is not None:
                self._note_assign(target, api.result)
                call = f"{target} = {call}"
            return pre + [self._line(ctx, node, call)] + k()
        field_name = text_of(fn_node.child_by_field_name("field")) if fn_node is not None and \
            fn_node.type == "field_expression" else ""
        lock_kind = LOCKS.get(name) or ({"lock": "lock", "unlock": "unlock"}.get(field_name)
                                        if ctx.fn.file.cpp else None)
        if lock_kind:
            subject = args[0] if name in LOCKS and args else fn_node.child_by_field_name("argument") \
                if field_name else None
            if subject is None:
                self.warn(where, f"cannot tell which mutex `{_short(node)}` takes: ignored")
                return k()
            return [self._line(ctx, node, f"{lock_kind}({self._lock_name(subject)})")] + k()
        if name == "pthread_cond_wait" and len(args) >= 2:
            lock = self._lock_name(args[1])
            return self._args_effects(args, ctx, lambda: [self._line(ctx, node, f"unlock({lock})   # cond wait"),
                                                            self._line(ctx, node, f"lock({lock})")] + k())
        needs_python = bool(re.match(r"^_?Py", name)) and not NO_TSTATE.match(name) or \
            bool(re.match(r"^(py|pybind11|nb|nanobind)::", _callee_qualified(node)))
        line = self._line(ctx, node, "run_python()" if needs_python else "work()")
        return self._args_effects(args, ctx, lambda: [line] + k())

    def _args_effects(self, args: list[Node], ctx: Ctx, k: Callable[[], Lines]) -> Lines:
        def each(i: int) -> Lines:
            return k() if i == len(args) else self._expr(args[i], ctx, lambda: each(i + 1))
        return each(0)

    def _args(self, node: Node, ctx: Ctx, api) -> tuple[Lines, list[str] | None]:
        """The program arguments of an API call, with any call inside them hoisted before it."""
        args = [a for a in node.child_by_field_name("arguments").named_children if a.type != "comment"]
        where = ctx.fn.file.where(node)
        if len(args) != len(api.args):
            self.warn(where, f"{api.name} takes {len(api.args)} argument(s), the call has {len(args)}: "
                             "treated as Python code that needs a thread state")
            return [], None
        pre: Lines = []
        texts = []
        for want, a in zip(api.args, args):
            a = _strip_value(a)
            if text_of(a) in NULLS:
                texts.append("NULL")
            elif a.type == "number_literal" and re.fullmatch(r"-?\d+", text_of(a)):
                texts.append(text_of(a))
            elif a.type == "call_expression" and self._api_call(a) is not None:
                self.temps += 1
                tmp = f"tmp{self.temps}"
                pre += self._call(a, ctx, lambda: [], tmp)
                texts.append(tmp)
            elif a.type in ("identifier", "field_expression", "subscript_expression", "qualified_identifier"):
                reg = ctx.name(text_of(a)) if a.type == "identifier" else _sanitize(text_of(a))
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

    def _lock_name(self, node: Node) -> str:
        name = _sanitize(text_of(_strip_value(node)))
        if name not in self.locks:
            self.locks.append(name)
        return name

    def _inline(self, fn: Function, call: Node, args: list[Node], ctx: Ctx, k, target: str | None) -> Lines:
        where = ctx.fn.file.where(call)
        if fn.qualified in ctx.stack:
            self.warn(where, f"recursive call of {fn.name}: not followed (treated as C work)")
            return [self._line(ctx, call, "work()   # recursion cut")] + k()
        if len(ctx.stack) > self.inline_depth:
            self.warn(where, f"call of {fn.name} nested deeper than {self.inline_depth} functions: not followed")
            return [self._line(ctx, call, "work()   # inlining depth reached")] + k()
        prefix = f"{fn.name}_"
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
                pre += self._call(a, ctx, lambda: [], tmp)
                aliases.append((pname, tmp))
            elif text_of(a) in NULLS:
                aliases.append((pname, "NULL"))
        returned = _returned_names(fn.body)
        if target and len(returned) == 1:
            aliases.append((returned.pop(), target))
        inner = self._ctx(fn, prefix, tuple(aliases), k, ctx.stack)
        head = [self._line(ctx, call, f"pass   # enter {fn.name}() (inlined)")]
        return pre + head + self._block(fn.body, inner, lambda c: k())


CLIENT_ONLY = {"lock", "unlock", "wait", "set", "work", "run_python", "use_object", "choose",
               "Py_BEGIN_ALLOW_THREADS", "Py_END_ALLOW_THREADS"}


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
    return name if re.match(r"[A-Za-z_]", name or "") else f"x_{name}"


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
