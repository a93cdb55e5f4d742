/*
 * serve_reg: registrar ops over the store, batched binding writes, and
 * restoring bindings at start (see serve_reg.h). Views from the registrar
 * are copied into C strings for the store's API; a value too long for its
 * buffer is refused with a log line rather than cut.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOG_MODULE "serve"
#include "base/clock.h"
#include "base/hash.h"
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
	struct store *st; /* the loop's connection: lookups */

	/* The writer thread and what it shares with the loop, under mu. */
	struct store *wst; /* the writer's own connection */
	pthread_t writer;
	bool writer_started;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* work queued, or stop */
	struct list queue; /* struct pending, oldest first */
	bool stop;

	serve_reg_event_h *listen; /* the API's event stream */
	void *listen_arg;

	/* Directory cache: the loop's lookups without SQLite (see serve_reg.h). */
	struct hash *cache;	/* key -> struct cent; keys live in the entries */
	struct list cache_fifo; /* oldest first: all live SERVE_REG_CACHE_MS */
	size_t cache_count;
};

/* A cached lookup: a tenant ("id\0realm") or an HA1, or its absence. */
struct cent {
	struct list_elem le;
	uint64_t expires; /* monotonic ms */
	int err;	  /* 0: found, -ENOENT: known absent */
	char val[STORE_ID_SIZE + STORE_DOMAIN_SIZE];
	size_t key_len;
	char key[];
};

static void cache_drop(struct serve_reg *sr, struct cent *e)
{
	struct str k = str_make(e->key, e->key_len);

	hash_del(sr->cache, &k);
	list_unlink(&e->le);
	sr->cache_count--;
	mem_free(e);
}

/* The live entry of @key, or NULL; expired ones go on the way. */
static const struct cent *cache_get(struct serve_reg *sr, const struct str *key, uint64_t now)
{
	struct list_elem *h;
	struct cent *e;

	while ((h = list_head(&sr->cache_fifo))) {
		e = list_entry(h, struct cent, le);
		if (e->expires > now)
			break;
		cache_drop(sr, e);
	}
	return hash_get(sr->cache, key);
}

/* Remember @err and @val[0..@len) under @key; a failure only loses the entry. */
static void cache_put(struct serve_reg *sr, const struct str *key, int err, const char *val,
		      size_t len, uint64_t now)
{
	struct cent *e;
	struct str k;

	if (len > sizeof(e->val))
		return;
	if (sr->cache_count >= SERVE_REG_CACHE_MAX)
		cache_drop(sr, list_entry(list_head(&sr->cache_fifo), struct cent, le));
	e = mem_zalloc(sizeof(*e) + key->len);
	if (!e)
		return;
	e->expires = now + SERVE_REG_CACHE_MS;
	e->err = err;
	memcpy(e->val, val, len);
	memcpy(e->key, key->p, key->len);
	e->key_len = key->len;
	k = str_make(e->key, e->key_len);
	if (hash_put(sr->cache, &k, e, NULL)) {
		mem_free(e);
		return;
	}
	list_append(&sr->cache_fifo, &e->le);
	sr->cache_count++;
}

/* "@kind" then the parts, '\n'-separated, as written (the store compares
 * exactly too): a cache key. */
static bool cache_key(char *buf, size_t size, char kind, const struct str *a, const struct str *b,
		      struct str *key)
{
	size_t n = 0;
	const struct str *parts[2] = {a, b};

	if (size < 2)
		return false;
	buf[n++] = kind;
	for (int i = 0; i < 2 && parts[i]; i++) {
		if (n + 1 + parts[i]->len > size)
			return false;
		buf[n++] = '\n';
		memcpy(buf + n, parts[i]->p, parts[i]->len);
		n += parts[i]->len;
	}
	*key = str_make(buf, n);
	return true;
}

/* strlcpy: @src cut to fit (the store already bounds what it gave us). */
static void copy_c(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int op_domain(void *arg, const struct str *domain, struct reg_tenant *out)
{
	struct serve_reg *sr = arg;
	uint64_t now = clock_mono_ms();
	struct store_tenant t = {.id = ""};
	const struct cent *e;
	char d[STORE_DOMAIN_SIZE], kb[STORE_DOMAIN_SIZE + 4], val[sizeof(e->val)];
	struct str key;
	size_t idl;
	int err;

	if (!cstr(d, sizeof(d), domain) || !cache_key(kb, sizeof(kb), 'd', domain, NULL, &key))
		return -ENOENT;
	e = cache_get(sr, &key, now);
	if (!e) {
		err = store_tenant_by_domain(sr->st, d, &t);
		if (err && err != -ENOENT)
			return err;
		/* "id\0realm": both fit, the store bounds them. */
		idl = strlen(t.id);
		memcpy(val, t.id, idl + 1);
		snprintf(val + idl + 1, sizeof(val) - idl - 1, "%s", t.domain);
		if (err)
			val[0] = val[1] = '\0';
		cache_put(sr, &key, err, val, sizeof(val), now);
		e = cache_get(sr, &key, now);
		if (!e) { /* not cached (no memory): answer from what was read */
			if (err)
				return err;
			snprintf(out->id, sizeof(out->id), "%s", t.id);
			snprintf(out->realm, sizeof(out->realm), "%s", t.domain);
			return 0;
		}
	}
	if (e->err)
		return e->err;
	copy_c(out->id, sizeof(out->id), e->val);
	copy_c(out->realm, sizeof(out->realm), e->val + strlen(e->val) + 1);
	return 0;
}

static int op_ha1(void *arg, const struct reg_tenant *tenant, const struct str *user,
		  enum auth_hash h, char *out, size_t size)
{
	struct serve_reg *sr = arg;
	uint64_t now = clock_mono_ms();
	char u[STORE_ID_SIZE], ha1[STORE_HA1_SIZE], kb[STORE_DOMAIN_SIZE + STORE_ID_SIZE + 8];
	struct str realm = str_cstr(tenant->realm), key;
	const struct cent *e;
	int err;

	if (h != AUTH_HASH_MD5 && h != AUTH_HASH_SHA256)
		return -ENOENT;
	if (!cstr(u, sizeof(u), user) ||
	    !cache_key(kb, sizeof(kb), h == AUTH_HASH_SHA256 ? 's' : 'm', &realm, user, &key))
		return -ENOENT;
	e = cache_get(sr, &key, now);
	if (!e) {
		err = store_user_get_ha1(sr->st, tenant->realm, u,
					 h == AUTH_HASH_SHA256 ? STORE_HA1_SHA256 : STORE_HA1_MD5,
					 ha1);
		if (err && err != -ENOENT)
			return err;
		if (err)
			ha1[0] = '\0';
		cache_put(sr, &key, err, ha1, sizeof(ha1), now);
		if (err)
			return err;
	} else if (e->err) {
		return e->err;
	} else {
		memcpy(ha1, e->val, STORE_HA1_SIZE);
	}
	if (strlen(ha1) >= size)
		return -ENOSPC;
	memcpy(out, ha1, strlen(ha1) + 1);
	return 0;
}

/* One transaction for a batch, on the writer's connection. */
static void write_batch(struct serve_reg *sr, struct list *batch)
{
	struct list_elem *e, *tmp;
	unsigned n = 0;
	int err = store_begin(sr->wst);

	list_for_each_safe(batch, e, tmp)
	{
		struct pending *p = list_entry(e, struct pending, le);

		if (!err && p->del)
			err = store_binding_del(sr->wst, p->b.tenant_id, p->b.aor, p->b.contact);
		else if (!err)
			err = store_binding_put(sr->wst, &p->b);
		if (err > 0)
			err = 0; /* put/del report whether a row changed */
		list_unlink(&p->le);
		mem_free(p);
		n++;
	}
	if (!err)
		err = store_commit(sr->wst);
	if (err) {
		store_rollback(sr->wst);
		log_error("bindings not stored changes=%u err=%d", n, err);
	}
}

/*
 * The writer: takes everything queued and writes it in one transaction.
 * While a commit waits for the disk, new changes gather, so batches grow
 * with the load by themselves and the event loop never waits for an fsync.
 */
static void *writer_main(void *arg)
{
	struct serve_reg *sr = arg;
	struct list batch;

	list_init(&batch);
	pthread_mutex_lock(&sr->mu);
	for (;;) {
		while (list_empty(&sr->queue) && !sr->stop)
			pthread_cond_wait(&sr->cv, &sr->mu);
		if (list_empty(&sr->queue))
			break; /* stop, and nothing left to write */
		if (!sr->stop) {
			/* Let a batch gather: one commit (fsync, WAL frames, locks)
			 * then serves the changes of SERVE_REG_LINGER_MS, not one. */
			pthread_mutex_unlock(&sr->mu);
			nanosleep(&(struct timespec){.tv_nsec = SERVE_REG_LINGER_MS * 1000000L},
				  NULL);
			pthread_mutex_lock(&sr->mu);
		}
		list_splice_tail(&batch, &sr->queue);
		pthread_mutex_unlock(&sr->mu);
		write_batch(sr, &batch);
		pthread_mutex_lock(&sr->mu);
	}
	pthread_mutex_unlock(&sr->mu);
	return NULL;
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
	pthread_mutex_lock(&sr->mu);
	list_append(&sr->queue, &p->le);
	pthread_cond_signal(&sr->cv); /* no system call unless the writer waits */
	pthread_mutex_unlock(&sr->mu);
}

static void op_saved(void *arg, const struct reg_binding *b)
{
	struct serve_reg *sr = arg;

	enqueue(sr, b, false);
	if (sr->listen)
		sr->listen(sr->listen_arg, b, false);
}

static void op_removed(void *arg, const struct reg_binding *b, enum reg_removed why)
{
	struct serve_reg *sr = arg;

	(void)why;
	enqueue(sr, b, true);
	if (sr->listen)
		sr->listen(sr->listen_arg, b, true);
}

void serve_reg_listen(struct serve_reg *sr, serve_reg_event_h *h, void *arg)
{
	sr->listen = h;
	sr->listen_arg = arg;
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

int serve_reg_alloc(struct serve_reg **srp, struct store *st, const char *db_url,
		    struct timer_wheel *tw, enum reg_digest digest)
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
	char errbuf[256];
	int err;

	sr = mem_zalloc(sizeof(*sr));
	if (!sr)
		return -ENOMEM;
	sr->st = st;
	list_init(&sr->queue);
	list_init(&sr->cache_fifo);
	pthread_mutex_init(&sr->mu, NULL);
	err = hash_alloc(&sr->cache, 0, 0);
	if (err) {
		mem_free(sr);
		return err;
	}
	pthread_cond_init(&sr->cv, NULL);
	err = store_open(&sr->wst, db_url, errbuf, sizeof(errbuf));
	if (err) {
		log_error("cannot open the database for binding writes err=\"%s\"", errbuf);
		goto out;
	}
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
		err = -pthread_create(&sr->writer, NULL, writer_main, sr);
		sr->writer_started = !err;
	}
	if (!err)
		log_info("registrations restored bindings=%u skipped=%u", r.ok, r.gone);
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

void serve_reg_free(struct serve_reg *sr)
{
	if (!sr)
		return;
	reg_free(sr->reg); /* no binding_removed: the stored bindings stay */
	if (sr->writer_started) {
		/* The writer drains the queue before it ends. */
		pthread_mutex_lock(&sr->mu);
		sr->stop = true;
		pthread_cond_signal(&sr->cv);
		pthread_mutex_unlock(&sr->mu);
		pthread_join(sr->writer, NULL);
	}
	store_close(sr->wst);
	while (list_head(&sr->cache_fifo))
		cache_drop(sr, list_entry(list_head(&sr->cache_fifo), struct cent, le));
	hash_free(sr->cache);
	pthread_cond_destroy(&sr->cv);
	pthread_mutex_destroy(&sr->mu);
	mem_free(sr);
}
