"""Thread coordination for Python input threads (tf.train.Coordinator).

::

    coord = sluice.train.Coordinator()
    threads = [threading.Thread(target=producer, args=(coord,)) for _ in range(2)]
    for t in threads: t.start()
    ...
    coord.request_stop()
    coord.join(threads, stop_grace_period_secs=5)

The stop state is sluice's C++ Coordinator, so a queue call given
``coord=`` wakes with CancelledError as soon as a stop is requested.
"""
import sys
import threading
import time
import contextlib

from sluice import _sluice

__all__ = ["Coordinator"]


class Coordinator:
    """A coordinator of threads (tf.train.Coordinator).

    Args:
      clean_stop_exception_types: exception types that request_stop treats
        as a clean stop (default: sluice.errors.OutOfRangeError).
    """

    def __init__(self, clean_stop_exception_types=None):
        from sluice import errors
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean = tuple(clean_stop_exception_types)
        self._native = _sluice.Coordinator()
        self._lock = threading.Lock()
        self._exc_info = None
        self._joined = False
        self._registered = set()

    def request_stop(self, ex=None):
        """Asks every thread to stop. `ex` (an exception or exc_info triple),
        unless a clean-stop type, is re-raised by join(); only the first is kept."""
        with self._lock:
            if ex is not None and self._exc_info is None:
                info = ex if isinstance(ex, tuple) else (type(ex), ex, ex.__traceback__)
                if not issubclass(info[0], self._clean):
                    self._exc_info = info
                    if self._joined:
                        raise info[1]
        self._native.request_stop("")

    def should_stop(self):
        """True once a stop was requested."""
        return self._native.should_stop()

    def wait_for_stop(self, timeout=None):
        """Blocks (GIL released) until a stop is requested or timeout passes;
        returns should_stop()."""
        return self._native.wait_for_stop(timeout)

    def clear_stop(self):
        """Forgets the stop request and the recorded exception."""
        with self._lock:
            self._exc_info = None
            self._joined = False
        self._native.clear_stop()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """Context manager: an exception inside requests a stop with it."""
        try:
            yield
        except Exception:  # noqa: BLE001 (TensorFlow's contract)
            self.request_stop(ex=sys.exc_info())

    def register_thread(self, thread):
        """Adds a thread that join() waits for."""
        with self._lock:
            self._registered.add(thread)

    def raise_requested_exception(self):
        """Raises the exception passed to request_stop, if any."""
        with self._lock:
            if self._exc_info is not None:
                raise self._exc_info[1]

    @property
    def joined(self):
        return self._joined

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Waits for the threads: until all ended or a stop was requested, then
        at most stop_grace_period_secs for the rest.

        Raises the exception passed to request_stop; otherwise RuntimeError
        naming threads still alive after the grace period (unless
        ignore_live_threads).
        """
        with self._lock:
            threads = set(threads or ()) | self._registered
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(0.1):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            self._joined = True
            self._registered = set()
            exc = self._exc_info
        if exc is not None:
            raise exc[1]
        stragglers = [t.name for t in threads if t.is_alive()]
        if stragglers and not ignore_live_threads:
            raise RuntimeError("Coordinator stopped with threads still running: %s"
                               % " ".join(stragglers))
