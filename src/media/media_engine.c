/*
 * media_engine: the owner's side of the RTP media engine (see
 * media_engine.h): configuration, the port pool and binding, sessions as
 * the owner sees them (an id in a hash, never their state), the command
 * queues into the media threads and the one event queue back out of them.
 *
 * Every allocation and free of the engine happens here, on the owner's
 * thread: the media threads hand memory back through the event queue. That
 * keeps the per-thread counters of base/mem.h balanced on the owner (the
 * unit-test runner checks them) and keeps malloc off the packet path.
 *
 * The packet work is in media_thread.c, the recorder in media_record.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define LOG_MODULE "media"
#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"
#include "media/g711.h"
#include "media/media_engine_internal.h"
#include "media/wav.h"

#define RING_CAP_MIN 1024
#define RING_CAP_MAX (1u << 20)
#define DISK_BUF     (64 * 1024)
#define TOS_EF	     0xb8 /* DSCP EF (RFC 3246): what voice is marked with */

void media_conf_init(struct media_conf *conf)
{
	*conf = (struct media_conf){
	    .threads = 1,
	    .tick_ms = MEDIA_TICK_DEFAULT,
	    .port_min = MEDIA_PORT_MIN_DEFAULT,
	    .port_max = MEDIA_PORT_MAX_DEFAULT,
	    .rtp_timeout_ms = MEDIA_RTP_TIMEOUT_DEFAULT,
	    .rtp_setup_timeout_ms = MEDIA_SETUP_TIMEOUT_DEFAULT,
	    .rtcp_interval_ms = MEDIA_RTCP_INTERVAL_DEFAULT,
	    .record_fsync_ms = MEDIA_RECORD_FSYNC_DEFAULT,
	    .latch_any = true,
	};
}

/* ---- audio ---------------------------------------------------------------- */

int media_audio_alloc(struct media_audio **ap, const int16_t *pcm, size_t n)
{
	struct media_audio *a;

	if (!ap || !pcm || n == 0 || n > (SIZE_MAX - sizeof(*a)) / sizeof(int16_t))
		return -EINVAL;
	a = mem_alloc(sizeof(*a) + n * sizeof(int16_t));
	if (!a)
		return -ENOMEM;
	atomic_init(&a->ref, 1);
	a->n = n;
	memcpy(a->pcm, pcm, n * sizeof(int16_t));
	*ap = a;
	return 0;
}

struct media_audio *media_audio_ref(struct media_audio *a)
{
	if (a)
		atomic_fetch_add_explicit(&a->ref, 1, memory_order_relaxed);
	return a;
}

struct media_audio *media_audio_unref(struct media_audio *a)
{
	/* acq_rel: the frees of the last holder must see every other holder's
	 * reads finished (the usual refcount rule). */
	if (a && atomic_fetch_sub_explicit(&a->ref, 1, memory_order_acq_rel) == 1)
		mem_free(a);
	return NULL;
}

size_t media_audio_samples(const struct media_audio *a)
{
	return a ? a->n : 0;
}

/* ---- the event queue (media threads -> owner) ------------------------------ */

static void signal_owner(struct media_engine *me)
{
	uint64_t one = 1;
	ssize_t n;

	do {
		n = write(me->ev_fd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
}

void me_event_push(struct media_engine *me, const struct media_event *ev)
{
	bool wake = false;

	pthread_mutex_lock(&me->ev_lock);
	if (me->ring_n == me->ring_cap) {
		/* The owner has not drained for a long while; it grows the ring
		 * when it does, but until then, losing a digit beats blocking
		 * the media of every call on this thread. */
		me->ev_dropped++;
	} else {
		struct me_ev *e = &me->ring[(me->ring_head + me->ring_n) % me->ring_cap];

		e->seq = me->ev_seq++;
		e->ev = *ev;
		me->ring_n++;
		wake = !me->ev_signalled;
		me->ev_signalled = true;
	}
	pthread_mutex_unlock(&me->ev_lock);
	if (wake)
		signal_owner(me);
}

void me_cmd_return(struct media_engine *me, struct me_cmd *cmd)
{
	bool wake;

	pthread_mutex_lock(&me->ev_lock);
	cmd->seq = me->ev_seq++;
	list_append(&me->done, &cmd->le);
	wake = !me->ev_signalled;
	me->ev_signalled = true;
	pthread_mutex_unlock(&me->ev_lock);
	if (wake)
		signal_owner(me);
}

int media_engine_event_fd(const struct media_engine *me)
{
	return me ? me->ev_fd : -1;
}

static void session_release(struct media_engine *me, struct me_session *s);

/* Act on a command the media thread handed back; true when an event was delivered. */
static bool cmd_returned(struct media_engine *me, struct me_cmd *cmd, bool deliver)
{
	struct media_event ev = {.session = cmd->id, .leg = cmd->leg};
	bool delivered = false;

	switch (cmd->type) {
	case ME_CMD_PLAY:
		ev.type = MEDIA_EV_PLAY_DONE;
		ev.play.play_id = cmd->play.id;
		ev.play.completed = cmd->play.completed;
		if (deliver && me->h) {
			me->h(me->arg, &ev);
			delivered = true;
		}
		media_audio_unref(cmd->play.audio);
		break;
	case ME_CMD_REC_START: {
		struct me_rec *rec = cmd->rec;

		ev.type = MEDIA_EV_RECORD_DONE;
		ev.leg = MEDIA_LEG_A;
		ev.record.path = rec->path;
		ev.record.duration_ms = rec->duration_ms;
		ev.record.bytes = rec->bytes;
		ev.record.err = rec->err;
		memcpy(ev.record.sha256, rec->sha256, sizeof(ev.record.sha256));
		if (deliver && me->h) {
			me->h(me->arg, &ev);
			delivered = true;
		}
		mem_free(rec->path);
		mem_free(rec);
		break;
	}
	case ME_CMD_DESTROY:
		session_release(me, cmd->s);
		break;
	default:
		break;
	}
	mem_free(cmd);
	return delivered;
}

/* Double the ring when the owner found it over half full (owner thread). */
static void ring_grow(struct media_engine *me)
{
	size_t cap = me->ring_cap * 2;
	struct me_ev *a, *b, *old;

	if (cap > RING_CAP_MAX)
		return;
	a = mem_alloc(cap * sizeof(*a));
	b = mem_alloc(cap * sizeof(*b));
	if (!a || !b) {
		mem_free(a);
		mem_free(b);
		return;
	}
	pthread_mutex_lock(&me->ev_lock);
	for (size_t i = 0; i < me->ring_n; i++)
		a[i] = me->ring[(me->ring_head + i) % me->ring_cap];
	old = me->ring;
	me->ring = a;
	me->ring_head = 0;
	me->ring_cap = cap;
	pthread_mutex_unlock(&me->ev_lock);
	mem_free(old);
	mem_free(me->spare);
	me->spare = b;
}

static int drain(struct media_engine *me, bool deliver)
{
	struct me_ev *evs;
	size_t head, n, cap, i = 0;
	struct list done;
	uint64_t v;
	int count = 0;
	ssize_t r;

	/* Read the eventfd before taking the queue: a push after the read
	 * writes it again, so nothing is left waiting unsignalled. */
	do {
		r = read(me->ev_fd, &v, sizeof(v));
	} while (r < 0 && errno == EINTR);

	list_init(&done);
	pthread_mutex_lock(&me->ev_lock);
	evs = me->ring;
	head = me->ring_head;
	n = me->ring_n;
	cap = me->ring_cap;
	me->ring = me->spare;
	me->spare = NULL;
	me->ring_head = 0;
	me->ring_n = 0;
	list_splice_tail(&done, &me->done);
	me->ev_signalled = false;
	v = me->ev_dropped - me->ev_dropped_seen;
	me->ev_dropped_seen = me->ev_dropped;
	pthread_mutex_unlock(&me->ev_lock);
	if (v)
		log_warn("%llu media events lost to a full queue: drain more often",
			 (unsigned long long)v);

	/* Two queues, each in order: merge them by sequence number so the
	 * owner sees one history (a digit before the prompt it stopped). */
	for (;;) {
		struct list_elem *e = list_head(&done);
		struct me_cmd *cmd = e ? list_entry(e, struct me_cmd, le) : NULL;
		struct me_ev *ev = i < n ? &evs[(head + i) % cap] : NULL;

		if (!cmd && !ev)
			break;
		if (ev && (!cmd || ev->seq < cmd->seq)) {
			i++;
			if (deliver && me->h) {
				me->h(me->arg, &ev->ev);
				count++;
			}
		} else {
			list_unlink(&cmd->le);
			if (cmd_returned(me, cmd, deliver))
				count++;
		}
	}
	me->spare = evs;
	if (n > cap / 2)
		ring_grow(me);
	return count;
}

int media_engine_drain(struct media_engine *me)
{
	if (!me)
		return -EINVAL;
	return drain(me, true);
}

void media_engine_stats_get(struct media_engine *me, struct media_engine_stats *st)
{
	if (!me || !st)
		return;
	pthread_mutex_lock(&me->ev_lock);
	st->events_dropped = me->ev_dropped;
	pthread_mutex_unlock(&me->ev_lock);
	st->sessions = me->nsessions;
	st->ports_in_use = me->pairs_in_use;
	st->port_pairs = (unsigned)me->npairs;
}

/* ---- commands (owner -> media thread) ---------------------------------------- */

static void cmd_push(struct me_thread *t, struct me_cmd *cmd)
{
	uint64_t one = 1;
	ssize_t n;

	pthread_mutex_lock(&t->cmd_lock);
	list_append(&t->cmds, &cmd->le);
	pthread_mutex_unlock(&t->cmd_lock);
	do {
		n = write(t->cmd_efd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
}

static struct me_cmd *cmd_new(enum me_cmd_type type, struct me_session *s, enum media_leg leg)
{
	struct me_cmd *cmd = mem_zalloc(sizeof(*cmd));

	if (!cmd)
		return NULL;
	cmd->type = type;
	cmd->s = s;
	cmd->id = s->id;
	cmd->leg = leg;
	return cmd;
}

static struct me_session *session_find(struct media_engine *me, uint64_t id)
{
	struct str key = {(const char *)&id, sizeof(id)};

	return id ? hash_get(me->sessions, &key) : NULL;
}

/* ---- ports ------------------------------------------------------------------ */

static void leg_close(struct me_leg *l)
{
	for (int f = 0; f < ME_FAM_N; f++) {
		for (int k = 0; k < 2; k++) {
			if (l->fd[f][k] >= 0)
				close(l->fd[f][k]);
			l->fd[f][k] = -1;
		}
	}
}

static int sock_bind(struct media_engine *me, int fam, uint16_t port, int *fdp)
{
	struct sockaddr_storage sa = me->local[fam];
	socklen_t len;
	int fd, one = 1, tos = TOS_EF;

	fd = socket(fam ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fam) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;

		/* One family per socket: the IPv4 socket of the same port is ours too. */
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

		(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	}
	if (bind(fd, (struct sockaddr *)&sa, len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/* Bind @port and @port + 1 in every configured family. */
static int pair_bind(struct media_engine *me, struct me_leg *l, uint16_t port)
{
	int err = 0;

	for (int f = 0; f < ME_FAM_N && !err; f++) {
		if (!me->have[f])
			continue;
		err = sock_bind(me, f, port, &l->fd[f][ME_IO_RTP]);
		if (!err)
			err = sock_bind(me, f, (uint16_t)(port + 1), &l->fd[f][ME_IO_RTCP]);
	}
	if (err)
		leg_close(l);
	return err;
}

/*
 * Give @l the next free pair after the last one handed out (so a pair just
 * freed is the last to be reused, and stray packets of its old call find
 * nobody), skipping pairs that some other process holds.
 */
static int leg_bind(struct media_engine *me, struct me_leg *l)
{
	bool busy = false;

	for (size_t k = 0; k < me->npairs; k++) {
		size_t p = (me->pair_cursor + k) % me->npairs;
		uint16_t port = (uint16_t)(((me->conf.port_min + 1u) & ~1u) + 2 * p);
		int err;

		if (me->pair_used[p])
			continue;
		err = pair_bind(me, l, port);
		if (!err) {
			me->pair_used[p] = 1;
			me->pairs_in_use++;
			me->pair_cursor = (p + 1) % me->npairs;
			l->pair = (uint16_t)p;
			l->port = port;
			return 0;
		}
		if (err != -EADDRINUSE && err != -EACCES)
			return err;
		busy = true;
	}
	return busy ? -EADDRINUSE : -ENOSPC;
}

static void leg_unbind(struct media_engine *me, struct me_leg *l)
{
	leg_close(l);
	if (l->port) {
		me->pair_used[l->pair] = 0;
		me->pairs_in_use--;
		l->port = 0;
	}
}

/* ---- sessions ------------------------------------------------------------------ */

static void session_free(struct media_engine *me, struct me_session *s)
{
	for (int i = 0; i < 2; i++)
		leg_unbind(me, &s->leg[i]);
	mem_free(s);
}

/* The media thread has let go of @s (its DESTROY came back): free it and its ports. */
static void session_release(struct media_engine *me, struct me_session *s)
{
	s->t->ctl_sessions--;
	me->nsessions--;
	session_free(me, s);
}

int media_session_create(struct media_engine *me, uint64_t *idp, struct media_leg_info out[2])
{
	struct me_session *s;
	struct me_thread *t;
	struct me_cmd *cmd = NULL;
	uint32_t rnd[6];
	struct str key;
	int err;

	if (!me || !idp || !out)
		return -EINVAL;
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = ++me->next_id;
	/* Unpredictable SSRCs and initial numbers (RFC 3550 §5.1, §8), which
	 * also makes a blind injection into a stream harder to get accepted. */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		for (size_t i = 0; i < 6; i++)
			rnd[i] = (uint32_t)(s->id * 2654435761u + i * 40503u);
	}
	for (int i = 0; i < 2; i++) {
		struct me_leg *l = &s->leg[i];

		l->s = s;
		l->idx = (uint8_t)i;
		for (int f = 0; f < ME_FAM_N; f++) {
			for (int k = 0; k < 2; k++) {
				l->fd[f][k] = -1;
				l->io[f][k] =
				    (struct me_io){.leg = l, .kind = (uint8_t)k, .fam = (uint8_t)f};
			}
		}
		l->ssrc = rnd[3 * i];
		l->last_seq = (uint16_t)rnd[3 * i + 1];
		l->last_ts = rnd[3 * i + 2];
		list_elem_init(&l->play_le);
	}
	list_elem_init(&s->le);
	list_elem_init(&s->rec_le);
	err = leg_bind(me, &s->leg[0]);
	if (!err)
		err = leg_bind(me, &s->leg[1]);
	if (err)
		goto out;
	t = me->threads[0];
	for (unsigned i = 1; i < me->nthreads; i++) {
		if (me->threads[i]->ctl_sessions < t->ctl_sessions)
			t = me->threads[i];
	}
	s->t = t;
	cmd = cmd_new(ME_CMD_ADD, s, MEDIA_LEG_A);
	if (!cmd) {
		err = -ENOMEM;
		goto out;
	}
	key = (struct str){(const char *)&s->id, sizeof(s->id)};
	err = hash_put(me->sessions, &key, s, NULL);
	if (err)
		goto out;
	t->ctl_sessions++;
	me->nsessions++;
	cmd_push(t, cmd);
	for (int i = 0; i < 2; i++) {
		out[i] = (struct media_leg_info){.rtp_port = s->leg[i].port,
						 .rtcp_port = (uint16_t)(s->leg[i].port + 1)};
		memcpy(out[i].addr4, me->addr4, sizeof(out[i].addr4));
		memcpy(out[i].addr6, me->addr6, sizeof(out[i].addr6));
	}
	*idp = s->id;
out:
	if (err) {
		mem_free(cmd);
		session_free(me, s);
	}
	return err;
}

int media_session_destroy(struct media_engine *me, uint64_t id)
{
	struct me_session *s;
	struct me_cmd *cmd;
	struct str key = {(const char *)&id, sizeof(id)};

	if (!me)
		return -EINVAL;
	s = session_find(me, id);
	if (!s)
		return -ENOENT;
	cmd = cmd_new(ME_CMD_DESTROY, s, MEDIA_LEG_A);
	if (!cmd)
		return -ENOMEM;
	hash_del(me->sessions, &key);
	cmd_push(s->t, cmd);
	return 0;
}

/* Parse @r into @mr (owner thread, so the media thread gets ready-made addresses). */
static int remote_parse(struct media_engine *me, struct me_remote *mr, const struct media_remote *r)
{
	char buf[INET6_ADDRSTRLEN];
	struct in_addr a4;
	struct in6_addr a6;
	uint16_t ptime = r->ptime ? r->ptime : 20;
	uint16_t rtcp = r->rtcp_port ? r->rtcp_port : (uint16_t)(r->port + 1);

	if (!r->addr.p || r->addr.len == 0 || r->addr.len >= sizeof(buf))
		return -EINVAL;
	if ((r->pt != 0 && r->pt != 8) || r->te_pt < -1 || r->te_pt > 127 || r->te_pt == r->pt)
		return -EINVAL;
	if (ptime < 10 || ptime > ME_PTIME_MAX || ptime % 10 ||
	    (unsigned)r->dir > MEDIA_DIR_INACTIVE)
		return -EINVAL;
	memcpy(buf, r->addr.p, r->addr.len);
	buf[r->addr.len] = '\0';
	memset(mr, 0, sizeof(*mr));
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		struct sockaddr_in *p = (struct sockaddr_in *)&mr->rtp;

		mr->fam = 0;
		p->sin_family = AF_INET;
		p->sin_addr = a4;
		p->sin_port = htons(r->port);
		mr->len = sizeof(*p);
		mr->null_addr = a4.s_addr == INADDR_ANY;
		mr->rtcp = mr->rtp;
		((struct sockaddr_in *)&mr->rtcp)->sin_port = htons(rtcp);
	} else if (inet_pton(AF_INET6, buf, &a6) == 1) {
		struct sockaddr_in6 *p = (struct sockaddr_in6 *)&mr->rtp;

		mr->fam = 1;
		p->sin6_family = AF_INET6;
		p->sin6_addr = a6;
		p->sin6_port = htons(r->port);
		mr->len = sizeof(*p);
		mr->null_addr = IN6_IS_ADDR_UNSPECIFIED(&a6);
		mr->rtcp = mr->rtp;
		((struct sockaddr_in6 *)&mr->rtcp)->sin6_port = htons(rtcp);
	} else {
		return -EINVAL;
	}
	if (!me->have[mr->fam])
		return -EAFNOSUPPORT;
	if (r->port == 0)
		mr->null_addr = true;
	mr->pt = r->pt;
	mr->te_pt = (int16_t)r->te_pt;
	mr->ptime = ptime;
	mr->dir = r->dir;
	return 0;
}

static int leg_cmd(struct media_engine *me, uint64_t id, enum media_leg leg, enum me_cmd_type type,
		   struct me_cmd **cmdp)
{
	struct me_session *s;

	if (!me || (leg != MEDIA_LEG_A && leg != MEDIA_LEG_B))
		return -EINVAL;
	s = session_find(me, id);
	if (!s)
		return -ENOENT;
	*cmdp = cmd_new(type, s, leg);
	return *cmdp ? 0 : -ENOMEM;
}

int media_leg_remote(struct media_engine *me, uint64_t id, enum media_leg leg,
		     const struct media_remote *r)
{
	struct me_remote mr;
	struct me_cmd *cmd;
	int err;

	if (!me || !r)
		return -EINVAL;
	err = remote_parse(me, &mr, r);
	if (err)
		return err;
	err = leg_cmd(me, id, leg, ME_CMD_REMOTE, &cmd);
	if (err)
		return err;
	cmd->remote = mr;
	cmd_push(cmd->s->t, cmd);
	return 0;
}

int media_bridge(struct media_engine *me, uint64_t id, bool on)
{
	struct me_cmd *cmd;
	int err = leg_cmd(me, id, MEDIA_LEG_A, ME_CMD_BRIDGE, &cmd);

	if (err)
		return err;
	cmd->on = on;
	cmd_push(cmd->s->t, cmd);
	return 0;
}

int media_play(struct media_engine *me, uint64_t id, enum media_leg leg, struct media_audio *audio,
	       bool loop, uint32_t play_id)
{
	struct me_cmd *cmd;
	int err;

	if (!audio)
		return -EINVAL;
	err = leg_cmd(me, id, leg, ME_CMD_PLAY, &cmd);
	if (err)
		return err;
	cmd->play.audio = media_audio_ref(audio);
	cmd->play.loop = loop;
	cmd->play.id = play_id;
	cmd_push(cmd->s->t, cmd);
	return 0;
}

int media_play_stop(struct media_engine *me, uint64_t id, enum media_leg leg)
{
	struct me_cmd *cmd;
	int err = leg_cmd(me, id, leg, ME_CMD_PLAY_STOP, &cmd);

	if (err)
		return err;
	cmd_push(cmd->s->t, cmd);
	return 0;
}

int media_record_start(struct media_engine *me, uint64_t id, const char *path)
{
	struct me_rec *rec = NULL;
	struct me_cmd *cmd = NULL;
	size_t len;
	int err;

	if (!path || !*path)
		return -EINVAL;
	err = leg_cmd(me, id, MEDIA_LEG_A, ME_CMD_REC_START, &cmd);
	if (err)
		return err;
	if (cmd->s->ctl_recording) {
		err = -EALREADY;
		goto out;
	}
	rec = mem_zalloc(sizeof(*rec));
	len = strlen(path);
	if (rec)
		rec->path = mem_alloc(len + 1);
	if (!rec || !rec->path) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(rec->path, path, len + 1);
	/* Opened here so that a bad path or an existing file is the caller's
	 * error now, not an event later. */
	err = wav_writer_open(&rec->w, path, ME_RATE);
	if (err)
		goto out;
	rec->cmd = cmd;
	list_elem_init(&rec->le);
	cmd->rec = rec;
	cmd->s->ctl_recording = true;
	cmd_push(cmd->s->t, cmd);
out:
	if (err) {
		if (rec)
			mem_free(rec->path);
		mem_free(rec);
		mem_free(cmd);
	}
	return err;
}

int media_record_stop(struct media_engine *me, uint64_t id)
{
	struct me_cmd *cmd;
	int err = leg_cmd(me, id, MEDIA_LEG_A, ME_CMD_REC_STOP, &cmd);

	if (err)
		return err;
	if (!cmd->s->ctl_recording) {
		mem_free(cmd);
		return -ENOTCONN;
	}
	cmd->s->ctl_recording = false;
	cmd_push(cmd->s->t, cmd);
	return 0;
}

int media_session_stats(struct media_engine *me, uint64_t id, struct media_leg_stats st[2])
{
	struct me_session *s;
	struct me_cmd cmd = {.type = ME_CMD_STATS};

	if (!me || !st)
		return -EINVAL;
	s = session_find(me, id);
	if (!s)
		return -ENOENT;
	cmd.s = s;
	cmd.id = id;
	cmd.stats.out = st;
	/* NOTE: @cmd lives on this stack: the media thread answers before we
	 * return, and never hands a STATS command back. */
	cmd_push(s->t, &cmd);
	pthread_mutex_lock(&me->sync_lock);
	while (!cmd.stats.done)
		pthread_cond_wait(&me->sync_cond, &me->sync_lock);
	pthread_mutex_unlock(&me->sync_lock);
	return 0;
}

/* ---- engine ------------------------------------------------------------------ */

static int parse_local(struct media_engine *me, int fam, const char *addr)
{
	if (!addr)
		return 0;
	if (fam == 0) {
		struct sockaddr_in *p = (struct sockaddr_in *)&me->local[0];

		p->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr, &p->sin_addr) != 1 || p->sin_addr.s_addr == INADDR_ANY)
			return -EINVAL;
		inet_ntop(AF_INET, &p->sin_addr, me->addr4, sizeof(me->addr4));
	} else {
		struct sockaddr_in6 *p = (struct sockaddr_in6 *)&me->local[1];

		p->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, addr, &p->sin6_addr) != 1 ||
		    IN6_IS_ADDR_UNSPECIFIED(&p->sin6_addr))
			return -EINVAL;
		inet_ntop(AF_INET6, &p->sin6_addr, me->addr6, sizeof(me->addr6));
	}
	me->have[fam] = true;
	return 0;
}

static int conf_check(struct media_engine *me, const struct media_conf *conf)
{
	struct media_conf *c = &me->conf;
	int err;

	*c = *conf;
	c->addr4 = c->addr6 = NULL;
	if (!c->threads)
		c->threads = 1;
	if (!c->tick_ms)
		c->tick_ms = MEDIA_TICK_DEFAULT;
	if (!c->port_min && !c->port_max) {
		c->port_min = MEDIA_PORT_MIN_DEFAULT;
		c->port_max = MEDIA_PORT_MAX_DEFAULT;
	}
	if (!c->rtp_timeout_ms)
		c->rtp_timeout_ms = MEDIA_RTP_TIMEOUT_DEFAULT;
	if (!c->rtp_setup_timeout_ms)
		c->rtp_setup_timeout_ms = MEDIA_SETUP_TIMEOUT_DEFAULT;
	if (!c->rtcp_interval_ms)
		c->rtcp_interval_ms = MEDIA_RTCP_INTERVAL_DEFAULT;
	if (!c->record_fsync_ms)
		c->record_fsync_ms = MEDIA_RECORD_FSYNC_DEFAULT;
	if (c->threads > MEDIA_THREADS_MAX || (c->tick_ms != 10 && c->tick_ms != 20))
		return -EINVAL;
	if (!conf->addr4 && !conf->addr6)
		return -EINVAL;
	err = parse_local(me, 0, conf->addr4);
	if (!err)
		err = parse_local(me, 1, conf->addr6);
	if (err)
		return err;
	/* Pairs start at the first even port; the last needs its odd partner. */
	if (c->port_min == 0 || c->port_max < c->port_min)
		return -EINVAL;
	me->npairs = ((size_t)c->port_max + 1 - ((c->port_min + 1u) & ~1u)) / 2;
	if (c->port_max < ((c->port_min + 1u) & ~1u) + 1)
		me->npairs = 0;
	return me->npairs ? 0 : -EINVAL;
}

static int thread_init(struct media_engine *me, struct me_thread *t, unsigned idx)
{
	struct itimerspec its = {0};
	struct epoll_event ev = {.events = EPOLLIN};
	uint32_t hk;

	t->me = me;
	t->idx = idx;
	t->epfd = t->tfd = t->cmd_efd = -1;
	pthread_mutex_init(&t->cmd_lock, NULL);
	list_init(&t->cmds);
	list_init(&t->sessions);
	list_init(&t->playing);
	list_init(&t->recording);
	list_init(&t->deferred);
	t->quit.type = ME_CMD_QUIT;
	t->tick_ns = (uint64_t)me->conf.tick_ms * 1000000u;
	/* Timeouts and RTCP are checked over all sessions at a slower pace,
	 * fine enough for the shortest of them. */
	hk = me->conf.rtp_timeout_ms;
	if (me->conf.rtp_setup_timeout_ms < hk)
		hk = me->conf.rtp_setup_timeout_ms;
	if (me->conf.rtcp_interval_ms < hk)
		hk = me->conf.rtcp_interval_ms;
	hk /= 8;
	if (hk < me->conf.tick_ms)
		hk = me->conf.tick_ms;
	if (hk > 1000)
		hk = 1000;
	t->housekeep_ns = (uint64_t)hk * 1000000u;
	for (int i = 0; i < ME_BATCH; i++) {
		t->rx_iov[i] = (struct iovec){t->rx[i], ME_PKT_MAX};
		t->rx_msgs[i].msg_hdr.msg_iov = &t->rx_iov[i];
		t->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		t->rx_msgs[i].msg_hdr.msg_name = &t->rx_addr[i];
		t->tx_msgs[i].msg_hdr.msg_iov = &t->tx_iov[i];
		t->tx_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	t->cmd_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->epfd < 0 || t->tfd < 0 || t->cmd_efd < 0)
		return -errno;
	its.it_interval.tv_nsec = (long)t->tick_ns;
	its.it_value.tv_nsec = (long)t->tick_ns;
	if (timerfd_settime(t->tfd, 0, &its, NULL))
		return -errno;
	ev.data.ptr = &t->tfd;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->tfd, &ev))
		return -errno;
	ev.data.ptr = &t->cmd_efd;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->cmd_efd, &ev))
		return -errno;
	return 0;
}

static void thread_close(struct me_thread *t)
{
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->tfd >= 0)
		close(t->tfd);
	if (t->cmd_efd >= 0)
		close(t->cmd_efd);
	pthread_mutex_destroy(&t->cmd_lock);
}

int media_engine_alloc(struct media_engine **mep, const struct media_conf *conf, media_event_h *h,
		       void *arg)
{
	struct media_engine *me;
	int err;

	if (!mep || !conf || !h)
		return -EINVAL;
	me = mem_zalloc(sizeof(*me));
	if (!me)
		return -ENOMEM;
	me->ev_fd = -1;
	me->h = h;
	me->arg = arg;
	pthread_mutex_init(&me->ev_lock, NULL);
	pthread_mutex_init(&me->sync_lock, NULL);
	pthread_cond_init(&me->sync_cond, NULL);
	pthread_mutex_init(&me->disk_lock, NULL);
	pthread_cond_init(&me->disk_cond, NULL);
	me->locks_init = true;
	list_init(&me->done);
	list_init(&me->disk_q);
	err = conf_check(me, conf);
	if (err)
		goto out;
	for (int i = 0; i < 256; i++) {
		me->ulaw2alaw[i] = g711_alaw_encode(g711_ulaw_decode((uint8_t)i));
		me->alaw2ulaw[i] = g711_ulaw_encode(g711_alaw_decode((uint8_t)i));
		me->lin[0][i] = g711_ulaw_decode((uint8_t)i);
		me->lin[1][i] = g711_alaw_decode((uint8_t)i);
	}
	me->ev_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (me->ev_fd < 0) {
		err = -errno;
		goto out;
	}
	me->ring_cap = RING_CAP_MIN;
	me->ring = mem_alloc(me->ring_cap * sizeof(*me->ring));
	me->spare = mem_alloc(me->ring_cap * sizeof(*me->spare));
	me->pair_used = mem_zalloc(me->npairs);
	me->disk_buf = mem_alloc(DISK_BUF);
	me->threads = mem_zalloc(me->conf.threads * sizeof(*me->threads));
	if (!me->ring || !me->spare || !me->pair_used || !me->disk_buf || !me->threads) {
		err = -ENOMEM;
		goto out;
	}
	err = hash_alloc(&me->sessions, 64, 0);
	if (err)
		goto out;
	for (unsigned i = 0; i < me->conf.threads; i++) {
		struct me_thread *t = mem_zalloc(sizeof(*t));

		if (!t) {
			err = -ENOMEM;
			goto out;
		}
		me->threads[i] = t;
		me->nthreads++;
		err = thread_init(me, t, i);
		if (err)
			goto out;
	}
	err = -pthread_create(&me->disk_tid, NULL, me_disk_main, me);
	if (err)
		goto out;
	me->disk_started = true;
	for (unsigned i = 0; i < me->nthreads; i++) {
		struct me_thread *t = me->threads[i];

		err = -pthread_create(&t->tid, NULL, me_thread_main, t);
		if (err)
			goto out;
		t->started = true;
		if (me->conf.pin_threads) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(me->conf.cpu_first + i, &set);
			if (pthread_setaffinity_np(t->tid, sizeof(set), &set))
				log_warn("cannot pin media thread %u to cpu %u", i,
					 me->conf.cpu_first + i);
		}
	}
	log_info("media engine started threads=%u addr4=%s addr6=%s ports=%u-%u", me->nthreads,
		 me->addr4[0] ? me->addr4 : "-", me->addr6[0] ? me->addr6 : "-", me->conf.port_min,
		 me->conf.port_max);
out:
	if (err)
		media_engine_free(me);
	else
		*mep = me;
	return err;
}

void media_engine_free(struct media_engine *me)
{
	size_t it = 0;
	struct str key;
	void *val;

	if (!me)
		return;
	/* The quit command comes after everything queued before it, so every
	 * pending destroy is done; the thread then tears down what is left. */
	for (unsigned i = 0; i < me->nthreads; i++) {
		if (me->threads[i] && me->threads[i]->started)
			cmd_push(me->threads[i], &me->threads[i]->quit);
	}
	for (unsigned i = 0; i < me->nthreads; i++) {
		if (me->threads[i] && me->threads[i]->started)
			pthread_join(me->threads[i]->tid, NULL);
	}
	if (me->disk_started) {
		pthread_mutex_lock(&me->disk_lock);
		me->disk_stop = true;
		pthread_cond_signal(&me->disk_cond);
		pthread_mutex_unlock(&me->disk_lock);
		pthread_join(me->disk_tid, NULL);
	}
	if (me->ev_fd >= 0 && me->ring && me->spare)
		drain(me, false);
	if (me->sessions) {
		while (hash_next(me->sessions, &it, &key, &val)) {
			struct me_session *s = val;

			s->t->ctl_sessions--;
			me->nsessions--;
			session_free(me, s);
		}
		hash_free(me->sessions);
	}
	for (unsigned i = 0; i < me->nthreads; i++) {
		if (me->threads[i])
			thread_close(me->threads[i]);
		mem_free(me->threads[i]);
	}
	mem_free(me->threads);
	mem_free(me->ring);
	mem_free(me->spare);
	mem_free(me->pair_used);
	mem_free(me->disk_buf);
	if (me->ev_fd >= 0)
		close(me->ev_fd);
	if (me->locks_init) {
		pthread_mutex_destroy(&me->ev_lock);
		pthread_mutex_destroy(&me->sync_lock);
		pthread_cond_destroy(&me->sync_cond);
		pthread_mutex_destroy(&me->disk_lock);
		pthread_cond_destroy(&me->disk_cond);
	}
	mem_free(me);
}
