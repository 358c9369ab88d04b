/*
 * statedir — see statedir.h.
 */
#include "statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* The state dir itself or one of its subdirectories: ours, not writable by others. */
static int own_dir_ok(const struct stat *st, const char *path, struct err *e)
{
    if (!S_ISDIR(st->st_mode))
        return err_set(e, MLP_EPERMISSION, path, "%s is not a directory; refusing to use it", path);
    if (st->st_uid != geteuid())
        return err_set(e, MLP_EPERMISSION, path,
                       "%s is owned by uid %u, not by this mlpd (uid %u); refusing to use it "
                       "(another user could plant files there)",
                       path, (unsigned)st->st_uid, (unsigned)geteuid());
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return err_set(e, MLP_EPERMISSION, path,
                       "%s is writable by group or others (mode %03o); refusing to use it: "
                       "chmod go-w %s",
                       path, (unsigned)(st->st_mode & 0777), path);
    return 0;
}

/* A directory above the state dir: ours or root's, and nobody else may write in it
 * (a root-owned sticky directory such as /tmp is fine). */
static int parent_ok(const struct stat *st, const char *path, const char *dir, struct err *e)
{
    if (st->st_uid != geteuid() && st->st_uid != 0)
        return err_set(e, MLP_EPERMISSION, path,
                       "state dir %s: %s above it is owned by uid %u (neither this mlpd's uid %u "
                       "nor root); refusing it (that user could replace the state dir)",
                       dir, path, (unsigned)st->st_uid, (unsigned)geteuid());
    bool sticky_root = st->st_uid == 0 && (st->st_mode & S_ISVTX);
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !sticky_root)
        return err_set(e, MLP_EPERMISSION, path,
                       "state dir %s: %s above it is writable by group or others (mode %03o); "
                       "refusing it: chmod go-w %s",
                       dir, path, (unsigned)(st->st_mode & 0777), path);
    return 0;
}

static int parents_ok(const char *dir, struct err *e)
{
    char *real = realpath(dir, NULL);
    if (!real)
        return err_set(e, MLP_EIO, dir, "%s: %s", dir, strerror(errno));
    int rc = 0;
    char *prefix = strdup(real);
    if (!prefix)
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
    /* Every directory above dir: "/", "/a", "/a/b", ... (real has no trailing '/'). */
    for (size_t i = 0; rc == 0 && real[i]; i++) {
        if (real[i] != '/')
            continue;
        memcpy(prefix, real, i ? i : 1);
        prefix[i ? i : 1] = '\0';
        struct stat st;
        if (stat(prefix, &st) != 0)
            rc = err_set(e, MLP_EIO, prefix, "%s: %s", prefix, strerror(errno));
        else
            rc = parent_ok(&st, prefix, dir, e);
    }
    free(prefix);
    free(real);
    return rc;
}

int statedir_open(const char *dir, struct err *e)
{
    int rc = config_mkdir_p(dir, 0700, e);
    if (rc < 0)
        return rc;
    if ((rc = parents_ok(dir, e)) < 0)
        return rc;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP || errno == ENOTDIR)
            return err_set(e, MLP_EPERMISSION, dir,
                           "%s is a symbolic link; refusing it (give the real directory)", dir);
        return err_set(e, MLP_EIO, dir, "%s: %s", dir, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = err_set(e, MLP_EIO, dir, "%s: %s", dir, strerror(errno));
    } else {
        rc = own_dir_ok(&st, dir, e);
    }
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int statedir_sub(int dir_fd, const char *name, const char *path, struct err *e)
{
    if (mkdirat(dir_fd, name, 0700) < 0 && errno != EEXIST)
        return err_set(e, MLP_EIO, path, "cannot create directory %s: %s", path, strerror(errno));
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return err_set(e, MLP_EIO, path, "%s: %s", path, strerror(errno));
    if (S_ISLNK(st.st_mode))
        return err_set(e, MLP_EPERMISSION, path,
                       "%s is a symbolic link; refusing to follow it (remove it)", path);
    return own_dir_ok(&st, path, e);
}

int statedir_check_dir(const char *path, struct err *e)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return err_set(e, MLP_EIO, path, "%s: %s", path, strerror(errno));
    if (S_ISLNK(st.st_mode))
        return err_set(e, MLP_EPERMISSION, path, "%s is a symbolic link; refusing to follow it",
                       path);
    return own_dir_ok(&st, path, e);
}
