/* SPDX-License-Identifier: MIT */
/*
 * A well-formed sim frame, as the sim NIC's generator builds it, for tests
 * and fuzzers that inject frames: Ethernet, IPv4 (checksummed), UDP to port
 * 9000, then the sim header (seq, flow, payload checksum). The caller has
 * written the payload, b[NETMEM_SIM_HDR_LEN, len); len >= NETMEM_SIM_HDR_LEN.
 */
#ifndef NETMEM_TESTS_SIM_FRAME_H
#define NETMEM_TESTS_SIM_FRAME_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "netmem/sim.h"

static inline uint16_t t_ip_csum(const uint8_t *ip)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline void t_sim_frame_hdr(uint8_t *b, uint32_t len, uint64_t seq, uint32_t flow)
{
	static const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
	struct netmem_sim_csum c;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	memset(b, 0, NETMEM_SIM_HDR_LEN);
	memcpy(b, eth, 14);
	b[14] = 0x45;
	v16 = htobe16((uint16_t)(len - 14));
	memcpy(b + 16, &v16, 2);
	b[22] = 64;
	b[23] = 17;
	v32 = htobe32(0xc6120002u + flow);
	memcpy(b + 26, &v32, 4);
	v32 = htobe32(0xc6130001u);
	memcpy(b + 30, &v32, 4);
	v16 = htobe16(t_ip_csum(b + 14));
	memcpy(b + 24, &v16, 2);
	v16 = htobe16((uint16_t)(1024 + flow));
	memcpy(b + 34, &v16, 2);
	v16 = htobe16(9000);
	memcpy(b + 36, &v16, 2);
	v16 = htobe16((uint16_t)(len - 34));
	memcpy(b + 38, &v16, 2);
	v64 = htobe64(seq);
	memcpy(b + 42, &v64, 8);
	v32 = htobe32(flow);
	memcpy(b + 50, &v32, 4);
	netmem_sim_csum_init(&c);
	netmem_sim_csum_update(&c, b + NETMEM_SIM_HDR_LEN, len - NETMEM_SIM_HDR_LEN);
	v32 = htobe32(netmem_sim_csum_final(&c));
	memcpy(b + 54, &v32, 4);
}

#endif
