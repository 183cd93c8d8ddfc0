/* legacy_callback_pep788.c -- legacy_callback.c ported to PEP 788.
 *
 * set_handler() runs with the interpreter attached, so it takes a view of it
 * (PyInterpreterView_FromCurrent). The callback attaches through the view with
 * PyThreadState_EnsureFromView(): one atomic step that either takes a thread state while
 * keeping finalization waiting until the matching Release, or fails (NULL) once the
 * interpreter is finalizing or gone. No Py_IsFinalizing(), so nothing goes stale.
 *
 *   $ interpcheck check-c examples/c/legacy_callback_pep788.c
 *
 * Verdicts for on_reading() (1 and 2 threads), design final: every property holds.
 */
#include <Python.h>
#include <pthread.h>
#include "sensorlib.h"

static PyObject *py_handler;                /* set by set_handler() */
static PyInterpreterView *handler_view;     /* the interpreter py_handler belongs to */
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
    PyThreadState *tstate = PyThreadState_EnsureFromView(handler_view);
    if (tstate == NULL) {
        return;                             /* finalizing or gone: drop the reading */
    }
    if (py_handler != NULL) {
        (void)deliver(py_handler, value);
    }
    PyThreadState_Release(tstate);
}

static PyObject *
set_handler(PyObject *module, PyObject *handler)
{
    if (!PyCallable_Check(handler)) {
        PyErr_SetString(PyExc_TypeError, "handler must be callable");
        return NULL;
    }
    handler_view = PyInterpreterView_FromCurrent();
    if (handler_view == NULL) {
        return NULL;
    }
    Py_XSETREF(py_handler, Py_NewRef(handler));
    if (sensorlib_subscribe(on_reading, NULL) < 0) {
        PyErr_SetString(PyExc_RuntimeError, "sensorlib refused the subscription");
        return NULL;
    }
    Py_RETURN_NONE;
}
