/* library_callback_view.c -- PEP 788's library callback, with a view as the user data.
 *
 * fetch() is called from Python: it takes a view of the current interpreter and hands it
 * to an asynchronous C library ("netlib", made up) as the callback's argument. The library
 * calls on_fetched() later, on a thread of its own, maybe while the interpreter
 * finalizes, maybe after it is gone. The callback attaches through the view; when that
 * fails it only cleans up. Each callback closes the view it was given, exactly once.
 *
 *   $ interpcheck check-c examples/c/library_callback_view.c
 *
 * Verdicts, design final: on_fetched() on 1 and 2 threads, every property holds; fetch()
 * (called by the main thread, which then finalizes) too.
 */
#include <Python.h>
#include "netlib.h"

static PyObject *done_handler;      /* a Python callable, set elsewhere */

static void
on_fetched(void *arg, int status)
{
    PyInterpreterView *view = (PyInterpreterView *)arg;
    PyThreadState *tstate = PyThreadState_EnsureFromView(view);
    if (tstate == NULL) {
        /* Finalizing or gone: nobody is left to tell. */
        PyInterpreterView_Close(view);
        return;
    }
    PyObject *res = PyObject_CallFunction(done_handler, "i", status);
    if (res == NULL) {
        PyErr_WriteUnraisable(done_handler);
    }
    Py_XDECREF(res);
    PyThreadState_Release(tstate);
    PyInterpreterView_Close(view);
}

static PyObject *
fetch(PyObject *self, PyObject *args)
{
    const char *url;
    if (!PyArg_ParseTuple(args, "s", &url)) {
        return NULL;
    }
    PyInterpreterView *view = PyInterpreterView_FromCurrent();
    if (view == NULL) {
        return NULL;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = netlib_fetch(url, on_fetched, view);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyInterpreterView_Close(view);     /* the callback will never run */
        PyErr_SetString(PyExc_OSError, "netlib_fetch failed");
        return NULL;
    }
    Py_RETURN_NONE;
}
