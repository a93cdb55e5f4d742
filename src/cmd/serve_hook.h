/*
 * serve_hook: the webhooks of `shenggu serve` (docs/API.md "Webhooks"): every
 * event the API publishes goes, for each of its tenant's webhooks that
 * chose its type, into the store's outbox, and from there is POSTed to the
 * webhook's URL, signed with HMAC-SHA256, until the receiver answers 2xx.
 *
 * Two threads, each with a database connection of its own. The writer
 * takes the events the loop queued (serve_hook_event: a copy, no I/O) and
 * fans them out into the outbox in one transaction per batch: an event is
 * acknowledged once that commit returns, and then survives kill -9 (one
 * still queued in memory at a kill is lost, as a journal's fact). The
 * sender takes due deliveries oldest first, at most SERVE_HOOK_PARALLEL at
 * once (libcurl's multi interface, so one thread waits on all of them),
 * and records each outcome: 2xx deletes the delivery; anything else, or no
 * answer within SERVE_HOOK_TIMEOUT_MS, retries it after a backoff doubling
 * from SERVE_HOOK_BACKOFF_MS up to SERVE_HOOK_BACKOFF_MAX_MS (with +-20%
 * jitter, so a receiver back from an outage is not hit by every delivery
 * in the same second), until SERVE_HOOK_ATTEMPTS attempts were made; then
 * it stays in the outbox with status "failed". At start the sender resumes
 * whatever the outbox holds.
 *
 * Delivery is at least once: a delivery in flight at a stop or a kill, or
 * whose outcome could not be recorded, is sent again; receivers
 * deduplicate by X-Shenggu-Delivery. Deliveries of one webhook may arrive
 * out of order (several are in flight, retries come later).
 *
 * Only http:// and https:// (provisioning checks, and libcurl is told so),
 * no redirect followed (a 3xx is a failure), at most
 * SERVE_HOOK_RESPONSE_MAX bytes of an answer read.
 *
 * Threads: serve_hook_event() is the loop's; alloc and free too.
 */
#ifndef SERVE_HOOK_H
#define SERVE_HOOK_H

#include <stddef.h>

#define SERVE_HOOK_TIMEOUT_MS	  5000
#define SERVE_HOOK_BACKOFF_MS	  5000
#define SERVE_HOOK_BACKOFF_MAX_MS (15 * 60 * 1000)
#define SERVE_HOOK_ATTEMPTS	  12
#define SERVE_HOOK_PARALLEL	  8
#define SERVE_HOOK_RESPONSE_MAX	  65536
#define SERVE_HOOK_QUEUE_MAX	  100000 /* events waiting for the writer */

struct serve_hook;

/* Open two connections to @db_url and start the writer and the sender.
 * 0 or -errno (logged). */
int serve_hook_alloc(struct serve_hook **hp, const char *db_url);
/* Write the events queued, stop both threads (deliveries in flight are
 * abandoned: they stay due), close. NULL is fine. */
void serve_hook_free(struct serve_hook *h);

/*
 * An event the API published (struct api_conf on_event, @arg the
 * serve_hook): @json, the event as the stream sends it, is copied and
 * queued for the writer. Platform events (@tenant NULL or "") have no
 * webhooks.
 */
void serve_hook_event(void *arg, const char *tenant, const char *type, const char *json,
		      size_t len);

#endif
