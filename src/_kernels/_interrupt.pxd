# Ctrl-C inside a long kernel call: the linkage kernels run a whole tree in
# one call (minutes at 100,000 samples). Python only runs its signal
# handlers between bytecodes, so without a poll a KeyboardInterrupt would
# wait for the call to end. A kernel's serial loop (the team's master, which
# is the calling Python thread) adds its work to a Poll after each step;
# every POLL_WORK units it takes the GIL and runs the handlers. When one
# raises, the loop stops, the kernel frees what it holds, leaves its
# parallel region, and its def function raises the handler's exception with
# raise_if_stopped. Kernels that Python calls pass by pass (k-means, EM,
# DBSCAN) need no poll: the interpreter checks between the calls.
#
# Work is counted in multiply-adds of a vector loop (about 0.3 ns each
# here: Prim and Ward on 20,000 x 16 do 3e9 of them a second); a step that
# waits on memory weighs more (complete and average linkage fetch each
# condensed-matrix column entry from memory, about 30 ns: 128 units).
# POLL_WORK = 2^26 units spaces the polls about 20 ms apart. A poll costs a
# GIL round trip, about a microsecond; if another Python thread holds the
# GIL, up to its switch interval (5 ms). Off the main thread
# PyErr_CheckSignals does nothing and returns 0.

cdef extern from "Python.h":
    # Declared without an exception clause: the exception a handler raised
    # stays set for raise_if_stopped to propagate.
    int PyErr_CheckSignals()

cdef enum:
    POLL_WORK = 1 << 26

ctypedef struct Poll:
    double work         # done since the last look at the signals
    bint stopped        # a handler raised: abandon the computation


cdef inline void poll_init(Poll* poll) noexcept nogil:
    poll.work = 0.0
    poll.stopped = False


cdef inline bint poll_signals(Poll* poll, double work) noexcept nogil:
    """Count work; every POLL_WORK, run the signal handlers. True: stop."""
    poll.work = poll.work + work
    if poll.work >= POLL_WORK:
        poll.work = 0.0
        with gil:
            poll.stopped = PyErr_CheckSignals() != 0
    return poll.stopped


cdef inline int raise_if_stopped(Poll* poll) except -1:
    """With the GIL, after the nogil part: raise what the handler raised."""
    if poll.stopped:
        return -1
    return 0
