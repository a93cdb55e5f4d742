/*
 * cidr: address blocks over inet_pton/inet_ntop (which are strict: IPv4
 * only as four decimal parts, no leading zeros) plus the prefix, the
 * IPv4-mapped form folded into IPv4, and a byte-wise prefix match.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cidr.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
	unsigned bytes = prefix / 8, bits = prefix % 8;

	if (memcmp(a, net, bytes))
		return false;
	if (!bits)
		return true;
	return ((a[bytes] ^ net[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

static bool host_bits_zero(const uint8_t *a, unsigned prefix, unsigned total)
{
	for (unsigned i = prefix; i < total; i++) {
		if (a[i / 8] & (0x80 >> (i % 8)))
			return false;
	}
	return true;
}

int cidr_parse(struct cidr *c, const char *s)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	struct cidr r = {0};
	size_t alen;
	unsigned max;

	if (!c || !s)
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (!alen || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (strchr(addr, ':')) {
		r.family = AF_INET6;
		max = 128;
	} else {
		r.family = AF_INET;
		max = 32;
	}
	if (inet_pton(r.family, addr, r.addr) != 1)
		return -EINVAL;
	r.prefix = max;
	if (slash) {
		const char *p = slash + 1;
		unsigned v = 0, n = 0;

		for (; *p >= '0' && *p <= '9' && n < 4; p++, n++)
			v = v * 10 + (unsigned)(*p - '0');
		if (!n || *p || (n > 1 && slash[1] == '0') || v > max)
			return -EINVAL;
		r.prefix = v;
	}
	/* ::ffff:a.b.c.d/96+n is the IPv4 block a.b.c.d/n. */
	if (r.family == AF_INET6 && r.prefix >= 96 && !memcmp(r.addr, v4mapped, 12)) {
		memmove(r.addr, r.addr + 12, 4);
		memset(r.addr + 4, 0, 12);
		r.family = AF_INET;
		r.prefix -= 96;
		max = 32;
	}
	if (!host_bits_zero(r.addr, r.prefix, max))
		return -EDOM;
	*c = r;
	return 0;
}

int cidr_format(const struct cidr *c, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (!c || !buf || (c->family != AF_INET && c->family != AF_INET6) ||
	    c->prefix > (c->family == AF_INET ? 32u : 128u))
		return -EINVAL;
	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		return -EINVAL;
	n = snprintf(buf, size, "%s/%u", a, c->prefix);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

bool cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	const uint8_t *a;
	int family;

	if (!c || !sa)
		return false;
	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		family = AF_INET6;
		if (!memcmp(a, v4mapped, 12)) {
			a += 12;
			family = AF_INET;
		}
	} else {
		return false;
	}
	return family == c->family && prefix_match(a, c->addr, c->prefix);
}
