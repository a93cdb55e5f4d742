/*
 * prov_apply: write a validated document to a store, in one transaction.
 *
 * Order inside the transaction: first the checks against stored state (a
 * domain or number owned by a tenant the document does not describe), all
 * before the first write; then for each tenant: the tenant row, the prunes
 * of what it no longer lists, and the puts. Puts update rows in place and
 * report whether anything changed, so the summary can say "unchanged" and a
 * second apply of the same document writes nothing (nor disturbs the
 * registrations of unchanged users).
 *
 * Before the transaction: the passwords' argon2id hashes (a plan, one per
 * user and operator), because hashing is slow (~20-60 ms each) and must not
 * hold the write lock that serve's journal waits on. Only what changed is
 * hashed: a user whose stored SHA-256 HA1 (same realm) still matches the
 * document's password keeps its stored hash; an operator whose stored hash
 * still verifies keeps it. The HA1 and the hash are written by one put, so
 * they always describe the same password.
 */
#define LOG_MODULE "prov"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acct/acct.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "prov/prov_internal.h"
#include "store/store.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool doc_has_tenant(const struct prov_doc *doc, const char *id)
{
	return prov_ref_find(doc->tenant_ix, doc->ntenants, id) != NULL;
}

/* What the document claims that a tenant outside it owns: an error, since
 * applying it would silently take a live number or domain from a customer. */
static int check_claims(struct store *st, const struct prov_doc *doc, char *err, size_t errlen)
{
	struct store_tenant other;
	struct store_number num;
	int e;

	for (size_t i = 0; i < doc->ntenants; i++) {
		const struct prov_tenant *t = &doc->tenants[i];

		e = store_tenant_by_domain(st, t->domain, &other);
		if (!e && strcmp(other.id, t->id) && !doc_has_tenant(doc, other.id)) {
			set_err(err, errlen,
				"tenants[%zu].domain: domain \"%s\" is already used by tenant "
				"\"%s\"",
				i, t->domain, other.id);
			return -EEXIST;
		}
		if (e && e != -ENOENT)
			return e;
		for (size_t k = 0; k < t->nnumbers; k++) {
			e = store_number_get(st, t->numbers[k].number, &num);
			if (!e && strcmp(num.tenant_id, t->id) &&
			    !doc_has_tenant(doc, num.tenant_id)) {
				set_err(err, errlen,
					"tenants[%zu].numbers[%zu].number: number \"%s\" is "
					"already owned by tenant \"%s\"",
					i, k, t->numbers[k].number, num.tenant_id);
				return -EEXIST;
			}
			if (e && e != -ENOENT)
				return e;
		}
	}
	return 0;
}

static void count(struct prov_count *c, int n)
{
	if (n > 0)
		c->changed++;
}

static int prune(struct store *st, const struct prov_tenant *t, enum store_kind kind,
		 const char **keep, struct prov_count *c)
{
	size_t n = 0;
	int e;

	switch (kind) {
	case STORE_KIND_USER:
		for (; n < t->nusers; n++)
			keep[n] = t->users[n].id;
		break;
	case STORE_KIND_QUEUE:
		for (; n < t->nqueues; n++)
			keep[n] = t->queues[n].id;
		break;
	case STORE_KIND_IVR:
		for (; n < t->nivr; n++)
			keep[n] = t->ivr[n].id;
		break;
	case STORE_KIND_NUMBER:
		for (; n < t->nnumbers; n++)
			keep[n] = t->numbers[n].number;
		break;
	case STORE_KIND_TRUNK:
		for (; n < t->ntrunks; n++)
			keep[n] = t->trunks[n].id;
		break;
	}
	e = store_prune(st, kind, t->id, keep, n);
	if (e > 0)
		c->removed += (unsigned)e;
	return e < 0 ? e : 0;
}

/* What the apply writes for one account's password, decided beforehand. */
struct pw_plan {
	char hash[ACCT_PW_HASH_SIZE]; /* "" when the account has no password */
	bool revoke;		      /* its password or roles changed: drop its tokens */
};

_Static_assert(ACCT_PW_HASH_SIZE <= STORE_PW_HASH_SIZE, "a PHC string must fit the store");

/* The stored hash when the stored SHA-256 HA1 shows the password is the
 * document's, else a new one. */
static int plan_user(struct store *st, const struct prov_tenant *t, const struct prov_user *pu,
		     struct pw_plan *plan)
{
	char sha[STORE_HA1_SIZE] = "";
	struct store_user_row row;
	bool same;
	int e;

	if (pu->password) {
		e = store_ha1(STORE_HA1_SHA256, pu->id, t->domain, pu->password, sha);
		if (e)
			return e;
	}
	e = store_user_get(st, t->id, pu->id, &row);
	if (e == -ENOENT) {
		row.realm[0] = row.ha1_sha256[0] = row.pw_hash[0] = '\0';
		row.skills = NULL;
	} else if (e) {
		return e;
	}
	mem_free(row.skills);
	same = !strcmp(row.ha1_sha256, sha) && (!pu->password || !strcmp(row.realm, t->domain));
	plan->revoke = e != -ENOENT && (!same || strcmp(row.roles, pu->roles));
	if (!pu->password)
		return 0;
	if (same && row.pw_hash[0] && strlen(row.pw_hash) < sizeof(plan->hash)) {
		memcpy(plan->hash, row.pw_hash, strlen(row.pw_hash) + 1);
		return 0;
	}
	return acct_password_hash(pu->password, plan->hash, sizeof(plan->hash));
}

/* An operator has no HA1 to compare: its stored hash is kept when the
 * document's password still verifies against it (one argon2 run, as
 * hashing would cost, but the row stays equal: idempotent). */
static int plan_operator(struct store *st, const struct prov_operator *po, struct pw_plan *plan)
{
	struct store_operator row;
	int e = store_operator_get(st, po->id, &row);

	if (e && e != -ENOENT)
		return e;
	if (!e && row.pw_hash[0] && strlen(row.pw_hash) < sizeof(plan->hash)) {
		e = acct_password_verify(row.pw_hash, po->password);
		if (!e) {
			memcpy(plan->hash, row.pw_hash, strlen(row.pw_hash) + 1);
			return 0;
		}
		if (e != -EACCES && e != -EINVAL)
			return e;
	}
	plan->revoke = e != -ENOENT;
	return acct_password_hash(po->password, plan->hash, sizeof(plan->hash));
}

/* Every plan, users tenant by tenant then operators, into *@planp (which
 * the caller frees with mem_free). */
static int plan_passwords(struct store *st, const struct prov_doc *doc, struct pw_plan **planp,
			  char *err, size_t errlen)
{
	struct pw_plan *plan;
	size_t n = doc->noperators, k = 0;
	int e = 0;

	for (size_t i = 0; i < doc->ntenants; i++)
		n += doc->tenants[i].nusers;
	plan = mem_zalloc((n ? n : 1) * sizeof(*plan));
	if (!plan) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; !e && i < doc->ntenants; i++) {
		const struct prov_tenant *t = &doc->tenants[i];

		for (size_t u = 0; !e && u < t->nusers; u++, k++) {
			e = plan_user(st, t, &t->users[u], &plan[k]);
			if (e)
				set_err(err, errlen,
					"tenants[%zu].users[%zu]: cannot set the password: %s", i,
					u, err_str(e));
		}
	}
	for (size_t i = 0; !e && i < doc->noperators; i++, k++) {
		e = plan_operator(st, &doc->operators[i], &plan[k]);
		if (e)
			set_err(err, errlen, "operators[%zu]: cannot set the password: %s", i,
				err_str(e));
	}
	if (e == -ENOMEM)
		set_err(err, errlen, "out of memory");
	if (e)
		mem_free(plan);
	else
		*planp = plan;
	return e;
}

static int put_user(struct store *st, const struct prov_tenant *t, const struct prov_user *pu,
		    const struct pw_plan *plan, struct prov_count *c)
{
	char md5[STORE_HA1_SIZE], sha[STORE_HA1_SIZE];
	struct store_user u = {
	    .tenant_id = t->id,
	    .id = pu->id,
	    .name = pu->name,
	    .roles = pu->roles,
	    .skills = pu->skills,
	    .pw_hash = plan->hash[0] ? plan->hash : NULL,
	};
	int e;

	/* The realm is the tenant's domain (DESIGN §4: agents register as
	 * user@tenant-domain), so an HA1 is useless for any other tenant. */
	if (pu->password) {
		e = store_ha1(STORE_HA1_MD5, pu->id, t->domain, pu->password, md5);
		if (!e)
			e = store_ha1(STORE_HA1_SHA256, pu->id, t->domain, pu->password, sha);
		if (e)
			return e;
		u.realm = t->domain;
		u.ha1_md5 = md5;
		u.ha1_sha256 = sha;
	}
	e = store_user_put(st, &u);
	count(c, e);
	if (e >= 0 && plan->revoke)
		e = store_token_revoke_user(st, t->id, pu->id);
	return e < 0 ? e : 0;
}

/* The "operators" array, when the document has one: it lists them all. */
static int apply_operators(struct store *st, const struct prov_doc *doc, const char **keep,
			   const struct pw_plan *plan, struct prov_count *c)
{
	int e;

	if (!doc->has_operators)
		return 0;
	for (size_t i = 0; i < doc->noperators; i++)
		keep[i] = doc->operators[i].id;
	e = store_operator_prune(st, keep, doc->noperators);
	if (e < 0)
		return e;
	c->removed = (unsigned)e;
	c->total = (unsigned)doc->noperators;
	for (size_t i = 0; i < doc->noperators; i++) {
		const struct prov_operator *po = &doc->operators[i];
		struct store_operator op;

		/* Lengths were validated against these sizes by prov_parse. */
		snprintf(op.id, sizeof(op.id), "%s", po->id);
		snprintf(op.name, sizeof(op.name), "%s", po->name);
		snprintf(op.pw_hash, sizeof(op.pw_hash), "%s", plan[i].hash);
		e = store_operator_put(st, &op);
		count(c, e);
		if (e >= 0 && plan[i].revoke)
			e = store_token_revoke_user(st, NULL, po->id);
		if (e < 0)
			return e;
	}
	return 0;
}

static int put_queue(struct store *st, const struct prov_tenant *t, const struct prov_queue *pq,
		     struct prov_count *c)
{
	struct store_queue q = {
	    .tenant_id = t->id,
	    .id = pq->id,
	    .strategy = pq->strategy,
	    .skills = pq->skills,
	    .overflow = pq->overflow,
	    .priority = pq->priority,
	    .wrapup_s = pq->wrapup_s,
	    .ring_timeout_s = pq->ring_timeout_s,
	    .max_wait_s = pq->max_wait_s,
	    .max_len = pq->max_len,
	    .sl_seconds = pq->sl_seconds,
	    .sl_percent = pq->sl_percent,
	    .members = pq->members,
	    .announce_s = pq->announce_s,
	    .tier_wait_s = pq->tier_wait_s,
	    .join_empty = pq->join_empty,
	};
	int e = store_queue_put(st, &q);

	count(c, e);
	return e < 0 ? e : 0;
}

static int put_number(struct store *st, const struct prov_tenant *t, const struct prov_number *pn,
		      struct prov_count *c)
{
	struct store_number n;
	int e;

	/* Lengths were validated against these sizes by prov_parse. */
	snprintf(n.number, sizeof(n.number), "%s", pn->number);
	snprintf(n.tenant_id, sizeof(n.tenant_id), "%s", t->id);
	if ((size_t)snprintf(n.route, sizeof(n.route), "%s", pn->route) >= sizeof(n.route))
		return -EMSGSIZE;
	e = store_number_put(st, &n);
	count(c, e);
	return e < 0 ? e : 0;
}

/* The tenant's webhooks: a setting of the tenant, as its trunks. */
static int apply_webhooks(struct store *st, const struct prov_tenant *t, const char **keep,
			  bool *changed)
{
	int e;

	for (size_t k = 0; k < t->nwebhooks; k++)
		keep[k] = t->webhooks[k].id;
	e = store_webhook_prune(st, t->id, keep, t->nwebhooks);
	*changed |= e > 0;
	for (size_t k = 0; e >= 0 && k < t->nwebhooks; k++) {
		const struct prov_webhook *w = &t->webhooks[k];
		struct store_webhook row = {t->id, w->id, w->url, w->secret, w->events};

		e = store_webhook_put(st, &row);
		*changed |= e > 0;
	}
	return e < 0 ? e : 0;
}

static int apply_tenant(struct store *st, const struct prov_tenant *t, const char **keep,
			const struct pw_plan *plan, struct prov_summary *sum)
{
	struct prov_count trunks = {0};
	struct store_tenant row;
	bool changed;
	int e;

	snprintf(row.id, sizeof(row.id), "%s", t->id);
	snprintf(row.name, sizeof(row.name), "%s", t->name);
	snprintf(row.domain, sizeof(row.domain), "%s", t->domain);
	row.seats = t->seats;
	snprintf(row.district, sizeof(row.district), "%s", t->district);
	snprintf(row.park, sizeof(row.park), "%s", t->park);
	snprintf(row.timezone, sizeof(row.timezone), "%s", t->timezone);
	e = store_tenant_put(st, &row);
	if (e < 0)
		return e;
	changed = e > 0;
	/* The calendar, the recording policy and the trunks are the tenant's
	 * settings: a change to them counts as a change of the tenant (the
	 * summary line stays as scripts know it). */
	e = store_tenant_calendar_put(st, t->id, t->calendar);
	if (e < 0)
		return e;
	changed |= e > 0;
	e = store_tenant_recording_put(st, t->id, t->recording);
	if (e < 0)
		return e;
	changed |= e > 0;
	e = store_tenant_pause_reasons_put(st, t->id, t->pause_reasons);
	if (e < 0)
		return e;
	changed |= e > 0;
	trunks.removed = 0;
	e = prune(st, t, STORE_KIND_TRUNK, keep, &trunks);
	for (size_t k = 0; !e && k < t->ntrunks; k++) {
		struct store_trunk tr = {t->id, t->trunks[k].id, t->trunks[k].sources};
		int n = store_trunk_put(st, &tr);

		changed |= n > 0;
		e = n < 0 ? n : 0;
	}
	if (!e)
		e = apply_webhooks(st, t, keep, &changed);
	if (e)
		return e;
	count(&sum->tenants, changed || trunks.removed);
	sum->tenants.total++;
	sum->users.total += (unsigned)t->nusers;
	sum->queues.total += (unsigned)t->nqueues;
	sum->ivr.total += (unsigned)t->nivr;
	sum->numbers.total += (unsigned)t->nnumbers;
	e = prune(st, t, STORE_KIND_NUMBER, keep, &sum->numbers);
	if (!e)
		e = prune(st, t, STORE_KIND_IVR, keep, &sum->ivr);
	if (!e)
		e = prune(st, t, STORE_KIND_QUEUE, keep, &sum->queues);
	if (!e)
		e = prune(st, t, STORE_KIND_USER, keep, &sum->users);
	for (size_t k = 0; !e && k < t->nusers; k++)
		e = put_user(st, t, &t->users[k], &plan[k], &sum->users);
	for (size_t k = 0; !e && k < t->nqueues; k++)
		e = put_queue(st, t, &t->queues[k], &sum->queues);
	for (size_t k = 0; !e && k < t->nivr; k++) {
		int n = store_ivr_put(st, t->id, t->ivr[k].id, t->ivr[k].json);

		count(&sum->ivr, n);
		e = n < 0 ? n : 0;
	}
	for (size_t k = 0; !e && k < t->nnumbers; k++)
		e = put_number(st, t, &t->numbers[k], &sum->numbers);
	return e;
}

int prov_apply(struct store *st, const struct prov_doc *doc, struct prov_summary *sum, char *err,
	       size_t errlen)
{
	struct prov_summary s = {0};
	struct pw_plan *plan = NULL;
	const char **keep = NULL;
	size_t most = 1, nplan = 0;
	int e;

	if (!st || !doc)
		return -EINVAL;
	most = doc->noperators > most ? doc->noperators : most;
	for (size_t i = 0; i < doc->ntenants; i++) {
		const struct prov_tenant *t = &doc->tenants[i];
		size_t m = t->nusers;

		m = t->nqueues > m ? t->nqueues : m;
		m = t->nivr > m ? t->nivr : m;
		m = t->nnumbers > m ? t->nnumbers : m;
		m = t->ntrunks > m ? t->ntrunks : m;
		m = t->nwebhooks > m ? t->nwebhooks : m;
		most = m > most ? m : most;
	}
	keep = mem_alloc(most * sizeof(*keep));
	if (!keep) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e = plan_passwords(st, doc, &plan, err, errlen);
	if (e)
		goto out;
	e = store_begin(st);
	if (e) {
		set_err(err, errlen, "store: cannot start a transaction: %s", err_str(e));
		goto out;
	}
	e = check_claims(st, doc, err, errlen);
	if (e == -EEXIST)
		goto rollback;
	/* Free every domain that changes first, so two tenants of the
	 * document can swap domains under the unique index. */
	for (size_t i = 0; !e && i < doc->ntenants; i++)
		e = store_tenant_release_domain(st, doc->tenants[i].id, doc->tenants[i].domain);
	for (size_t i = 0; !e && i < doc->ntenants; i++) {
		e = apply_tenant(st, &doc->tenants[i], keep, plan + nplan, &s);
		nplan += doc->tenants[i].nusers;
	}
	if (!e)
		e = apply_operators(st, doc, keep, plan + nplan, &s.operators);
	if (!e)
		e = store_commit(st);
	if (e) {
		set_err(err, errlen, "store: %s", err_str(e));
		goto rollback;
	}
	if (sum)
		*sum = s;
	goto out;
rollback:
	store_rollback(st);
out:
	mem_free(plan);
	mem_free(keep);
	return e;
}

static int read_file(const char *path, char **bufp, size_t *lenp, char *err, size_t errlen)
{
	size_t len = 0, size = 4096;
	char *buf = NULL;
	int fd, e = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		set_err(err, errlen, "cannot read %s: %s", path, err_str(e));
		return e;
	}
	buf = mem_alloc(size);
	if (!buf) {
		e = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == size) {
			char *nb;

			if (size > PROV_DOC_MAX) {
				set_err(err, errlen, "%s: too large: at most %u bytes", path,
					PROV_DOC_MAX);
				e = -EFBIG;
				goto out;
			}
			nb = mem_realloc(buf, size * 2);
			if (!nb) {
				e = -ENOMEM;
				goto out;
			}
			buf = nb;
			size *= 2;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = -errno;
			set_err(err, errlen, "cannot read %s: %s", path, err_str(e));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
out:
	close(fd);
	if (e == -ENOMEM)
		set_err(err, errlen, "out of memory");
	if (e) {
		mem_free(buf);
		return e;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int prov_apply_file(struct store *st, const char *path, struct prov_summary *sum, char *err,
		    size_t errlen)
{
	struct prov_doc *doc = NULL;
	char *buf = NULL;
	size_t len = 0;
	int e;

	if (!st || !path)
		return -EINVAL;
	e = read_file(path, &buf, &len, err, errlen);
	if (e)
		return e;
	e = prov_parse(&doc, buf, len, err, errlen);
	/* The text holds passwords: wipe it before it goes back to the heap. */
	explicit_bzero(buf, len);
	mem_free(buf);
	if (e)
		return e;
	e = prov_apply(st, doc, sum, err, errlen);
	prov_doc_free(doc);
	return e;
}

int prov_summary_format(const struct prov_summary *sum, char *buf, size_t size)
{
	static const struct prov_summary none;
	const struct prov_summary *s = sum ? sum : &none;
	const struct {
		const char *name;
		const struct prov_count *c;
	} kinds[] = {
	    {"tenants", &s->tenants}, {"users", &s->users}, {"numbers", &s->numbers},
	    {"queues", &s->queues},   {"ivr", &s->ivr},	    {"operators", &s->operators},
	};
	size_t len = 0;
	bool any = false;

	if (!sum || !buf || !size)
		return -EINVAL;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct prov_count *c = kinds[i].c;
		int n;

		/* Operators only when the document had any: the line of a
		 * tenants-only document stays as scripts know it. */
		if (c == &s->operators && !c->total && !c->changed && !c->removed)
			continue;
		if (c->changed && c->removed)
			n = snprintf(buf + len, size - len, "%s%s %u (%u changed, %u removed)",
				     i ? ", " : "", kinds[i].name, c->total, c->changed,
				     c->removed);
		else if (c->changed || c->removed)
			n = snprintf(buf + len, size - len, "%s%s %u (%u %s)", i ? ", " : "",
				     kinds[i].name, c->total, c->changed ? c->changed : c->removed,
				     c->changed ? "changed" : "removed");
		else
			n = snprintf(buf + len, size - len, "%s%s %u", i ? ", " : "", kinds[i].name,
				     c->total);
		if (n < 0 || (size_t)n >= size - len)
			return -ENOSPC;
		len += (size_t)n;
		any |= c->changed || c->removed;
	}
	if (!any) {
		int n = snprintf(buf + len, size - len, ": unchanged");

		if (n < 0 || (size_t)n >= size - len)
			return -ENOSPC;
		len += (size_t)n;
	}
	return (int)len;
}
