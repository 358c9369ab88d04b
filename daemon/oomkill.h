/*
 * oomkill — did the kernel's OOM killer end a worker?
 *
 * A worker that dies of a SIGKILL mlpd did not send was most often killed by
 * the kernel's OOM killer (the machine, or the memory cgroup mlpd runs in, ran
 * out of memory; worker_memory's RLIMIT_AS does not catch that).  The kernel
 * counts those kills per memory cgroup, before it sends the signal: cgroup v1
 * `memory.oom_control` ("oom_kill N", Linux >= 4.13), cgroup v2
 * `memory.events.local` or `memory.events` ("oom_kill N").  spawn reads the counter of the worker's
 * cgroup when the worker starts and again when it has died: if it rose, the
 * trial ran out of memory.
 *
 * Everything here reads small pseudo-files under /proc and /sys/fs/cgroup
 * (non-blocking, no disk I/O) and fails quietly: no memory cgroup, no
 * counter, an unknown layout all give -1, and the caller then treats the
 * death as it would without this module (a crash).
 */
#ifndef MLP_OOMKILL_H
#define MLP_OOMKILL_H

#include <stddef.h>

/*
 * The file counting OOM kills in pid's memory cgroup into path (size n):
 * <mount>/<cgroup>/memory.oom_control (v1), memory.events.local (v2, only
 * this cgroup's kills) or else memory.events (v2 before Linux 5.2).  0, or -1
 * when there is none (no memory controller, the root cgroup of v2, a cgroup
 * outside this mount namespace's view, pid gone).  The mounts are read from
 * /proc/self/mountinfo once, at the first call.
 */
int oomkill_counter_file(long pid, char *path, size_t n);

/* The "oom_kill N" value of such a file: N >= 0, or -1 if unreadable or absent. */
long long oomkill_count(const char *path);

/*
 * Make pid, a worker, the OOM killer's first choice over mlpd: its
 * /proc/PID/oom_score_adj becomes adj unless mlpd's own (inherited) is
 * already at least that.  0, or -1 with errno (e.g. EACCES).
 */
int oomkill_prefer(long pid, int adj);

/*
 * The parsing, on texts (for tests): the counter file of a process whose
 * /proc/PID/cgroup is `cgroup` in a mount namespace whose mountinfo is
 * `mountinfo`.  v1's memory hierarchy wins over v2 (a hybrid machine has
 * both, with memory on v1).  0 with path set, or -1.  Whether the file
 * exists is not checked.
 */
int oomkill_locate(const char *cgroup, const char *mountinfo, char *path, size_t n);

/* The N of the "oom_kill N" line of a counter file's text, or -1. */
long long oomkill_parse(const char *text);

#endif
