/* daemon_thread.c -- PEP 788's daemon-thread pattern.
 *
 * A C thread that serves Python for the life of the process, started by start_poller()
 * (pthread_create and the Python glue are left out). It attaches once, then closes its
 * guard at once so that finalization never waits for it: that is what makes it a daemon
 * thread. The price: when it re-attaches after a blocking call (Py_END_ALLOW_THREADS)
 * and the interpreter is finalizing, it hangs forever (3.14+), and once the interpreter
 * is freed the re-attach touches freed memory.
 *
 *   $ interpcheck check-c examples/c/daemon_thread.c
 *
 * Verdicts for poller_main() (1 and 2 threads), design final: no_attach_after_finalize,
 * no_use_after_free, no_thread_hung and no_deadlock violated, each trace ending at
 * Py_END_ALLOW_THREADS (line 47); finalization_completes holds (it does not wait for the
 * daemon). Keep the guard until PyThreadState_Release() and the violations go away, at
 * the price of finalization waiting for the thread to finish.
 */
#include <Python.h>
#include "devices.h"

static PyObject *on_event;          /* the Python callable events go to */

static void *
poller_main(void *unused)
{
    PyInterpreterView *view = PyInterpreterView_FromMain();
    if (view == NULL) {
        return NULL;                    /* Python already finalized */
    }
    PyInterpreterGuard *guard = PyInterpreterGuard_FromView(view);
    PyInterpreterView_Close(view);
    if (guard == NULL) {
        return NULL;
    }
    PyThreadState *tstate = PyThreadState_Ensure(guard);
    if (tstate == NULL) {
        PyInterpreterGuard_Close(guard);
        return NULL;
    }
    /* Daemon: finalization must not wait for this thread. */
    PyInterpreterGuard_Close(guard);

    for (;;) {
        int event;
        Py_BEGIN_ALLOW_THREADS
        event = device_wait_event();    /* blocks for a long time */
        Py_END_ALLOW_THREADS
        if (event < 0) {
            break;
        }
        PyObject *r = PyObject_CallFunction(on_event, "i", event);
        if (r == NULL) {
            PyErr_Print();
            break;
        }
        Py_DECREF(r);
    }
    PyThreadState_Release(tstate);
    return NULL;
}
