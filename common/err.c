/*
 * err — the error map's tables and the setters.  See err.h.
 */
#include "err.h"

#include <stdio.h>
#include <string.h>

struct err_entry {
    int code;
    const char *name;
    const char *msg;
};

static const struct err_entry err_table[] = {
#define MLP_ERR_ROW(e, name, msg) {MLP_E##e, name, msg},
    MLP_ERR_MAP(MLP_ERR_ROW)
#undef MLP_ERR_ROW
};

static const struct err_entry *err__find(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return &err_table[i];
    return NULL;
}

const char *err_name(int code)
{
    const struct err_entry *en = err__find(code);
    return en ? en->name : "internal";
}

const char *err_default_msg(int code)
{
    const struct err_entry *en = err__find(code);
    return en ? en->msg : "internal error";
}

int err_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof err_table / sizeof err_table[0]; i++)
        if (strcmp(err_table[i].name, name) == 0)
            return err_table[i].code;
    return MLP_EINTERNAL;
}

int err_setv(struct err *e, int code, const char *path, const char *fmt, va_list ap)
{
    if (!e)
        return code;
    e->code = code;
    snprintf(e->path, sizeof e->path, "%s", path ? path : "");
    if (fmt)
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    else
        snprintf(e->msg, sizeof e->msg, "%s", err_default_msg(code));
    return code;
}

int err_set(struct err *e, int code, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_setv(e, code, path, fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(struct err *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}
