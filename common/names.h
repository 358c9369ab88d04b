/*
 * names — the one rule for sweep names and priorities.
 *
 * A sweep name is 1 to NAME_MAX_BYTES bytes of valid UTF-8 without control
 * characters (C0, C1) or bidirectional overrides (termsafe.h); a name given
 * as such (--name) must also not be all digits, since it would read as a
 * sweep id.  Names derived from a grid's "name" or
 * a file's base name are cut at a character boundary (never inside a UTF-8
 * sequence) so that a "-2", "-3", ... suffix still fits, and an all-digit
 * base gets a "sweep-" prefix.  The grid parser (common/grid.c), mlpctl
 * submit and mlpd's submit all check through here, so their limits agree.
 */
#ifndef MLP_NAMES_H
#define MLP_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define NAME_MAX_BYTES 200          /* longest sweep name, in bytes */
#define NAME_DIGITS_PREFIX "sweep-" /* put before an all-digit derived name */
#define PRIORITY_MIN (-1000000)     /* --priority / "priority" range, inclusive */
#define PRIORITY_MAX 1000000

enum name_flags {
    NAME_BASE = 0,  /* a base to derive from: digits allowed */
    NAME_FINAL = 1, /* the name itself (--name): not all digits */
};

/*
 * Check name against the rule.  Returns 0, or `code` (a negative MLP_E*)
 * with e naming `path` and what is wrong.
 */
int name_valid(const char *name, enum name_flags flags, int code, const char *path, struct err *e);

/* True when s is non-empty and only ASCII digits. */
bool name_all_digits(const char *s);

/* The longest prefix of s of at most max bytes that ends at a UTF-8
 * character boundary: its length in bytes. */
size_t name_cut(const char *s, size_t max);

/*
 * The k-th candidate name derived from base (k >= 1): base itself for k = 1,
 * "base-k" after; an all-digit base gets NAME_DIGITS_PREFIX.  The base is cut
 * at a character boundary so the whole fits in NAME_MAX_BYTES.  out must hold
 * NAME_MAX_BYTES + 1 bytes; returns out.
 */
char *name_derive(char *out, size_t n, const char *base, int k);

/*
 * A "did you mean" for an unknown key or metric name: first the alias table
 * of common misnamings ("learning_rate" -> "lr", "val_acc" ->
 * "val_accuracy", "weight_decay" -> "l2", ...), used when its answer is one
 * of candidates; else the closest candidate by edit distance
 * (json_suggest).  Returns a candidate (static or from candidates) or NULL.
 */
const char *name_suggest(const char *key, const char *const *candidates);

/* Whether p is a valid priority (PRIORITY_MIN..PRIORITY_MAX). */
bool priority_valid(long long p);

#endif
