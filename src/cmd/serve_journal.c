/*
 * serve_journal: facts written by a thread of their own (see
 * serve_journal.h). Each queued fact is one allocation: the record and
 * copies of its strings behind it.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define LOG_MODULE "journal"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "cmd/serve_journal.h"

enum kind {
	J_CDR,
	J_QLOG,
	J_PRESENCE_PUT,
	J_PRESENCE_DEL,
	J_RECORDING,
	J_AUDIT,
};

struct fact {
	struct list_elem le;
	enum kind kind;
	union {
		struct store_cdr cdr;
		struct {
			const char *tenant, *line;
			int64_t time_s;
		} qlog;
		struct store_presence presence;
		struct store_recording rec;
		struct store_audit audit;
	} u;
	char text[]; /* the strings of u */
};

struct serve_journal {
	struct store *st; /* the writer's own connection */
	pthread_t writer;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* facts queued, or stop */
	struct list queue; /* struct fact, under mu */
	bool stop;
};

static const char *kind_name(enum kind k)
{
	static const char *const names[] = {"CDR",	"queue_log line", "presence",
					    "presence", "recording",	  "audit entry"};

	return names[k];
}

static int write_one(struct store *st, const struct fact *f)
{
	int err;

	switch (f->kind) {
	case J_CDR:
		return store_cdr_put(st, &f->u.cdr);
	case J_QLOG:
		return store_qlog_append(st, f->u.qlog.tenant, f->u.qlog.time_s, f->u.qlog.line);
	case J_PRESENCE_PUT:
		return store_presence_put(st, &f->u.presence);
	case J_PRESENCE_DEL:
		err = store_presence_del(st, f->u.presence.tenant_id, f->u.presence.user_id);
		return err == -ENOENT ? 0 : err;
	case J_RECORDING:
		return store_recording_put(st, &f->u.rec);
	case J_AUDIT:
		return store_audit_put(st, &f->u.audit);
	}
	return -EINVAL;
}

/* One transaction for @batch; 0, or -errno with the batch rolled back. */
static int write_batch(struct serve_journal *j, struct list *batch)
{
	struct list_elem *e;
	int err = store_begin(j->st);

	for (e = list_head(batch); !err && e; e = list_next(batch, e)) {
		const struct fact *f = list_entry(e, struct fact, le);

		err = write_one(j->st, f);
		if (err > 0)
			err = 0; /* puts report whether a row changed */
		if (err == -ENOENT || err == -EINVAL) {
			/* This fact can never be written (its user was deleted
			 * meanwhile): say so and write the others. */
			log_warn("%s not stored err=%d", kind_name(f->kind), err);
			err = 0;
		}
	}
	if (!err)
		err = store_commit(j->st);
	if (err)
		store_rollback(j->st);
	return err;
}

static void batch_free(struct list *batch)
{
	while (!list_empty(batch)) {
		struct list_elem *e = list_head(batch);

		list_unlink(e);
		mem_free(list_entry(e, struct fact, le));
	}
}

/* Write @batch, retrying a refused one every second (the disk full, the
 * database locked by another process) before giving it up. */
static void write_retrying(struct serve_journal *j, struct list *batch)
{
	unsigned n = (unsigned)list_count(batch);
	int err;

	for (unsigned i = 0;; i++) {
		err = write_batch(j, batch);
		if (!err)
			break;
		if (i == SERVE_JOURNAL_RETRIES) {
			log_error("facts lost: the database refused them for %u s facts=%u err=%d",
				  SERVE_JOURNAL_RETRIES, n, err);
			break;
		}
		if (!i)
			log_error("facts not stored, retrying every second facts=%u err=%d", n,
				  err);
		nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
	}
	batch_free(batch);
}

/*
 * The writer: takes everything queued and writes it in one transaction.
 * While a commit waits for the disk, new facts gather, so batches grow with
 * the load by themselves.
 */
static void *writer_main(void *arg)
{
	struct serve_journal *j = arg;
	struct list batch;

	list_init(&batch);
	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (list_empty(&j->queue) && !j->stop)
			pthread_cond_wait(&j->cv, &j->mu);
		if (list_empty(&j->queue))
			break; /* stop, and nothing left to write */
		if (!j->stop) {
			pthread_mutex_unlock(&j->mu);
			nanosleep(&(struct timespec){.tv_nsec = SERVE_JOURNAL_LINGER_MS * 1000000L},
				  NULL);
			pthread_mutex_lock(&j->mu);
		}
		list_splice_tail(&batch, &j->queue);
		pthread_mutex_unlock(&j->mu);
		write_retrying(j, &batch);
		pthread_mutex_lock(&j->mu);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static void enqueue(struct serve_journal *j, struct fact *f)
{
	pthread_mutex_lock(&j->mu);
	list_append(&j->queue, &f->le);
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

static size_t len0(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copy @s to *@pos and return the copy (NULL stays NULL). */
static const char *put(char **pos, const char *s)
{
	char *start = *pos;
	size_t n = len0(s);

	if (!s)
		return NULL;
	memcpy(start, s, n);
	*pos += n;
	return start;
}

static struct fact *fact_alloc(enum kind kind, size_t text)
{
	struct fact *f = mem_alloc(sizeof(*f) + text);

	if (f) {
		memset(f, 0, sizeof(*f));
		f->kind = kind;
	}
	return f;
}

int serve_journal_cdr(struct serve_journal *j, const struct store_cdr *c)
{
	const char *s[] = {c->uuid,	c->tenant_id, c->caller,      c->callee, c->route,
			   c->ivr_path, c->agent,     c->hangup_side, c->cause,	 c->recording};
	size_t n = 0;
	struct fact *f;
	char *pos;

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		n += len0(s[i]);
	f = fact_alloc(J_CDR, n);
	if (!f)
		return -ENOMEM;
	pos = f->text;
	f->u.cdr = *c;
	f->u.cdr.uuid = put(&pos, c->uuid);
	f->u.cdr.tenant_id = put(&pos, c->tenant_id);
	f->u.cdr.caller = put(&pos, c->caller);
	f->u.cdr.callee = put(&pos, c->callee);
	f->u.cdr.route = put(&pos, c->route);
	f->u.cdr.ivr_path = put(&pos, c->ivr_path);
	f->u.cdr.agent = put(&pos, c->agent);
	f->u.cdr.hangup_side = put(&pos, c->hangup_side);
	f->u.cdr.cause = put(&pos, c->cause);
	f->u.cdr.recording = put(&pos, c->recording);
	enqueue(j, f);
	return 0;
}

int serve_journal_qlog(struct serve_journal *j, const char *tenant, int64_t time_s,
		       const char *line)
{
	struct fact *f = fact_alloc(J_QLOG, len0(tenant) + len0(line));
	char *pos;

	if (!f)
		return -ENOMEM;
	pos = f->text;
	f->u.qlog.tenant = put(&pos, tenant);
	f->u.qlog.line = put(&pos, line);
	f->u.qlog.time_s = time_s;
	enqueue(j, f);
	return 0;
}

int serve_journal_presence(struct serve_journal *j, const struct store_presence *p, bool in)
{
	struct fact *f =
	    fact_alloc(in ? J_PRESENCE_PUT : J_PRESENCE_DEL, len0(p->tenant_id) + len0(p->user_id));
	char *pos;

	if (!f)
		return -ENOMEM;
	pos = f->text;
	f->u.presence = *p;
	f->u.presence.tenant_id = put(&pos, p->tenant_id);
	f->u.presence.user_id = put(&pos, p->user_id);
	enqueue(j, f);
	return 0;
}

int serve_journal_recording(struct serve_journal *j, const struct store_recording *r)
{
	struct fact *f = fact_alloc(J_RECORDING, len0(r->path) + len0(r->tenant_id) +
						     len0(r->call_uuid) + len0(r->sha256));
	char *pos;

	if (!f)
		return -ENOMEM;
	pos = f->text;
	f->u.rec = *r;
	f->u.rec.path = put(&pos, r->path);
	f->u.rec.tenant_id = put(&pos, r->tenant_id);
	f->u.rec.call_uuid = put(&pos, r->call_uuid);
	f->u.rec.sha256 = put(&pos, r->sha256);
	enqueue(j, f);
	return 0;
}

int serve_journal_audit(struct serve_journal *j, const struct store_audit *a)
{
	struct fact *f = fact_alloc(J_AUDIT, len0(a->tenant_id) + len0(a->actor) + len0(a->action) +
						 len0(a->object) + len0(a->detail));
	char *pos;

	if (!f)
		return -ENOMEM;
	pos = f->text;
	f->u.audit = *a;
	f->u.audit.tenant_id = a->tenant_id ? put(&pos, a->tenant_id) : NULL;
	f->u.audit.actor = put(&pos, a->actor);
	f->u.audit.action = put(&pos, a->action);
	f->u.audit.object = put(&pos, a->object);
	f->u.audit.detail = put(&pos, a->detail);
	enqueue(j, f);
	return 0;
}

int serve_journal_alloc(struct serve_journal **jp, const char *db_url)
{
	struct serve_journal *j = mem_zalloc(sizeof(*j));
	char errbuf[256];
	int err;

	if (!j)
		return -ENOMEM;
	list_init(&j->queue);
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	err = store_open(&j->st, db_url, errbuf, sizeof(errbuf));
	if (err)
		log_error("cannot open the database for the journal err=\"%s\"", errbuf);
	if (!err) {
		err = -pthread_create(&j->writer, NULL, writer_main, j);
		j->started = !err;
	}
	if (err)
		serve_journal_free(j);
	else
		*jp = j;
	return err;
}

void serve_journal_free(struct serve_journal *j)
{
	if (!j)
		return;
	if (j->started) {
		/* The writer drains the queue before it ends. */
		pthread_mutex_lock(&j->mu);
		j->stop = true;
		pthread_cond_signal(&j->cv);
		pthread_mutex_unlock(&j->mu);
		pthread_join(j->writer, NULL);
	}
	batch_free(&j->queue);
	store_close(j->st);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	mem_free(j);
}
