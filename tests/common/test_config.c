/*
 * test_config — default paths from the environment, mkdir -p, the settings
 * table through config_set, a real config file, argv flags, config_finish and
 * the --help text.  Works in a private temporary directory.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "config.h"

static char tmp[256];

static void test_paths(void)
{
    char buf[CONFIG_PATH_MAX];
    setenv("MLPD_HOME", "/srv/mlpd-home", 1);
    setenv("XDG_STATE_HOME", "/xdg/state", 1);
    setenv("HOME", "/home/u", 1);
    unsetenv("MLPD_SOCKET");
    unsetenv("MLPD_DATA");
    CHECK_EQ_INT(config_state_dir(buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "/srv/mlpd-home");
    CHECK_EQ_INT(config_socket_path(buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "/srv/mlpd-home/mlpd.sock");
    CHECK_EQ_INT(config_data_dir(buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "/srv/mlpd-home/data");
    unsetenv("MLPD_HOME");
    CHECK_EQ_INT(config_state_dir(buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "/xdg/state/mlpd");
    setenv("XDG_STATE_HOME", "relative/ignored", 1);
    CHECK_EQ_INT(config_state_dir(buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "/home/u/.local/state/mlpd");
    setenv("XDG_STATE_HOME", "", 1);
    CHECK_EQ_INT(config_state_dir(buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "/home/u/.local/state/mlpd");
    setenv("MLPD_SOCKET", "/run/x.sock", 1);
    setenv("MLPD_DATA", "/data/sets", 1);
    CHECK_EQ_INT(config_socket_path(buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "/run/x.sock");
    CHECK_EQ_INT(config_data_dir(buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "/data/sets");
    unsetenv("MLPD_SOCKET");
    unsetenv("MLPD_DATA");
    unsetenv("XDG_STATE_HOME");
    unsetenv("HOME");
    CHECK_EQ_INT(config_state_dir(buf, sizeof buf), MLP_EIO);
    CHECK_EQ_INT(config_socket_path(buf, sizeof buf), MLP_EIO);
    /* Too long for the buffer. */
    setenv("HOME", "/home/u", 1);
    char small[16];
    CHECK_EQ_INT(config_state_dir(small, sizeof small), MLP_EIO);
}

static void test_mkdir(void)
{
    char dir[512], file[512];
    struct err e = ERR_INIT;
    snprintf(dir, sizeof dir, "%s/a/b//c/", tmp);
    CHECK_EQ_INT(config_mkdir_p(dir, 0700, &e), 0);
    struct stat st;
    snprintf(dir, sizeof dir, "%s/a/b/c", tmp);
    CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_EQ_INT(st.st_mode & 0777, 0700);
    CHECK_EQ_INT(config_mkdir_p(dir, 0700, &e), 0); /* exists: fine */
    snprintf(file, sizeof file, "%s/plain", tmp);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    snprintf(dir, sizeof dir, "%s/plain/sub", tmp);
    CHECK_EQ_INT(config_mkdir_p(dir, 0700, &e), MLP_EIO);
    CHECK_EQ_STR(e.path, file);
    CHECK(strstr(e.msg, "not a directory") != NULL);
}

static void test_set(void)
{
    struct mlpd_config c;
    struct err e = ERR_INIT;
    config_defaults(&c);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK_EQ_INT(c.workers, ncpu < 1 ? 1 : ncpu);
    CHECK_EQ_INT(c.threads, 1);
    CHECK_EQ_INT(c.max_attempts, 3);
    CHECK_EQ_INT(c.max_trials, 1000000);
    CHECK_EQ_INT(c.max_dataset_bytes, 2147483648L);
    CHECK_EQ_INT(c.max_params, 100000000L);
    CHECK_EQ_INT(c.worker_memory, 4L << 30);
    CHECK(c.stall_seconds == 600);
    CHECK_EQ_INT(c.min_free_space, 64L << 20);
    CHECK_EQ_INT(c.log_max_bytes, 1 << 20);
    CHECK(c.kill_grace == 5);
    CHECK(!c.foreground);
    CHECK_EQ_STR(c.log_level, "info");
    CHECK_EQ_STR(c.state_dir, "");

    CHECK_EQ_INT(config_set(&c, "worker_memory", "256M", &e), 0);
    CHECK_EQ_INT(c.worker_memory, 256L << 20);
    CHECK_EQ_INT(config_set(&c, "worker-memory", "255M", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_STR(e.path, "worker_memory");
    CHECK_EQ_INT(config_set(&c, "stall_seconds", "0", &e), 0);
    CHECK(c.stall_seconds == 0);
    CHECK_EQ_INT(config_set(&c, "stall_seconds", "-1", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_INT(config_set(&c, "workers", "4", &e), 0);
    CHECK_EQ_INT(c.workers, 4);
    CHECK_EQ_INT(config_set(&c, "workers", "0", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_STR(e.path, "workers");
    CHECK_EQ_STR(e.msg, "expected an integer in [1, 1024], got \"0\"");
    CHECK_EQ_INT(config_set(&c, "workers", "4x", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_INT(c.workers, 4); /* unchanged by a bad value */
    CHECK_EQ_INT(config_set(&c, "wokers", "4", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_STR(e.msg, "unknown setting (did you mean \"workers\"?)");
    CHECK_EQ_INT(config_set(&c, "colour", "red", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_STR(e.msg, "unknown setting");
    CHECK_EQ_INT(config_set(&c, "log-max-bytes", "2M", &e), 0);
    CHECK_EQ_INT(c.log_max_bytes, 2 << 20);
    CHECK_EQ_INT(config_set(&c, "log_max_bytes", "12", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_INT(config_set(&c, "max_trials", "100001", &e), 0);
    CHECK_EQ_INT(c.max_trials, 100001);
    CHECK_EQ_INT(config_set(&c, "kill_grace", "0.5", &e), 0);
    CHECK(c.kill_grace == 0.5);
    CHECK_EQ_INT(config_set(&c, "kill_grace", "-1", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_STR(e.msg, "expected a number in [0, 3600], got \"-1\"");
    CHECK_EQ_INT(config_set(&c, "kill_grace", "nan", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_INT(config_set(&c, "foreground", "yes", &e), 0);
    CHECK(c.foreground);
    CHECK_EQ_INT(config_set(&c, "foreground", "maybe", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_INT(config_set(&c, "log_level", "debug", &e), 0);
    CHECK_EQ_STR(c.log_level, "debug");
    CHECK_EQ_INT(config_set(&c, "log_level", "loud", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_INT(config_set(&c, "socket", "/tmp/s.sock", &e), 0);
    CHECK_EQ_STR(c.socket, "/tmp/s.sock");
    char *longp = malloc(CONFIG_PATH_MAX + 10);
    memset(longp, 'a', CONFIG_PATH_MAX + 9);
    longp[CONFIG_PATH_MAX + 9] = '\0';
    CHECK_EQ_INT(config_set(&c, "socket", longp, &e), MLP_EINVALID_REQUEST);
    free(longp);
}

static void test_file(void)
{
    char path[512];
    struct mlpd_config c;
    struct err e = ERR_INIT;
    snprintf(path, sizeof path, "%s/mlpd.conf", tmp);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(f, "# mlpd settings\n\nworkers = 3\n  threads=2   # per trial\r\n"
               "data_dir = \"/data/with#hash\"\nlog-level = warn\n");
    fclose(f);
    config_defaults(&c);
    CHECK_EQ_INT(config_load_file(&c, path, &e), 0);
    CHECK_EQ_INT(c.workers, 3);
    CHECK_EQ_INT(c.threads, 2);
    CHECK_EQ_STR(c.data_dir, "/data/with#hash");
    CHECK_EQ_STR(c.log_level, "warn");

    f = fopen(path, "w");
    fprintf(f, "workers = 2\n\nmax_attempts = 0\n");
    fclose(f);
    CHECK_EQ_INT(config_load_file(&c, path, &e), MLP_EINVALID_REQUEST);
    char want[600];
    snprintf(want, sizeof want, "%s:3", path);
    CHECK_EQ_STR(e.path, want);
    CHECK_EQ_STR(e.msg, "max_attempts: expected an integer in [1, 100], got \"0\"");

    f = fopen(path, "w");
    fprintf(f, "workers 2\n");
    fclose(f);
    CHECK_EQ_INT(config_load_file(&c, path, &e), MLP_EINVALID_REQUEST);
    snprintf(want, sizeof want, "%s:1", path);
    CHECK_EQ_STR(e.path, want);

    snprintf(path, sizeof path, "%s/missing.conf", tmp);
    CHECK_EQ_INT(config_load_file(&c, path, &e), MLP_EIO);
    CHECK_EQ_STR(e.path, path);
}

static void test_args_and_finish(void)
{
    struct mlpd_config c;
    struct err e = ERR_INIT;
    config_defaults(&c);
    char *argv[] = {"--workers",   "2",         "--kill-grace=1.5", "--foreground",
                    "--state-dir", "rel/state", "--config",         "x.conf"};
    int used = -1;
    CHECK_EQ_INT(config_parse_args(&c, 8, argv, &used, &e), 0);
    CHECK_EQ_INT(used, 6);
    CHECK_EQ_INT(c.workers, 2);
    CHECK(c.kill_grace == 1.5);
    CHECK(c.foreground);
    char *bad[] = {"--threads", "0"};
    CHECK_EQ_INT(config_parse_args(&c, 2, bad, &used, &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_STR(e.path, "threads");
    char *missing[] = {"--workers"};
    CHECK_EQ_INT(config_parse_args(&c, 1, missing, &used, &e), MLP_EINVALID_REQUEST);

    unsetenv("MLPD_SOCKET");
    unsetenv("MLPD_DATA");
    setenv("MLPD_WORKER", "/opt/mlp-worker", 1);
    char cwd[CONFIG_PATH_MAX], want[CONFIG_PATH_MAX + 64];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK_EQ_INT(config_finish(&c, &e), 0);
    snprintf(want, sizeof want, "%s/rel/state", cwd);
    CHECK_EQ_STR(c.state_dir, want);
    snprintf(want, sizeof want, "%s/rel/state/mlpd.sock", cwd);
    CHECK_EQ_STR(c.socket, want);
    snprintf(want, sizeof want, "%s/rel/state/data", cwd);
    CHECK_EQ_STR(c.data_dir, want);
    snprintf(want, sizeof want, "%s/rel/state/mlpd.log", cwd);
    CHECK_EQ_STR(c.log_file, want);
    CHECK_EQ_STR(c.worker, "/opt/mlp-worker");

    /* The environment fills what flags did not set. */
    config_defaults(&c);
    setenv("MLPD_HOME", "/h", 1);
    setenv("MLPD_SOCKET", "/s/sock", 1);
    CHECK_EQ_INT(config_finish(&c, &e), 0);
    CHECK_EQ_STR(c.state_dir, "/h");
    CHECK_EQ_STR(c.socket, "/s/sock");
    CHECK_EQ_STR(c.data_dir, "/h/data");
    unsetenv("MLPD_HOME");
    unsetenv("MLPD_SOCKET");
    unsetenv("MLPD_WORKER");
}

/* The executor settings: the executor's two names, free text without control characters. */
static void test_slurm_settings(void)
{
    struct mlpd_config c;
    struct err e = ERR_INIT;
    config_defaults(&c);
    CHECK_EQ_STR(c.executor, "local");
    CHECK_EQ_INT(c.slurm_array_limit, 100);
    CHECK_EQ_INT(c.slurm_max_tasks, 1000);
    CHECK(c.slurm_poll == 2);
    CHECK_EQ_STR(c.slurm_partition, "");
    CHECK_EQ_INT(config_set(&c, "executor", "slurm", &e), 0);
    CHECK_EQ_STR(c.executor, "slurm");
    CHECK_EQ_INT(config_set(&c, "executor", "pbs", &e), MLP_EINVALID_REQUEST);
    CHECK(strstr(e.msg, "local or slurm") != NULL);
    CHECK_EQ_STR(c.executor, "slurm");
    CHECK_EQ_INT(config_set(&c, "slurm-sbatch-args", "--qos=short --mem=2G", &e), 0);
    CHECK_EQ_STR(c.slurm_sbatch_args, "--qos=short --mem=2G");
    CHECK_EQ_INT(config_set(&c, "slurm_partition", "a\nb", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_STR(e.path, "slurm_partition");
    CHECK_EQ_INT(config_set(&c, "slurm_poll", "0.01", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_INT(config_set(&c, "slurm_array_limit", "0", &e), MLP_EINVALID_REQUEST);
    CHECK_EQ_INT(config_set(&c, "slurm_partiton", "x", &e), MLP_EINVALID_REQUEST);
    CHECK(strstr(e.msg, "slurm_partition") != NULL);
}

static void test_usage(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/usage.txt", tmp);
    FILE *f = fopen(path, "w+");
    CHECK(f != NULL);
    if (!f)
        return;
    config_usage(f);
    rewind(f);
    char line[512];
    int n = 0;
    bool saw_workers = false, saw_grace = false;
    while (fgets(line, sizeof line, f)) {
        n++;
        if (strstr(line, "--workers N") && strstr(line, "[1..1024]"))
            saw_workers = true;
        if (strstr(line, "--kill-grace N") && strstr(line, "(default 5)"))
            saw_grace = true;
    }
    fclose(f);
    CHECK_EQ_INT(n, 40); /* one line per setting of config_table */
    CHECK(saw_workers);
    CHECK(saw_grace);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/mlp-test-config-XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_paths();
    test_mkdir();
    test_set();
    test_file();
    test_args_and_finish();
    test_slurm_settings();
    test_usage();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return check_report();
}
