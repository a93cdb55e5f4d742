/*
 * reg_location: the location service in memory. AORs ("user@domain") map
 * to their bindings; each binding expires on its own timer. Updates from a
 * REGISTER are planned in full (checked and allocated) before anything
 * changes, so a request either commits all its binding updates or none
 * (RFC 3261 §10.3 step 7).
 *
 * Not here: authentication, the response's other headers (reg.c), storage
 * (the owner's, through binding_saved / binding_removed).
 *
 * Contacts are matched byte for byte on their URI, not with the full
 * comparison rules of RFC 3261 §19.1.4: a UA refreshes with the very
 * string it registered, and the rare miss only costs a second binding that
 * expires on its own.
 */
#include <errno.h>
#include <stdio.h>

#include "base/mem.h"
#include "reg/reg_internal.h"

/* "user@domain" with the domain in lower case (domains compare case-insensitively). */
static struct str aor_key(char *buf, const struct str *user, const struct str *domain)
{
	size_t len = 0;

	if (user->len > REG_USER_MAX || domain->len >= REG_REALM_SIZE)
		return STR_NULL;
	if (user->len)
		memcpy(buf, user->p, user->len);
	len = user->len;
	buf[len++] = '@';
	for (size_t i = 0; i < domain->len; i++) {
		char c = domain->p[i];

		buf[len++] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
	}
	buf[len] = '\0';
	return str_make(buf, len);
}

static struct reg_aor *aor_alloc(const struct str *key, const char *tenant_id,
				 const struct str *user, const struct str *domain)
{
	size_t tlen = strlen(tenant_id);
	struct reg_aor *aor =
	    mem_zalloc(sizeof(*aor) + key->len + tlen + user->len + domain->len + 4);
	char *p;

	if (!aor)
		return NULL;
	p = aor->buf;
	memcpy(p, key->p, key->len);
	aor->key = str_make(p, key->len);
	p += key->len + 1;
	memcpy(p, tenant_id, tlen);
	aor->tenant_id = str_make(p, tlen);
	p += tlen + 1;
	memcpy(p, user->p, user->len);
	aor->user = str_make(p, user->len);
	p += user->len + 1;
	memcpy(p, domain->p, domain->len);
	aor->domain = str_make(p, domain->len);
	list_init(&aor->bindings);
	return aor;
}

/* Find or create the AOR; *@created tells the caller to drop it if unused. */
static int aor_get(struct reg *reg, const struct str *key, const char *tenant_id,
		   const struct str *user, const struct str *domain, struct reg_aor **aorp,
		   bool *created)
{
	struct reg_aor *aor = hash_get(reg->aors, key);
	int err;

	*created = false;
	if (aor) {
		*aorp = aor;
		return 0;
	}
	aor = aor_alloc(key, tenant_id, user, domain);
	if (!aor)
		return -ENOMEM;
	err = hash_put(reg->aors, &aor->key, aor, NULL);
	if (err) {
		mem_free(aor);
		return err;
	}
	*created = true;
	*aorp = aor;
	return 0;
}

/* Drop an AOR that has no binding left. */
static void aor_release(struct reg *reg, struct reg_aor *aor)
{
	if (!aor || aor->n)
		return;
	hash_del(reg->aors, &aor->key);
	mem_free(aor);
}

static size_t path_len(const struct sip_msg *msg)
{
	size_t len = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_PATH); h; h = sip_hdr_next(msg, h))
		len += h->value.len + 2;
	return len;
}

/* The Path values joined with ", " into @p; returns the length. */
static size_t path_write(const struct sip_msg *msg, char *p)
{
	size_t len = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_PATH); h;
	     h = sip_hdr_next(msg, h)) {
		if (len) {
			memcpy(p + len, ", ", 2);
			len += 2;
		}
		memcpy(p + len, h->value.p, h->value.len);
		len += h->value.len;
	}
	return len;
}

static char *put(char *p, struct str *dst, const struct str *src)
{
	if (src->len)
		memcpy(p, src->p, src->len);
	p[src->len] = '\0';
	*dst = str_make(p, src->len);
	return p + src->len + 1;
}

/*
 * A binding copied from @tmpl (contact, call_id, path, instance, cseq, q,
 * src); with @msg, its Path comes from the message instead. Not linked.
 */
static struct reg_bnd *bnd_alloc(struct reg *reg, const struct reg_binding *tmpl,
				 const struct sip_msg *msg)
{
	size_t plen = msg ? path_len(msg) : tmpl->path.len;
	struct reg_bnd *b = mem_zalloc(sizeof(*b) + tmpl->contact.len + tmpl->call_id.len + plen +
				       tmpl->instance.len + 4);
	char *p;

	if (!b)
		return NULL;
	b->reg = reg;
	timer_init(&b->tmr);
	list_elem_init(&b->le);
	b->b = *tmpl;
	p = b->buf;
	p = put(p, &b->b.contact, &tmpl->contact);
	p = put(p, &b->b.call_id, &tmpl->call_id);
	if (msg) {
		size_t len = path_write(msg, p);

		p[len] = '\0';
		b->b.path = str_make(p, len);
		p += len + 1;
	} else {
		p = put(p, &b->b.path, &tmpl->path);
	}
	put(p, &b->b.instance, &tmpl->instance);
	return b;
}

static void bnd_expire(void *arg);

/* Link @nb into @aor in place of @old (dropped silently), or at the end. */
static void bnd_link(struct reg *reg, struct reg_aor *aor, struct reg_bnd *nb, struct reg_bnd *old,
		     uint64_t now_ms)
{
	nb->aor = aor;
	nb->b.tenant_id = aor->tenant_id;
	nb->b.user = aor->user;
	nb->b.domain = aor->domain;
	nb->updated_ms = now_ms;
	if (old) {
		list_insert_before(&old->le, &nb->le);
		list_unlink(&old->le);
		timer_cancel(&old->tmr);
		mem_free(old);
	} else {
		list_append(&aor->bindings, &nb->le);
		aor->n++;
		reg->nbindings++;
	}
	timer_start(reg->tw, &nb->tmr, nb->b.expires_ms > now_ms ? nb->b.expires_ms - now_ms : 0,
		    bnd_expire, nb);
}

/* Unlink and free @b, telling the owner why. The AOR stays, even empty. */
static void bnd_remove(struct reg *reg, struct reg_bnd *b, enum reg_removed why)
{
	list_unlink(&b->le);
	timer_cancel(&b->tmr);
	b->aor->n--;
	reg->nbindings--;
	if (reg->ops.binding_removed)
		reg->ops.binding_removed(reg->arg, &b->b, why);
	mem_free(b);
}

static void bnd_expire(void *arg)
{
	struct reg_bnd *b = arg;
	struct reg *reg = b->reg;
	struct reg_aor *aor = b->aor;

	bnd_remove(reg, b, REG_REMOVED_EXPIRED);
	aor_release(reg, aor);
}

static struct reg_bnd *bnd_find(const struct reg_aor *aor, const struct str *contact)
{
	struct list_elem *le, *tmp;

	if (!aor)
		return NULL;
	list_for_each_safe(&aor->bindings, le, tmp)
	{
		struct reg_bnd *b = list_entry(le, struct reg_bnd, le);

		if (str_eq(&b->b.contact, contact))
			return b;
	}
	return NULL;
}

/* RFC 3261 §10.3 step 7: same Call-ID, so the CSeq must grow. */
static bool out_of_order(const struct reg_bnd *b, const struct sip_msg *msg)
{
	return str_eq(&b->b.call_id, &msg->call_id) && msg->cseq.seq <= b->b.cseq;
}

/* One Contact of the request, planned before anything changes. */
struct plan {
	const struct sip_addr *addr;
	uint32_t expires;    /* seconds; 0 removes */
	bool dup;	     /* a later Contact has the same URI: that one wins */
	struct reg_bnd *old; /* the binding it updates or removes */
	struct reg_bnd *nb;  /* its new binding when expires > 0 */
};

static int list_contacts(const struct reg_aor *aor, uint64_t now_ms, struct mbuf *hdrs)
{
	struct list_elem *le, *tmp;
	int err = 0;

	if (!aor)
		return 0;
	list_for_each_safe(&aor->bindings, le, tmp)
	{
		const struct reg_bnd *b = list_entry(le, struct reg_bnd, le);

		if (b->b.expires_ms <= now_ms)
			continue; /* the wheel has not caught up yet */
		err = mbuf_write_cstr(hdrs, "Contact: <");
		err = err ? err : mbuf_write_str(hdrs, &b->b.contact);
		err = err ? err
			  : mbuf_printf(
				hdrs, ">;expires=%llu",
				(unsigned long long)((b->b.expires_ms - now_ms + 999) / 1000));
		if (!err && b->b.has_q)
			err = mbuf_printf(hdrs, ";q=%u.%03u", b->b.q / 1000, b->b.q % 1000);
		err = err ? err : mbuf_write(hdrs, "\r\n", 2);
		if (err)
			break;
	}
	return err;
}

/* Contact: * with Expires: 0 (RFC 3261 §10.2.2): every binding goes. */
static int update_star(struct reg *reg, struct reg_aor *aor, const struct sip_msg *msg)
{
	struct list_elem *le, *tmp;

	if (sip_msg_hdr_count(msg, SIP_HDR_CONTACT) != 1 || !msg->has_expires || msg->expires)
		return REG_LOC_BAD_STAR;
	if (!aor)
		return REG_LOC_OK;
	list_for_each_safe(&aor->bindings, le, tmp)
	{
		if (out_of_order(list_entry(le, struct reg_bnd, le), msg))
			return REG_LOC_OUT_OF_ORDER;
	}
	list_for_each_safe(&aor->bindings, le, tmp)
	{
		bnd_remove(reg, list_entry(le, struct reg_bnd, le), REG_REMOVED_UNREGISTERED);
	}
	aor_release(reg, aor);
	return REG_LOC_OK;
}

/* Evict the @n least recently refreshed bindings not marked by the request. */
static void evict_oldest(struct reg *reg, struct reg_aor *aor, unsigned n)
{
	while (n--) {
		struct reg_bnd *victim = NULL;
		struct list_elem *le, *tmp;

		list_for_each_safe(&aor->bindings, le, tmp)
		{
			struct reg_bnd *b = list_entry(le, struct reg_bnd, le);

			if (!b->mark && (!victim || b->updated_ms < victim->updated_ms))
				victim = b;
		}
		if (!victim)
			return;
		bnd_remove(reg, victim, REG_REMOVED_EVICTED);
	}
}

/* Contact expiry: the parameter, else Expires, else the default (§10.3 step 7). */
static uint32_t contact_expires(const struct reg *reg, const struct sip_addr *a,
				const struct sip_msg *msg)
{
	if (a->has_expires)
		return a->expires;
	if (msg->has_expires)
		return msg->expires;
	return reg->conf.default_expires;
}

int reg_loc_update(struct reg *reg, const struct reg_tenant *t, const struct str *user,
		   const struct sip_msg *msg, const struct sip_peer *src, uint64_t now_ms,
		   struct mbuf *hdrs)
{
	struct str realm = str_cstr(t->realm), key;
	unsigned n = sip_msg_hdr_count(msg, SIP_HDR_CONTACT), nkeep = 0, nadd = 0, nrem = 0;
	unsigned touched = 0, untouched, evict;
	char kbuf[REG_KEY_SIZE];
	struct reg_aor *aor;
	struct plan *pl = NULL;
	bool created = false;
	unsigned i = 0;
	int err = 0;

	key = aor_key(kbuf, user, &realm);
	if (!key.p)
		return -EINVAL;
	aor = hash_get(reg->aors, &key);
	if (!n)
		goto list; /* a query: RFC 3261 §10.2.3 */
	if (sip_msg_hdr(msg, SIP_HDR_CONTACT)->p.addr->star) {
		err = update_star(reg, aor, msg);
		aor = hash_get(reg->aors, &key);
		if (err)
			return err;
		goto list;
	}
	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT); h;
	     h = sip_hdr_next(msg, h)) {
		if (h->p.addr->star)
			return REG_LOC_BAD_STAR; /* "*" among other contacts */
	}
	pl = mem_zalloc(n * sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT); h && i < n;
	     h = sip_hdr_next(msg, h))
		pl[i++].addr = h->p.addr;

	/* Plan: check every contact before touching anything. */
	for (i = 0; i < n; i++) {
		struct plan *c = &pl[i];

		c->expires = contact_expires(reg, c->addr, msg);
		if (c->expires && c->expires < reg->conf.min_expires) {
			err = REG_LOC_TOO_BRIEF;
			goto out;
		}
		if (c->expires > reg->conf.max_expires)
			c->expires = reg->conf.max_expires;
		for (unsigned j = i + 1; j < n && !c->dup; j++)
			c->dup = str_eq(&pl[j].addr->uri.raw, &c->addr->uri.raw);
		if (c->dup)
			continue;
		c->old = bnd_find(aor, &c->addr->uri.raw);
		if (c->old && out_of_order(c->old, msg)) {
			err = REG_LOC_OUT_OF_ORDER;
			goto out;
		}
		touched += c->old != NULL;
		if (c->expires) {
			nkeep++;
			nadd += c->old == NULL;
		} else {
			nrem += c->old != NULL;
		}
	}
	if (nkeep > reg->conf.max_contacts) {
		err = REG_LOC_TOO_MANY_CONTACTS;
		goto out;
	}
	/* Older contacts the request does not mention make room for new ones. */
	untouched = aor ? aor->n - touched : 0;
	evict = untouched + nkeep > reg->conf.max_contacts
		    ? untouched + nkeep - reg->conf.max_contacts
		    : 0;
	if (nadd > nrem + evict && reg->nbindings + nadd - nrem - evict > reg->conf.max_bindings) {
		err = REG_LOC_FULL;
		goto out;
	}

	/* Allocate everything the update needs. */
	if (nkeep && !aor) {
		err = aor_get(reg, &key, t->id, user, &realm, &aor, &created);
		if (err)
			goto out;
	}
	for (i = 0; i < n; i++) {
		struct plan *c = &pl[i];
		struct reg_binding tmpl = {
		    .contact = c->addr->uri.raw,
		    .call_id = msg->call_id,
		    .cseq = msg->cseq.seq,
		    .expires_ms = now_ms + (uint64_t)c->expires * 1000,
		    .has_q = c->addr->has_q,
		    .q = c->addr->has_q ? c->addr->q : 0,
		    .src = *src,
		};

		if (c->dup || !c->expires)
			continue;
		sip_param_get(&c->addr->params, "+sip.instance", &tmpl.instance);
		c->nb = bnd_alloc(reg, &tmpl, msg);
		if (!c->nb) {
			err = -ENOMEM;
			goto out;
		}
	}

	/* Commit: nothing below can fail. */
	for (i = 0; i < n; i++) {
		if (pl[i].old)
			pl[i].old->mark = true;
	}
	if (evict)
		evict_oldest(reg, aor, evict);
	for (i = 0; i < n; i++) {
		struct plan *c = &pl[i];

		if (c->old)
			c->old->mark = false;
		if (c->dup)
			continue;
		if (!c->expires) {
			if (c->old)
				bnd_remove(reg, c->old, REG_REMOVED_UNREGISTERED);
			continue;
		}
		bnd_link(reg, aor, c->nb, c->old, now_ms);
		if (reg->ops.binding_saved)
			reg->ops.binding_saved(reg->arg, &c->nb->b);
		c->nb = NULL;
	}
	err = REG_LOC_OK;
	if (aor && !aor->n) {
		aor_release(reg, aor);
		aor = NULL;
	}
out:
	if (pl) {
		for (i = 0; i < n; i++)
			mem_free(pl[i].nb);
		mem_free(pl);
	}
	if (err) {
		if (created)
			aor_release(reg, aor);
		return err;
	}
list:
	err = list_contacts(aor, now_ms, hdrs);
	return err ? err : REG_LOC_OK;
}

int reg_lookup(struct reg *reg, const struct str *domain, const struct str *user, uint64_t now_ms,
	       reg_binding_h *h, void *arg)
{
	char kbuf[REG_KEY_SIZE];
	struct str key;
	struct reg_aor *aor;
	struct list_elem *le, *tmp;
	int n = 0, err;

	if (!reg || !domain || !user || !h)
		return -EINVAL;
	key = aor_key(kbuf, user, domain);
	aor = key.p ? hash_get(reg->aors, &key) : NULL;
	if (!aor)
		return 0;
	list_for_each_safe(&aor->bindings, le, tmp)
	{
		const struct reg_bnd *b = list_entry(le, struct reg_bnd, le);

		if (b->b.expires_ms <= now_ms)
			continue;
		err = h(&b->b, arg);
		if (err)
			return err;
		n++;
	}
	return n;
}

int reg_binding_restore(struct reg *reg, const struct reg_binding *b, uint64_t now_ms)
{
	struct reg_tenant t;
	struct str realm, key, tid;
	char kbuf[REG_KEY_SIZE];
	struct reg_aor *aor;
	struct reg_bnd *old, *nb;
	bool created;
	int err;

	if (!reg || !b || !str_isset(&b->tenant_id) || !str_isset(&b->user) ||
	    !str_isset(&b->domain) || !str_isset(&b->contact))
		return -EINVAL;
	if (b->expires_ms <= now_ms)
		return -ETIMEDOUT;
	err = reg->ops.domain(reg->arg, &b->domain, &t);
	if (err)
		return err;
	t.id[sizeof(t.id) - 1] = '\0';
	t.realm[sizeof(t.realm) - 1] = '\0';
	tid = str_cstr(t.id);
	if (!str_eq(&b->tenant_id, &tid))
		return -ENOENT;
	realm = str_cstr(t.realm);
	key = aor_key(kbuf, &b->user, &realm);
	if (!key.p)
		return -EINVAL;
	aor = hash_get(reg->aors, &key);
	old = bnd_find(aor, &b->contact);
	if (!old &&
	    ((aor && aor->n >= reg->conf.max_contacts) || reg->nbindings >= reg->conf.max_bindings))
		return -ENOSPC;
	err = aor_get(reg, &key, t.id, &b->user, &realm, &aor, &created);
	if (err)
		return err;
	nb = bnd_alloc(reg, b, NULL);
	if (!nb) {
		if (created)
			aor_release(reg, aor);
		return -ENOMEM;
	}
	bnd_link(reg, aor, nb, old, now_ms);
	return 0;
}

size_t reg_count(const struct reg *reg)
{
	return reg ? reg->nbindings : 0;
}

void reg_loc_clear(struct reg *reg)
{
	struct str k;
	size_t it = 0;
	void *v;

	/* The map must not change while iterated: free the bindings, then the AORs. */
	while (hash_next(reg->aors, &it, &k, &v)) {
		struct reg_aor *aor = v;
		struct list_elem *le, *tmp;

		list_for_each_safe(&aor->bindings, le, tmp)
		{
			struct reg_bnd *b = list_entry(le, struct reg_bnd, le);

			list_unlink(&b->le);
			timer_cancel(&b->tmr);
			mem_free(b);
		}
		aor->n = 0;
	}
	for (;;) {
		it = 0;
		if (!hash_next(reg->aors, &it, &k, &v))
			break;
		hash_del(reg->aors, &k);
		mem_free(v);
	}
	reg->nbindings = 0;
}
