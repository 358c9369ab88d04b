/*
 * log — the daemon's log: timestamped lines to a file or stderr.
 *
 * This is the one module with global state (the open log file, its path and
 * the level), because every part of the daemon logs and SIGHUP must be able to
 * reopen the file after rotation.  Single-threaded use is assumed (the daemon's
 * loop); each message is written with one write so lines do not interleave
 * with forked children writing to the same file.
 */
#ifndef MLP_LOG_H
#define MLP_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Open path for appending (NULL = stderr).  Returns 0 or MLP_EIO (stderr stays in use). */
int log_open(const char *path);

/* Reopen the same path (for SIGHUP after rotation); no-op for stderr. */
void log_reopen(void);

/* Close the file and go back to stderr. */
void log_close(void);

/* Messages above level are dropped. Default LOG_INFO. */
void log_set_level(int level);
int log_get_level(void);

/* Level from its name ("error", "warn", "info", "debug"), or -1. */
int log_level_from_name(const char *name);

/* Write "2026-11-23T13:18:29.123Z LEVEL message\n". */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
