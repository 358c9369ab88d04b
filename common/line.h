/*
 * line — newline-delimited framing for the daemon socket, the CLI and worker pipes.
 *
 * Bytes are appended with line_buf_feed() and complete lines popped with
 * line_buf_next().  The buffer keeps `start` (first unconsumed byte) and the
 * length of the unfinished last line, so new bytes are scanned for '\n' once
 * when fed and once when popped, and consumed bytes are compacted away lazily
 * (only when they outnumber the bytes to move, or room is needed): amortised
 * O(bytes) however the input is chunked.
 * A line longer than `max` is dropped: the bytes up to its '\n' are discarded
 * and the feed that crossed the limit reports MLP_ETOO_LARGE once.
 */
#ifndef MLP_LINE_H
#define MLP_LINE_H

#include <stdbool.h>
#include <stddef.h>

#define LINE_MAX_BYTES (16u << 20)

struct line_buf {
    char *buf;       /* heap storage, cap bytes */
    size_t len;      /* bytes held, from buf[0] */
    size_t cap;      /* allocated size */
    size_t max;      /* longest accepted line, excluding '\n' */
    size_t start;    /* first byte not yet returned */
    bool discarding; /* dropping an oversize line until its '\n' */
    size_t tail;     /* bytes of the unfinished last line held (they hold no '\n') */
};

/* Initialise an empty buffer; max is the longest line accepted (0 means LINE_MAX_BYTES). */
void line_buf_init(struct line_buf *lb, size_t max);

/* Free the storage; the buffer may be initialised again. */
void line_buf_release(struct line_buf *lb);

/*
 * Append n bytes.  Returns 0, MLP_ETOO_LARGE when a line grew past max (the
 * partial line is dropped and bytes are discarded up to the next '\n'; reported
 * once per such line; complete lines fed before it stay poppable), or MLP_ENOMEM.
 */
int line_buf_feed(struct line_buf *lb, const char *data, size_t n);

/*
 * Pop the next complete line: NUL-terminated, without '\n' (and without a
 * trailing '\r'); *line points into the buffer and stays valid until the next
 * feed or next call.  Returns 1 when a line was returned, 0 when none is pending.
 */
int line_buf_next(struct line_buf *lb, char **line, size_t *len);

/* Bytes held of an incomplete line (0 after a line ends). */
size_t line_buf_pending(const struct line_buf *lb);

#endif
