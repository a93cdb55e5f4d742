/*
 * Unit tests for cidr.h: IPv4 and IPv6 blocks parsed strictly (prefix
 * bounds, host bits past the prefix, no zone index), printed canonically,
 * IPv4-mapped forms folded into IPv4, and matched against socket addresses
 * of both families.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/cidr.h"
#include "test.h"

static struct sockaddr_storage sa(const char *ip)
{
	struct sockaddr_storage ss = {0};

	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
	return ss;
}

static bool match(const char *block, const char *ip)
{
	struct sockaddr_storage ss = sa(ip);
	struct cidr c;

	return !cidr_parse(&c, block) && cidr_match(&c, (struct sockaddr *)&ss);
}

TEST(test_cidr_parse_format)
{
	static const struct {
		const char *in, *out;
	} good[] = {
	    {"192.0.2.10", "192.0.2.10/32"},
	    {"198.51.100.0/24", "198.51.100.0/24"},
	    {"10.0.0.0/8", "10.0.0.0/8"},
	    {"0.0.0.0/0", "0.0.0.0/0"},
	    {"2001:db8::/32", "2001:db8::/32"},
	    {"2001:DB8:0:0::1", "2001:db8::1/128"},
	    {"::1", "::1/128"},
	    {"::ffff:192.0.2.10", "192.0.2.10/32"},
	    {"::ffff:192.0.2.0/120", "192.0.2.0/24"},
	    {"198.51.100.128/25", "198.51.100.128/25"},
	};
	static const struct {
		const char *in;
		int err;
	} bad[] = {
	    {"", -EINVAL},
	    {"192.0.2", -EINVAL},
	    {"192.0.2.256", -EINVAL},
	    {"192.0.2.1/33", -EINVAL},
	    {"192.0.2.0/", -EINVAL},
	    {"192.0.2.0/024", -EINVAL},
	    {"192.0.2.0/-1", -EINVAL},
	    {"192.0.2.0/2a", -EINVAL},
	    {"fe80::1%eth0", -EINVAL},
	    {"2001:db8::/129", -EINVAL},
	    {"host.example", -EINVAL},
	    {"192.0.2.7/24", -EDOM},
	    {"2001:db8::1/64", -EDOM},
	    {"01.2.3.4", -EINVAL},
	    {" 192.0.2.1", -EINVAL},
	};
	char buf[CIDR_STR_SIZE];
	struct cidr c;
	int err = 0;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int n;

		TEST_ERR(cidr_parse(&c, good[i].in));
		n = cidr_format(&c, buf, sizeof(buf));
		TEST_EQUALS((long long)strlen(good[i].out), n);
		if (strcmp(buf, good[i].out)) {
			test_fail(__FILE__, __LINE__, "%s: got %s", good[i].in, buf);
			err = -EINVAL;
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int e = cidr_parse(&c, bad[i].in);

		if (e != bad[i].err) {
			test_fail(__FILE__, __LINE__, "\"%s\": %d, want %d", bad[i].in, e,
				  bad[i].err);
			err = -EINVAL;
		}
	}
	TEST_ERR(cidr_parse(&c, "2001:db8::/32"));
	TEST_EQUALS(-ENOSPC, cidr_format(&c, buf, 5));
out:
	return err;
}

TEST(test_cidr_match)
{
	struct sockaddr_storage ss = {.ss_family = AF_UNIX};
	struct cidr c;
	int err = 0;

	TEST_ASSERT(match("192.0.2.10", "192.0.2.10"));
	TEST_ASSERT(!match("192.0.2.10", "192.0.2.11"));
	TEST_ASSERT(match("198.51.100.0/24", "198.51.100.255"));
	TEST_ASSERT(!match("198.51.100.0/24", "198.51.101.0"));
	TEST_ASSERT(match("198.51.100.128/25", "198.51.100.200"));
	TEST_ASSERT(!match("198.51.100.128/25", "198.51.100.127"));
	TEST_ASSERT(match("2001:db8::/32", "2001:db8:ffff::1"));
	TEST_ASSERT(!match("2001:db8::/32", "2001:db9::1"));
	TEST_ASSERT(match("2001:db8::/33", "2001:db8:7fff::1"));
	TEST_ASSERT(!match("2001:db8::/33", "2001:db8:8000::1"));
	/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d. */
	TEST_ASSERT(match("198.51.100.0/24", "::ffff:198.51.100.7"));
	TEST_ASSERT(match("::ffff:198.51.100.0/120", "198.51.100.7"));
	/* Families never cross otherwise. */
	TEST_ASSERT(!match("0.0.0.0/0", "2001:db8::1"));
	TEST_ASSERT(!match("::/0", "192.0.2.1"));
	TEST_ERR(cidr_parse(&c, "0.0.0.0/0"));
	TEST_ASSERT(!cidr_match(&c, (struct sockaddr *)&ss));
	TEST_ASSERT(!cidr_match(&c, NULL));
out:
	return err;
}
