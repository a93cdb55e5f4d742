/*
 * serve_call: calls for `shenggu serve`. Binds the B2BUA (src/call) to the
 * directory in the store (numbers, users, trunks), the registrar (contacts
 * and digest authentication of phones), the media engine (src/media, its
 * own threads; its events come back through the loop), the IVR engine
 * (src/ivr) with prompts from text-to-speech or files, the ACD for queue
 * routes (serve_acd.h: music on hold, agents, feature codes), recordings (by the tenant's policy;
 * the files and their repair are serve_rec.h's), and CDRs, written with the
 * recordings' metadata by the journal's thread (serve_journal.h).
 *
 * Prompts: text prompts are rendered by a worker thread (espeak-ng is slow
 * and not reentrant) into the on-disk cache, then kept in memory by text
 * and voice, so the event loop never synthesizes.
 *
 * Threads: everything here runs on the event loop's thread except the
 * prompt worker and the media engine, which hand results back through
 * file descriptors the loop watches.
 */
#ifndef SERVE_CALL_H
#define SERVE_CALL_H

#include <stdbool.h>
#include <sys/socket.h>

#include <jansson.h>

#include "loop/loop.h"
#include "reg/reg.h"
#include "sip/sip_tx.h"
#include "store/store.h"

struct serve_call;
struct serve_acd;
struct serve_journal;

struct serve_call_conf {
	struct sockaddr_storage sip_addr; /* ours: Via, Contact */
	const char *media_addr;		  /* RTP address (literal); NULL: the SIP address */
	uint16_t rtp_min, rtp_max;	  /* 0, 0: the engine's default range */
	const char *data_dir;		  /* recordings/, prompts/ under it */
	const char *db_url;		  /* the journal's own connection (serve_journal.h) */
	uint32_t rtp_timeout_ms;	  /* a leg without RTP ends its call; 0: the engine's */
};

/*
 * Repair and index the recordings a crash left (serve_rec_scan(), before
 * any call), then start the media engine and the prompt worker. @l, @txl,
 * @st and @reg are borrowed and must outlive the result. 0 or -errno (a
 * clear log line says what failed).
 */
int serve_call_alloc(struct serve_call **scp, const struct serve_call_conf *conf, struct loop *l,
		     struct sip_txl *txl, struct store *st, struct reg *reg);
/* End every call (BYE, CDRs written), wait (at most 5 s) for their
 * recordings to close and their metadata to be stored, stop the threads.
 * NULL is fine. */
void serve_call_free(struct serve_call *sc);

/* The ACD the calls go through (borrowed: lives as long as @sc). */
struct serve_acd *serve_call_acd(struct serve_call *sc);
/*
 * The calls of @tenant now, as a JSON array (the caller owns *@out): uuid,
 * caller, answered, queued (the ACD holds it), the agent bridged, the IVR
 * path. 0 or -ENOMEM.
 */
int serve_call_list_json(struct serve_call *sc, const char *tenant, json_t **out);
/* End call @uuid of @tenant (BYE, or 480 when unanswered); with @agent, only
 * a call that agent is on. 0, or -ENOENT (no such call: nothing leaks). */
int serve_call_hangup(struct serve_call *sc, const char *tenant, const char *uuid,
		      const char *agent);
/* The journal that writes CDRs and the like (borrowed, as the ACD). */
struct serve_journal *serve_call_journal(struct serve_call *sc);

/* The transaction layer's request and stray ops, for calls: see call.h. */
bool serve_call_request(struct serve_call *sc, struct sip_tx *st, const struct sip_msg *req,
			const struct sip_peer *src);
void serve_call_stray(struct serve_call *sc, const struct sip_msg *resp,
		      const struct sip_peer *src);

#endif
