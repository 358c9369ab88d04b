/*
 * exec — the executor interface.  See exec.h.  What an executor reads from
 * and writes to a worker is common/trialwire.c; what clients see of the
 * executors is view.c.
 */
#include "exec.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "err.h"
#include "mlpd.h"
#include "statedir.h"

int exec_resolve(struct mlpd *d, const char *want, const char **out, struct err *e)
{
    const char *x = want ? want : d->cfg.executor[0] ? d->cfg.executor : "local";
    if (strcmp(x, "slurm") == 0) {
        if (!d->slurm)
            return err_set(e, MLP_EINVALID_GRID, "executor",
                           "this mlpd has no Slurm executor (sbatch was not found when it "
                           "started; see mlpd --help for the slurm_* settings)");
        *out = "slurm";
    } else {
        *out = "local";
    }
    return 0;
}

int exec_artifacts_dir(const char *root, int64_t trial_id, char *dir, size_t n, struct err *e)
{
    snprintf(dir, n, "%s/%lld", root, (long long)trial_id);
    struct err me = ERR_INIT;
    if (config_mkdir_p(root, 0700, &me) < 0)
        return err_set(e, me.code, NULL, "cannot create %s: %s", dir, me.msg);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return err_set(e, MLP_EIO, NULL, "cannot create %s: %s", dir, strerror(errno));
    /* The worker writes there: never through a symlink or into someone else's directory. */
    return statedir_check_dir(dir, e);
}
