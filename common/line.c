/*
 * line — newline-delimited framing.  See line.h.
 *
 * Layout: buf[start .. len) holds bytes not yet returned: zero or more complete
 * lines (each ending in '\n') followed by `tail` bytes of an unfinished line.
 * A feed scans only the new bytes (memchr) and copies them in line by line so
 * that an oversize line is detected the moment it crosses `max` and is never
 * stored.  Popping a line moves `start`; the consumed prefix is compacted away
 * by a later feed, but only when it is at least as long as what would be moved
 * (or room is needed), so every byte is moved a bounded number of times.
 *
 * Length rule: a line's content (without '\n' and without a trailing '\r') may
 * hold at most `max` bytes.
 */
#include "line.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

void line_buf_init(struct line_buf *lb, size_t max)
{
    memset(lb, 0, sizeof *lb);
    lb->max = max ? max : LINE_MAX_BYTES;
}

void line_buf_release(struct line_buf *lb)
{
    size_t max = lb->max;
    free(lb->buf);
    memset(lb, 0, sizeof *lb);
    lb->max = max;
}

static void line__compact(struct line_buf *lb)
{
    size_t keep = lb->len - lb->start;
    if (keep)
        memmove(lb->buf, lb->buf + lb->start, keep);
    lb->len = keep;
    lb->start = 0;
}

/* Make room for `extra` more bytes after len. */
static int line__reserve(struct line_buf *lb, size_t extra)
{
    if (lb->start > 0 && lb->start >= lb->len - lb->start)
        line__compact(lb);
    if (lb->len + extra <= lb->cap)
        return 0;
    if (lb->start > 0) {
        line__compact(lb);
        if (lb->len + extra <= lb->cap)
            return 0;
    }
    size_t want = lb->cap ? lb->cap : 4096;
    while (want < lb->len + extra) {
        if (want > ((size_t)-1) / 2)
            return MLP_ENOMEM;
        want *= 2;
    }
    char *nb = realloc(lb->buf, want);
    if (!nb)
        return MLP_ENOMEM;
    lb->buf = nb;
    lb->cap = want;
    return 0;
}

int line_buf_feed(struct line_buf *lb, const char *data, size_t n)
{
    int rc = 0;
    if (lb->max == 0)
        lb->max = LINE_MAX_BYTES;
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        if (lb->discarding) {
            if (!nl)
                return rc;
            lb->discarding = false;
            n -= (size_t)(nl + 1 - data);
            data = nl + 1;
            continue;
        }
        size_t seg = nl ? (size_t)(nl - data) : n; /* bytes before the '\n' */
        size_t total = lb->tail + seg;             /* the line's length so far */
        bool bad;
        if (nl) {
            char last = seg ? data[seg - 1] : lb->tail ? lb->buf[lb->len - 1] : '\0';
            bad = total > lb->max && !(total == lb->max + 1 && last == '\r');
        } else {
            bad = total > lb->max + 1; /* the last byte may yet be a '\r' */
        }
        if (bad) {
            lb->len -= lb->tail;
            lb->tail = 0;
            if (lb->start > lb->len)
                lb->start = lb->len;
            rc = MLP_ETOO_LARGE;
            if (!nl) {
                lb->discarding = true;
                return rc;
            }
            n -= seg + 1;
            data += seg + 1;
            continue;
        }
        size_t take = nl ? seg + 1 : seg;
        int r = line__reserve(lb, take);
        if (r < 0)
            return r;
        memcpy(lb->buf + lb->len, data, take);
        lb->len += take;
        lb->tail = nl ? 0 : total;
        data += take;
        n -= take;
    }
    return rc;
}

int line_buf_next(struct line_buf *lb, char **line, size_t *len)
{
    size_t end = lb->len - lb->tail; /* complete lines live in [start, end) */
    if (lb->start >= end)
        return 0;
    char *p = lb->buf + lb->start;
    char *nl = memchr(p, '\n', end - lb->start);
    if (!nl) /* cannot happen: every byte before `end` belongs to a complete line */
        return 0;
    size_t l = (size_t)(nl - p);
    *nl = '\0';
    if (l > 0 && p[l - 1] == '\r')
        p[--l] = '\0';
    lb->start = (size_t)(nl + 1 - lb->buf);
    if (lb->start == lb->len) /* all consumed: rewind without moving memory */
        lb->start = lb->len = 0;
    *line = p;
    if (len)
        *len = l;
    return 1;
}

size_t line_buf_pending(const struct line_buf *lb)
{
    return lb->tail;
}
