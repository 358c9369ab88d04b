#!/bin/bash
# A database that is not ours at start: random bytes, a foreign SQLite file
# (other tables, user_version 0), another application's versioned file
# (user_version 7, no application id), an mlpd file from a newer schema, and
# an empty WAL-mode foreign file.  mlpd must refuse to start with a clear
# message naming the file and leave it byte-identical.
set -u
. "$(dirname "$0")/rlib.sh"
rel_init

try_db() { # NAME MESSAGE-REGEX: $H/mlpd.db prepared by the caller
    local name=$1 want=$2 before after rc=0
    before=$(sha256sum "$H/mlpd.db" | cut -d' ' -f1)
    : >"$H.out"
    timeout 20 "$MLPD" --foreground --state_dir "$H" --workers 1 >"$H.out" 2>&1 || rc=$?
    after=$(sha256sum "$H/mlpd.db" | cut -d' ' -f1)
    local msg; msg=$(grep -v "^$" "$H.out" | tail -1)
    echo "$name: exit $rc: $msg"
    check "$name: mlpd refuses to start (exit $rc)" test "$rc" != 0 -a "$rc" != 124
    check "$name: the message names the file and the problem" grep -Eq "mlpd.db.*($want)" "$H.out"
    check "$name: the file is byte-identical" test "$before" = "$after"
    check "$name: no socket left behind" test ! -e "$H/mlpd.sock"
    echo "TABLE|$name at start|1|refused (exit $rc): ${msg#*ERROR }; file unchanged|0|0"
}

H=$T/home
mkdir -m 0700 "$H"
head -c 65536 /dev/urandom >"$H/mlpd.db"
try_db "random bytes (64 KiB)" "not a readable SQLite database|not a database"

rm -f "$H"/mlpd.db*
head -c 100 /dev/urandom >"$H/mlpd.db"
try_db "random bytes (100 B)" "not a readable SQLite database|not a database"

rm -f "$H"/mlpd.db*
sqlite3 "$H/mlpd.db" "CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT); INSERT INTO photos VALUES (1, 'cat.jpg');"
try_db "foreign SQLite database (other tables, user_version 0)" "not an mlpd database"

rm -f "$H"/mlpd.db*
sqlite3 "$H/mlpd.db" "CREATE TABLE trials (id INTEGER PRIMARY KEY); PRAGMA user_version = 7;"
try_db "foreign SQLite database (user_version 7, no application id)" "not an mlpd database"

rm -f "$H"/mlpd.db*
sqlite3 "$H/mlpd.db" "PRAGMA journal_mode = WAL; CREATE TABLE t (x); PRAGMA user_version = 2;" >/dev/null
try_db "foreign WAL-mode SQLite database" "not an mlpd database"

# A real mlpd database whose schema claims a newer version.
rm -f "$H"/mlpd.db*
start_daemon "$H" --workers 1 || fail "mlpd starts on a fresh dir"
stop_daemon
sqlite3 "$H/mlpd.db" "PRAGMA journal_mode = DELETE; PRAGMA user_version = 99;" >/dev/null
try_db "mlpd database of a newer schema (user_version 99)" "newer than this mlpd"
finish
