/*
 * statedir — the state directory is ours, ssh-style.
 *
 * mlpd keeps its pid file, log, database, worker logs and artifacts under one
 * directory.  If another user could write in it (or in a directory above it)
 * they could plant symlinks there and turn mlpd's writes against its user
 * (truncate a file with the pid, append logs to it, write artifacts into a
 * directory of theirs).  So before anything is created, mlpd checks:
 *
 *   - the state dir and its subdirectories (logs/, artifacts/) are real
 *     directories (not symlinks), owned by mlpd's uid and not writable by
 *     group or others;
 *   - every directory above it (after resolving symlinks) is owned by mlpd's
 *     uid or by root and not writable by group or others, unless it is a
 *     root-owned sticky directory such as /tmp (where nobody can rename or
 *     replace another's entries).
 *
 * and refuses to start with a message naming the directory and the fix.  The
 * files themselves are opened with O_NOFOLLOW (pid file through openat on the
 * verified directory's descriptor), so a symlink is never followed.
 */
#ifndef MLPD_STATEDIR_H
#define MLPD_STATEDIR_H

#include "err.h"

/*
 * Create dir (0700) when missing, then check it and its parent chain.
 * Returns an O_DIRECTORY descriptor of dir (the caller closes it), or a
 * negative MLP_E* code with e saying what is wrong.
 */
int statedir_open(const char *dir, struct err *e);

/*
 * Create dir_fd/name (0700) when missing and check it like the state dir
 * itself (path is its full name, for messages).  0 or a negative MLP_E*.
 */
int statedir_sub(int dir_fd, const char *name, const char *path, struct err *e);

/*
 * Whether path (an existing directory mlpd made, such as a trial's artifacts
 * directory) is a real directory owned by mlpd's uid: 0 or a negative MLP_E*.
 */
int statedir_check_dir(const char *path, struct err *e);

#endif
