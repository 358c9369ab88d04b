/*
 * oomkill — the OOM killer's counter of a worker's memory cgroup.  See oomkill.h.
 *
 * /proc/PID/cgroup gives the cgroup's path in each hierarchy ("4:memory:/a/b"
 * for v1, "0::/a/b" for v2); /proc/self/mountinfo gives where each hierarchy
 * is mounted and which part of it (field 4, the root: a container may see
 * only a subtree).  The counter file is <mount point><path below the
 * root>/<file>.
 */
#include "oomkill.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OOMKILL_MOUNTINFO_MAX (4 << 20) /* more than any real mount table */

/* Up to n - 1 bytes of a pseudo-file, NUL-terminated: the length, or -1. */
static long read_small(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < n) {
        ssize_t r = read(fd, buf + len, n - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    return (long)len;
}

/* The whole of /proc/self/mountinfo (malloc'd), or NULL. */
static char *read_mountinfo(void)
{
    size_t cap = 1 << 16;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf)
            return NULL;
        long len = read_small("/proc/self/mountinfo", buf, cap);
        if (len >= 0 && (size_t)len + 1 < cap)
            return buf;
        free(buf); /* unreadable, or filled (maybe cut): read it again with room to spare */
        if (len < 0 || cap >= OOMKILL_MOUNTINFO_MAX)
            return NULL;
        cap *= 4;
    }
}

/* Field k (0-based, space-separated) of a line ending at end into out, octal escapes undone. */
static bool field(const char *line, const char *end, int k, char *out, size_t n)
{
    const char *p = line;
    for (int i = 0; i < k; i++) {
        while (p < end && *p != ' ')
            p++;
        if (p >= end)
            return false;
        p++;
    }
    size_t o = 0;
    for (; p < end && *p != ' '; p++) {
        char c = *p;
        if (c == '\\' && end - p > 3 && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' &&
            p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
            c = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            p += 3;
        }
        if (o + 1 >= n)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return o > 0;
}

/* Whether comma-separated list (of length len) holds word. */
static bool has_word(const char *list, size_t len, const char *word)
{
    size_t wl = strlen(word);
    const char *p = list, *end = list + len;
    while (p < end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        size_t l = (size_t)((c ? c : end) - p);
        if (l == wl && memcmp(p, word, wl) == 0)
            return true;
        p = c ? c + 1 : end;
    }
    return false;
}

/*
 * The mount (point, root) of the memory hierarchy: v1 (fstype "cgroup" with
 * the super option "memory") when v1, else cgroup2, whose root is a prefix of
 * cgpath.  Into dir; false if none.
 */
static bool find_mount(const char *mountinfo, bool v1, const char *cgpath, char *dir, size_t n)
{
    for (const char *line = mountinfo; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        const char *dash = strstr(line, " - ");
        char fstype[32], root[4096], point[4096];
        if (dash && dash < end && field(dash + 3, end, 0, fstype, sizeof fstype) &&
            strcmp(fstype, v1 ? "cgroup" : "cgroup2") == 0 &&
            field(line, end, 3, root, sizeof root) && field(line, end, 4, point, sizeof point)) {
            bool memory = !v1;
            if (v1) {
                /* " - cgroup SOURCE SUPEROPTIONS" */
                const char *so = dash + 3 + strlen(fstype) + 1;
                so = memchr(so, ' ', (size_t)(end - so));
                memory = so && has_word(so + 1, (size_t)(end - so - 1), "memory");
            }
            size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
            if (memory && strncmp(cgpath, root, rl) == 0 &&
                (cgpath[rl] == '/' || cgpath[rl] == '\0')) {
                int w = snprintf(dir, n, "%s%s", point, cgpath + rl);
                return w > 0 && (size_t)w < n;
            }
        }
        line = *end ? end + 1 : end;
    }
    return false;
}

int oomkill_locate(const char *cgroup, const char *mountinfo, char *path, size_t n)
{
    char v1path[4096] = "", v2path[4096] = "";
    bool v1 = false, v2 = false;
    for (const char *line = cgroup; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        /* "ID:CONTROLLERS:PATH" */
        const char *c1 = memchr(line, ':', (size_t)(end - line));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        size_t pl = c2 ? (size_t)(end - c2 - 1) : 0;
        if (c2 && pl > 0 && pl < sizeof v1path && c2[1] == '/') {
            if (has_word(c1 + 1, (size_t)(c2 - c1 - 1), "memory")) {
                memcpy(v1path, c2 + 1, pl);
                v1path[pl] = '\0';
                v1 = true;
            } else if (c2 == c1 + 1 && c1 - line == 1 && line[0] == '0') {
                memcpy(v2path, c2 + 1, pl);
                v2path[pl] = '\0';
                v2 = true;
            }
        }
        line = *end ? end + 1 : end;
    }
    char dir[4096];
    const char *file;
    if (v1 && find_mount(mountinfo, true, v1path, dir, sizeof dir))
        file = "memory.oom_control";
    else if (!v1 && v2 && find_mount(mountinfo, false, v2path, dir, sizeof dir))
        file = "memory.events";
    else
        return -1;
    /* "/sys/fs/cgroup" + "/" (the root cgroup) must not give "//memory.events". */
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dir[--dl] = '\0';
    int w = snprintf(path, n, "%s/%s", dir, file);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

long long oomkill_parse(const char *text)
{
    for (const char *line = text; *line;) {
        if (strncmp(line, "oom_kill ", 9) == 0) {
            char *e;
            errno = 0;
            long long v = strtoll(line + 9, &e, 10);
            return errno == 0 && e != line + 9 && v >= 0 ? v : -1;
        }
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return -1;
}

int oomkill_counter_file(long pid, char *path, size_t n)
{
    /* One daemon, one loop thread: the mount table is read once and kept. */
    static char *mountinfo;
    static bool tried;
    if (!tried) {
        tried = true;
        mountinfo = read_mountinfo();
    }
    if (!mountinfo)
        return -1;
    char cgpath[64], cgroup[16384];
    snprintf(cgpath, sizeof cgpath, "/proc/%ld/cgroup", pid);
    if (read_small(cgpath, cgroup, sizeof cgroup) <= 0 ||
        oomkill_locate(cgroup, mountinfo, path, n) < 0)
        return -1;
    /* v2: memory.events counts the kills in sub-cgroups too (someone else's, e.g. a
     * test's); memory.events.local (Linux >= 5.2) only this cgroup's, the workers'. */
    size_t len = strlen(path);
    const char *ev = "/memory.events";
    if (len >= strlen(ev) && strcmp(path + len - strlen(ev), ev) == 0 && len + 7 < n) {
        memcpy(path + len, ".local", 7);
        if (access(path, R_OK) != 0)
            path[len] = '\0';
    }
    return 0;
}

long long oomkill_count(const char *path)
{
    char buf[4096];
    if (read_small(path, buf, sizeof buf) <= 0)
        return -1;
    return oomkill_parse(buf);
}

int oomkill_prefer(long pid, int adj)
{
    static int own = -2000; /* mlpd's own, read once; -2000: not yet */
    if (own == -2000) {
        char buf[32];
        own = read_small("/proc/self/oom_score_adj", buf, sizeof buf) > 0 ? atoi(buf) : 0;
    }
    if (own >= adj)
        return 0; /* the worker inherited at least that */
    char path[64], val[16];
    snprintf(path, sizeof path, "/proc/%ld/oom_score_adj", pid);
    int len = snprintf(val, sizeof val, "%d\n", adj);
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, val, (size_t)len);
    int saved = errno;
    close(fd);
    errno = saved;
    return w == len ? 0 : -1;
}
