#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Test harness for the AF_XDP driver: two private network namespaces joined
# by a veth pair, a command run with their names in the environment, and
# everything torn down when the command ends, whatever happens (exit, crash,
# Ctrl-C, the test runner's timeout).
#
#   tests/xsk_netns.sh CMD [ARGS...]
#
# CMD sees:
#   NETMEM_XSK_NS_TX  NETMEM_XSK_NS_RX    namespace names (ip netns)
#   NETMEM_XSK_IF_TX  NETMEM_XSK_IF_RX    veth ends, one in each namespace
#   NETMEM_XSK_ADDR_TX NETMEM_XSK_ADDR_RX 198.18.0.1 and 198.18.0.2 (/30)
#   NETMEM_XSK_MAC_TX NETMEM_XSK_MAC_RX   the veth ends' MAC addresses
# The sender side has a permanent neighbour entry for the receiver, since an
# XDP program on the receiving veth takes every frame, ARP included. IPv6 is
# off in both namespaces so no stray ND/RS frames reach the socket.
#
# NETMEM_XSK_QUEUES=N (default 1) gives each veth end N queues.
#
# Names carry this shell's pid, so parallel runs do not clash; namespaces
# left by a run that was SIGKILLed (its pid gone) are removed first.
# Needs root and iproute2. Exit status: CMD's, or 77 (with "SKIP: reason")
# when namespaces cannot be made here.
set -u

skip() {
	echo "SKIP: $*"
	exit 77
}

[ $# -ge 1 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
command -v ip >/dev/null || skip "ip (iproute2) not installed"

# Remove what earlier runs killed by SIGKILL left behind.
for ns in $(ip netns list 2>/dev/null | awk '/^nmxsk-[0-9]+-(tx|rx)/ {print $1}'); do
	pid=${ns#nmxsk-}
	pid=${pid%%-*}
	kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null
done

id=$$
tx=nmxsk-$id-tx
rx=nmxsk-$id-rx
iftx=nmxt$id
ifrx=nmxr$id

cleanup() {
	# Deleting a namespace destroys its veth end, and with it the peer.
	ip netns del "$tx" 2>/dev/null
	ip netns del "$rx" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$tx" || skip "cannot create a network namespace"
ip netns add "$rx" || skip "cannot create a network namespace"
nq=${NETMEM_XSK_QUEUES:-1}
ip link add "$iftx" netns "$tx" numtxqueues "$nq" numrxqueues "$nq" type veth \
	peer name "$ifrx" netns "$rx" numtxqueues "$nq" numrxqueues "$nq" ||
	skip "cannot create a veth pair"
for ns in "$tx" "$rx"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	ip -n "$ns" link set lo up
done
ip -n "$tx" addr add 198.18.0.1/30 dev "$iftx"
ip -n "$rx" addr add 198.18.0.2/30 dev "$ifrx"
ip -n "$tx" link set "$iftx" up
ip -n "$rx" link set "$ifrx" up
macrx=$(ip -n "$rx" -o link show "$ifrx" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
mactx=$(ip -n "$tx" -o link show "$iftx" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$macrx" ] && [ -n "$mactx" ] || { echo "cannot read the veth addresses" >&2; exit 1; }
ip -n "$tx" neigh replace 198.18.0.2 lladdr "$macrx" dev "$iftx" nud permanent
ip -n "$rx" neigh replace 198.18.0.1 lladdr "$mactx" dev "$ifrx" nud permanent

export NETMEM_XSK_NS_TX=$tx NETMEM_XSK_NS_RX=$rx
export NETMEM_XSK_IF_TX=$iftx NETMEM_XSK_IF_RX=$ifrx
export NETMEM_XSK_ADDR_TX=198.18.0.1 NETMEM_XSK_ADDR_RX=198.18.0.2
export NETMEM_XSK_MAC_TX=$mactx NETMEM_XSK_MAC_RX=$macrx

# Not exec: this shell stays to run the EXIT trap.
"$@"
