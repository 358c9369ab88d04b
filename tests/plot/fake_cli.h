/*
 * fake_cli — a stand-in for cli/client.c in the plot tests: cli_request
 * answers from the fixture files (daemon responses shaped as in
 * daemon/PROTOCOL.md) instead of a socket, so that the plot and report verbs
 * run end to end without a daemon.
 */
#ifndef PLOT_FAKE_CLI_H
#define PLOT_FAKE_CLI_H

#include <cjson/cJSON.h>

enum fake_mode {
    FAKE_NORMAL,      /* answer from the fixtures */
    FAKE_EMPTY,       /* a sweep with no finished trials: empty configs/values/rows */
    FAKE_UNREACHABLE, /* cli_connect fails */
    FAKE_NOT_FOUND,   /* every request answers not_found */
};

/* Where the fixtures are and how to answer. */
void fake_cli_init(const char *fixture_dir, enum fake_mode mode);

/* Number of requests answered since fake_cli_init. */
int fake_cli_requests(void);

/* Parse fixture file `name` of dir; NULL (with a message) if missing or invalid.  Caller deletes.
 */
cJSON *fixture_load(const char *dir, const char *name);

#endif
