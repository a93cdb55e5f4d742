/*
 * cidr: IPv4 and IPv6 address blocks ("198.51.100.0/24", "2001:db8::/32",
 * or a single address), parsed strictly, printed canonically, and matched
 * against a socket address. What trunk allow-lists are made of.
 *
 * An IPv4-mapped IPv6 address (::ffff:192.0.2.10, what a dual-stack socket
 * reports for an IPv4 peer) is the IPv4 address it maps, both in a block
 * and in a source, so one list works whatever socket a call came in on.
 *
 * Pure functions on the caller's memory: no allocation, any thread. Not a
 * routing table: matching a list is a loop over its blocks.
 */
#ifndef BASE_CIDR_H
#define BASE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct cidr {
	int family;	  /* AF_INET or AF_INET6 */
	unsigned prefix;  /* 0..32 or 0..128 */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes; host bits zero */
};

/* Longest canonical text, NUL included: an IPv6 address and "/128". */
#define CIDR_STR_SIZE 52

/*
 * Parse "ADDR" or "ADDR/PREFIX" (dotted-quad IPv4 or RFC 4291 IPv6 text, no
 * zone index, prefix in decimal without leading zeros). An address alone is
 * a /32 or /128. 0 and @c written, -EINVAL (not an address or block) or
 * -EDOM (bits set past the prefix: "198.51.100.7/24" is probably a typo for
 * a host or for 198.51.100.0/24, so it is refused rather than guessed).
 */
int cidr_parse(struct cidr *c, const char *s);

/* Canonical text ("192.0.2.10/32", "2001:db8::/32") into @buf; its length,
 * or -ENOSPC when @size is too small, -EINVAL for a bad @c. */
int cidr_format(const struct cidr *c, char *buf, size_t size);

/* True when @sa (AF_INET or AF_INET6; others never match) is inside @c. */
bool cidr_match(const struct cidr *c, const struct sockaddr *sa);

#endif
