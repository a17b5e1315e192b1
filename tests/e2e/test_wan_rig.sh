#!/usr/bin/env bash
# The S3 rig as a modelled WAN (tests/s3/rig.sh start --rate --latency): s3rver and the
# proxy in a network namespace of their own behind a rate-limited veth pair, every answer
# held back. The shared push/fetch/pull scenario runs across it, then the rig's own
# properties are checked: the traffic went through the limited link, answers come late,
# "Expect: 100-continue" is answered, and stopping the rig removes the namespace.
# Skipped where network namespaces cannot be made (not root, no ip/tc).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v tc >/dev/null ||
    ! ip netns add "dvprobe$$" 2>/dev/null; then
    echo "SKIP: network namespaces cannot be made here (needs root, ip and tc)"
    exit 0
fi
ip netns delete "dvprobe$$"

RIG="$T/rig"
LATENCY_MS=40
rig() { bash "$HERE/../s3/rig.sh" "$@"; }
stop_rig() { rig stop "$RIG" >/dev/null 2>&1 || true; }
trap stop_rig EXIT

step "the rig starts in a namespace of its own, limited to 200 Mbit/s, answers ${LATENCY_MS} ms late"
assert_exit 0 rig start "$RIG" --rate 200mbit --latency "$LATENCY_MS"
. "$RIG/env"
ns=$DV_TEST_S3_WAN_NS
ip netns list | grep -q "^$ns\b" || fail "no namespace $ns after the start"
case "$DV_TEST_S3_ENDPOINT" in
http://127.0.0.1:*) fail "the endpoint is on loopback: $DV_TEST_S3_ENDPOINT" ;;
esac
port=${DV_TEST_S3_ENDPOINT##*:}
# The proxy listens inside the namespace only: not on this side's loopback.
assert_exit_ge 1 curl -sS --max-time 5 "http://127.0.0.1:$port/__dv_health"
tc qdisc show dev "$DV_TEST_S3_WAN_HOST_IF" | grep -q 'tbf.*rate 200Mbit' ||
    fail "no tbf of 200 Mbit/s on $DV_TEST_S3_WAN_HOST_IF: $(tc qdisc show dev "$DV_TEST_S3_WAN_HOST_IF")"
tc -n "$ns" qdisc show dev "$DV_TEST_S3_WAN_NS_IF" | grep -q 'tbf.*rate 200Mbit' ||
    fail "no tbf of 200 Mbit/s inside the namespace"
ok "endpoint $DV_TEST_S3_ENDPOINT, both directions limited by tbf"

sent() { tc -s ${2:+-n "$2"} qdisc show dev "$1" | awk '/Sent/ {print $2; exit}'; }
up0=$(sent "$DV_TEST_S3_WAN_HOST_IF")
down0=$(sent "$DV_TEST_S3_WAN_NS_IF" "$ns")

. "$HERE/s3_lib.sh"
. "$HERE/remote_scenario.sh"

step "what dv sent and received crossed the limited link"
up=$(($(sent "$DV_TEST_S3_WAN_HOST_IF") - up0))
down=$(($(sent "$DV_TEST_S3_WAN_NS_IF" "$ns") - down0))
note "up $up bytes, down $down bytes"
# The scenario pushes a 3 MiB model of random bytes and pulls it back at least once.
[ "$up" -ge $((3 << 20)) ] || fail "only $up bytes went up through the link"
[ "$down" -ge $((3 << 20)) ] || fail "only $down bytes came down through the link"
ok "at least the model each way"

step "every answer comes at least ${LATENCY_MS} ms after its request"
for i in 1 2 3; do
    t=$(curl -sS -o /dev/null -w '%{time_starttransfer}' --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $EMPTY_SHA" \
        "$DV_TEST_S3_ENDPOINT/$DV_TEST_S3_BUCKET/?list-type=2&prefix=none")
    ms=$(awk -v t="$t" 'BEGIN {printf "%d", t * 1000}')
    [ "$ms" -ge "$LATENCY_MS" ] || fail "a listing was answered after $ms ms"
done
ok "three listings, none answered sooner"

step "Expect: 100-continue is answered, as S3 does"
printf 'hello' >"$T/small"
sha=$(sha_of "$T/small")
# curl waits for the 100 (or a second) before sending the body; the proxy records the wait.
curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: $sha" -H "Expect: 100-continue" --expect100-timeout 10 \
    --data-binary "@$T/small" -X PUT "$DV_TEST_S3_ENDPOINT/$DV_TEST_S3_BUCKET/$PREFIX-continue/x" >/dev/null ||
    fail "the PUT with Expect: 100-continue failed"
rig counts "$RIG" "$PREFIX-continue" >"$T/counts.json"
note "$(cat "$T/counts.json")"
wait_ms=$(json_get "$T/counts.json" 'j["expect_wait_ms_max"]')
[ "$(json_get "$T/counts.json" 'j["expect_100_continue"]')" = 1 ] || fail "the proxy did not see the Expect header"
[ "$wait_ms" -lt 5000 ] || fail "curl waited $wait_ms ms: the 100 Continue never came"
[ "$(s3 GET "$PREFIX-continue/x")" = hello ] || fail "the object does not read back"
ok "the body went up after $wait_ms ms, well before curl's 10 s"

step "stopping the rig removes its namespace and veth"
assert_exit 0 rig stop "$RIG"
! ip netns list | grep -q "^$ns\b" || fail "namespace $ns is still there"
! ip link show "$DV_TEST_S3_WAN_HOST_IF" >/dev/null 2>&1 || fail "$DV_TEST_S3_WAN_HOST_IF is still there"
ok "gone"
