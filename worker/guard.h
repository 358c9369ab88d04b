/*
 * guard — the limits mlpd puts on a local worker, applied by the worker
 * itself from its environment (daemon/spawn.c sets it):
 *
 *   MLPD_WORKER_MEMORY=BYTES  worker_memory: RLIMIT_AS = the address space the
 *                             worker holds once started (program, libraries,
 *                             OpenBLAS's buffers) + BYTES.  An allocation past
 *                             it fails, and the trial ends with an "nomem"
 *                             error line instead of taking the machine's memory.
 *   MLPD_HEARTBEAT=SECONDS    stall detection: a thread prints
 *                             {"event":"heartbeat","seconds":S} every SECONDS
 *                             while the worker makes progress (it used CPU time
 *                             since the last beat, or is waiting for another
 *                             worker's data cache build: guard_wait).  A stopped
 *                             or blocked worker falls silent, and mlpd kills it
 *                             after stall_seconds without output.
 *
 * Neither variable set (the worker run by hand, or by Slurm): nothing happens.
 */
#ifndef MLP_GUARD_H
#define MLP_GUARD_H

#include <stdbool.h>

#include "err.h"

/*
 * Apply MLPD_WORKER_MEMORY and start the MLPD_HEARTBEAT thread (not when
 * human: the heartbeat is a protocol line).  Call once, before any trial
 * memory is allocated.  With a limit to apply, warm_up() runs first: it must
 * make OpenBLAS reserve its buffers (a BLAS call on every BLAS thread), since
 * under a limit that leaves no room for them OpenBLAS retries for ever instead
 * of failing.  0, or MLP_EINVALID_SPEC / MLP_EIO with *e when a variable is
 * malformed or the limit cannot be set.
 */
int guard_start(bool human, void (*warm_up)(void), struct err *e);

/* The limit applied (bytes beyond the start-up address space), 0 when none. */
long long guard_memory_limit(void);

/*
 * The main thread is about to wait (true) or has stopped waiting (false) for
 * something that is progress elsewhere (another worker building the data
 * cache): heartbeats go on meanwhile.  Harmless without guard_start.
 */
void guard_wait(bool waiting);

#endif
