/*
 * termsafe — text that may reach a terminal.
 *
 * Strings that come from a daemon (sweep names, keys, paths, error text, log
 * tails of workers) must not drive the terminal they are printed on: C0
 * controls (ESC starts "\e[2J", "\e]0;title"), DEL, the C1 controls U+0080..
 * U+009F (U+009B is a one-character CSI for some terminals) and the Unicode
 * bidirectional overrides and isolates (U+202A..U+202E, U+2066..U+2069, which
 * make text read in another order than it is stored) are "unsafe".  Newline
 * and tab are kept where a text has lines (log tails, multi-line errors).
 */
#ifndef MLP_TERMSAFE_H
#define MLP_TERMSAFE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Length in bytes of the unsafe character at p (1 to 3), or 0 when the
 * character there is safe.  p points at a NUL-terminated string; '\n' and
 * '\t' count as safe only when keep_lines is set.
 */
size_t term_unsafe_len(const char *p, bool keep_lines);

/* Remove every unsafe character of s in place; the number removed. */
size_t term_strip(char *s, bool keep_lines);

#endif
