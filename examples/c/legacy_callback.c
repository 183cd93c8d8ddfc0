/* legacy_callback.c -- a C library calls back into Python from its own threads,
 * written the way extensions do it before PEP 788.
 *
 * "sensorlib" (made up) delivers readings on worker threads it owns. The callback asks
 * Py_IsFinalizing() first, then takes the GIL with PyGILState_Ensure(). The check and
 * the Ensure are two steps: finalization can start in between (time of check, time of
 * use). Then the thread hangs in PyGILState_Ensure() forever (3.14), or is killed
 * (3.13 and older), or, once the interpreter is freed, touches freed memory.
 *
 *   $ interpcheck check-c examples/c/legacy_callback.c --cpython 3.13
 *
 * Verdicts for on_reading() (1 and 2 threads): no_stale_check, no_attach_after_finalize
 * and no_use_after_free violated (their traces point at lines 49 and 52 below); the
 * other properties hold. The PEP 788 port of the same file is legacy_callback_pep788.c.
 */
#include <Python.h>
#include <pthread.h>
#include "sensorlib.h"

static PyObject *py_handler;                /* set by set_handler() */
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long readings_seen;

static void
count_reading(void)
{
    pthread_mutex_lock(&stats_lock);
    readings_seen++;
    pthread_mutex_unlock(&stats_lock);
}

static int
deliver(PyObject *handler, double value)
{
    PyObject *result = PyObject_CallFunction(handler, "d", value);
    if (result == NULL) {
        PyErr_WriteUnraisable(handler);
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

/* Called by sensorlib on one of its threads, which has no thread state. */
static void
on_reading(void *context, double value)
{
    count_reading();
    if (Py_IsFinalizing()) {
        return;                             /* too late for Python: drop the reading */
    }
    PyGILState_STATE gstate = PyGILState_Ensure();
    if (py_handler != NULL) {
        (void)deliver(py_handler, value);
    }
    PyGILState_Release(gstate);
}

static PyObject *
set_handler(PyObject *module, PyObject *handler)
{
    if (!PyCallable_Check(handler)) {
        PyErr_SetString(PyExc_TypeError, "handler must be callable");
        return NULL;
    }
    Py_XSETREF(py_handler, Py_NewRef(handler));
    if (sensorlib_subscribe(on_reading, NULL) < 0) {
        PyErr_SetString(PyExc_RuntimeError, "sensorlib refused the subscription");
        return NULL;
    }
    Py_RETURN_NONE;
}
