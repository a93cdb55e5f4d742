/*
 * serve_journal: the facts `shenggu serve` records as calls go (CDRs,
 * queue_log lines, agents' presence, recordings' metadata), written by a
 * thread of their own on a database connection of their own.
 *
 * The event loop queues a copy of each fact and goes on; the writer takes
 * whatever is queued, after SERVE_JOURNAL_LINGER_MS for more to gather, and
 * writes it in one transaction (one fsync): batches grow with the load, and
 * the loop never waits for the disk (a commit per call on the loop capped
 * calls at the disk's fsync rate and stalled every call behind a slow
 * sync). Facts are written in the order they were queued. A fact reaches
 * the disk within a few milliseconds plus one sync; a kill -9 loses at most
 * the batch in progress and what is queued behind it. A batch the database
 * refuses is retried every second, up to SERVE_JOURNAL_RETRIES times, then
 * dropped with an error line naming what was lost.
 *
 * Threads: the queue functions are the loop's (one producer); the writer
 * frees what it wrote (base/mem's counters are per thread).
 */
#ifndef SERVE_JOURNAL_H
#define SERVE_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define SERVE_JOURNAL_LINGER_MS 5
#define SERVE_JOURNAL_RETRIES	30

struct serve_journal;

/* Open a connection to @db_url and start the writer. 0 or -errno. */
int serve_journal_alloc(struct serve_journal **jp, const char *db_url);
/* Write everything queued, stop the writer, close. NULL is fine. */
void serve_journal_free(struct serve_journal *j);

/* Queue a copy of @c (store_cdr_put). 0 or -ENOMEM. */
int serve_journal_cdr(struct serve_journal *j, const struct store_cdr *c);
/* Queue a queue_log line of @tenant (store_qlog_append). 0 or -ENOMEM. */
int serve_journal_qlog(struct serve_journal *j, const char *tenant, int64_t time_s,
		       const char *line);
/* Queue an agent's presence: @p put when @in, else deleted. 0 or -ENOMEM. */
int serve_journal_presence(struct serve_journal *j, const struct store_presence *p, bool in);
/* Queue a recording's metadata (store_recording_put). 0 or -ENOMEM. */
int serve_journal_recording(struct serve_journal *j, const struct store_recording *r);
/* An audit entry of the API (store_audit_put()): copied, written later. */
int serve_journal_audit(struct serve_journal *j, const struct store_audit *a);

#endif
