/* interpcheck replay runtime: forces a trace's order of steps on a real CPython.
 *
 * One pthread per spec thread (the thread holding main's thread state runs on the process's
 * main thread). A driver thread raises `turn` step by step; each thread waits for the step
 * of its next operation, makes the C call and reports an event (returned, a hook reached,
 * exited). The driver waits for the event the step should produce (see `drive`) and prints
 * one `obs STEP THREAD ...` line per step: what the thread did, or where it sits (its
 * current system call) when it did nothing. Phased calls (Py_FinalizeEx, Py_EndInterpreter)
 * stop in hooks CPython runs on the finalizing thread: an atexit handler (pre-finalization)
 * and the flush of sys.stdout / an object's __del__ (after the finalizing flag); while
 * stopped there, the thread runs its next operations (the spec's atexit/finalizer code).
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if PY_VERSION_HEX >= 0x030D0000
#  define IS_FINALIZING() Py_IsFinalizing()
#  define CURRENT_TSTATE() PyThreadState_GetUnchecked()
#else
#  define IS_FINALIZING() _Py_IsFinalizing()
#  define CURRENT_TSTATE() _PyThreadState_UncheckedGet()
#endif

struct thread;
typedef int (*op_fn)(struct thread *t, int i);   /* 1: go on; 0: return from the hook */

struct thread {
    const char *name;
    int nops, next;          /* its operations, and the next one to run */
    op_fn op;
    int python;              /* a Python thread of main: starts with its own thread state, detached */
    pid_t tid;
    int events;              /* events reported so far; the driver compares counts */
    int base;                /* events before the driver last released it */
    char event[200];         /* the last event */
    int phase;               /* 0, or in a phased call: 1 started, 2 at atexit, 3 after the flag */
    PyThreadState *saved;    /* Py_BEGIN_ALLOW_THREADS / the eval breaker */
    int ended;               /* a threading.Thread: its target returned (python_thread_exit) */
    int clearing;            /* inside the `tstate_clear` destructor (hook "clear") */
};

static struct thread *all_threads;     /* the generated program's table */

static long settle_ms = 300;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn = 0;                   /* the step being run */
static __thread struct thread *self;   /* the spec thread this OS thread runs */

static void note(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    (void)!write(1, line, n);          /* one write per line: lines never mix */
}

static void wait_turn(int step)
{
    pthread_mutex_lock(&mu);
    while (turn < step)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void event(struct thread *t, const char *fmt, ...)
{
    char text[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    note("event %s %s", t->name, text);
    pthread_mutex_lock(&mu);
    strcpy(t->event, text);
    t->events++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Whether this OS thread has a thread state attached (3.11's current thread state is global:
   compare its owner), and whether PyGILState remembers one for it. */
static void returned(struct thread *t, const char *result)
{
    PyThreadState *ts = CURRENT_TSTATE();
#if PY_VERSION_HEX >= 0x030C0000
    /* 3.12+: the current thread state is this thread's own (thread-local), even one another
       thread created (its thread_id is its creator's) */
    const char *attached = ts != NULL ? "1" : "0";
#else
    /* up to 3.11 one current thread state for the process, which may be attached here or on
       another thread: told apart only for this thread's own PyGILState one ("1"); "?" otherwise */
    const char *attached = ts == NULL ? "0"
        : ts->thread_id == PyThread_get_thread_ident() && ts == PyGILState_GetThisThreadState() ? "1" : "?";
#endif
    int gilstate = PyGILState_GetThisThreadState() != NULL;
    event(t, "returned %s attached=%s gilstate=%d", result ? result : "-", attached, gilstate);
}

static const char *pointer(const void *p) { return p ? "ptr" : "NULL"; }

static void run_ops(struct thread *t)
{
    while (t->next < t->nops) {
        int i = t->next++;
        if (!t->op(t, i))
            return;
    }
    if (t->phase || t->clearing)  /* the trace ends inside a phased call or a destructor: stay there */
        wait_turn(INT_MAX);
}

/* ---- hooks CPython calls on the finalizing thread ---------------------------------- */

/* take_gil exits a non-finalizer when it wakes up after the finalizing flag: after a wait
   that timed out (one switch interval) and after taking the GIL (Python/ceval_gil.h:254-258,
   :298 v3.11.2; Python/ceval_gil.c in 3.12/3.13). With the default 5 ms interval a thread
   already waiting for the GIL when the flag is set exits at once; the harness's 1000 s
   interval would keep it waiting. So at the runtime's flag the finalizer hands the GIL over
   once, with a short interval, and takes it back: every waiter exits, as in the runtime. */
static void let_waiters_exit(void)
{
    PyObject *set = PySys_GetObject("setswitchinterval");      /* borrowed */
    if (set == NULL)
        return;
    Py_XDECREF(PyObject_CallFunction(set, "d", 0.005));
    PyThreadState *ts = PyEval_SaveThread();
    struct timespec pause = {0, 50 * 1000000L};
    nanosleep(&pause, NULL);
    PyEval_RestoreThread(ts);
    Py_XDECREF(PyObject_CallFunction(set, "d", 1000.0));
    PyErr_Clear();
}

static PyObject *hook(PyObject *module, PyObject *arg)
{
    struct thread *t = self;
    const char *what = PyUnicode_AsUTF8(arg);
    if (t == NULL || what == NULL)
        Py_RETURN_NONE;
    if (strcmp(what, "clear") == 0) {      /* PyThreadState_Clear drops the object: its __del__ */
        event(t, "hook clear");
        t->clearing++;
        run_ops(t);
        t->clearing--;
    }
    else if (t->phase == 1 && strcmp(what, "atexit") == 0) {
        t->phase = 2;
        event(t, "hook atexit");
        run_ops(t);
    }
    else if (t->phase == 2 && strcmp(what, "flag") == 0) {
        t->phase = 3;
        /* The runtime's flag is public; a subinterpreter's (3.12+) is not: -1, unchecked
           (docs/conformance.md shows where Py_EndInterpreter sets it, read with gdb). */
        int flag = PyInterpreterState_Get() == PyInterpreterState_Main() ? IS_FINALIZING() : -1;
        if (flag == 1)
            let_waiters_exit();
        event(t, "hook flag finalizing=%d", flag);
        run_ops(t);
    }
    Py_RETURN_NONE;
}

/* The function Py_AddPendingCall queues: the main thread runs it at an eval-breaker check or
   in _Py_FinishPendingCalls; it runs the spec's pending_calls ops until a `resume`. */
static int pending_hook(void *arg)
{
    struct thread *t = self;
    (void)arg;
    if (t == NULL)
        return 0;
    event(t, "hook pending");
    run_ops(t);
    return 0;
}

/* The function Py_AtExit registers: call_ll_exitfuncs runs it after finalization, no thread state. */
static void exit_hook(void)
{
    struct thread *t = self;
    if (t == NULL)
        return;
    event(t, "hook exitfunc");
    run_ops(t);
}

/* The function PyUnstable_AtExit registers (3.13+): _PyAtExit_Fini runs it in the
   interpreter's teardown, attached; it runs the spec's unstable_atexit ops until a `resume`. */
static void unstable_hook(void *data)
{
    struct thread *t = self;
    (void)data;
    if (t == NULL)
        return;
    event(t, "hook unstable_atexit");
    run_ops(t);
}

static PyMethodDef hook_def = {"interpcheck_hook", hook, METH_O, NULL};

/* The switch interval is made long: a thread waiting for the GIL would otherwise make the
   holder drop it at its next bytecode (the eval breaker), an order the trace did not choose;
   the trace's own hand-overs (run_python's eval-breaker steps) are made explicitly.
   atexit runs in pre-finalization; sys.stdout's flush (flush_std_files) and the __del__ of an
   object in __main__ (finalize_modules) run after the finalizing flag. sys.stdout is wrapped in
   the main interpreter only: Py_EndInterpreter never flushes it, but Py_FatalError does
   (fatal_error -> flush_std_files, Python/pylifecycle.c:2909 v3.12.1), so a wrapper in a
   subinterpreter would take "not the last thread" for the flag. */
static const char HOOKS_PY[] =
    "def interpcheck_install(hook, main):\n"
    "    import atexit, sys\n"
    "    sys.setswitchinterval(1000.0)\n"   /* no eval-breaker hand-over but the trace's own */
    "    atexit.register(hook, 'atexit')\n"
    "    class Flag:\n"
    "        def __del__(self, hook=hook):\n"
    "            hook('flag')\n"
    "    class Out:\n"
    "        def __init__(self, real):\n"
    "            self.real = real\n"
    "        def write(self, s):\n"
    "            return self.real.write(s)\n"
    "        def flush(self, hook=hook):\n"
    "            hook('flag')\n"
    "            return self.real.flush()\n"
    "    sys.modules['__main__'].__dict__['interpcheck_flag'] = Flag()\n"
    "    class Clear:\n"
    "        def __del__(self, hook=hook):\n"
    "            hook('clear')\n"
    "    sys.modules['__main__'].__dict__['interpcheck_Clear'] = Clear\n"
    "    if main:\n"
    "        sys.stdout = Out(sys.stdout)\n";

static void install_hooks(int main_interpreter)
{
    PyObject *main_dict = PyModule_GetDict(PyImport_AddModule("__main__"));
    PyObject *r = PyRun_String(HOOKS_PY, Py_file_input, main_dict, main_dict);
    PyObject *fn = PyCFunction_New(&hook_def, NULL);
    PyObject *install = PyDict_GetItemString(main_dict, "interpcheck_install");
    PyObject *done = (r && fn && install)
        ? PyObject_CallFunction(install, "Oi", fn, main_interpreter) : NULL;
    if (done == NULL) {
        PyErr_Print();
        note("error cannot install the hooks");
        _exit(3);
    }
    PyDict_DelItemString(main_dict, "interpcheck_install");
    Py_DECREF(done);
    Py_DECREF(fn);
    Py_DECREF(r);
}

/* An object whose __del__ is the hook, owned by the attached thread state (its dict): the
   PyThreadState_Clear inside PyGILState_Release drops it, and the destructor runs the spec's
   `tstate_clear` operations (gh-119585). */
static void own_clear_hook(void)
{
    PyObject *main_dict = PyModule_GetDict(PyImport_AddModule("__main__"));
    PyObject *cls = PyDict_GetItemString(main_dict, "interpcheck_Clear");
    PyObject *obj = cls ? PyObject_CallNoArgs(cls) : NULL;
    PyObject *dict = PyThreadState_GetDict();
    if (obj == NULL || dict == NULL || PyDict_SetItemString(dict, "interpcheck_clear", obj) < 0) {
        note("error cannot give the thread state an object to clear");
        _exit(3);
    }
    Py_DECREF(obj);
}

/* ---- threads and the driver -------------------------------------------------------- */

static void on_exit_thread(void *arg)      /* runs when PyThread_exit_thread ends the thread */
{
    event((struct thread *)arg, "exited");
}

static void run_thread(struct thread *t)
{
    self = t;
    t->tid = (pid_t)syscall(SYS_gettid);
    pthread_cleanup_push(on_exit_thread, t);
    run_ops(t);
    pthread_cleanup_pop(0);
}

static int python_threads_ready;

/* A Python thread of the main interpreter that starts inside Py_BEGIN_ALLOW_THREADS (a spec
   thread with tstate = "main", attached = false): its own thread state, made on its own OS
   thread (PyThreadState_New binds PyGILState to the calling thread), attached once and
   detached with PyEval_SaveThread, as a thread that entered Py_BEGIN_ALLOW_THREADS. Not a
   `threading` thread: finalization does not join it (a daemon thread). */
static void start_python_thread(struct thread *t)
{
    PyThreadState *ts = PyThreadState_New(PyInterpreterState_Main());
    PyEval_RestoreThread(ts);
    t->saved = PyEval_SaveThread();
    pthread_mutex_lock(&mu);
    python_threads_ready++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void wait_python_threads(int n)
{
    pthread_mutex_lock(&mu);
    while (python_threads_ready < n)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

/* The target of a threading.Thread (a spec thread with `python_thread`): detaches, as the C
   function a thread calls with Py_BEGIN_ALLOW_THREADS would, runs the thread's operations and
   returns to threading's bootstrap, which deletes its thread state (the join of a non-daemon
   thread waits for that). A trace that ends before the target returns leaves it waiting. */
static PyObject *threading_target(PyObject *module, PyObject *arg)
{
    struct thread *t = &all_threads[PyLong_AsLong(arg)];
    t->saved = PyEval_SaveThread();
    pthread_mutex_lock(&mu);
    python_threads_ready++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    run_thread(t);
    if (!t->ended)
        wait_turn(INT_MAX);
    Py_RETURN_NONE;
}

static PyMethodDef target_def = {"interpcheck_target", threading_target, METH_O, NULL};

static void start_threading_thread(int k, int daemon)
{
    PyObject *main_dict = PyModule_GetDict(PyImport_AddModule("__main__"));
    PyObject *fn = PyCFunction_New(&target_def, NULL);
    char code[200];
    snprintf(code, sizeof code, "import threading\nthreading.Thread(target=interpcheck_target, args=(%d,), "
             "daemon=%s).start()\n", k, daemon ? "True" : "False");
    if (fn == NULL || PyDict_SetItemString(main_dict, "interpcheck_target", fn) < 0
            || PyRun_SimpleString(code) < 0) {
        note("error cannot start a threading.Thread");
        _exit(3);
    }
    Py_DECREF(fn);
}

static void *thread_main(void *arg)
{
    struct thread *t = arg;
    if (t->python)
        start_python_thread(t);
    run_thread(t);
    return NULL;
}

/* Where a thread sits: its current system call (number, or "running"), or "gone". */
static void where(struct thread *t, char *out, size_t size)
{
    char path[64], buf[128] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)t->tid);
    FILE *f = t->tid ? fopen(path, "r") : NULL;
    if (f == NULL) {
        snprintf(out, size, "gone");
        return;
    }
    if (fgets(buf, sizeof buf, f) == NULL)
        strcpy(buf, "?");
    fclose(f);
    buf[strcspn(buf, " \n")] = 0;
    snprintf(out, size, "syscall=%s", buf);
}

/* How long the driver waits at a step, and for what:
   GO_ON   not at all (the step is inside a call with no boundary, already running);
   EVENT   for the event the model predicts, up to PATIENCE_MS (it usually comes at once);
   SETTLE  a call with no boundary just started: until its event, or until it sits in the
           kernel (blocked: three polls 10 ms apart), or PATIENCE_MS; reports nothing;
   NEVER   the model says the thread never moves again: the whole SETTLE_MS, then where it is. */
enum { GO_ON, EVENT, SETTLE, NEVER };
struct step { int thread; int release; int wait; };

static long patience_ms(void) { return settle_ms * 10 > 3000 ? settle_ms * 10 : 3000; }

/* Whether a thread sits in a blocking system call (its syscall number in /proc). */
static int in_kernel_wait(struct thread *t)
{
    char place[64];
    where(t, place, sizeof place);
    if (strncmp(place, "syscall=", 8) != 0)
        return 0;
    long n = strtol(place + 8, NULL, 10);
    return (place[8] >= '0' && place[8] <= '9') && (n == SYS_futex
#ifdef SYS_pause
        || n == SYS_pause
#endif
#ifdef SYS_poll
        || n == SYS_poll
#endif
        || n == SYS_ppoll || n == SYS_nanosleep || n == SYS_clock_nanosleep);
}

/* Waits (mu held) until the thread reports an event, `ms` pass, or (settle) it sits blocked. */
static int wait_event(struct thread *t, long ms, int settle)
{
    int blocked = 0;
    for (long waited = 0; t->events <= t->base && waited < ms; waited += 10) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 10 * 1000000L;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&cv, &mu, &until);
        if (settle && t->events <= t->base) {
            blocked = in_kernel_wait(t) ? blocked + 1 : 0;
            if (blocked >= 3)
                break;
        }
    }
    return t->events > t->base;
}

static void drive(struct thread *threads, const struct step *steps, int nsteps)
{
    for (int s = 1; s <= nsteps; s++) {
        struct thread *t = &threads[steps[s - 1].thread];
        int wait = steps[s - 1].wait, got = 0;
        char text[200] = "", place[64] = "";
        pthread_mutex_lock(&mu);
        if (steps[s - 1].release)
            t->base = t->events;
        turn = s;
        pthread_cond_broadcast(&cv);
        if (wait != GO_ON)
            got = wait_event(t, wait == NEVER ? settle_ms : patience_ms(), wait == SETTLE);
        if (got)
            strcpy(text, t->event);
        pthread_mutex_unlock(&mu);
        if (wait == GO_ON || wait == SETTLE)
            note("obs %d %s skip", s, t->name);
        else if (got)
            note("obs %d %s %s", s, t->name, text);
        else {
            where(t, place, sizeof place);
            note("obs %d %s none %s", s, t->name, place);
        }
    }
    note("end");
    _exit(0);     /* no finalization: the trace is over, whatever the threads are doing */
}
