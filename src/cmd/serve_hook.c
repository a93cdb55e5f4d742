/*
 * serve_hook: webhooks (see serve_hook.h). The writer fans the API's events
 * out into the store's outbox; the sender POSTs due deliveries with libcurl
 * and records each outcome. Neither ever blocks the event loop: the loop
 * only copies an event into a queue.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define LOG_MODULE "hook"
#include "base/clock.h"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "cmd/serve_hook.h"
#include "store/store.h"

#define WRITER_RETRIES 30   /* seconds the writer retries a refused batch */
#define POLL_MS	       1000 /* the sender looks for retries that fell due */
#define HOOKS_MAX      16   /* webhooks of a tenant: provisioning's limit */

/* An event on its way to the outbox: one allocation, strings behind it. */
struct hook_ev {
	struct list_elem le;
	const char *tenant, *type, *json;
	char event_id[24];
	int64_t time_ms;
	char text[];
};

/* A delivery in flight; free while @easy is NULL. */
struct xfer {
	CURL *easy;
	struct curl_slist *hdrs;
	int64_t id;
	uint32_t attempts;	       /* made before this one */
	char *msg;		       /* "<timestamp>.<body>": signed whole, the body POSTed */
	size_t got;		       /* bytes of the answer read */
	char where[2 * STORE_ID_SIZE]; /* "tenant/webhook", for logs */
};

struct serve_hook {
	struct store *wst, *sst; /* the writer's and the sender's connections */
	pthread_t writer, sender;
	bool writer_started, sender_started, curl_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;  /* events queued, or stop */
	struct list queue;  /* struct hook_ev, under mu */
	size_t nqueued;	    /* under mu */
	bool stop, dropped; /* under mu */
	atomic_bool quit;   /* the sender's stop */
	atomic_bool kick;   /* deliveries were committed: look now */
	CURLM *multi;	    /* the sender's; woken from the other threads */
	struct xfer xfers[SERVE_HOOK_PARALLEL];
	size_t nxfers;
};

/* ---- The writer ---- */

/* The webhooks of a tenant that chose an event's type. */
struct matches {
	const char *type;
	char ids[HOOKS_MAX][STORE_ID_SIZE];
	size_t n;
};

static int match_h(const struct store_webhook *w, void *arg)
{
	struct matches *m = arg;
	char want[80];

	/* @events is canonical JSON from provisioning: an array of type
	 * names, which have nothing to escape, so the quoted name matches
	 * exactly one element. */
	snprintf(want, sizeof(want), "\"%s\"", m->type);
	if (m->n < HOOKS_MAX && (strstr(w->events, want) || strstr(w->events, "\"*\"")))
		snprintf(m->ids[m->n++], STORE_ID_SIZE, "%s", w->id);
	return 0;
}

/* One delivery of @ev per webhook that wants it: how many, or -errno. The
 * webhooks are read first and written after: PostgreSQL cannot run a
 * statement while a list streams. */
static int fan_out(struct store *st, const struct hook_ev *ev)
{
	struct matches m = {.type = ev->type};
	int err = store_webhook_list(st, ev->tenant, match_h, &m);

	for (size_t i = 0; err >= 0 && i < m.n; i++) {
		struct store_outbox o = {
		    .tenant_id = ev->tenant,
		    .webhook_id = m.ids[i],
		    .event_id = ev->event_id,
		    .type = ev->type,
		    .body = ev->json,
		    .created_ms = ev->time_ms,
		    .next_ms = ev->time_ms,
		};

		err = store_outbox_put(st, &o, NULL);
	}
	return err < 0 ? err : (int)m.n;
}

/* @batch in one transaction: the deliveries made, or -errno (rolled back). */
static int write_batch(struct store *st, struct list *batch)
{
	int n = 0, err = store_begin(st);

	for (struct list_elem *e = list_head(batch); !err && e; e = list_next(batch, e)) {
		const struct hook_ev *ev = list_entry(e, struct hook_ev, le);
		int k = fan_out(st, ev);

		if (k == -EINVAL) {
			/* Never storable (not JSON): say so, keep the others. */
			log_warn("event not queued for webhooks tenant=%s type=%s", ev->tenant,
				 ev->type);
			k = 0;
		}
		err = k < 0 ? k : 0;
		n += k > 0 ? k : 0;
	}
	if (!err)
		err = store_commit(st);
	if (err)
		store_rollback(st);
	return err ? err : n;
}

static void events_free(struct list *l)
{
	struct list_elem *e, *tmp;

	list_for_each_safe(l, e, tmp)
	{
		list_unlink(e);
		mem_free(list_entry(e, struct hook_ev, le));
	}
}

/* Store @batch, retrying every second while the database refuses it (its
 * lock held by another process, the disk full); then wake the sender. */
static void write_events(struct serve_hook *h, struct list *batch)
{
	int n;

	for (unsigned i = 0;; i++) {
		n = write_batch(h->wst, batch);
		if (n >= 0 || i == WRITER_RETRIES)
			break;
		if (!i)
			log_error("webhook events not stored, retrying every second events=%zu "
				  "err=%d",
				  list_count(batch), n);
		nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
	}
	if (n < 0)
		log_error("webhook events lost: the outbox refused them for %u s events=%zu err=%d",
			  WRITER_RETRIES, list_count(batch), n);
	events_free(batch);
	if (n > 0) {
		atomic_store(&h->kick, true);
		curl_multi_wakeup(h->multi);
	}
}

static void *writer_main(void *arg)
{
	struct serve_hook *h = arg;
	struct list batch;

	list_init(&batch);
	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (list_empty(&h->queue) && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		if (list_empty(&h->queue))
			break; /* stopping, and everything is written */
		list_splice_tail(&batch, &h->queue);
		h->nqueued = 0;
		pthread_mutex_unlock(&h->mu);
		write_events(h, &batch);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* api_publish() writes the id first: {"id":123,... */
static void event_id(const char *json, char out[24])
{
	size_t n = 0;

	if (!strncmp(json, "{\"id\":", 6)) {
		for (json += 6; n < 20 && *json >= '0' && *json <= '9'; json++)
			out[n++] = *json;
	}
	out[n] = '\0';
}

void serve_hook_event(void *arg, const char *tenant, const char *type, const char *json, size_t len)
{
	struct serve_hook *h = arg;
	size_t tl, yl;
	struct hook_ev *ev;
	char *pos;

	if (!h || !tenant || !*tenant || !type || !json)
		return;
	tl = strlen(tenant) + 1;
	yl = strlen(type) + 1;
	ev = mem_alloc(sizeof(*ev) + tl + yl + len + 1);
	if (!ev) {
		log_warn("event not queued for webhooks: out of memory tenant=%s type=%s", tenant,
			 type);
		return;
	}
	memset(ev, 0, sizeof(*ev));
	pos = ev->text;
	ev->tenant = memcpy(pos, tenant, tl);
	ev->type = memcpy(pos += tl, type, yl);
	ev->json = memcpy(pos += yl, json, len);
	pos[len] = '\0';
	ev->time_ms = (int64_t)clock_real_ms();
	event_id(ev->json, ev->event_id);
	pthread_mutex_lock(&h->mu);
	if (h->nqueued >= SERVE_HOOK_QUEUE_MAX) {
		/* The database has refused the writer for a while: memory is
		 * not the place to wait. Logged once per stall. */
		if (!h->dropped)
			log_error("webhook events dropped: %d waiting for the outbox",
				  SERVE_HOOK_QUEUE_MAX);
		h->dropped = true;
		pthread_mutex_unlock(&h->mu);
		mem_free(ev);
		return;
	}
	h->dropped = false;
	list_append(&h->queue, &ev->le);
	h->nqueued++;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

/* ---- The sender ---- */

/* Only the status counts: the answer is read and dropped, up to a limit
 * (returning less than given makes libcurl stop with CURLE_WRITE_ERROR). */
static size_t on_answer(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	(void)p;
	x->got += size * n;
	return x->got > SERVE_HOOK_RESPONSE_MAX ? 0 : size * n;
}

/* HMAC-SHA256 of @len bytes at @msg under @secret, as 64 lowercase hex digits. */
static int sign(const char *secret, const char *msg, size_t len, char hex[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0;

	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, len, mac,
		  &mlen) ||
	    mlen != 32)
		return -EIO;
	for (unsigned i = 0; i < mlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

static void xfer_reset(struct serve_hook *h, struct xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(h->multi, x->easy);
		curl_easy_cleanup(x->easy);
		h->nxfers--;
	}
	curl_slist_free_all(x->hdrs);
	mem_free(x->msg);
	memset(x, 0, sizeof(*x));
}

static int header(struct curl_slist **l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int header(struct curl_slist **l, const char *fmt, ...)
{
	struct curl_slist *n;
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = curl_slist_append(*l, line);
	if (!n)
		return -ENOMEM;
	*l = n;
	return 0;
}

/* The request of delivery @o into free slot @x, added to the multi handle. */
static int xfer_start(struct serve_hook *h, struct xfer *x, const struct store_outbox *o)
{
	size_t blen = strlen(o->body), tlen;
	char ts[24], mac[65];
	const char *body;
	CURL *e;
	int bad = 0, err;

	tlen = (size_t)snprintf(ts, sizeof(ts), "%" PRIu64, clock_real_ms() / 1000);
	x->msg = mem_alloc(tlen + 1 + blen + 1);
	if (!x->msg)
		return -ENOMEM;
	memcpy(x->msg, ts, tlen);
	x->msg[tlen] = '.';
	memcpy(x->msg + tlen + 1, o->body, blen + 1);
	body = x->msg + tlen + 1;
	err = sign(o->secret, x->msg, tlen + 1 + blen, mac);
	err = err ? err : header(&x->hdrs, "Content-Type: application/json");
	err = err ? err : header(&x->hdrs, "X-Shenggu-Event: %s", o->type);
	err = err ? err : header(&x->hdrs, "X-Shenggu-Delivery: %" PRId64, o->id);
	err = err ? err : header(&x->hdrs, "X-Shenggu-Timestamp: %s", ts);
	err = err ? err : header(&x->hdrs, "X-Shenggu-Signature: sha256=%s", mac);
	err = err ? err : header(&x->hdrs, "Expect:"); /* no 100-continue round trip */
	if (err)
		return err;
	e = curl_easy_init();
	if (!e)
		return -ENOMEM;
	bad |= curl_easy_setopt(e, CURLOPT_URL, o->url) != CURLE_OK;
	/* Provisioning allows only these; libcurl is told as well. */
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs) != CURLE_OK;
	bad |=
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "Shenggu-Webhook/" SHENGGU_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)SERVE_HOOK_TIMEOUT_MS) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK; /* threads */
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_answer) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK;
	if (bad || curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		return -EINVAL;
	}
	x->easy = e;
	x->id = o->id;
	x->attempts = o->attempts;
	snprintf(x->where, sizeof(x->where), "%s/%s", o->tenant_id, o->webhook_id);
	h->nxfers++;
	return 0;
}

/* What a due query found: started, or left for after the query. */
struct due {
	struct serve_hook *h;
	struct {
		int64_t id;
		uint32_t attempts;
	} gone[2 * SERVE_HOOK_PARALLEL];
	size_t ngone;
};

static int due_h(const struct store_outbox *o, void *arg)
{
	struct due *d = arg;
	struct serve_hook *h = d->h;
	struct xfer *x = NULL;
	int err;

	for (size_t i = 0; i < SERVE_HOOK_PARALLEL; i++) {
		if (h->xfers[i].easy && h->xfers[i].id == o->id)
			return 0; /* in flight already */
		if (!h->xfers[i].easy && !x)
			x = &h->xfers[i];
	}
	if (!o->url || !o->secret) {
		/* Its webhook was removed: nowhere to send it. Failed once the
		 * query is over (a list may not write meanwhile). */
		if (d->ngone < sizeof(d->gone) / sizeof(d->gone[0])) {
			d->gone[d->ngone].id = o->id;
			d->gone[d->ngone++].attempts = o->attempts;
		}
		return 0;
	}
	if (!x)
		return 1; /* every slot busy: the rest waits */
	err = xfer_start(h, x, o);
	if (err) {
		log_warn("delivery not started, retried later webhook=%s/%s delivery=%" PRId64
			 " err=%d",
			 o->tenant_id, o->webhook_id, o->id, err);
		xfer_reset(h, x);
	}
	return 0;
}

/* Start the oldest due deliveries that are not in flight, as slots allow. */
static void take_due(struct serve_hook *h)
{
	struct due d = {.h = h};
	int n = store_outbox_due(h->sst, (int64_t)clock_real_ms(),
				 (unsigned)(SERVE_HOOK_PARALLEL + h->nxfers), due_h, &d);

	if (n < 0)
		log_warn("cannot read the webhook outbox err=%d", n);
	for (size_t i = 0; i < d.ngone; i++) {
		int err =
		    store_outbox_fail(h->sst, d.gone[i].id, d.gone[i].attempts, "webhook removed");

		if (err)
			log_warn("delivery not updated delivery=%" PRId64 " err=%d", d.gone[i].id,
				 err);
	}
}

/* Before attempt @attempts + 1: SERVE_HOOK_BACKOFF_MS doubling, capped, +-20%. */
static int64_t backoff_ms(uint32_t attempts)
{
	uint64_t ms = SERVE_HOOK_BACKOFF_MS;
	uint32_t r = 0;

	for (uint32_t i = 1; i < attempts && ms < SERVE_HOOK_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > SERVE_HOOK_BACKOFF_MAX_MS)
		ms = SERVE_HOOK_BACKOFF_MAX_MS;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)clock_mono_ns();
	return (int64_t)(ms - ms / 5 + r % (2 * ms / 5 + 1));
}

/* Record the outcome of @x's attempt and free the slot. */
static void xfer_done(struct serve_hook *h, struct xfer *x, CURLcode res)
{
	uint32_t attempts = x->attempts + 1;
	char why[128];
	long code = 0;
	int err;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	/* A 2xx whose answer was cut at our limit was delivered all the same. */
	if (code >= 200 && code < 300 && (res == CURLE_OK || res == CURLE_WRITE_ERROR)) {
		err = store_outbox_done(h->sst, x->id);
		log_debug("delivered webhook=%s delivery=%" PRId64 " attempts=%u", x->where, x->id,
			  attempts);
	} else {
		if (res != CURLE_OK)
			snprintf(why, sizeof(why), "%s", curl_easy_strerror(res));
		else
			snprintf(why, sizeof(why), "HTTP %ld", code);
		if (attempts >= SERVE_HOOK_ATTEMPTS) {
			err = store_outbox_fail(h->sst, x->id, attempts, why);
			log_warn("delivery failed for good webhook=%s delivery=%" PRId64
				 " attempts=%u err=\"%s\"",
				 x->where, x->id, attempts, why);
		} else {
			int64_t next = (int64_t)clock_real_ms() + backoff_ms(attempts);

			err = store_outbox_retry(h->sst, x->id, attempts, next, why);
			if (attempts == 1)
				log_warn("delivery failed, retrying webhook=%s delivery=%" PRId64
					 " err=\"%s\"",
					 x->where, x->id, why);
		}
	}
	if (err && err != -ENOENT)
		log_warn("delivery outcome not stored, it will be sent again webhook=%s "
			 "delivery=%" PRId64 " err=%d",
			 x->where, x->id, err);
	xfer_reset(h, x);
}

static void *sender_main(void *arg)
{
	struct serve_hook *h = arg;
	uint64_t next_poll = 0;

	while (!atomic_load(&h->quit)) {
		uint64_t now = clock_mono_ms();
		int running = 0, left = 0, timeout;
		CURLMsg *m;

		if (atomic_exchange(&h->kick, false) || now >= next_poll) {
			if (h->nxfers < SERVE_HOOK_PARALLEL)
				take_due(h);
			next_poll = now + POLL_MS;
		}
		curl_multi_perform(h->multi, &running);
		while ((m = curl_multi_info_read(h->multi, &left))) {
			struct xfer *x = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			if (x) {
				xfer_done(h, x, m->data.result);
				next_poll = now; /* a slot is free: more may be due */
			}
		}
		timeout = next_poll > now ? (int)(next_poll - now) : 0;
		curl_multi_poll(h->multi, NULL, 0, timeout, NULL);
	}
	/* Deliveries in flight are abandoned: they stay due in the outbox. */
	for (size_t i = 0; i < SERVE_HOOK_PARALLEL; i++)
		xfer_reset(h, &h->xfers[i]);
	return NULL;
}

/* ---- Life cycle ---- */

int serve_hook_alloc(struct serve_hook **hp, const char *db_url)
{
	struct serve_hook *h;
	char errbuf[256];
	int err = 0;

	if (!hp || !db_url)
		return -EINVAL;
	h = mem_zalloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	list_init(&h->queue);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	atomic_init(&h->quit, false);
	atomic_init(&h->kick, false);
	/* NOTE: not thread-safe against other libcurl users: called from the
	 * loop thread at start-up, before the sender exists. */
	h->curl_started = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	h->multi = h->curl_started ? curl_multi_init() : NULL;
	if (!h->multi) {
		log_error("cannot start libcurl for webhooks");
		err = -ENOMEM;
	}
	if (!err)
		err = store_open(&h->wst, db_url, errbuf, sizeof(errbuf));
	if (!err)
		err = store_open(&h->sst, db_url, errbuf, sizeof(errbuf));
	if (err && h->multi)
		log_error("cannot open the database for webhooks err=\"%s\"", errbuf);
	if (!err) {
		err = -pthread_create(&h->writer, NULL, writer_main, h);
		h->writer_started = !err;
	}
	if (!err) {
		err = -pthread_create(&h->sender, NULL, sender_main, h);
		h->sender_started = !err;
	}
	if (err)
		serve_hook_free(h);
	else
		*hp = h;
	return err;
}

void serve_hook_free(struct serve_hook *h)
{
	if (!h)
		return;
	if (h->writer_started) {
		/* The writer stores what is queued before it ends. */
		pthread_mutex_lock(&h->mu);
		h->stop = true;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->writer, NULL);
	}
	if (h->sender_started) {
		atomic_store(&h->quit, true);
		curl_multi_wakeup(h->multi);
		pthread_join(h->sender, NULL);
	}
	events_free(&h->queue);
	curl_multi_cleanup(h->multi);
	if (h->curl_started)
		curl_global_cleanup();
	store_close(h->wst);
	store_close(h->sst);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	mem_free(h);
}
