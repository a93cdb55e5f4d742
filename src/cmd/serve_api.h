/*
 * serve_api: the HTTP side of `shenggu serve` (--http): the http server
 * (src/http) with the API (src/api) on it, fed with the live state of the
 * ACD (agents, queues, calls) and with its events, which become the API's
 * event stream (agent.state, task.*, queue.metrics).
 *
 * Threads: the event loop's.
 */
#ifndef SERVE_API_H
#define SERVE_API_H

#include <stdint.h>

struct loop;
struct store;
struct serve_acd;
struct serve_reg;
struct serve_journal;
struct serve_call;
struct serve_api;

struct serve_api_conf {
	const char *host; /* numeric address */
	uint16_t port;
	const char *web_dir;	       /* static files of the web UI, NULL: none */
	const char *openapi;	       /* the OpenAPI document's file */
	const char *data_dir;	       /* the data folder: recordings */
	struct serve_journal *journal; /* audit entries are written through it */
	struct serve_call *call;       /* the calls: listed, hung up */
	const char *db_url; /* webhooks' own connections (serve_hook.h); NULL: no webhooks */
};

/* 0, or -errno with a one-line reason in @errbuf. Everything is borrowed. */
int serve_api_alloc(struct serve_api **sp, const struct serve_api_conf *conf, struct loop *l,
		    struct store *st, struct serve_acd *acd, struct serve_reg *reg, char *errbuf,
		    size_t errlen);
/* Close every connection: before the loop's last run. NULL is fine. */
void serve_api_stop(struct serve_api *sa);
/* Free, once the loop has run dry (loop_run() returned). NULL is fine. */
void serve_api_free(struct serve_api *sa);

#endif
