/*
 * names — sweep name and priority rules, and the alias table behind "did
 * you mean" (see names.h).  Pure functions over strings; no allocation.
 */
#include "names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "termsafe.h"

/* Length of the UTF-8 sequence starting with byte c, 0 when c cannot start one. */
static size_t names__seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

/* Whether s is valid UTF-8 (no overlong forms or surrogates checked beyond lead bytes). */
static bool names__utf8_ok(const unsigned char *s)
{
    while (*s) {
        size_t l = names__seq_len(*s);
        if (l == 0)
            return false;
        for (size_t i = 1; i < l; i++)
            if ((s[i] & 0xC0) != 0x80)
                return false;
        s += l;
    }
    return true;
}

bool name_all_digits(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

int name_valid(const char *name, enum name_flags flags, int code, const char *path, struct err *e)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0)
        return err_set(e, code, path, "a sweep name must not be empty");
    if (n > NAME_MAX_BYTES)
        return err_set(e, code, path, "a sweep name has at most %d bytes, got %zu", NAME_MAX_BYTES,
                       n);
    for (const char *p = name; *p; p++)
        if (term_unsafe_len(p, false))
            return err_set(e, code, path,
                           "a sweep name has no control characters (C0, C1) nor bidirectional "
                           "overrides");
    if (!names__utf8_ok((const unsigned char *)name))
        return err_set(e, code, path, "a sweep name must be valid UTF-8");
    if ((flags & NAME_FINAL) && name_all_digits(name))
        return err_set(e, code, path,
                       "a sweep name cannot be all digits (it would read as an id): \"%s\"", name);
    return 0;
}

size_t name_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    /* Step back over continuation bytes to the start of the character at max. */
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

char *name_derive(char *out, size_t n, const char *base, int k)
{
    char suffix[16] = "";
    if (k > 1)
        snprintf(suffix, sizeof suffix, "-%d", k);
    const char *prefix = name_all_digits(base) ? NAME_DIGITS_PREFIX : "";
    size_t room = NAME_MAX_BYTES - strlen(prefix) - strlen(suffix);
    snprintf(out, n, "%s%.*s%s", prefix, (int)name_cut(base, room), base, suffix);
    return out;
}

bool priority_valid(long long p)
{
    return p >= PRIORITY_MIN && p <= PRIORITY_MAX;
}

/* Common misnamings of hyperparameters and metrics, compared case-insensitively
 * with '-' and ' ' read as '_'.  Edit distance cannot find these: they are
 * other words for the same thing, not typos. */
static const struct {
    const char *alias, *name;
} names__aliases[] = {
    {"learning_rate", "lr"},
    {"learningrate", "lr"},
    {"lr_rate", "lr"},
    {"rate", "lr"},
    {"eta", "lr"},
    {"batch", "batch_size"},
    {"batchsize", "batch_size"},
    {"bs", "batch_size"},
    {"minibatch", "batch_size"},
    {"mini_batch_size", "batch_size"},
    {"hidden_sizes", "hidden"},
    {"hidden_size", "hidden"},
    {"hidden_layers", "hidden"},
    {"hidden_units", "hidden"},
    {"layers", "hidden"},
    {"units", "hidden"},
    {"weight_decay", "l2"},
    {"wd", "l2"},
    {"l2_reg", "l2"},
    {"lambda", "l2"},
    {"epoch", "epochs"},
    {"n_epochs", "epochs"},
    {"num_epochs", "epochs"},
    {"max_epochs", "epochs"},
    {"optimiser", "optimizer"},
    {"opt", "optimizer"},
    {"act", "activation"},
    {"activation_function", "activation"},
    {"normalise", "normalize"},
    {"normalization", "normalize"},
    {"normalisation", "normalize"},
    {"val_acc", "val_accuracy"},
    {"valid_acc", "val_accuracy"},
    {"valid_accuracy", "val_accuracy"},
    {"validation_acc", "val_accuracy"},
    {"validation_accuracy", "val_accuracy"},
    {"val_accuracy_mean", "val_accuracy"},
    {"accuracy", "val_accuracy"},
    {"acc", "val_accuracy"},
    {"train_acc", "train_accuracy"},
    {"training_accuracy", "train_accuracy"},
    {"test_acc", "test_accuracy"},
    {"validation_loss", "val_loss"},
    {"valid_loss", "val_loss"},
    {"loss", "val_loss"},
    {"training_loss", "train_loss"},
    {"validation_mse", "val_mse"},
    {"mse", "val_mse"},
    {"seed", "seeds"},
    {"data", "dataset"},
};

/* Whether a (as typed) equals the alias b: case-insensitive, '-' and ' ' as '_'. */
static bool names__alias_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char c = *a == '-' || *a == ' ' ? '_' : (char)tolower((unsigned char)*a);
        if (c != *b)
            return false;
    }
    return *a == *b;
}

const char *name_suggest(const char *key, const char *const *candidates)
{
    if (!key || !candidates)
        return NULL;
    for (size_t i = 0; i < sizeof names__aliases / sizeof names__aliases[0]; i++) {
        if (!names__alias_eq(key, names__aliases[i].alias))
            continue;
        for (size_t j = 0; candidates[j]; j++)
            if (strcmp(candidates[j], names__aliases[i].name) == 0)
                return candidates[j];
    }
    return json_suggest(key, candidates);
}
