/*
 * test_oomkill — finding a memory cgroup's OOM-kill counter (daemon/oomkill.c)
 * from /proc/PID/cgroup and /proc/self/mountinfo texts: cgroup v1, v2, a
 * hybrid machine (memory on v1, "0::" present too), a container that sees
 * only a subtree (mount root not "/"), escaped mount points, and the cases
 * that must give -1 (no memory controller, a cgroup outside the mount).
 * The live part (this process's own cgroup) is checked only for not crashing:
 * the machine may have any layout, or none.
 */
#include <stdio.h>
#include <unistd.h>

#include "../check.h"
#include "oomkill.h"

static const char hybrid_mounts[] =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static void test_v1(void)
{
    char p[512];
    const char *cg = "9:name=systemd:/\n4:memory:/process_api/e8ace\n1:cpu:/\n0::/\n";
    CHECK_EQ_INT(oomkill_locate(cg, hybrid_mounts, p, sizeof p), 0);
    CHECK_EQ_STR(p, "/sys/fs/cgroup/memory/process_api/e8ace/memory.oom_control");
    /* The root cgroup of v1 has the file too. */
    CHECK_EQ_INT(oomkill_locate("4:memory:/\n0::/\n", hybrid_mounts, p, sizeof p), 0);
    CHECK_EQ_STR(p, "/sys/fs/cgroup/memory/memory.oom_control");
    /* Memory co-mounted with others ("cpu,memory"), the list in either file. */
    const char *co = "7 1 0:5 / /cg/cm rw - cgroup none rw,cpu,memory\n";
    CHECK_EQ_INT(oomkill_locate("3:cpu,memory:/u\n", co, p, sizeof p), 0);
    CHECK_EQ_STR(p, "/cg/cm/u/memory.oom_control");
    /* "memoryx" is not "memory". */
    CHECK_EQ_INT(oomkill_locate("3:memoryx:/u\n", co, p, sizeof p), -1);
    /* v1 memory named but not mounted: v2 is not used instead. */
    CHECK_EQ_INT(oomkill_locate("4:memory:/a\n0::/a\n",
                                "40 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", p,
                                sizeof p),
                 -1);
}

static void test_v2(void)
{
    char p[512];
    const char *m = "25 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
    CHECK_EQ_INT(oomkill_locate("0::/user.slice/user-1000.slice/mlpd.service\n", m, p, sizeof p),
                 0);
    CHECK_EQ_STR(p, "/sys/fs/cgroup/user.slice/user-1000.slice/mlpd.service/memory.events");
    /* The root cgroup: a path without "//" (the file does not exist there; reading fails). */
    CHECK_EQ_INT(oomkill_locate("0::/\n", m, p, sizeof p), 0);
    CHECK_EQ_STR(p, "/sys/fs/cgroup/memory.events");
    /* A container that sees only its subtree; a cgroup outside it gives -1. */
    const char *sub = "25 1 0:22 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
    CHECK_EQ_INT(oomkill_locate("0::/kubepods/pod1/c\n", sub, p, sizeof p), 0);
    CHECK_EQ_STR(p, "/sys/fs/cgroup/c/memory.events");
    CHECK_EQ_INT(oomkill_locate("0::/kubepods/pod12/c\n", sub, p, sizeof p), -1);
    CHECK_EQ_INT(oomkill_locate("0::/other\n", sub, p, sizeof p), -1);
    /* An escaped blank in the mount point. */
    const char *esc = "25 1 0:22 / /mnt/cg\\040two rw - cgroup2 cgroup2 rw\n";
    CHECK_EQ_INT(oomkill_locate("0::/a\n", esc, p, sizeof p), 0);
    CHECK_EQ_STR(p, "/mnt/cg two/a/memory.events");
    /* No cgroup file system at all, or an empty /proc/PID/cgroup. */
    CHECK_EQ_INT(oomkill_locate("0::/a\n", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", p, sizeof p),
                 -1);
    CHECK_EQ_INT(oomkill_locate("", m, p, sizeof p), -1);
    /* Too small a buffer is -1, never a cut path. */
    CHECK_EQ_INT(oomkill_locate("0::/a\n", m, p, 10), -1);
}

static void test_parse(void)
{
    CHECK_EQ_INT(oomkill_parse("oom_kill_disable 0\nunder_oom 0\noom_kill 7\n"), 7);
    CHECK_EQ_INT(oomkill_parse("low 0\nhigh 3\nmax 9\noom 2\noom_kill 2\noom_group_kill 0\n"), 2);
    CHECK_EQ_INT(oomkill_parse("oom_kill_disable 0\nunder_oom 0\n"), -1); /* before 4.13 */
    CHECK_EQ_INT(oomkill_parse("oom_kill x\n"), -1);
    CHECK_EQ_INT(oomkill_parse(""), -1);
}

static void test_live(void)
{
    char p[4200];
    if (oomkill_counter_file((long)getpid(), p, sizeof p) == 0)
        printf("this process's counter: %s = %lld\n", p, oomkill_count(p));
    else
        printf("no memory cgroup counter here\n");
    CHECK_EQ_INT(oomkill_count("/nonexistent/memory.events"), -1);
    CHECK_EQ_INT(oomkill_counter_file(-1, p, sizeof p), -1);
}

int main(void)
{
    test_v1();
    test_v2();
    test_parse();
    test_live();
    return check_report();
}
