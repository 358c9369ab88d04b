#!/bin/bash
# A stand-in for mlp-worker used by the reliability tests: it reads the trial
# spec and, for marked configurations (by their learning rate), misbehaves;
# every other trial is handed to the real worker ($MLP_REAL_WORKER) with exec,
# so the daemon supervises the real process (same pid, PR_SET_PDEATHSIG set by
# the worker itself).  Markers:
#   lr 0.0777  crash: the process kills itself with SIGSEGV
#   lr 0.0666  hang: sleeps forever (dies with the daemon: PDEATHSIG via prctl)
#   lr 0.0555  spew: writes ~4 MiB to stderr, then runs the real worker
#   lr 0.0444  slow: sleeps $MLP_SLOW_SECONDS (default 1.5) first, then runs it
#   lr 0.0222  paced: a fake worker that prints epoch 1, epoch 2 after
#              $MLP_PACE_SECONDS (default 2), then its result after as long again
#   lr 0.0333  bogus: prints malformed and out-of-range events, then a result
#              with absurd values, and exits 0 (a buggy or hostile worker)
ulimit -c 0
spec=$(cat)
pdeath_exec='import ctypes, os, sys, time
ctypes.CDLL(None).prctl(1, 9)            # PR_SET_PDEATHSIG, SIGKILL
if os.getppid() == 1: sys.exit(1)       # the daemon is already gone
time.sleep(float(sys.argv[1]))
if len(sys.argv) > 2: os.execv(sys.argv[2], sys.argv[2:])'
case "$spec" in
*'"lr":0.0777'*)
    echo "wrapper: crashing on purpose (marked configuration)" >&2
    kill -SEGV $$
    exit 99 ;;
*'"lr":0.0666'*)
    exec python3 -c "$pdeath_exec" 100000 ;;
*'"lr":0.0555'*)
    head -c 4194304 /dev/zero | tr '\0' 'x' | fold -w 100 >&2 ;;
*'"lr":0.0444'*)
    exec python3 -c "$pdeath_exec" "${MLP_SLOW_SECONDS:-1.5}" "$MLP_REAL_WORKER" <<<"$spec" ;;
*'"lr":0.0222'*)
    ep='"train_loss":0.5,"train_accuracy":0.75,"val_loss":0.5,"val_accuracy":0.75,"seconds":0.01'
    echo "{\"event\":\"epoch\",\"epoch\":1,$ep}"
    sleep "${MLP_PACE_SECONDS:-2}"
    echo "{\"event\":\"epoch\",\"epoch\":2,$ep}"
    sleep "${MLP_PACE_SECONDS:-2}"
    echo "{\"event\":\"result\",$ep,\"test_loss\":0.5,\"test_accuracy\":0.75,\"epochs_run\":2,\"best_epoch\":2,\"diverged\":false}"
    exit 0 ;;
*'"lr":0.0333'*)
    printf '%s\n' '{"event":"epoch","epoch":1e300,"train_loss":"x"}' \
        '{"event":"epoch","epoch":-9e18,"val_loss":1e400}' '{"event":"epoch","epoch":-1}' \
        '{"event":"epoch","epoch":9223372036854775807,"seconds":-1}' '{"event":"epoch"}' \
        '{"event":"epoch","epoch":1,"train_loss":null,"val_accuracy":[1]}' \
        '{"event":"epoch","epoch":2.5}' '{"event":7}' '{"event":"nope"}' 'not json' \
        '{"event":"error","code":5,"message":{"a":1}}' \
        '{"event":"result","epochs_run":1e300,"best_epoch":-1e300,"diverged":"yes","seconds":1e400,"val_accuracy":"high","train_loss":-0.0}'
    printf '\377\376 bytes that are not UTF-8 \000 on stdout\n'
    printf 'stderr: \377\376\000 not UTF-8 either\n' >&2
    exit 0 ;;
esac
exec "$MLP_REAL_WORKER" <<<"$spec"
