/*
 * hooks — commands mlpd runs for unattended sweeps: on_sweep_end when a sweep
 * ends, on_trial_failed when trials fail, on_sweep_blocked when a sweep cannot
 * proceed (Slurm keeps refusing its submission, or its first trials all fail).
 * Commands come from mlpd.conf (every sweep) and from a grid's "notify" (that
 * sweep; both run when both are set); common/notify.h splits them.
 *
 * A hook is a child process started with libuv (never a shell, never waited
 * for): argv as given, the environment of mlpd plus MLP_* variables naming
 * the event, the sweep, its counts and its best configuration, and the same
 * as one JSON document on its standard input.  Its stdout and stderr are
 * appended to <state dir>/hooks.log.  It runs in its own process group, which
 * is sent SIGTERM after hook_timeout seconds and SIGKILL 2 s later.  At most
 * hook_max_running hooks run at once (an event beyond is dropped and logged),
 * and on_trial_failed runs at most once per hook_interval per sweep (the
 * failures in between are counted in the next one, and every count is in
 * on_sweep_end).  The outcome of every hook (exit status, signal, time out,
 * failure to start) goes to mlpd's log.
 *
 * Events come from hooks_sweep_changed, called whenever a trial of a sweep
 * changes state or an op changed the sweep; it compares the sweep's counts
 * with what it saw last, so each end and each block is reported once per run
 * of the sweep (a retried sweep that ends again is reported again).
 */
#ifndef MLP_HOOKS_H
#define MLP_HOOKS_H

#include <stdint.h>

#include "err.h"

struct mlpd;
struct hooks;

/*
 * Read the hooks of d->cfg (each program must be an executable file) and
 * open <state dir>/hooks.log.  NULL with *e filled (MLP_EINVALID_REQUEST at
 * the setting, MLP_EIO, MLP_ENOMEM).
 */
struct hooks *hooks_new(struct mlpd *d, struct err *e);

/* Sweep sweep_id may have changed: run the hooks its new state calls for. */
void hooks_sweep_changed(struct hooks *h, int64_t sweep_id);

/*
 * Free everything, after the loop has closed every handle (hooks still
 * running are left to finish on their own).
 */
void hooks_free(struct hooks *h);

#endif
