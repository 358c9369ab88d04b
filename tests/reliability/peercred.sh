#!/bin/bash
# Access control.  The socket is 0600 in a 0700 state dir; a client of another
# uid (a user made for the test, run with setpriv) is refused by SO_PEERCRED
# with the "permission" error even after every mode is loosened, and is never
# served.  Dataset paths in grids are resolved with the daemon's rights, and
# errors name the path but never echo the contents of a file that is not a
# dataset.  Needs root (useradd, setpriv); exits 77 (skip) otherwise.
set -u
. "$(dirname "$0")/rlib.sh"
[ "$(id -u)" = 0 ] || { echo "skip: needs root to create and switch to another user"; exit 77; }
command -v setpriv >/dev/null || { echo "skip: setpriv missing"; exit 77; }
rel_init
U=mlprel
if ! id "$U" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$U" 2>/dev/null ||
        { echo "skip: cannot create user $U"; exit 77; }
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
as_user() { setpriv --reuid="$U" --regid="$U" --clear-groups "$@"; }

H=$T/home
start_daemon "$H" --worker "$WRAPPER" || { fail "mlpd starts"; finish; }
check "socket mode is 0600 ($(stat -c %a "$SOCK"))" test "$(stat -c %a "$SOCK")" = 600
check "state dir mode is 0700 ($(stat -c %a "$H"))" test "$(stat -c %a "$H")" = 700
check "socket owned by the daemon's uid" test "$(stat -c %u "$SOCK")" = 0

# Loosen everything so that only SO_PEERCRED stands between the user and mlpd.
cp "$MLPCLIENT_DIR/mlpclient.py" "$T/mlpclient.py"
chmod 0755 "$T" "$H"
chmod 0644 "$T/mlpclient.py"
chmod 0777 "$SOCK"
n=0
for req in '{"op":"hello","protocol":1}' '{"op":"status"}' '{"op":"list"}' \
           '{"op":"submit","grid":{"dataset":{"name":"xor","n":64},"base":{"hidden":[4]}}}' \
           '{"op":"shutdown","now":true}'; do
    out=$(as_user "$PY" "$T/mlpclient.py" "$SOCK" "$req" 2>&1)
    n=$((n + 1))
    check "other uid, $req: refused with permission ($(head -c 160 <<<"$out"))" \
        test "$(jq -r .error.code <<<"$out" 2>/dev/null)" = permission
done
# Raw: several requests on one connection get one refusal, then EOF.
raw=$(as_user "$PY" - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try:
    s.sendall(b'{"op":"status"}\n' * 50)
except OSError:
    pass
data = b""
while True:
    try:
        b = s.recv(65536)
    except OSError:
        break
    if not b:
        break
    data += b
print(data.count(b"\n"), "line(s):", data[:200].decode(errors="replace"))
PY
)
n=$((n + 50))
echo "raw connection of the other uid: $raw"
check "50 pipelined requests of the other uid: one refusal line, then close" grep -q '^1 line(s):.*permission' <<<"$raw"
# A client that writes its request a moment after connecting (as any client
# may): it must still receive the refusal, not a broken pipe.
slow=$(as_user "$PY" - "$SOCK" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
time.sleep(0.3)
try:
    s.sendall(b'{"op":"status"}\n')
    print(s.recv(65536).decode(errors="replace").strip())
except OSError as e:
    print("error:", e)
PY
)
n=$((n + 1))
echo "other uid, request sent 0.3 s after connect: $slow"
check "other uid, request sent 0.3 s after connect: gets the permission error" grep -q permission <<<"$slow"
if [ -x "$MLPCTL" ]; then
    out=$(as_user "$MLPCTL" --socket "$SOCK" status 2>&1); rc=$?
    n=$((n + 1))
    echo "mlpctl status as $U: exit $rc: $out"
    check "mlpctl as another user fails with the permission error" \
        grep -Eqi "permission|serves only the user|runs as uid" <<<"$out"
fi
S=$(call '{"op":"status"}')
check "the daemon still serves its own user, nothing was queued" test "$(field "$S" .sweeps)" = 0
echo "TABLE|client of another uid (modes loosened to 0777/0755)|$n requests|refused: permission \"this mlpd serves only the user that started it\"; never served|0|0"

# Dataset paths: a "CSV" that is really a secret file, a missing file.
SECRET=$T/secret.txt
printf 'api_key=TOPSECRET-3f9a1c77\npassword: hunter2-TOPSECRET\n;;;\x01\x02binary TOPSECRET\n' >"$SECRET"
chmod 0600 "$SECRET"
leak=0
for fmt in csv idx; do
    if [ $fmt = csv ]; then
        ds="{\"format\":\"csv\",\"train\":\"$SECRET\",\"test\":\"$SECRET\",\"label\":\"last\"}"
    else
        ds="{\"format\":\"idx\",\"train_images\":\"$SECRET\",\"train_labels\":\"$SECRET\",\"test_images\":\"$SECRET\",\"test_labels\":\"$SECRET\"}"
    fi
    r=$(call "{\"op\":\"submit\",\"grid\":{\"dataset\":$ds,\"base\":{\"hidden\":[4]}}}")
    echo "secret file as $fmt dataset -> $r"
    check "$fmt: refused as invalid_dataset" test "$(field "$r" .error.code)" = invalid_dataset
    check "$fmt: the error names the path" grep -q "$SECRET" <<<"$r"
    if grep -Eq "TOPSECRET|hunter2|api_key|password" <<<"$r"; then
        fail "$fmt: the error echoes the secret file's contents"; leak=$((leak + 1))
    else
        pass "$fmt: the error does not echo the file's contents"
    fi
    m=$(sed -n 's/.*"message": "\([^"]*\)".*/\1/p' <<<"$r" | head -c 100)
    echo "TABLE|grid naming a secret non-dataset file as $fmt|1|invalid_dataset: \"$m\"; contents leaked: $([ $leak = 0 ] && echo no || echo YES)|0|0"
done
r=$(call "{\"op\":\"submit\",\"grid\":{\"dataset\":{\"format\":\"csv\",\"train\":\"$T/nope/missing.csv\",\"test\":\"$T/nope/missing.csv\"},\"base\":{\"hidden\":[4]}}}")
echo "missing file -> $r"
check "missing file: invalid_dataset naming the path" \
    test "$(field "$r" .error.code)" = invalid_dataset -a -n "$(grep -o "$T/nope/missing.csv" <<<"$r")"
echo "TABLE|grid naming a missing dataset file|1|$(field "$r" .error.code): \"$(field "$r" .error.message | head -c 90)\"|0|0"
stop_daemon

# A daemon of the unprivileged user: a root-only file is unreadable with its rights.
UH=$T/uhome
mkdir -m 0700 "$UH" && chown "$U:$U" "$UH"
touch "$UH.out" && chown "$U:$U" "$UH.out"
SOCK=$UH/mlpd.sock
as_user "$MLPD" --foreground --state_dir "$UH" --workers 1 >>"$UH.out" 2>&1 &
DPID=$!
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
r=$(as_user "$PY" "$T/mlpclient.py" "$SOCK" "{\"op\":\"submit\",\"grid\":{\"dataset\":{\"format\":\"csv\",\"train\":\"$SECRET\",\"test\":\"$SECRET\"},\"base\":{\"hidden\":[4]}}}")
echo "user's daemon, root-only file -> $r"
check "unreadable file: invalid_dataset naming the path" \
    test "$(field "$r" .error.code)" = invalid_dataset -a -n "$(grep -o "$SECRET" <<<"$r")"
check "unreadable file: the reason is permission" grep -qi "permission" <<<"$r"
check "unreadable file: nothing of its contents" test -z "$(grep -E 'TOPSECRET|hunter2' <<<"$r")"
echo "TABLE|grid naming a file the daemon's user cannot read|1|$(field "$r" .error.code): \"$(field "$r" .error.message | head -c 90)\"|0|0"
r=$(call '{"op":"status"}' 2>&1)
check "root is another uid for the user's daemon: refused too" test "$(jq -r .error.code <<<"$r" 2>/dev/null)" = permission
as_user "$PY" "$T/mlpclient.py" "$SOCK" '{"op":"shutdown","now":true}' >/dev/null
wait "$DPID"; rc=$?; DPID=
check "the user's daemon exits 0 ($rc)" test $rc = 0
finish
