#!/bin/bash
# mlpd under valgrind for one short scenario: a tiny sweep (one crashing
# configuration included, so the retry and failure paths run), every read op,
# a watch, a bad request, then shutdown.  No definite leaks and no errors
# (exit 99 otherwise).  Skipped (77) without valgrind or in the ASan pass
# (MLP_TEST_SANITIZED=1: valgrind and ASan do not mix).
set -u
. "$(dirname "$0")/rlib.sh"
command -v valgrind >/dev/null || { echo "skip: valgrind not installed"; exit 77; }
[ "${MLP_TEST_SANITIZED:-0}" = 1 ] && { echo "skip: sanitized build"; exit 77; }
rel_init
H=$T/home
VG="valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --log-file=$T/vg.log"
SOCK=$H/mlpd.sock
$VG "$MLPD" --foreground --state_dir "$H" --workers 2 --kill_grace 0.2 --worker "$WRAPPER" \
    --max_attempts 2 >"$H.out" 2>&1 &
DPID=$!
for _ in $(seq 600); do
    call '{"op":"status"}' 2>/dev/null | grep -q '"ok": true' && break
    sleep 0.1
done
r=$(call '{"op":"submit","grid":{"name":"vg","dataset":{"name":"xor","n":64},"seeds":2,"base":{"hidden":[4],"epochs":3},"grid":{"lr":[0.1,0.0777]}}}')
check "submit under valgrind" test "$(field "$r" .ok)" = true
timeout 120 python3 "$MLPCLIENT_DIR/mlpclient.py" "$SOCK" '{"op":"watch","sweep":1}' >/dev/null
for q in '{"op":"hello","protocol":1}' '{"op":"status"}' '{"op":"list"}' '{"op":"show","sweep":1}' \
         '{"op":"show","sweep":"vg","by":"lr"}' '{"op":"best","sweep":1,"top":2}' \
         '{"op":"results","sweep":1}' '{"op":"results","sweep":1,"trials":true}' \
         '{"op":"results","sweep":1,"curves":true}' '{"op":"trial","id":1}' '{"op":"trial","id":2}' \
         '{"op":"wait","sweep":1}' '{"op":"data_list"}' '{"op":"retry","sweep":1}' \
         '{"op":"wait","sweep":1}' '{"op":"pause","sweep":1}' '{"op":"resume","sweep":1}' \
         '{"op":"cancel","sweep":1}'; do
    r=$(timeout 120 python3 "$MLPCLIENT_DIR/mlpclient.py" "$SOCK" "$q")
    # pause/cancel of the ended sweep are refused with conflict (an answer all the same)
    check "under valgrind: $q answered" test "$(field "$r" .ok)" = true -o \
        "$(field "$r" .error.code)" = conflict
done
r=$(call '{"op":"nope"}')
check "under valgrind: unknown op refused" test "$(field "$r" .error.code)" = unknown_op
printf '{"op":"status"}\n{"op":' | timeout 10 python3 -c "
import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect('$SOCK'); s.sendall(sys.stdin.buffer.read()); s.close()"
call '{"op":"shutdown"}' >/dev/null
rc=0; wait "$DPID" || rc=$?; DPID=
grep -E "definitely lost|indirectly lost|ERROR SUMMARY|no leaks are possible" "$T/vg.log"
check "mlpd under valgrind exits 0 (got $rc; 99 = valgrind errors)" test "$rc" = 0
check "no definite leak" grep -Eq "no leaks are possible|definitely lost: 0 bytes" "$T/vg.log"
check "no valgrind errors" grep -q "ERROR SUMMARY: 0 errors" "$T/vg.log"
[ "$fails" = 0 ] || cat "$T/vg.log" | head -80
finish
