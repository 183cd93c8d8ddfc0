/* my_gilstate_ensure.c -- PEP 788's "implementing your own PyGILState_Ensure".
 *
 * A library that used PyGILState_Ensure()/Release() on arbitrary threads gets the same two
 * calls back, built from a view of the main interpreter and a guard. my_ensure() fails
 * (returns NULL) instead of hanging once main is finalizing; while the guard is held,
 * finalization waits, so the thread never attaches to a finalizing interpreter.
 *
 *   $ interpcheck check-c examples/c/my_gilstate_ensure.c
 *
 * Verdicts for log_message() (1 and 2 threads), design final: every property holds.
 */
#include <Python.h>

static PyObject *logger;            /* a logging.Logger, set at module init */

/* Attach to the main interpreter, or return NULL when it is finalizing or gone.
 * On success *tstate is what my_release() needs. */
static PyInterpreterGuard *
my_ensure(PyThreadState **tstate)
{
    PyInterpreterView *view = PyInterpreterView_FromMain();
    if (view == NULL) {
        return NULL;
    }
    PyInterpreterGuard *guard = PyInterpreterGuard_FromView(view);
    PyInterpreterView_Close(view);
    if (guard == NULL) {
        return NULL;
    }
    *tstate = PyThreadState_Ensure(guard);
    return guard;
}

static void
my_release(PyInterpreterGuard *guard, PyThreadState *tstate)
{
    PyThreadState_Release(tstate);
    PyInterpreterGuard_Close(guard);
}

/* Exported to C code that may run on any thread, with or without a thread state. */
void
log_message(const char *text)
{
    PyThreadState *tstate;
    PyInterpreterGuard *guard = my_ensure(&tstate);
    if (guard == NULL) {
        return;                         /* no Python left to log to */
    }
    PyObject *r = PyObject_CallMethod(logger, "info", "s", text);
    if (r == NULL) {
        PyErr_Clear();
    }
    Py_XDECREF(r);
    my_release(guard, tstate);
}
