#!/bin/bash
# State directory safety, database checks and mlpctl's trust in the server
# (issue 19).  Each case plants what another user could plant and checks that
# mlpd refuses it (or never follows it) and that the victim is untouched:
#   - symlinks in the state dir: mlpd.pid, mlpd.log, mlpd.db, logs/, artifacts/,
#     a trial's artifacts directory;
#   - a state dir (or a directory above it) writable by group/others, or owned
#     by another user;
#   - a database damaged mid-file: refused at start with the .recover hint,
#     and `mlpd --check` says the same (and "sound" for a good one);
#   - mlpctl talking to a socket served by another uid sends nothing;
#   - what mlpctl prints to a terminal carries no control characters or bidi
#     overrides, and sweep names refuse them.
set -u
. "$(dirname "$0")/rlib.sh"
rel_init
MLPCTL=${MLPCTL:-$REL_BUILD/cli/mlpctl}
VICTIM=$T/victim
mkdir -m 0700 "$VICTIM"
echo "precious" >"$VICTIM/file"
mkdir -m 0700 "$VICTIM/dir"
vsum() { (cd "$VICTIM" && find . -printf '%p %s\n' | sort; cat file) | sha256sum; }
V0=$(vsum)

# refuse NAME REGEX [flags]: mlpd on $H must fail to start with a message matching REGEX.
refuse() {
    local name=$1 want=$2 rc=0; shift 2
    timeout 20 "$MLPD" --foreground --state_dir "$H" --workers 1 "$@" >"$T/out" 2>&1 || rc=$?
    echo "$name: exit $rc: $(tail -1 "$T/out")"
    check "$name: mlpd refuses to start (exit $rc)" test "$rc" != 0 -a "$rc" != 124
    check "$name: the message says why" grep -Eq "$want" "$T/out"
    check "$name: the victim is untouched" test "$(vsum)" = "$V0"
}
fresh() { rm -rf "$H"; mkdir -m 0700 "$H"; }

H=$T/s1
fresh; ln -s "$VICTIM/file" "$H/mlpd.pid"
refuse "mlpd.pid is a symlink to a victim file" "mlpd.pid.*(symbolic link|not following)"
fresh; ln -s "$VICTIM/dir" "$H/logs"
refuse "logs/ is a symlink to a victim dir" "logs is a symbolic link"
fresh; ln -s "$VICTIM/dir" "$H/artifacts"
refuse "artifacts/ is a symlink to a victim dir" "artifacts is a symbolic link"
fresh; ln -s "$VICTIM/file" "$H/mlpd.db"
refuse "mlpd.db is a symlink to a victim file" "mlpd.db"
fresh; chmod 0770 "$H"
refuse "state dir mode 0770" "writable by group or others \(mode 770\)"
fresh; chmod 0703 "$H"
refuse "state dir mode 0703" "writable by group or others \(mode 703\)"
mkdir -m 0777 "$T/open"; H=$T/open/state
fresh
refuse "a directory above the state dir is mode 0777" "above it is writable by group or others"
H=$T/s1
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    fresh; chown nobody "$H"
    refuse "state dir owned by another user" "owned by uid [0-9]+, not by this mlpd"
fi

# The daemon log through a symlink (daemonized: it writes mlpd.log itself).
fresh; ln -s "$VICTIM/file" "$H/mlpd.log"
timeout 20 "$MLPD" --state_dir "$H" --workers 1 >"$T/out" 2>&1
SOCK=$H/mlpd.sock
call '{"op":"shutdown","now":true}' >/dev/null 2>&1
for _ in $(seq 100); do [ -e "$H/mlpd.pid" ] || break; sleep 0.05; done
check "mlpd.log symlinked to a victim file: the victim is untouched" test "$(vsum)" = "$V0"

# A trial's artifacts directory planted as a symlink: the trial does not write there.
fresh
start_daemon "$H" || fail "mlpd starts on a fresh dir"
ln -s "$VICTIM/dir" "$H/artifacts/1"
R=$(call '{"op":"submit","grid":{"name":"art","dataset":{"name":"xor","n":64},"base":{"hidden":[4],"epochs":2}}}')
# Not the trial's fault: it stays queued with the reason as its error (retried later).
for _ in $(seq 200); do
    T1=$(call '{"op":"trial","id":1}')
    [ "$(field "$T1" '.trial.error')" != null ] && break
    sleep 0.05
done
echo "trial 1 with a planted artifacts symlink: $(field "$T1" '.trial.state') $(field "$T1" '.trial.error')"
check "planted artifacts symlink: the victim dir stays empty" test -z "$(ls -A "$VICTIM/dir")"
check "planted artifacts symlink: the trial says why" grep -q "symbolic link" <<<"$T1"
stop_daemon

# A database damaged mid-file.
fresh
start_daemon "$H" || fail "mlpd starts"
call '{"op":"submit","grid":{"name":"ok","dataset":{"name":"xor","n":64},"base":{"hidden":[4],"epochs":1}}}' >/dev/null
python3 "$MLPCLIENT_DIR/mlpclient.py" "$SOCK" '{"op":"wait","sweep":"ok"}' >/dev/null
stop_daemon
out=$("$MLPD" --check --state_dir "$H" 2>&1); rc=$?
echo "mlpd --check on a sound database: exit $rc: $out"
check "mlpd --check on a sound database: exit 0, says sound" test "$rc" = 0 -a -n "$(grep sound <<<"$out")"
sqlite3 "$H/mlpd.db" "PRAGMA journal_mode=DELETE; CREATE TABLE pad(x);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<300)
  INSERT INTO pad SELECT randomblob(900) FROM n;" >/dev/null
pages=$(sqlite3 "$H/mlpd.db" "PRAGMA page_count")
psize=$(sqlite3 "$H/mlpd.db" "PRAGMA page_size")
# Random bytes over a run of pages in the middle (not page 1: the file still opens).
head -c $((psize * 20)) /dev/urandom |
    dd of="$H/mlpd.db" bs="$psize" seek=$((pages / 2)) conv=notrunc status=none
rm -f "$H/mlpd.log"
before=$(sha256sum <"$H/mlpd.db")
rc=0; timeout 30 "$MLPD" --foreground --state_dir "$H" --workers 1 >"$T/out" 2>&1 || rc=$?
echo "damaged database: exit $rc: $(tail -1 "$T/out" | head -c 300)"
check "damaged database: mlpd refuses to start" test "$rc" != 0 -a "$rc" != 124
check "damaged database: the message says damaged and how to recover" \
    grep -q "damaged.*\.recover" "$T/out"
check "damaged database: the file is unchanged" test "$(sha256sum <"$H/mlpd.db")" = "$before"
rc=0; timeout 20 "$MLPD" --state_dir "$H" --workers 1 >"$T/out2" 2>&1 || rc=$?
check "damaged database (daemonized): the refusal is in the log" grep -q "damaged" "$H/mlpd.log"
out=$("$MLPD" --check --state_dir "$H" 2>&1); rc=$?
echo "mlpd --check on the damaged database: exit $rc"
check "mlpd --check on a damaged database: exit 1 with the hint" test "$rc" = 1 -a -n "$(grep -F .recover <<<"$out")"

# mlpctl and a socket served by another uid: nothing is sent.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    E=$T/evil; mkdir -m 0777 "$E"; chmod 0711 "$T"
    PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" - "$E/mlpd.sock" "$E/got" <<'PY' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(4)
open(sys.argv[2] + ".ready", "w").close()
s.settimeout(20)
c, _ = s.accept()
c.settimeout(2)
data = b""
try:
    while True:
        b = c.recv(65536)
        if not b: break
        data += b
except OSError:
    pass
open(sys.argv[2], "wb").write(data)
PY
    EPID=$!
    for _ in $(seq 100); do [ -e "$E/got.ready" ] && break; sleep 0.05; done
    GRID=$T/g.json
    echo '{"name":"secret-grid","dataset":{"name":"xor","n":64},"base":{"hidden":[4]}}' >"$GRID"
    out=$("$MLPCTL" --socket "$E/mlpd.sock" submit "$GRID" 2>&1); rc=$?
    wait "$EPID"
    echo "mlpctl submit to another user's socket: exit $rc: $out"
    check "mlpctl refuses a server of another uid (exit $rc)" test "$rc" = 3
    check "mlpctl says whose server it is" grep -q "runs as uid" <<<"$out"
    check "the other user's server received nothing ($(wc -c <"$E/got") bytes)" test ! -s "$E/got"
fi

# What mlpctl prints to a terminal: a server (of our uid) answers with control
# characters, C1 and bidi overrides in its error text.
python3 - "$T/fake.sock" <<'PY' &
import socket, sys, os, json
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
s.settimeout(20)
msg = "bad\x1b[2J\x1b]0;pwned\x07 \u009b31m name \u202egnp.exe\u2066x\u2069 end"
for _ in range(2):
    c, _ = s.accept()
    f = c.makefile("rwb")
    f.readline()
    f.write(b'{"ok":true,"protocol":1,"version":"x"}\n'); f.flush()
    f.readline()
    f.write((json.dumps({"ok": False, "error": {"code": "storage", "message": msg}}) + "\n").encode())
    f.flush()
    c.close()
PY
FPID=$!
for _ in $(seq 100); do [ -e "$T/fake.sock" ] && break; sleep 0.05; done
script -qec "$MLPCTL --socket $T/fake.sock status" /dev/null >"$T/tty.out" 2>&1
script -qec "$MLPCTL --socket $T/fake.sock --json status" /dev/null >"$T/tty2.out" 2>&1
wait "$FPID"
echo "on a terminal: $(tr -d '\r' <"$T/tty.out" | cat -v | head -3)"
check "mlpctl's error text on a terminal reaches it (the words are there)" grep -q "bad.*name.*end" "$T/tty.out"
for f in tty.out tty2.out; do
    check "$f: no ESC, BEL, C1 or bidi override reached the terminal" python3 - "$T/$f" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
bad = [x for x in (b"\x1b", b"\x07", b"\xc2\x9b", b"\xe2\x80\xae", b"\xe2\x81\xa6", b"\xe2\x81\xa9") if x in b]
sys.exit(1 if bad else 0)
PY
done

# Sweep names refuse C1 controls and bidi overrides (mlpctl and mlpd).
fresh
start_daemon "$H" || fail "mlpd starts"
r=$(call "{\"op\":\"submit\",\"name\":\"cv\\u202etxt.exe\",\"grid\":{\"dataset\":{\"name\":\"xor\",\"n\":64},\"base\":{\"hidden\":[4]}}}")
check "mlpd refuses a sweep name with a bidi override" test "$(field "$r" .error.code)" = invalid_request
r=$(call "{\"op\":\"submit\",\"grid\":{\"name\":\"a\\u009b2Jb\",\"dataset\":{\"name\":\"xor\",\"n\":64},\"base\":{\"hidden\":[4]}}}")
check "mlpd refuses a grid name with a C1 control" test "$(field "$r" .error.code)" = invalid_grid
stop_daemon
finish
