/*
 * serve_reg: registrar ops over the store, and restoring bindings at start
 * (see serve_reg.h). Views from the registrar are copied into C strings
 * for the store's API; a value too long for its buffer is refused with a
 * log line rather than cut.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "serve"
#include "base/clock.h"
#include "base/log.h"
#include "cmd/serve_reg.h"

/* Copy @s into @buf; false when it does not fit. */
static bool cstr(char *buf, size_t size, const struct str *s)
{
	if (s->len >= size)
		return false;
	str_copy_cstr(buf, size, s);
	return true;
}

static int op_domain(void *arg, const struct str *domain, struct reg_tenant *out)
{
	struct store *st = arg;
	struct store_tenant t;
	char d[STORE_DOMAIN_SIZE];
	int err;

	if (!cstr(d, sizeof(d), domain))
		return -ENOENT;
	err = store_tenant_by_domain(st, d, &t);
	if (err)
		return err;
	snprintf(out->id, sizeof(out->id), "%s", t.id);
	snprintf(out->realm, sizeof(out->realm), "%s", t.domain);
	return 0;
}

static int op_ha1(void *arg, const struct reg_tenant *tenant, const struct str *user,
		  enum auth_hash h, char *out, size_t size)
{
	struct store *st = arg;
	char u[STORE_ID_SIZE], ha1[STORE_HA1_SIZE];
	int err;

	if (h != AUTH_HASH_MD5 && h != AUTH_HASH_SHA256)
		return -ENOENT;
	if (!cstr(u, sizeof(u), user))
		return -ENOENT;
	err = store_user_get_ha1(st, tenant->realm, u,
				 h == AUTH_HASH_SHA256 ? STORE_HA1_SHA256 : STORE_HA1_MD5, ha1);
	if (err)
		return err;
	if (strlen(ha1) >= size)
		return -ENOSPC;
	memcpy(out, ha1, strlen(ha1) + 1);
	return 0;
}

struct binding_text {
	char tenant[STORE_ID_SIZE], aor[STORE_ID_SIZE], contact[2048], call_id[512];
	char path[2048], instance[256], received[64];
};

static bool binding_text(struct binding_text *t, const struct reg_binding *b)
{
	return cstr(t->tenant, sizeof(t->tenant), &b->tenant_id) &&
	       cstr(t->aor, sizeof(t->aor), &b->user) &&
	       cstr(t->contact, sizeof(t->contact), &b->contact) &&
	       cstr(t->call_id, sizeof(t->call_id), &b->call_id) &&
	       cstr(t->path, sizeof(t->path), &b->path) &&
	       cstr(t->instance, sizeof(t->instance), &b->instance) &&
	       !reg_src_print(&b->src, t->received, sizeof(t->received));
}

static void op_saved(void *arg, const struct reg_binding *b)
{
	struct store *st = arg;
	struct binding_text t;
	struct store_binding sb;
	int err;

	if (!binding_text(&t, b)) {
		log_error("binding too long to store aor=%.*s@%.*s", STR_FMT(&b->user),
			  STR_FMT(&b->domain));
		return;
	}
	sb = (struct store_binding){
	    .tenant_id = t.tenant,
	    .aor = t.aor,
	    .contact = t.contact,
	    .expires_at = (int64_t)(b->expires_ms / 1000),
	    .call_id = t.call_id,
	    .cseq = b->cseq,
	    .path = t.path,
	    .received = t.received,
	    .instance = t.instance,
	};
	err = store_binding_put(st, &sb);
	if (err < 0)
		log_error("binding not stored aor=%s@%.*s err=%d", t.aor, STR_FMT(&b->domain), err);
}

static void op_removed(void *arg, const struct reg_binding *b, enum reg_removed why)
{
	struct store *st = arg;
	struct binding_text t;
	int err;

	(void)why;
	if (!binding_text(&t, b))
		return;
	err = store_binding_del(st, t.tenant, t.aor, t.contact);
	if (err < 0)
		log_error("binding not deleted aor=%s@%.*s err=%d", t.aor, STR_FMT(&b->domain),
			  err);
}

struct restore {
	struct reg *reg;
	struct store *st;
	unsigned ok, gone;
};

static int restore_one(const struct store_binding *sb, void *arg)
{
	struct restore *r = arg;
	struct store_tenant t;
	struct reg_binding b;
	struct str received = str_cstr(sb->received);

	memset(&b, 0, sizeof(b));
	if (store_tenant_get(r->st, sb->tenant_id, &t) ||
	    reg_src_parse(&b.src, &received, SIP_TRANSPORT_UDP)) {
		r->gone++;
		return 0;
	}
	b.tenant_id = str_cstr(sb->tenant_id);
	b.domain = str_cstr(t.domain);
	b.user = str_cstr(sb->aor);
	b.contact = str_cstr(sb->contact);
	b.call_id = str_cstr(sb->call_id);
	b.cseq = sb->cseq;
	b.expires_ms = (uint64_t)sb->expires_at * 1000;
	b.path = str_cstr(sb->path);
	b.instance = str_cstr(sb->instance);
	if (reg_binding_restore(r->reg, &b, clock_real_ms()))
		r->gone++;
	else
		r->ok++;
	return 0;
}

int serve_reg_alloc(struct reg **regp, struct store *st, struct timer_wheel *tw, bool md5_first)
{
	const struct reg_ops ops = {
	    .domain = op_domain,
	    .ha1 = op_ha1,
	    .binding_saved = op_saved,
	    .binding_removed = op_removed,
	};
	struct restore r = {.st = st};
	struct reg_conf conf;
	int err;

	reg_conf_default(&conf);
	conf.md5_first = md5_first;
	err = reg_alloc(&r.reg, &conf, &ops, st, tw);
	if (err)
		return err;
	/* Drop what expired while we were down, then load the rest. */
	err = store_binding_expire(st, (int64_t)(clock_real_ms() / 1000));
	if (err >= 0)
		err = store_binding_list(st, restore_one, &r);
	if (err < 0) {
		reg_free(r.reg);
		return err;
	}
	log_info("registrations restored bindings=%u skipped=%u", r.ok, r.gone);
	*regp = r.reg;
	return 0;
}
