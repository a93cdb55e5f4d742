/*
 * fuzz_prov: provisioning documents (untrusted when uploaded through the
 * API later) through prov_parse(). Input: the document bytes as they are.
 *
 * Contracts checked: the result is 0 or -EINVAL/-ENOMEM; on success a model
 * comes back; on failure none does and the message is one non-empty line
 * that names a path ("<path>: <problem>"), never longer than its buffer.
 */
#include <errno.h>

#include "fuzz.h"
#include "prov/prov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prov_doc *doc = NULL;
	char msg[256];
	int err;

	memset(msg, 0, sizeof(msg));
	err = prov_parse(&doc, (const char *)data, size, msg, sizeof(msg));
	FUZZ_CHECK(err == 0 || err == -EINVAL || err == -ENOMEM);
	FUZZ_CHECK(!err == (doc != NULL));
	if (err) {
		FUZZ_CHECK(msg[0] != '\0' && msg[sizeof(msg) - 1] == '\0');
		FUZZ_CHECK(strchr(msg, '\n') == NULL);
		FUZZ_CHECK(err == -ENOMEM || strstr(msg, ": ") != NULL);
	}
	prov_doc_free(doc);
	return 0;
}
