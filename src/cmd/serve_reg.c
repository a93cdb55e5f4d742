/*
 * serve_reg: registrar ops over the store, batched binding writes, and
 * restoring bindings at start (see serve_reg.h). Views from the registrar
 * are copied into C strings for the store's API; a value too long for its
 * buffer is refused with a log line rather than cut.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "serve"
#include "base/clock.h"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "cmd/serve_reg.h"

/* Copy @s into @buf; false when it does not fit. */
static bool cstr(char *buf, size_t size, const struct str *s)
{
	if (s->len >= size)
		return false;
	str_copy_cstr(buf, size, s);
	return true;
}

/* One queued binding change: one allocation, its strings after it. */
struct pending {
	struct list_elem le;
	bool del;
	struct store_binding b; /* its strings point into text[] */
	char text[];
};

struct serve_reg {
	struct reg *reg;
	struct store *st;
	struct timer_wheel *tw;
	struct timer flush_tmr;
	struct list queue; /* struct pending, oldest first */
	unsigned queued;
};

static int op_domain(void *arg, const struct str *domain, struct reg_tenant *out)
{
	struct serve_reg *sr = arg;
	struct store *st = sr->st;
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
	struct serve_reg *sr = arg;
	struct store *st = sr->st;
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

static void flush_queue(struct serve_reg *sr)
{
	struct list_elem *e, *tmp;
	unsigned n = sr->queued;
	int err = n ? store_begin(sr->st) : 0;

	list_for_each_safe(&sr->queue, e, tmp)
	{
		struct pending *p = list_entry(e, struct pending, le);

		if (!err && p->del)
			err = store_binding_del(sr->st, p->b.tenant_id, p->b.aor, p->b.contact);
		else if (!err)
			err = store_binding_put(sr->st, &p->b);
		if (err > 0)
			err = 0; /* put/del report whether a row changed */
		list_unlink(&p->le);
		mem_free(p);
	}
	sr->queued = 0;
	if (n && !err)
		err = store_commit(sr->st);
	if (err) {
		store_rollback(sr->st);
		log_error("bindings not stored changes=%u err=%d", n, err);
	}
}

static void on_flush(void *arg)
{
	flush_queue(arg);
}

/* Copy @v into *@pos (NUL-terminated) and return where it starts. */
static const char *put_text(char **pos, const struct str *v)
{
	char *start = *pos;

	if (v->len)
		memcpy(start, v->p, v->len);
	start[v->len] = '\0';
	*pos += v->len + 1;
	return start;
}

static void enqueue(struct serve_reg *sr, const struct reg_binding *b, bool del)
{
	/* The same bounds as the store's columns: refuse, never cut. */
	static const size_t max[] = {STORE_ID_SIZE, STORE_ID_SIZE, 2048, 512, 2048, 256};
	const struct str *v[] = {&b->tenant_id, &b->user, &b->contact,
				 &b->call_id,	&b->path, &b->instance};
	char received[64], *pos;
	struct str rcv;
	struct pending *p;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i]->len >= max[i]) {
			log_error("binding too long to store aor=%.*s@%.*s", STR_FMT(&b->user),
				  STR_FMT(&b->domain));
			return;
		}
		len += v[i]->len + 1;
	}
	if (reg_src_print(&b->src, received, sizeof(received)))
		return;
	rcv = str_cstr(received);
	p = mem_zalloc(sizeof(*p) + len + rcv.len + 1);
	if (!p) {
		log_error("binding change dropped: out of memory aor=%.*s@%.*s", STR_FMT(&b->user),
			  STR_FMT(&b->domain));
		return;
	}
	pos = p->text;
	p->del = del;
	p->b.tenant_id = put_text(&pos, &b->tenant_id);
	p->b.aor = put_text(&pos, &b->user);
	p->b.contact = put_text(&pos, &b->contact);
	p->b.call_id = put_text(&pos, &b->call_id);
	p->b.path = put_text(&pos, &b->path);
	p->b.instance = put_text(&pos, &b->instance);
	p->b.received = put_text(&pos, &rcv);
	p->b.expires_at = (int64_t)(b->expires_ms / 1000);
	p->b.cseq = b->cseq;
	list_append(&sr->queue, &p->le);
	if (++sr->queued >= SERVE_REG_FLUSH_MAX) {
		timer_cancel(&sr->flush_tmr);
		flush_queue(sr);
	} else if (!timer_pending(&sr->flush_tmr)) {
		timer_start(sr->tw, &sr->flush_tmr, SERVE_REG_FLUSH_MS, on_flush, sr);
	}
}

static void op_saved(void *arg, const struct reg_binding *b)
{
	enqueue(arg, b, false);
}

static void op_removed(void *arg, const struct reg_binding *b, enum reg_removed why)
{
	(void)why;
	enqueue(arg, b, true);
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

int serve_reg_alloc(struct serve_reg **srp, struct store *st, struct timer_wheel *tw,
		    enum reg_digest digest)
{
	const struct reg_ops ops = {
	    .domain = op_domain,
	    .ha1 = op_ha1,
	    .binding_saved = op_saved,
	    .binding_removed = op_removed,
	};
	struct restore r = {.st = st};
	struct serve_reg *sr;
	struct reg_conf conf;
	int err;

	sr = mem_zalloc(sizeof(*sr));
	if (!sr)
		return -ENOMEM;
	sr->st = st;
	sr->tw = tw;
	list_init(&sr->queue);
	timer_init(&sr->flush_tmr);
	reg_conf_default(&conf);
	conf.digest = digest;
	err = reg_alloc(&sr->reg, &conf, &ops, sr, tw);
	if (err)
		goto out;
	r.reg = sr->reg;
	/* Drop what expired while we were down, then load the rest. */
	err = store_binding_expire(st, (int64_t)(clock_real_ms() / 1000));
	if (err >= 0)
		err = store_binding_list(st, restore_one, &r);
	if (err >= 0) {
		err = 0;
		log_info("registrations restored bindings=%u skipped=%u", r.ok, r.gone);
	}
out:
	if (err)
		serve_reg_free(sr);
	else
		*srp = sr;
	return err;
}

struct reg *serve_reg_reg(struct serve_reg *sr)
{
	return sr->reg;
}

void serve_reg_flush(struct serve_reg *sr)
{
	timer_cancel(&sr->flush_tmr);
	flush_queue(sr);
}

void serve_reg_free(struct serve_reg *sr)
{
	if (!sr)
		return;
	reg_free(sr->reg); /* no binding_removed: the stored bindings stay */
	serve_reg_flush(sr);
	mem_free(sr);
}
