/*
 * Unit tests for the router's path matching (api_path_match): literal
 * segments, captures, trailing slashes, and paths that must not match
 * (extra or missing segments, empty or oversized captures). Access control
 * itself is walked end to end by tests/system/test_api.sh.
 */
#include <string.h>

#include "api/api_internal.h"
#include "test.h"

TEST(test_api_path_match)
{
	static const struct {
		const char *pattern, *path;
		bool match;
		const char *tenant, *id;
	} cases[] = {
	    {"/api/v1/health", "/api/v1/health", true, NULL, NULL},
	    {"/api/v1/health", "/api/v1/health/", true, NULL, NULL},
	    {"/api/v1/health", "/api/v1/healthz", false, NULL, NULL},
	    {"/api/v1/health", "/api/v1/heal", false, NULL, NULL},
	    {"/api/v1/health", "/api/v1/health/x", false, NULL, NULL},
	    {"/api/v1/health", "/api/v1/health//", false, NULL, NULL},
	    {"/api/v1/tenants/{tenant}", "/api/v1/tenants/acme", true, "acme", NULL},
	    {"/api/v1/tenants/{tenant}", "/api/v1/tenants/", false, NULL, NULL},
	    {"/api/v1/tenants/{tenant}", "/api/v1/tenants//", false, NULL, NULL},
	    {"/api/v1/tenants/{tenant}", "/api/v1/tenants", false, NULL, NULL},
	    {"/api/v1/tenants/{tenant}/queues/{id}", "/api/v1/tenants/acme/queues/loans", true,
	     "acme", "loans"},
	    {"/api/v1/tenants/{tenant}/queues/{id}", "/api/v1/tenants/acme/users/loans", false,
	     NULL, NULL},
	    {"/api/v1/tenants/{tenant}/queues/{id}", "/api/v1/tenants/acme/queues", false, NULL,
	     NULL},
	    {"/api/v1/tenants/{tenant}/agents/{id}/state", "/api/v1/tenants/t/agents/1001/state",
	     true, "t", "1001"},
	    {"/metrics", "/metrics", true, NULL, NULL},
	    {"/metrics", "", false, NULL, NULL},
	    {"/metrics", "metrics", false, NULL, NULL},
	};
	char long_id[STORE_ID_SIZE + 32];
	int err = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct api_call c = {0};

		TEST_EQUALS(cases[i].match,
			    api_path_match(cases[i].pattern, str_cstr(cases[i].path), &c));
		if (cases[i].tenant)
			TEST_STR(cases[i].tenant, c.tenant);
		if (cases[i].id)
			TEST_STR(cases[i].id, c.id);
	}
	/* A capture as long as an id may be is taken; one byte more is not. */
	snprintf(long_id, sizeof(long_id), "/api/v1/tenants/%0*d", STORE_ID_SIZE - 1, 0);
	{
		struct api_call c = {0};

		TEST_ASSERT(api_path_match("/api/v1/tenants/{tenant}", str_cstr(long_id), &c));
		TEST_EQUALS(STORE_ID_SIZE - 1, c.tenant.len);
	}
	snprintf(long_id, sizeof(long_id), "/api/v1/tenants/%0*d", STORE_ID_SIZE, 0);
	{
		struct api_call c = {0};

		TEST_ASSERT(!api_path_match("/api/v1/tenants/{tenant}", str_cstr(long_id), &c));
	}
out:
	return err;
}
