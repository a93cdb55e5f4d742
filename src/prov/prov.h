/*
 * prov: provisioning, a declarative JSON document of tenants and everything
 * in them (docs/PROVISIONING.md), checked completely and then applied to a
 * store in one transaction.
 *
 * Two steps, so a daemon can check a document before it touches anything:
 * prov_parse() validates the whole document into a model (no store needed
 * except for the checks that depend on stored state, which prov_apply()
 * makes inside its transaction before its first write), and prov_apply()
 * writes it. prov_apply_file() does both for a file: what `shenggu
 * provision FILE` and `shenggu serve --provision FILE` call.
 *
 * Semantics: a tenant listed in the document is described completely, so
 * its users, queues, IVR menus and numbers that the document no longer lists
 * are deleted (a deleted user loses its credentials and registrations);
 * tenants the document does not list are left alone. Applying the same
 * document twice writes nothing the second time. Likewise the platform's
 * operators: a document with an "operators" array lists all of them (the
 * others are deleted, with their tokens); one without it leaves them alone.
 *
 * Passwords: a user's gives its SIP credentials (HA1 digests) and its API
 * login (an argon2id hash, acct.h); an operator's only the latter. Hashing
 * costs ~20-60 ms a password, so an apply hashes only what changed: a
 * user's stored hash is kept while its stored HA1 still matches the
 * document's password, an operator's while it still verifies. It hashes
 * before it opens its transaction, so the write lock is not held meanwhile.
 * A changed password or change of roles revokes the account's API tokens.
 * Never the event loop's work: run it in the pool or a command.
 *
 * Errors: 0 or a negative errno, and a one-line message in @err (may be
 * NULL) naming the JSON path and the problem:
 *     tenants[0].queues[1].strategy: unknown strategy "fastest"
 *   -EINVAL  the document is not valid (syntax, types, ranges, references,
 *            duplicates),
 *   -EEXIST  it claims a domain or number another tenant (not in the
 *            document) owns,
 *   -ENOMEM, or a store error ("store: ..."); nothing was written.
 * Not thread-safe on one store (see store.h); no global state.
 */
#ifndef PROV_PROV_H
#define PROV_PROV_H

#include <stddef.h>

struct store;
struct prov_doc;

/* Largest document accepted, in bytes. */
#define PROV_DOC_MAX (16u << 20)

struct prov_count {
	unsigned total;	  /* in the document */
	unsigned changed; /* inserted or updated */
	unsigned removed; /* deleted because the document no longer lists them */
};

struct prov_summary {
	struct prov_count tenants, users, numbers, queues, ivr;
	struct prov_count operators; /* platform operators, when the document lists them */
};

/* Validate @len bytes of JSON at @text (borrowed; need not be NUL-ended)
 * into *@docp, which the caller frees with prov_doc_free(). */
int prov_parse(struct prov_doc **docp, const char *text, size_t len, char *err, size_t errlen);
/* Returns NULL. */
struct prov_doc *prov_doc_free(struct prov_doc *doc);

/* Apply @doc (borrowed) to @st in one transaction; on failure everything is
 * rolled back. @sum (may be NULL) is written only on success. -EALREADY
 * when @st is already inside a transaction. */
int prov_apply(struct store *st, const struct prov_doc *doc, struct prov_summary *sum, char *err,
	       size_t errlen);

/* Read, validate and apply the document in the file at @path. A file that
 * cannot be read gives its errno and "cannot read <path>: <reason>". */
int prov_apply_file(struct store *st, const char *path, struct prov_summary *sum, char *err,
		    size_t errlen);

/* One line, no newline: "tenants 1 (1 changed), users 2 (1 changed, 1
 * removed), ..." or "... : unchanged". Returns the length, or -ENOSPC when
 * it was cut to fit @size. */
int prov_summary_format(const struct prov_summary *sum, char *buf, size_t size);

#endif
