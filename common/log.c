/*
 * log — timestamped log lines.  See log.h.
 *
 * The one module with globals: the log's file descriptor, its path (for
 * log_reopen after rotation) and the level.  A message is formatted into a
 * stack buffer and written with a single write(2) on an O_APPEND descriptor,
 * so lines from the daemon and from children sharing the file never interleave
 * within a line.  Writing errors are ignored: logging must never take the
 * daemon down.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

static int log_fd = -1; /* -1: stderr */
static char *log_path;  /* NULL: stderr */
static int log_level = LOG_INFO;

static const char *const log_names[] = {"error", "warn", "info", "debug"};

static int log__open_fd(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

int log_open(const char *path)
{
    if (!path) {
        log_close();
        return 0;
    }
    int fd = log__open_fd(path);
    if (fd < 0)
        return MLP_EIO;
    char *p = strdup(path);
    if (!p) {
        close(fd);
        return MLP_ENOMEM;
    }
    log_close();
    log_fd = fd;
    log_path = p;
    return 0;
}

void log_reopen(void)
{
    if (!log_path)
        return;
    int fd = log__open_fd(log_path);
    if (fd < 0)
        return; /* keep writing to the old file rather than lose messages */
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
}

void log_close(void)
{
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    free(log_path);
    log_path = NULL;
}

void log_set_level(int level)
{
    if (level < LOG_ERROR)
        level = LOG_ERROR;
    if (level > LOG_DEBUG)
        level = LOG_DEBUG;
    log_level = level;
}

int log_get_level(void)
{
    return log_level;
}

int log_level_from_name(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, log_names[i]) == 0)
            return i;
    if (name && strcmp(name, "warning") == 0)
        return LOG_WARN;
    return -1;
}

void log_msg(int level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    if (level < LOG_ERROR)
        level = LOG_ERROR;
    char buf[4096];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    static const char *const tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    int k = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, tags[level]);
    size_t len = k > 0 ? (size_t)k : 0;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + len, sizeof buf - len - 1, fmt, ap);
    va_end(ap);
    if (m > 0)
        len += (size_t)m < sizeof buf - len - 1 ? (size_t)m : sizeof buf - len - 2;
    while (len > 0 && buf[len - 1] == '\n')
        len--;
    buf[len++] = '\n';
    int fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
    ssize_t w;
    do
        w = write(fd, buf, len);
    while (w < 0 && errno == EINTR);
}
