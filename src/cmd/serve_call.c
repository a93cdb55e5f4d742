/*
 * serve_call: calls for `shenggu serve` (see serve_call.h). Layout: the
 * directory ops over the store and the registrar; the media ops over the
 * engine; prompts (memory cache, the worker thread); the application:
 * routes, the IVR run of a call, music on hold, recording by the tenant's
 * policy; media events; CDRs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <jansson.h>

#define LOG_MODULE "call"
#include "base/clock.h"
#include "base/hash.h"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/tz.h"
#include "call/call.h"
#include "cmd/serve_acd.h"
#include "cmd/serve_call.h"
#include "cmd/serve_journal.h"
#include "cmd/serve_rec.h"
#include "ivr/ivr.h"
#include "media/media_engine.h"
#include "media/moh.h"
#include "media/prompt.h"
#include "media/tts.h"

#define MOH_SECONDS   16
/* A sentence said before hanging up (a feature code's answer, a queue's
 * apology) may not take longer; past it the call ends anyway. */
#define SAY_MAX_MS    15000
#define VOICE	      "en"
/* Play ids of our own prompts: apart from the IVR's and the route's. */
#define PLAY_ANNOUNCE 0x40000001u
/* At shutdown, how long the recordings of the calls just ended may take to
 * close (sync, hash) so that their metadata is stored now, not at the next
 * start. */
#define REC_DRAIN_MS  5000

/* A prompt being rendered by the worker, and who waits for it. */
struct job {
	struct list_elem le;
	char *key; /* voice "\n" text: the prompt cache key */
	char voice[32];
	char *text;
	struct media_audio *audio; /* the result (NULL: failed) */
	struct list waiters;	   /* struct waiter */
};

struct waiter {
	struct list_elem le;
	char uuid[CALL_UUID_SIZE];
	uint32_t play_id;
};

/* A call's application state: its IVR run and what it waits for. */
struct capp {
	struct serve_call *sc;
	struct call *c;
	uint64_t sid;
	char sid_key[17];
	char uuid[CALL_UUID_SIZE];
	struct ivr_flow *flow;
	struct ivr_run *run;
	struct ivr_hours *hours;
	struct tz *tz;
	struct timer tmr;
	uint32_t tmr_id;
	bool routing;		 /* the route's own prompt plays, then the route */
	uint32_t route_play_id;	 /* that prompt */
	struct ivr_action route; /* the ROUTE action (target copied below) */
	char route_target[65];
	char path[IVR_PATH_SIZE]; /* the IVR path at the end, for the CDR */
	uint32_t next_play_id;
	/* The tenant's recording policy, read when the call is routed. */
	bool rec_all;
	json_t *rec_queues;		    /* {"queues": [...]}: the array; NULL otherwise */
	char rec_path[SERVE_REC_PATH_SIZE]; /* relative to the data folder; "" until it records */
	bool queued;			    /* the ACD holds the call */
	char say[160];			    /* what the route's prompt says when made here */
};

/*
 * A recording the engine has not finished yet. NOTE: the call (and its
 * capp) is usually gone when RECORD_DONE comes: the CDR is written at the
 * end of the call, the file is closed, synced and hashed after it.
 */
struct rec {
	char sid_key[17]; /* the key in serve_call.recs */
	char tenant[CALL_TENANT_SIZE];
	char uuid[CALL_UUID_SIZE];
	char path[SERVE_REC_PATH_SIZE];
	uint64_t created_ms;
};

struct serve_call {
	struct serve_call_conf conf;
	char data_dir[1024];
	struct loop *loop;
	struct store *st;
	struct reg *reg;
	struct call_mgr *cm;
	struct media_engine *me;
	struct loop_fd *me_watch;
	struct hash *by_sid;  /* sid_key -> struct capp */
	struct hash *by_uuid; /* uuid -> struct capp */
	struct hash *recs;    /* sid_key -> struct rec, until RECORD_DONE */
	struct media_audio *moh;
	struct tts *tts;
	struct serve_acd *acd;
	struct serve_journal *journal; /* CDRs, recordings, queue_log, presence */
	bool stopping;		       /* calls are being ended: the ACD rings no one */

	/* Prompts: rendered audio by voice "\n" text, and the worker. */
	struct hash *prompts; /* key -> struct media_audio; keys owned in prompt_keys */
	struct list prompt_keys;
	struct hash *jobs; /* key -> struct job, waiting or being rendered */
	pthread_t worker;
	bool worker_started;
	int job_fd; /* eventfd: the worker's results are ready */
	struct loop_fd *job_watch;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct list todo, done; /* struct job, under mu */
	bool stop;
};

/* ---- the directory ---- */

static int copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

/* A stored route ({"ivr": id} ...) into @r. */
static int route_parse(const char *json, struct call_route *r)
{
	static const struct {
		const char *key;
		enum call_route_kind kind;
	} kinds[] = {
	    {"user", CALL_ROUTE_USER},
	    {"ivr", CALL_ROUTE_IVR},
	    {"queue", CALL_ROUTE_QUEUE},
	};
	json_t *root = json_loads(json, 0, NULL);
	int err = -EINVAL;

	if (!root)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *v = json_string_value(json_object_get(root, kinds[i].key));

		if (v) {
			r->kind = kinds[i].kind;
			err = copy_text(r->target, sizeof(r->target), v);
			break;
		}
	}
	if (err && json_object_get(root, "hangup")) {
		r->kind = CALL_ROUTE_HANGUP;
		err = 0;
	}
	json_decref(root);
	return err;
}

static int op_number(void *arg, const struct str *number, struct call_route *out)
{
	struct serve_call *sc = arg;
	struct store_number n;
	struct store_tenant t;
	char num[STORE_NUMBER_SIZE];
	int err;

	/* "+8585100001" and "8585100001" are the same number only if provisioned so. */
	if (number->len >= sizeof(num))
		return -ENOENT;
	str_copy_cstr(num, sizeof(num), number);
	err = store_number_get(sc->st, num, &n);
	if (err)
		return err;
	err = store_tenant_get(sc->st, n.tenant_id, &t);
	if (err)
		return err == -ENOENT ? -EIO : err;
	memset(out, 0, sizeof(*out));
	err = route_parse(n.route, out);
	if (err) {
		log_error("stored route does not parse number=%s", num);
		return -EIO;
	}
	copy_text(out->tenant_id, sizeof(out->tenant_id), t.id);
	return copy_text(out->domain, sizeof(out->domain), t.domain);
}

static int op_user(void *arg, const struct str *domain, const struct str *user,
		   struct call_route *out)
{
	struct serve_call *sc = arg;
	struct store_tenant t;
	char d[STORE_DOMAIN_SIZE], u[STORE_ID_SIZE], ha1[STORE_HA1_SIZE];
	int err;

	if (domain->len >= sizeof(d) || user->len >= sizeof(u))
		return -ENOENT;
	str_copy_cstr(d, sizeof(d), domain);
	str_copy_cstr(u, sizeof(u), user);
	err = store_tenant_by_domain(sc->st, d, &t);
	if (err)
		return err;
	if (u[0] == '*') {
		/* A feature code (serve_acd.h); user ids never start with '*'. */
		memset(out, 0, sizeof(*out));
		out->kind = CALL_ROUTE_FEATURE;
		copy_text(out->tenant_id, sizeof(out->tenant_id), t.id);
		copy_text(out->domain, sizeof(out->domain), t.domain);
		return copy_text(out->target, sizeof(out->target), u);
	}
	/* Users exist as their credentials: one HA1 per algorithm. */
	err = store_user_get_ha1(sc->st, t.domain, u, STORE_HA1_MD5, ha1);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->kind = CALL_ROUTE_USER;
	copy_text(out->tenant_id, sizeof(out->tenant_id), t.id);
	copy_text(out->domain, sizeof(out->domain), t.domain);
	return copy_text(out->target, sizeof(out->target), u);
}

static bool op_trunk(void *arg, const char *tenant_id, const struct sip_peer *src)
{
	struct serve_call *sc = arg;
	int v = store_trunk_allowed(sc->st, tenant_id, (const struct sockaddr *)&src->addr, NULL);

	/* A tenant that lists no trunk takes no calls from outside: its
	 * numbers are reached from its own users only, until it says where
	 * its carriers are. */
	if (v < 0)
		log_warn("trunk lookup failed tenant=%s err=%d", tenant_id, v);
	return v == STORE_TRUNK_ALLOWED;
}

static bool op_is_domain(void *arg, const struct str *domain)
{
	struct serve_call *sc = arg;
	struct store_tenant t;
	char d[STORE_DOMAIN_SIZE];

	if (domain->len >= sizeof(d))
		return false;
	str_copy_cstr(d, sizeof(d), domain);
	return store_tenant_by_domain(sc->st, d, &t) == 0;
}

static int op_auth(void *arg, const struct sip_msg *req, const struct sip_peer *src,
		   char tenant_id[CALL_TENANT_SIZE], struct mbuf *out)
{
	struct serve_call *sc = arg;
	struct reg_tenant t;
	int err = reg_authenticate(sc->reg, req, src, clock_real_ms(), &t, out);

	if (err == 0)
		copy_text(tenant_id, CALL_TENANT_SIZE, t.id);
	return err;
}

struct contacts_ctx {
	call_contact_h *h;
	void *harg;
};

static int contact_cb(const struct reg_binding *b, void *arg)
{
	struct contacts_ctx *cc = arg;
	struct call_contact ct = {.uri = b->contact, .dst = b->src};

	return cc->h(&ct, cc->harg);
}

static int op_contacts(void *arg, const char *domain, const char *user, call_contact_h *h,
		       void *harg)
{
	struct serve_call *sc = arg;
	struct contacts_ctx cc = {h, harg};
	struct str d = str_cstr(domain), u = str_cstr(user);

	return reg_lookup(sc->reg, &d, &u, clock_real_ms(), contact_cb, &cc);
}

/* ---- the media engine ---- */

static int op_media_create(void *arg, uint64_t *sid, struct sockaddr_storage local[2])
{
	struct serve_call *sc = arg;
	struct media_leg_info info[2];
	int err = media_session_create(sc->me, sid, info);

	if (err)
		return err;
	for (int i = 0; i < 2; i++) {
		memset(&local[i], 0, sizeof(local[i]));
		if (info[i].addr4[0]) {
			struct sockaddr_in *in = (void *)&local[i];

			in->sin_family = AF_INET;
			in->sin_port = htons(info[i].rtp_port);
			inet_pton(AF_INET, info[i].addr4, &in->sin_addr);
		} else {
			struct sockaddr_in6 *in6 = (void *)&local[i];

			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons(info[i].rtp_port);
			inet_pton(AF_INET6, info[i].addr6, &in6->sin6_addr);
		}
	}
	return 0;
}

static int op_media_remote(void *arg, uint64_t sid, enum call_leg_id leg,
			   const struct sdp_stream *st)
{
	struct serve_call *sc = arg;
	char ip[INET6_ADDRSTRLEN] = "";
	struct media_remote r = {.te_pt = st->tel_event_pt, .ptime = (uint16_t)st->ptime};

	if (st->remote.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&st->remote;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		r.port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)&st->remote;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		r.port = ntohs(in6->sin6_port);
	}
	if (st->rtcp.ss_family == AF_INET)
		r.rtcp_port =
		    ntohs(((const struct sockaddr_in *)(const void *)&st->rtcp)->sin_port);
	else if (st->rtcp.ss_family == AF_INET6)
		r.rtcp_port =
		    ntohs(((const struct sockaddr_in6 *)(const void *)&st->rtcp)->sin6_port);
	r.addr = str_cstr(ip);
	r.pt = (uint8_t)st->pt;
	if (r.ptime % 10 || r.ptime > 120)
		r.ptime = 0;
	/* The remote's direction: its sendonly is our "it only sends". */
	switch (st->dir) {
	case SDP_DIR_SENDONLY:
		r.dir = MEDIA_DIR_SENDONLY;
		break;
	case SDP_DIR_RECVONLY:
		r.dir = MEDIA_DIR_RECVONLY;
		break;
	case SDP_DIR_INACTIVE:
		r.dir = MEDIA_DIR_INACTIVE;
		break;
	default:
		r.dir = st->hold ? MEDIA_DIR_INACTIVE : MEDIA_DIR_SENDRECV;
		break;
	}
	return media_leg_remote(sc->me, sid, leg == CALL_LEG_A ? MEDIA_LEG_A : MEDIA_LEG_B, &r);
}

static int op_media_bridge(void *arg, uint64_t sid, bool on)
{
	struct serve_call *sc = arg;

	/* The caller may hear music or a prompt until now. */
	media_play_stop(sc->me, sid, MEDIA_LEG_A);
	return media_bridge(sc->me, sid, on);
}

static void op_media_destroy(void *arg, uint64_t sid)
{
	struct serve_call *sc = arg;

	media_session_destroy(sc->me, sid);
}

/* ---- prompts ---- */

/* The worker: renders text prompts, one after the other. */
static void *worker_main(void *arg)
{
	struct serve_call *sc = arg;
	struct list_elem *e;
	uint64_t one = 1;

	/* espeak-ng's data and thread now, not during the first call. */
	if (tts_warm(sc->tts))
		log_warn("text prompts unavailable: espeak-ng does not start");
	pthread_mutex_lock(&sc->mu);
	for (;;) {
		while (list_empty(&sc->todo) && !sc->stop)
			pthread_cond_wait(&sc->cv, &sc->mu);
		if (sc->stop)
			break;
		e = list_head(&sc->todo);
		list_unlink(e);
		pthread_mutex_unlock(&sc->mu);
		{
			struct job *j = list_entry(e, struct job, le);
			int16_t *pcm = NULL;
			size_t n = 0;
			int err = tts_render(sc->tts, j->voice, j->text, &pcm, &n);

			if (!err)
				err = media_audio_alloc(&j->audio, pcm, n);
			if (err)
				log_warn("text prompt not rendered voice=%s err=%d", j->voice, err);
			mem_free(pcm);
		}
		pthread_mutex_lock(&sc->mu);
		list_append(&sc->done, e);
		if (write(sc->job_fd, &one, sizeof(one)) != sizeof(one))
			log_warn("prompt worker cannot wake the loop");
	}
	pthread_mutex_unlock(&sc->mu);
	return NULL;
}

static void job_free(struct job *j)
{
	struct list_elem *e, *tmp;

	list_for_each_safe(&j->waiters, e, tmp)
	{
		list_unlink(e);
		mem_free(list_entry(e, struct waiter, le));
	}
	media_audio_unref(j->audio);
	mem_free(j->key);
	mem_free(j->text);
	mem_free(j);
}

static void play_audio(struct capp *a, struct media_audio *audio, uint32_t play_id);

/* The worker's results: cache them and play them to whoever still waits. */
static void on_jobs(void *arg)
{
	struct serve_call *sc = arg;
	struct list done;
	struct list_elem *e, *tmp;
	uint64_t v;

	if (read(sc->job_fd, &v, sizeof(v)) < 0)
		return;
	list_init(&done);
	pthread_mutex_lock(&sc->mu);
	list_splice_tail(&done, &sc->done);
	pthread_mutex_unlock(&sc->mu);
	list_for_each_safe(&done, e, tmp)
	{
		struct job *j = list_entry(e, struct job, le);
		struct str key = str_cstr(j->key);
		struct list_elem *w, *wtmp;

		list_unlink(e);
		hash_del(sc->jobs, &key);
		list_for_each_safe(&j->waiters, w, wtmp)
		{
			struct waiter *wt = list_entry(w, struct waiter, le);
			struct str u = str_cstr(wt->uuid);
			struct capp *a = hash_get(sc->by_uuid, &u);

			if (a && j->audio)
				play_audio(a, j->audio, wt->play_id);
		}
		if (j->audio) {
			struct job *keep = j;

			/* The job's key string becomes the cache's. */
			if (!hash_put(sc->prompts, &key, keep->audio, NULL)) {
				keep->audio = NULL;
				list_append(&sc->prompt_keys, &keep->le);
				list_for_each_safe(&keep->waiters, w, wtmp)
				{
					list_unlink(w);
					mem_free(list_entry(w, struct waiter, le));
				}
				continue;
			}
		}
		job_free(j);
	}
}

/* Play @audio to the caller as @play_id. */
static void play_audio(struct capp *a, struct media_audio *audio, uint32_t play_id)
{
	int err = media_play(a->sc->me, a->sid, MEDIA_LEG_A, audio, false, play_id);

	if (err)
		log_warn("prompt not played uuid=%s err=%d", a->uuid, err);
}

/* A file prompt: <data>/media/<tenant>/<path>, loaded once. */
static int prompt_file(struct serve_call *sc, struct capp *a, const char *rel,
		       struct media_audio **audiop)
{
	char path[2048], key[2100];
	struct str k;
	struct media_audio *audio;
	int16_t *pcm = NULL;
	size_t n = 0;
	int err;

	snprintf(key, sizeof(key), "file\n%s\n%s", call_tenant(a->c), rel);
	k = str_cstr(key);
	audio = hash_get(sc->prompts, &k);
	if (audio) {
		*audiop = audio;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/media/%s/%s", sc->data_dir, call_tenant(a->c), rel);
	err = prompt_load_file(path, &pcm, &n);
	if (!err)
		err = media_audio_alloc(&audio, pcm, n);
	mem_free(pcm);
	if (err)
		return err;
	{
		struct job *holder = mem_zalloc(sizeof(*holder));

		if (holder)
			holder->key = mem_alloc(strlen(key) + 1);
		if (!holder || !holder->key) {
			mem_free(holder);
			*audiop = audio; /* played once, not cached */
			return 1;
		}
		memcpy(holder->key, key, strlen(key) + 1);
		list_init(&holder->waiters);
		k = str_cstr(holder->key);
		if (hash_put(sc->prompts, &k, audio, NULL)) {
			mem_free(holder->key);
			mem_free(holder);
			*audiop = audio;
			return 1;
		}
		list_append(&sc->prompt_keys, &holder->le);
	}
	*audiop = audio;
	return 0;
}

/* Start prompt @p for @a as @play_id: now when it is at hand, else when rendered. */
static void prompt_play(struct capp *a, const struct ivr_prompt *p, uint32_t play_id)
{
	struct serve_call *sc = a->sc;
	struct media_audio *audio = NULL;
	struct waiter *w = NULL;
	struct job *j = NULL;
	char *key = NULL;
	struct str k;
	int err;

	if (p->kind == IVR_PROMPT_FILE) {
		err = prompt_file(sc, a, p->text, &audio);
		if (err < 0) {
			log_warn("file prompt not loaded uuid=%s file=%s err=%d", a->uuid, p->text,
				 err);
			return;
		}
		play_audio(a, audio, play_id);
		if (err == 1)
			media_audio_unref(audio);
		return;
	}
	if (strlen(p->voice) >= sizeof(j->voice))
		return;
	key = mem_alloc(strlen(p->voice) + strlen(p->text) + 2);
	if (!key)
		return;
	sprintf(key, "%s\n%s", p->voice, p->text);
	k = str_cstr(key);
	audio = hash_get(sc->prompts, &k);
	if (audio) {
		mem_free(key);
		play_audio(a, audio, play_id);
		return;
	}
	w = mem_zalloc(sizeof(*w));
	if (!w)
		goto fail;
	memcpy(w->uuid, a->uuid, sizeof(w->uuid));
	w->play_id = play_id;
	j = hash_get(sc->jobs, &k);
	if (j) {
		/* Being rendered for another call: wait for the same job. */
		mem_free(key);
		list_append(&j->waiters, &w->le);
		return;
	}
	j = mem_zalloc(sizeof(*j));
	if (!j)
		goto fail;
	list_init(&j->waiters);
	j->text = mem_alloc(strlen(p->text) + 1);
	if (!j->text)
		goto fail;
	memcpy(j->text, p->text, strlen(p->text) + 1);
	memcpy(j->voice, p->voice, strlen(p->voice) + 1);
	j->key = key;
	key = NULL;
	list_append(&j->waiters, &w->le);
	w = NULL;
	if (hash_put(sc->jobs, &k, j, NULL))
		goto fail;
	pthread_mutex_lock(&sc->mu);
	list_append(&sc->todo, &j->le);
	pthread_cond_signal(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
	return;
fail:
	log_warn("prompt not played: out of memory uuid=%s", a->uuid);
	if (j)
		job_free(j);
	mem_free(w);
	mem_free(key);
}

/* ---- the application ---- */

static void capp_free(struct capp *a)
{
	struct serve_call *sc = a->sc;
	struct str k;

	timer_cancel(&a->tmr);
	k = str_cstr(a->sid_key);
	hash_del(sc->by_sid, &k);
	k = str_cstr(a->uuid);
	hash_del(sc->by_uuid, &k);
	ivr_run_free(a->run);
	ivr_flow_free(a->flow);
	ivr_hours_free(a->hours);
	tz_free(a->tz);
	json_decref(a->rec_queues);
	mem_free(a);
}

static void run_actions(struct capp *a, const struct ivr_action *acts, int n);
static void ivr_start(struct capp *a, const char *flow_id);

static void ivr_timer_h(void *arg)
{
	struct capp *a = arg;
	struct ivr_action acts[IVR_ACTIONS_MAX];
	struct ivr_event ev = {
	    .type = IVR_EV_TIMER, .id = a->tmr_id, .now = clock_real_ms() / 1000};

	run_actions(a, acts, ivr_run_step(a->run, &ev, acts, IVR_ACTIONS_MAX));
}

/* Load flow @id of the call's tenant. 0 or -errno. */
static int flow_load(struct capp *a, const char *id, struct ivr_flow **flowp)
{
	char *json = NULL;
	int err = store_ivr_get(a->sc->st, call_tenant(a->c), id, &json);

	if (err)
		return err;
	err = ivr_flow_load(flowp, json);
	mem_free(json);
	return err;
}

/* The caller waits with music: a queue until the ACD (M4) takes calls. */
static void hold_music(struct capp *a)
{
	if (a->sc->moh)
		media_play(a->sc->me, a->sid, MEDIA_LEG_A, a->sc->moh, true, 0);
}

/* ---- recording ---- */

/* The tenant's recording policy into @a; a missing or odd one records nothing. */
static void rec_policy_load(struct capp *a)
{
	char *json = NULL;
	json_t *j;
	int err = store_tenant_recording_get(a->sc->st, call_tenant(a->c), &json);

	if (err) {
		if (err != -ENOENT)
			log_warn("recording policy unreadable uuid=%s err=%d", a->uuid, err);
		return;
	}
	j = json_loads(json, JSON_DECODE_ANY, NULL);
	mem_free(json);
	if (json_is_string(j))
		a->rec_all = !strcmp(json_string_value(j), "all");
	else if (json_is_array(json_object_get(j, "queues")))
		a->rec_queues = json_incref(json_object_get(j, "queues"));
	json_decref(j);
}

/* Does the policy record calls that reach queue @id? */
static bool rec_queue_listed(const struct capp *a, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(a->rec_queues, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), id))
			return true;
	}
	return false;
}

/* Record the call from now on, into a new file (one per call). The CDR
 * names the file from here, since it is written before the file closes;
 * the metadata row waits for RECORD_DONE. */
static void rec_start(struct capp *a)
{
	struct serve_call *sc = a->sc;
	char abs[sizeof(sc->data_dir) + SERVE_REC_PATH_SIZE + 1];
	struct rec *r, *old = NULL;
	struct str k;
	int err;

	if (a->rec_path[0])
		return; /* already recording: "all", then a listed queue */
	r = mem_zalloc(sizeof(*r));
	if (!r) {
		log_error("recording not started uuid=%s: out of memory", a->uuid);
		return;
	}
	memcpy(r->sid_key, a->sid_key, sizeof(r->sid_key));
	copy_text(r->tenant, sizeof(r->tenant), call_tenant(a->c));
	memcpy(r->uuid, a->uuid, sizeof(r->uuid));
	r->created_ms = clock_real_ms();
	err = serve_rec_path(sc->data_dir, r->tenant, r->uuid, r->created_ms, r->path, abs,
			     sizeof(abs));
	if (err) {
		log_error("recording not started uuid=%s: no folder for it err=\"%s\"", a->uuid,
			  strerror(-err));
		mem_free(r);
		return;
	}
	k = str_cstr(r->sid_key);
	err = hash_put(sc->recs, &k, r, (void **)&old);
	if (err) {
		log_error("recording not started uuid=%s: out of memory", a->uuid);
		mem_free(r);
		return;
	}
	/* Never there (one recording per call, and session ids are not
	 * reused); were it, the newer recording is the one to track. */
	mem_free(old);
	err = media_record_start(sc->me, a->sid, abs);
	if (err) {
		log_error("recording not started uuid=%s path=%s err=\"%s\"", a->uuid, r->path,
			  strerror(-err));
		hash_del(sc->recs, &k);
		mem_free(r);
		return;
	}
	memcpy(a->rec_path, r->path, sizeof(a->rec_path));
	log_info("call recording uuid=%s path=%s", a->uuid, a->rec_path);
}

/* The engine closed a recording: its metadata goes to the store, whether
 * or not the call is still there. */
static void rec_done(struct serve_call *sc, const struct str *key, const struct media_event *ev)
{
	struct rec *r = hash_del(sc->recs, key);
	struct store_recording row;
	int err;

	if (!r) {
		log_warn("recording closed for no known call path=%s", ev->record.path);
		return;
	}
	if (ev->record.err) {
		/* What reached the disk is still a recording: the next start
		 * repairs and indexes it. */
		log_error("recording failed uuid=%s path=%s err=\"%s\"", r->uuid, r->path,
			  strerror(-ev->record.err));
		goto out;
	}
	row = (struct store_recording){
	    .path = r->path,
	    .tenant_id = r->tenant,
	    .call_uuid = r->uuid,
	    .duration_ms = (int64_t)ev->record.duration_ms,
	    .bytes = (int64_t)ev->record.bytes,
	    .sha256 = ev->record.sha256,
	    .created_ms = (int64_t)r->created_ms,
	};
	err = serve_journal_recording(sc->journal, &row);
	if (err)
		log_error("recording metadata not stored uuid=%s path=%s err=%d", r->uuid, r->path,
			  err);
	else
		log_info("call recording done uuid=%s path=%s duration_ms=%llu", r->uuid, r->path,
			 (unsigned long long)ev->record.duration_ms);
out:
	mem_free(r);
}

static void route_now(struct capp *a, enum ivr_route_kind kind, const char *target)
{
	struct ivr_action acts[IVR_ACTIONS_MAX];
	struct ivr_flow *flow = NULL;
	int err;

	if (a->run)
		snprintf(a->path, sizeof(a->path), "%s", ivr_run_path(a->run));
	switch (kind) {
	case IVR_ROUTE_QUEUE:
		log_info("call queued uuid=%s queue=%s", a->uuid, target);
		if (rec_queue_listed(a, target))
			rec_start(a);
		hold_music(a);
		a->queued = true;
		err = serve_acd_enqueue(
		    a->sc->acd, call_tenant(a->c), target, a->uuid, call_caller(a->c),
		    serve_acd_priority(a->run ? ivr_run_var_get(a->run, "priority") : NULL));
		if (err) {
			log_warn("call not queued uuid=%s queue=%s err=%d", a->uuid, target, err);
			call_hangup(a->c, err == -ENOENT ? 404 : 503, "queue-error");
		}
		return;
	case IVR_ROUTE_USER:
		hold_music(a); /* the caller hears music while the phone rings */
		err = call_dial_user(a->c, target, 0);
		if (err) {
			log_info("call to user without phone uuid=%s user=%s err=%d", a->uuid,
				 target, err);
			call_hangup(a->c, 480, "no-contact");
		}
		return;
	case IVR_ROUTE_HANGUP:
		call_hangup(a->c, 480, "ivr-hangup");
		return;
	case IVR_ROUTE_IVR:
		if (!a->run) {
			ivr_start(a, target); /* a queue overflows to a flow */
			return;
		}
		err = flow_load(a, target, &flow);
		if (err) {
			log_warn("IVR flow missing uuid=%s flow=%s err=%d", a->uuid, target, err);
			call_hangup(a->c, 500, "ivr-missing");
			return;
		}
		ivr_flow_free(a->flow);
		a->flow = flow;
		run_actions(
		    a, acts,
		    ivr_run_enter(a->run, a->flow, clock_real_ms() / 1000, acts, IVR_ACTIONS_MAX));
		return;
	}
}

static void run_actions(struct capp *a, const struct ivr_action *acts, int n)
{
	if (n < 0) {
		log_warn("IVR failed uuid=%s err=%d", a->uuid, n);
		call_hangup(a->c, 500, "ivr-error");
		return;
	}
	for (int i = 0; i < n; i++) {
		const struct ivr_action *x = &acts[i];

		switch (x->type) {
		case IVR_ACT_PLAY:
			prompt_play(a, &x->prompt, x->id);
			break;
		case IVR_ACT_STOP_PLAY:
			media_play_stop(a->sc->me, a->sid, MEDIA_LEG_A);
			break;
		case IVR_ACT_START_TIMER:
			a->tmr_id = x->id;
			timer_start(loop_timers(a->sc->loop), &a->tmr, x->ms, ivr_timer_h, a);
			break;
		case IVR_ACT_CANCEL_TIMER:
			timer_cancel(&a->tmr);
			break;
		case IVR_ACT_ROUTE:
			timer_cancel(&a->tmr);
			snprintf(a->route_target, sizeof(a->route_target), "%s",
				 x->target ? x->target : "");
			if (x->prompt.text) {
				/* Its own prompt first (a goodbye, "please hold"). */
				a->routing = true;
				a->route = *x;
				a->route_play_id = 0x80000000u | ++a->next_play_id;
				prompt_play(a, &x->prompt, a->route_play_id);
			} else {
				route_now(a, x->route, a->route_target);
			}
			return; /* the run is over, or another flow took over */
		}
	}
}

/* The tenant's calendar and zone for hours nodes; missing ones mean always open, UTC. */
static void calendar_load(struct capp *a)
{
	char *json = NULL;
	struct store_tenant t;

	if (!store_tenant_calendar_get(a->sc->st, call_tenant(a->c), &json) && json) {
		if (ivr_hours_load(&a->hours, json))
			a->hours = NULL;
		mem_free(json);
	}
	if (!store_tenant_get(a->sc->st, call_tenant(a->c), &t) && t.timezone[0] &&
	    tz_load(&a->tz, "/usr/share/zoneinfo", t.timezone))
		a->tz = NULL;
}

static void ivr_start(struct capp *a, const char *flow_id)
{
	struct ivr_action acts[IVR_ACTIONS_MAX];
	struct ivr_ctx ctx;
	struct ivr_event ev = {.type = IVR_EV_START, .now = clock_real_ms() / 1000};
	int err = flow_load(a, flow_id, &a->flow);

	if (err) {
		log_warn("IVR flow missing uuid=%s flow=%s err=%d", a->uuid, flow_id, err);
		call_hangup(a->c, 500, "ivr-missing");
		return;
	}
	calendar_load(a);
	ctx = (struct ivr_ctx){.tz = a->tz, .hours = a->hours};
	err = ivr_run_alloc(&a->run, a->flow, &ctx);
	if (err) {
		call_hangup(a->c, 500, "ivr-error");
		return;
	}
	run_actions(a, acts, ivr_run_step(a->run, &ev, acts, IVR_ACTIONS_MAX));
}

static void say_timeout_h(void *arg)
{
	struct capp *a = arg;

	call_hangup(a->c, 480, "said");
}

/* Say @text, then hang up (the route mechanism of IVR routes: its own
 * prompt, then the route). */
static void say_then_hangup(struct capp *a, const char *text)
{
	snprintf(a->say, sizeof(a->say), "%s", text);
	memset(&a->route, 0, sizeof(a->route));
	a->route.type = IVR_ACT_ROUTE;
	a->route.route = IVR_ROUTE_HANGUP;
	a->route.prompt.kind = IVR_PROMPT_TTS;
	a->route.prompt.text = a->say;
	a->route.prompt.voice = VOICE;
	a->route_target[0] = '\0';
	a->routing = true;
	a->route_play_id = 0x80000000u | ++a->next_play_id;
	timer_start(loop_timers(a->sc->loop), &a->tmr, SAY_MAX_MS, say_timeout_h, a);
	prompt_play(a, &a->route.prompt, a->route_play_id);
}

/* ---- the ACD's requests ---- */

static struct capp *capp_by_uuid(struct serve_call *sc, const char *uuid)
{
	struct str k = str_cstr(uuid);

	return hash_get(sc->by_uuid, &k);
}

static int acd_offer(void *arg, const char *uuid, const char *user, uint32_t ring_s)
{
	struct serve_call *sc = arg;
	struct capp *a = capp_by_uuid(sc, uuid);

	if (sc->stopping)
		return 0; /* the engine goes with the calls */
	return a ? call_dial_user(a->c, user, ring_s) : -ENOENT;
}

static void acd_cancel(void *arg, const char *uuid, const char *user)
{
	struct capp *a = capp_by_uuid(arg, uuid);

	if (a)
		call_dial_cancel(a->c, user);
}

static void acd_exit(void *arg, const char *uuid, enum serve_acd_exit kind, const char *target)
{
	struct capp *a = capp_by_uuid(arg, uuid);

	if (!a)
		return;
	a->queued = false;
	switch (kind) {
	case SERVE_ACD_EXIT_USER:
		log_info("call leaves its queue for a user uuid=%s user=%s", uuid, target);
		route_now(a, IVR_ROUTE_USER, target);
		return;
	case SERVE_ACD_EXIT_IVR:
		log_info("call leaves its queue for a flow uuid=%s flow=%s", uuid, target);
		route_now(a, IVR_ROUTE_IVR, target);
		return;
	case SERVE_ACD_EXIT_HANGUP:
		break;
	}
	log_info("call leaves its queue uuid=%s", uuid);
	say_then_hangup(a, "We are sorry, no one can take your call now. Please call again later.");
}

static void acd_announce(void *arg, const char *uuid, uint32_t position, uint32_t ewt_s)
{
	struct capp *a = capp_by_uuid(arg, uuid);
	struct ivr_prompt p = {.kind = IVR_PROMPT_TTS, .voice = VOICE};
	char text[160];
	uint32_t min = (ewt_s + 59) / 60;

	if (!a || !a->queued || a->routing)
		return;
	if (ewt_s)
		snprintf(text, sizeof(text),
			 "You are number %u in the queue. Your expected wait is about %u minute%s.",
			 position, min, min == 1 ? "" : "s");
	else
		snprintf(text, sizeof(text), "You are number %u in the queue.", position);
	p.text = text;
	prompt_play(a, &p, PLAY_ANNOUNCE);
}

static const struct serve_acd_ops acd_ops = {
    .offer = acd_offer,
    .cancel = acd_cancel,
    .exit = acd_exit,
    .announce = acd_announce,
};

/* An agent dialled a feature code: do it, say how it went, hang up. */
static void feature(struct capp *a, const char *code)
{
	enum serve_acd_feature f;
	uint32_t reason;
	char say[128];

	if (serve_acd_feature_parse(code, &f, &reason)) {
		call_hangup(a->c, 404, "no-feature");
		return;
	}
	if (call_answer(a->c))
		return;
	serve_acd_feature(a->sc->acd, call_tenant(a->c), call_caller(a->c), f, reason, say,
			  sizeof(say));
	log_info("agent feature uuid=%s agent=%s code=%s: %s", a->uuid, call_caller(a->c), code,
		 say);
	say_then_hangup(a, say);
}

static void op_routed(void *arg, struct call *c, const struct call_route *r)
{
	struct serve_call *sc = arg;
	struct capp *a = mem_zalloc(sizeof(*a));
	struct str k;
	int err;

	if (!a) {
		call_hangup(c, 503, "no-memory");
		return;
	}
	a->sc = sc;
	a->c = c;
	a->sid = call_media_sid(c);
	timer_init(&a->tmr);
	snprintf(a->sid_key, sizeof(a->sid_key), "%016llx", (unsigned long long)a->sid);
	memcpy(a->uuid, call_uuid(c), sizeof(a->uuid));
	k = str_cstr(a->sid_key);
	err = hash_put(sc->by_sid, &k, a, NULL);
	if (!err) {
		k = str_cstr(a->uuid);
		err = hash_put(sc->by_uuid, &k, a, NULL);
		if (err) {
			k = str_cstr(a->sid_key);
			hash_del(sc->by_sid, &k);
		}
	}
	if (err) {
		mem_free(a);
		call_hangup(c, 503, "no-memory");
		return;
	}
	call_set_app(c, a);
	rec_policy_load(a);
	switch (r->kind) {
	case CALL_ROUTE_USER:
		/* Ringing the phones; the caller is answered when one answers. */
		err = call_dial_user(c, r->target, 0);
		if (err)
			call_hangup(c, err == -ENOENT ? 480 : 500,
				    err == -ENOENT ? "no-contact" : "error");
		return;
	case CALL_ROUTE_IVR:
		if (call_answer(c))
			return;
		if (a->rec_all)
			rec_start(a);
		ivr_start(a, r->target);
		return;
	case CALL_ROUTE_QUEUE:
		if (call_answer(c))
			return;
		if (a->rec_all)
			rec_start(a);
		route_now(a, IVR_ROUTE_QUEUE, r->target);
		return;
	case CALL_ROUTE_FEATURE:
		feature(a, r->target);
		return;
	case CALL_ROUTE_HANGUP:
	case CALL_ROUTE_NONE:
		call_hangup(c, 480, "route-hangup");
		return;
	}
}

/* A phone answered: a caller routed straight to a user is answered now. */
static void op_connected(void *arg, struct call *c)
{
	struct capp *a = call_app(c);

	(void)arg;
	if (!a)
		return;
	/* The music (or a prompt) stops: bridged audio is dropped while a leg plays. */
	media_play_stop(a->sc->me, a->sid, MEDIA_LEG_A);
	if (a->rec_all)
		rec_start(a);
	if (a->queued)
		serve_acd_answered(a->sc->acd, call_tenant(c), a->uuid, call_agent(c));
}

static void op_dial_failed(void *arg, struct call *c, const char *user, unsigned status)
{
	struct serve_call *sc = arg;
	struct capp *a = call_app(c);

	if (a && a->queued) {
		/* The caller waits on: the task goes back to its place. */
		serve_acd_ring_failed(sc->acd, call_tenant(c), a->uuid, user);
		return;
	}
	call_hangup(c, status, status == 486 ? "busy" : "no-answer");
}

/* ---- CDRs ---- */

static const char *side_name(enum call_end_side side)
{
	switch (side) {
	case CALL_END_CALLER:
		return "caller";
	case CALL_END_CALLEE:
		return "callee";
	case CALL_END_SYSTEM:
		break;
	}
	return "system";
}

static void op_ended(void *arg, struct call *c, const struct call_cdr *cdr)
{
	struct serve_call *sc = arg;
	struct capp *a = call_app(c);
	struct store_cdr r = {
	    .uuid = cdr->uuid,
	    .tenant_id = cdr->tenant_id,
	    .caller = cdr->caller,
	    .callee = cdr->callee,
	    .route = cdr->route,
	    .agent = cdr->agent,
	    .ivr_path = "",
	    .start_ms = (int64_t)cdr->start_ms,
	    .answer_ms = (int64_t)cdr->answer_ms,
	    .bridge_ms = (int64_t)cdr->bridge_ms,
	    .end_ms = (int64_t)cdr->end_ms,
	    .hangup_side = side_name(cdr->side),
	    .status = cdr->status,
	    .cause = cdr->cause,
	    .recording = "",
	};
	int err;

	if (a && a->queued)
		serve_acd_ended(sc->acd, cdr->tenant_id, a->uuid, cdr->side == CALL_END_CALLEE);
	if (a) {
		if (a->run && !a->path[0])
			snprintf(a->path, sizeof(a->path), "%s", ivr_run_path(a->run));
		r.ivr_path = a->path;
		r.recording = a->rec_path;
	}
	/* Unanswered calls refused before routing (404, 403...) have no tenant
	 * in a CDR's sense: only calls that entered a tenant are recorded. */
	if (cdr->tenant_id[0]) {
		err = serve_journal_cdr(sc->journal, &r);
		if (err)
			log_error("CDR not stored uuid=%s err=%d", cdr->uuid, err);
	}
	if (a)
		capp_free(a);
}

/* ---- media events ---- */

static void on_media_event(void *arg, const struct media_event *ev)
{
	struct serve_call *sc = arg;
	char key[17];
	struct str k;
	struct capp *a;
	struct ivr_action acts[IVR_ACTIONS_MAX];
	struct ivr_event iev = {.now = clock_real_ms() / 1000};

	snprintf(key, sizeof(key), "%016llx", (unsigned long long)ev->session);
	k = str_cstr(key);
	a = hash_get(sc->by_sid, &k);
	switch (ev->type) {
	case MEDIA_EV_RTP_TIMEOUT:
		log_info("call media timeout session=%s leg=%c setup=%d", key,
			 ev->leg == MEDIA_LEG_A ? 'A' : 'B', ev->timeout.setup);
		if (sc->cm) /* NULL while serve_call_free() waits for recordings */
			call_mgr_media_timeout(sc->cm, ev->session);
		return;
	case MEDIA_EV_DTMF:
		log_info("call dtmf session=%s digit=%c", key, ev->dtmf.digit);
		if (!a || !a->run || ev->leg != MEDIA_LEG_A || a->routing || ivr_run_done(a->run))
			return;
		iev.type = IVR_EV_DIGIT;
		iev.digit = ev->dtmf.digit;
		run_actions(a, acts, ivr_run_step(a->run, &iev, acts, IVR_ACTIONS_MAX));
		return;
	case MEDIA_EV_PLAY_DONE:
		if (!a || !ev->play.completed)
			return;
		if (ev->play.play_id == PLAY_ANNOUNCE) {
			if (a->queued && !a->routing)
				hold_music(a); /* back to the music until an agent answers */
			return;
		}
		if (a->routing && ev->play.play_id == a->route_play_id) {
			a->routing = false;
			timer_cancel(&a->tmr);
			route_now(a, a->route.route, a->route_target);
			return;
		}
		if (!a->run || a->routing || ivr_run_done(a->run))
			return;
		iev.type = IVR_EV_PROMPT_DONE;
		iev.id = ev->play.play_id;
		run_actions(a, acts, ivr_run_step(a->run, &iev, acts, IVR_ACTIONS_MAX));
		return;
	case MEDIA_EV_RECORD_DONE:
		rec_done(sc, &k, ev);
		return;
	case MEDIA_EV_LATCHED:
		return;
	}
}

static void on_media_fd(void *arg)
{
	struct serve_call *sc = arg;

	media_engine_drain(sc->me);
}

/* ---- life ---- */

bool serve_call_request(struct serve_call *sc, struct sip_tx *st, const struct sip_msg *req,
			const struct sip_peer *src)
{
	return call_mgr_request(sc->cm, st, req, src);
}

void serve_call_stray(struct serve_call *sc, const struct sip_msg *resp, const struct sip_peer *src)
{
	call_mgr_stray(sc->cm, resp, src);
}

static const struct call_ops call_ops = {
    .number = op_number,
    .user = op_user,
    .trunk_allowed = op_trunk,
    .is_domain = op_is_domain,
    .authenticate = op_auth,
    .contacts = op_contacts,
    .media_create = op_media_create,
    .media_remote = op_media_remote,
    .media_bridge = op_media_bridge,
    .media_destroy = op_media_destroy,
    .routed = op_routed,
    .connected = op_connected,
    .dial_failed = op_dial_failed,
    .ended = op_ended,
};

struct serve_acd *serve_call_acd(struct serve_call *sc)
{
	return sc->acd;
}

struct serve_journal *serve_call_journal(struct serve_call *sc)
{
	return sc->journal;
}

int serve_call_alloc(struct serve_call **scp, const struct serve_call_conf *conf, struct loop *l,
		     struct sip_txl *txl, struct store *st, struct reg *reg)
{
	struct serve_call *sc;
	struct media_conf mc;
	struct call_conf cc = {.sip_addr = conf->sip_addr};
	char ip[INET6_ADDRSTRLEN];
	int16_t *pcm = NULL;
	size_t n = 0;
	int err;

	sc = mem_zalloc(sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->conf = *conf;
	snprintf(sc->data_dir, sizeof(sc->data_dir), "%s", conf->data_dir);
	sc->conf.data_dir = sc->data_dir;
	sc->loop = l;
	sc->st = st;
	sc->reg = reg;
	sc->job_fd = -1;
	list_init(&sc->todo);
	list_init(&sc->done);
	list_init(&sc->prompt_keys);
	pthread_mutex_init(&sc->mu, NULL);
	pthread_cond_init(&sc->cv, NULL);
	err = hash_alloc(&sc->by_sid, 0, 0);
	err = err ? err : hash_alloc(&sc->by_uuid, 0, 0);
	err = err ? err : hash_alloc(&sc->prompts, 0, 0);
	err = err ? err : hash_alloc(&sc->jobs, 0, 0);
	err = err ? err : hash_alloc(&sc->recs, 0, 0);
	if (err)
		goto out;
	/* What a crash or kill -9 left half-written is repaired and indexed
	 * before the first call; a failure here costs an index, not service. */
	serve_rec_scan(st, sc->data_dir, NULL);

	/* The media address: given, or the SIP address. */
	if (conf->media_addr) {
		snprintf(ip, sizeof(ip), "%s", conf->media_addr);
	} else if (conf->sip_addr.ss_family == AF_INET) {
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)(const void *)&conf->sip_addr)->sin_addr,
			  ip, sizeof(ip));
	} else {
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)&conf->sip_addr)->sin6_addr,
			  ip, sizeof(ip));
	}
	media_conf_init(&mc);
	if (strchr(ip, ':'))
		mc.addr6 = ip;
	else
		mc.addr4 = ip;
	if (conf->rtp_timeout_ms) {
		/* Before the first packet and after the last: one figure. */
		mc.rtp_timeout_ms = conf->rtp_timeout_ms;
		mc.rtp_setup_timeout_ms = conf->rtp_timeout_ms;
	}
	if (conf->rtp_min && conf->rtp_max) {
		mc.port_min = conf->rtp_min;
		mc.port_max = conf->rtp_max;
	}
	err = media_engine_alloc(&sc->me, &mc, on_media_event, sc);
	if (err) {
		log_error("cannot start the media engine addr=%s err=\"%s\"", ip, strerror(-err));
		goto out;
	}
	err = loop_fd_watch(&sc->me_watch, l, media_engine_event_fd(sc->me), on_media_fd, sc);
	if (err)
		goto out;

	/* Music on hold, made here (no third-party audio). */
	err = moh_generate(&pcm, &n, MOH_SECONDS);
	if (!err)
		err = media_audio_alloc(&sc->moh, pcm, n);
	mem_free(pcm);
	if (err)
		goto out;

	{
		char dir[1100];

		snprintf(dir, sizeof(dir), "%s/prompts/cache", sc->data_dir);
		err = tts_alloc(&sc->tts, dir);
		if (err) {
			log_error("cannot use the prompt cache dir=%s err=\"%s\"", dir,
				  strerror(-err));
			goto out;
		}
	}
	sc->job_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sc->job_fd < 0) {
		err = -errno;
		goto out;
	}
	err = loop_fd_watch(&sc->job_watch, l, sc->job_fd, on_jobs, sc);
	if (err)
		goto out;
	err = -pthread_create(&sc->worker, NULL, worker_main, sc);
	if (err)
		goto out;
	sc->worker_started = true;

	err = serve_journal_alloc(&sc->journal, conf->db_url);
	if (err)
		goto out;
	err = serve_acd_alloc(&sc->acd, l, st, sc->journal, &acd_ops, sc);
	if (err)
		goto out;
	err = call_mgr_alloc(&sc->cm, &cc, &call_ops, sc, txl, loop_timers(l));
	if (err)
		goto out;
	log_info("calls ready media=%s rtp=%u-%u", ip, mc.port_min ? mc.port_min : 20000,
		 mc.port_max ? mc.port_max : 29999);
out:
	if (err)
		serve_call_free(sc);
	else
		*scp = sc;
	return err;
}

/* Wait (bounded) for the recordings of the calls just ended to close, so
 * that their metadata is stored; what is left is indexed at the next start. */
static void rec_drain(struct serve_call *sc)
{
	uint64_t until = clock_mono_ms() + REC_DRAIN_MS;
	size_t it = 0;
	struct str k;
	void *v;

	if (!sc->recs)
		return;
	while (sc->me && hash_count(sc->recs) && clock_mono_ms() < until) {
		struct pollfd p = {.fd = media_engine_event_fd(sc->me), .events = POLLIN};

		if (poll(&p, 1, 100) > 0)
			media_engine_drain(sc->me);
	}
	if (hash_count(sc->recs))
		log_warn("recordings still closing at shutdown n=%zu: indexed at the next start",
			 hash_count(sc->recs));
	while (hash_next(sc->recs, &it, &k, &v))
		mem_free(v);
}

void serve_call_free(struct serve_call *sc)
{
	struct list_elem *e, *tmp;
	struct list left;

	if (!sc)
		return;
	sc->stopping = true;
	call_mgr_free(sc->cm); /* CDRs (and queue_log lines) of the calls still up */
	sc->cm = NULL;
	serve_acd_free(sc->acd);
	sc->acd = NULL;
	rec_drain(sc);
	serve_journal_free(sc->journal); /* writes what the calls left */
	sc->journal = NULL;
	if (sc->worker_started) {
		pthread_mutex_lock(&sc->mu);
		sc->stop = true;
		pthread_cond_signal(&sc->cv);
		pthread_mutex_unlock(&sc->mu);
		pthread_join(sc->worker, NULL);
	}
	list_init(&left);
	list_splice_tail(&left, &sc->todo);
	list_splice_tail(&left, &sc->done);
	list_for_each_safe(&left, e, tmp)
	{
		list_unlink(e);
		job_free(list_entry(e, struct job, le));
	}
	loop_fd_close(sc->job_watch);
	loop_fd_close(sc->me_watch);
	if (sc->job_fd >= 0)
		close(sc->job_fd);
	/* Cached prompts: the key holders, then the audio. */
	if (sc->prompts) {
		size_t it = 0;
		struct str k;
		void *v;

		while (hash_next(sc->prompts, &it, &k, &v))
			media_audio_unref(v);
	}
	list_for_each_safe(&sc->prompt_keys, e, tmp)
	{
		list_unlink(e);
		job_free(list_entry(e, struct job, le));
	}
	media_audio_unref(sc->moh);
	tts_free(sc->tts);
	media_engine_free(sc->me);
	hash_free(sc->jobs);
	hash_free(sc->prompts);
	hash_free(sc->recs);
	hash_free(sc->by_uuid);
	hash_free(sc->by_sid);
	pthread_cond_destroy(&sc->cv);
	pthread_mutex_destroy(&sc->mu);
	mem_free(sc);
}

/* ---- for the API ---- */

int serve_call_list_json(struct serve_call *sc, const char *tenant, json_t **out)
{
	json_t *arr = json_array();
	size_t it = 0;
	struct str k;
	void *v;

	if (!arr)
		return -ENOMEM;
	while (hash_next(sc->by_uuid, &it, &k, &v)) {
		struct capp *a = v;
		const char *t = call_tenant(a->c), *agent = call_agent(a->c);
		json_t *o;

		if (!t || strcmp(t, tenant))
			continue;
		o = json_pack("{sssssbsbssss}", "uuid", a->uuid, "caller",
			      call_caller(a->c) ? call_caller(a->c) : "", "answered",
			      call_answered(a->c), "queued", a->queued, "agent", agent ? agent : "",
			      "ivr_path", a->path);
		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return -ENOMEM;
		}
	}
	*out = arr;
	return 0;
}

int serve_call_hangup(struct serve_call *sc, const char *tenant, const char *uuid,
		      const char *agent)
{
	struct capp *a = capp_by_uuid(sc, uuid);
	const char *t = a ? call_tenant(a->c) : NULL, *who = a ? call_agent(a->c) : NULL;

	/* Another tenant's call, or (for an agent) a call it is not on: none. */
	if (!a || !t || strcmp(t, tenant) || (agent && (!who || strcmp(who, agent))))
		return -ENOENT;
	call_hangup(a->c, 480, "api-hangup");
	return 0;
}
