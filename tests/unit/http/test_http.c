/*
 * Unit tests for the parts of src/http that read untrusted text without a
 * connection: Range headers against a file size (the serving itself is
 * covered by tests/system/test_api.sh through a real server).
 */
#include <errno.h>

#include "http/http.h"
#include "test.h"

TEST(test_http_range)
{
	static const struct {
		const char *h;
		uint64_t size, from, to;
		int err;
	} cases[] = {
	    {"bytes=0-99", 1000, 0, 99, 0},
	    {"bytes=100-", 1000, 100, 999, 0},
	    {"bytes=-100", 1000, 900, 999, 0},
	    {"bytes=-5000", 1000, 0, 999, 0},	   /* more than the file: all of it */
	    {"bytes=990-5000", 1000, 990, 999, 0}, /* cut at the end */
	    {"bytes= 5 - 9 ", 1000, 5, 9, 0},
	    {"bytes=999-999", 1000, 999, 999, 0},
	    {"bytes=1000-", 1000, 0, 0, -ERANGE}, /* starts past the end */
	    {"bytes=9-5", 1000, 0, 0, -ERANGE},
	    {"bytes=-0", 1000, 0, 0, -ERANGE},
	    {"bytes=0-1,5-9", 1000, 0, 0, -ERANGE},
	    {"items=0-9", 1000, 0, 0, -ERANGE},
	    {"bytes=", 1000, 0, 0, -ERANGE},
	    {"bytes=-", 1000, 0, 0, -ERANGE},
	    {"bytes=a-9", 1000, 0, 0, -ERANGE},
	    {"bytes=0-99999999999999999999999", 1000, 0, 0, -ERANGE},
	    {"bytes=0-", 0, 0, 0, -ERANGE}, /* an empty file has no bytes */
	    {"bytes=-1", 0, 0, 0, -ERANGE},
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct str h = str_cstr(cases[i].h);
		uint64_t from = 7, to = 7;

		TEST_EQUALS(cases[i].err, http_range_parse(&h, cases[i].size, &from, &to));
		if (cases[i].err)
			continue;
		TEST_EQUALS(cases[i].from, from);
		TEST_EQUALS(cases[i].to, to);
	}
out:
	return err;
}
