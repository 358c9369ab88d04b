/*
 * test_log — lines reach the file with timestamp and level, the level filters,
 * and log_reopen after a rename (log rotation) starts a new file.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "err.h"
#include "log.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

int main(void)
{
    char dir[] = "/tmp/mlp-test-log-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[128], rotated[128];
    snprintf(path, sizeof path, "%s/mlpd.log", dir);
    snprintf(rotated, sizeof rotated, "%s/mlpd.log.1", dir);

    CHECK_EQ_INT(log_level_from_name("debug"), LOG_DEBUG);
    CHECK_EQ_INT(log_level_from_name("warning"), LOG_WARN);
    CHECK_EQ_INT(log_level_from_name("loud"), -1);
    CHECK_EQ_INT(log_open("/nonexistent-dir/x.log"), MLP_EIO);
    CHECK_EQ_INT(log_open(path), 0);
    log_set_level(LOG_INFO);
    log_info("started %d workers", 4);
    log_debug("hidden at info level");
    log_error("trial %s failed\n", "t-7"); /* trailing newline not doubled */
    char *s = slurp(path);
    CHECK(s != NULL);
    if (s) {
        CHECK(strstr(s, " INFO  started 4 workers\n") != NULL);
        CHECK(strstr(s, " ERROR trial t-7 failed\n") != NULL);
        CHECK(strstr(s, "hidden") == NULL);
        CHECK(strstr(s, "\n\n") == NULL);
        /* "YYYY-MM-DDTHH:MM:SS.mmmZ " */
        CHECK(strlen(s) > 25 && s[4] == '-' && s[10] == 'T' && s[19] == '.' && s[23] == 'Z');
        free(s);
    }
    /* Rotation: rename, reopen, the next line goes to a new file. */
    CHECK_EQ_INT(rename(path, rotated), 0);
    log_reopen();
    log_set_level(LOG_DEBUG);
    CHECK_EQ_INT(log_get_level(), LOG_DEBUG);
    log_debug("after rotation");
    s = slurp(path);
    CHECK(s && strstr(s, "after rotation") != NULL);
    free(s);
    s = slurp(rotated);
    CHECK(s && strstr(s, "after rotation") == NULL);
    free(s);
    /* A very long message is cut, still one line. */
    char *big = malloc(10000);
    memset(big, 'x', 9999);
    big[9999] = '\0';
    log_warn("%s", big);
    free(big);
    log_close();
    s = slurp(path);
    CHECK(s != NULL);
    if (s) {
        int lines = 0;
        for (char *p = s; *p; p++)
            lines += *p == '\n';
        CHECK_EQ_INT(lines, 2);
        free(s);
    }
    unlink(path);
    unlink(rotated);
    rmdir(dir);
    return check_report();
}
