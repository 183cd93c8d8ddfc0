/* protect_lock.c -- PEP 788's "protecting locks".
 *
 * A cache shared by Python objects and by the library's own refill thread, behind one C
 * mutex. The objects' finalizer (cache_entry_dealloc) takes the mutex too, and objects
 * are finalized during Py_FinalizeEx. The refill thread holds a guard from before it
 * takes the mutex until after it lets go of it, so finalization waits for it and never
 * blocks on a mutex held by a thread that cannot run.
 *
 *   $ interpcheck check-c examples/c/protect_lock.c       # the refill thread alone
 *   $ interpcheck check examples/c/protect_lock.toml      # with the finalizer taking the mutex
 *
 * Verdicts for refill_thread(), design final: every property holds, in both.
 */
#include <Python.h>

static PyMutex cache_mutex;
static PyObject *cache;             /* a dict, created at module init */

static void
refill_thread(PyInterpreterGuard *guard)
{
    PyThreadState *tstate = PyThreadState_Ensure(guard);
    if (tstate == NULL) {
        PyInterpreterGuard_Close(guard);
        return;
    }
    Py_BEGIN_ALLOW_THREADS
    PyMutex_Lock(&cache_mutex);
    fill_from_disk();               /* plain C, no Python */
    PyMutex_Unlock(&cache_mutex);
    Py_END_ALLOW_THREADS
    PyThreadState_Release(tstate);
    PyInterpreterGuard_Close(guard);
}

static void
cache_entry_dealloc(PyObject *self)
{
    PyMutex_Lock(&cache_mutex);
    forget_entry(self);
    PyMutex_Unlock(&cache_mutex);
    Py_TYPE(self)->tp_free(self);
}
