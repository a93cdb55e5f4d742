/*
 * media_engine_internal: the structures shared by media_engine.c (the
 * owner's side: API, ports, the event queue), media_thread.c (the media
 * threads: packets, prompts, RTCP, timeouts) and media_record.c (the
 * recorder's mixer and the disk thread). Other subsystems never include it.
 *
 * Ownership rule: a field is touched by one thread only, named in its
 * comment, unless it sits under a lock that says otherwise. "owner" is the
 * thread that calls the public API.
 */
#ifndef MEDIA_ENGINE_INTERNAL_H
#define MEDIA_ENGINE_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "base/list.h"
#include "media/media_engine.h"
#include "media/rtp.h"
#include "media/wav.h"

#define ME_BATCH     32	  /* packets per recvmmsg/sendmmsg */
#define ME_PKT_MAX   2048 /* receive buffer per packet: more than any RTP over Ethernet */
#define ME_EPOLL_MAX 256
#define ME_FAM_N     2 /* 0: IPv4, 1: IPv6 */
#define ME_RATE	     8000
#define ME_PTIME_MAX 120
#define ME_CNAME     "shenggu"

/* The recorder: a ring of one second per channel, written out at least 60 ms
 * behind real time, 100 ms at a time. */
#define ME_REC_RING  8192 /* samples, a power of two */
#define ME_REC_DELAY 480  /* samples of reordering tolerance */
#define ME_REC_CHUNK 1024 /* frames per wav write at most */
#define ME_REC_BATCH 800  /* frames (100 ms) gathered before a write */

struct me_thread;
struct me_session;
struct me_leg;

/* Immutable after media_audio_alloc(); only the count changes. */
struct media_audio {
	atomic_uint ref;
	size_t n;
	int16_t pcm[];
};

/* A remote as the owner parsed it from struct media_remote. */
struct me_remote {
	struct sockaddr_storage rtp, rtcp;
	socklen_t len;
	int fam;	/* 0 or 1, the socket family to send from */
	bool null_addr; /* 0.0.0.0 / :: or port 0: send nothing */
	uint8_t pt;
	int16_t te_pt;
	uint16_t ptime;
	enum media_dir dir;
};

/* The recording of one session. Owner allocates; the media thread mixes;
 * the disk thread syncs and finishes; the owner frees. */
struct me_rec {
	struct list_elem le; /* on the disk queue (disk_lock) */
	struct me_cmd *cmd;  /* the REC_START command that carries it home */
	char *path;
	struct wav_writer w;
	/* media thread */
	uint64_t start_ns;
	uint64_t out_pos; /* frames written */
	uint64_t next_fsync_ns;
	struct me_rec_chan {
		int16_t ring[ME_REC_RING];
		int64_t base_pos; /* the frame where base_ts falls */
		uint32_t base_ts;
		uint32_t ssrc;
		uint64_t end_pos; /* past the last sample placed */
		unsigned late;
		bool anchored;
	} ch[2];
	/* disk_lock */
	unsigned disk_flags; /* ME_DISK_* */
	bool queued;
	/* disk thread, then owner */
	int err;
	uint64_t bytes, duration_ms;
	char sha256[65];
};

#define ME_DISK_FSYNC  1u
#define ME_DISK_FINISH 2u

enum me_cmd_type {
	ME_CMD_ADD = 1,
	ME_CMD_REMOTE,
	ME_CMD_BRIDGE,
	ME_CMD_PLAY,
	ME_CMD_PLAY_STOP,
	ME_CMD_REC_START,
	ME_CMD_REC_STOP,
	ME_CMD_DESTROY,
	ME_CMD_STATS, /* synchronous, on the owner's stack */
	ME_CMD_QUIT,  /* embedded in the thread */
};

/*
 * A command: allocated by the owner, queued to a media thread, and handed
 * back through the event queue (a PLAY when its prompt ends, a REC_START
 * when its recording is finished, every other at once) for the owner to
 * free.
 */
struct me_cmd {
	struct list_elem le;
	uint64_t seq; /* position among events, set when handed back */
	enum me_cmd_type type;
	uint64_t id;
	struct me_session *s;
	enum media_leg leg;
	union {
		struct me_remote remote;
		bool on;
		struct {
			struct media_audio *audio;
			uint32_t id;
			bool loop;
			bool completed;
		} play;
		struct me_rec *rec;
		struct {
			struct media_leg_stats *out;
			bool done; /* engine sync_lock */
		} stats;
	};
};

enum me_io_kind { ME_IO_RTP = 0, ME_IO_RTCP = 1 };

/* The epoll data of one socket. */
struct me_io {
	struct me_leg *leg;
	uint8_t kind; /* enum me_io_kind */
	uint8_t fam;
};

enum me_src { ME_SRC_NONE = 0, ME_SRC_RELAY, ME_SRC_PROMPT };

struct me_leg {
	struct me_session *s;
	uint8_t idx;		      /* enum media_leg */
	int fd[ME_FAM_N][2];	      /* [family][enum me_io_kind], -1 when absent */
	struct me_io io[ME_FAM_N][2]; /* epoll data */
	uint16_t port;		      /* RTP; owner reads it too (immutable) */
	uint16_t pair;		      /* index in the port pool; immutable */
	/* Everything below: media thread. */
	bool have_remote;
	struct me_remote r;
	bool latched, rtcp_latched;
	struct sockaddr_storage src, rtcp_src; /* latched sources */
	/* receive side */
	struct rtp_source rx;
	bool rx_started;
	bool got_media, timed_out;
	uint64_t last_rx_ns, remote_set_ns;
	struct rtp_dtmf_det det;
	bool dtmf_pending; /* a press began and its end was not seen yet */
	struct rtp_dtmf_press dtmf_press;
	uint64_t dtmf_last_ns;
	/* send side: our stream to this leg's remote */
	uint32_t ssrc;
	uint16_t last_seq;
	uint32_t last_ts, last_dur;
	uint64_t last_tx_ns;
	bool sent_any;
	enum me_src src_kind;
	uint32_t src_ssrc;
	uint16_t seq_off;
	uint32_t ts_off;
	uint32_t tx_pkts, tx_octets; /* for the SR (wrapping, as on the wire) */
	bool sent_since_report;
	/* prompt */
	struct me_cmd *play;
	struct list_elem play_le; /* on the thread's playing list */
	size_t play_pos;
	uint64_t play_next_ns;
	/* RTCP */
	uint64_t next_rtcp_ns;
	struct media_leg_stats st; /* counters; lost/jitter/latched filled on demand */
};

struct me_session {
	uint64_t id;		 /* immutable; the owner's hash key points here */
	struct me_thread *t;	 /* immutable */
	struct list_elem le;	 /* media thread: on t->sessions */
	struct list_elem rec_le; /* media thread: on t->recording */
	bool added;		 /* media thread: in its epoll set */
	bool dead;		 /* media thread: torn down, its DESTROY not handed back yet */
	bool bridged;		 /* media thread */
	struct me_rec *rec;	 /* media thread: the recording under way */
	struct me_cmd *rec_cmd;	 /* media thread */
	bool ctl_recording;	 /* owner only */
	struct me_leg leg[2];
};

struct me_thread {
	struct media_engine *me;
	unsigned idx;
	pthread_t tid;
	bool started;
	int epfd, tfd, cmd_efd;
	pthread_mutex_t cmd_lock;
	struct list cmds; /* cmd_lock */
	struct me_cmd quit;
	unsigned ctl_sessions; /* owner: sessions assigned, for balancing */
	/* media thread */
	struct list sessions, playing, recording;
	struct list deferred; /* DESTROYs to hand back at the end of the batch */
	uint64_t nsess;	      /* on t->sessions */
	uint64_t housekeep_ns, tick_ns;
	struct mmsghdr rx_msgs[ME_BATCH], tx_msgs[ME_BATCH];
	struct iovec rx_iov[ME_BATCH], tx_iov[ME_BATCH];
	struct sockaddr_storage rx_addr[ME_BATCH];
	uint8_t rx[ME_BATCH][ME_PKT_MAX];
	uint8_t tx[ME_PKT_MAX];
	int16_t pcm[ME_PTIME_MAX * 8];
	int16_t mix[ME_REC_CHUNK * 2];
};

/* An event waiting in the ring. */
struct me_ev {
	uint64_t seq;
	struct media_event ev;
};

struct media_engine {
	struct media_conf conf; /* copied; address pointers cleared */
	bool have[ME_FAM_N];
	struct sockaddr_storage local[ME_FAM_N]; /* port 0 */
	char addr4[INET_ADDRSTRLEN], addr6[INET6_ADDRSTRLEN];
	media_event_h *h;
	void *arg;
	uint8_t ulaw2alaw[256], alaw2ulaw[256];
	int16_t lin[2][256]; /* G.711 decoding tables: [0] μ-law, [1] A-law */

	unsigned nthreads;
	struct me_thread **threads;

	/* The event queue: value events in a ring, handed-back commands in a
	 * list, ordered together by seq. ev_lock covers all of it. */
	pthread_mutex_t ev_lock;
	int ev_fd;
	struct me_ev *ring, *spare; /* spare: the owner's, swapped in at drain */
	size_t ring_cap, ring_head, ring_n;
	struct list done;
	uint64_t ev_seq;
	bool ev_signalled;
	uint64_t ev_dropped;
	uint64_t ev_dropped_seen; /* owner: what it has warned about */

	/* synchronous commands */
	pthread_mutex_t sync_lock;
	pthread_cond_t sync_cond;

	/* the disk thread */
	pthread_t disk_tid;
	bool disk_started;
	pthread_mutex_t disk_lock;
	pthread_cond_t disk_cond;
	struct list disk_q; /* of struct me_rec */
	bool disk_stop;
	uint8_t *disk_buf;

	/* owner only */
	struct hash *sessions;
	uint64_t next_id;
	uint8_t *pair_used;
	size_t npairs, pair_cursor;
	unsigned pairs_in_use;
	unsigned nsessions;
	bool locks_init;
};

/* media_engine.c, any thread: queue value event @ev (the owner drains it). */
void me_event_push(struct media_engine *me, const struct media_event *ev);
/* media_engine.c, media or disk thread: hand @cmd back to the owner. */
void me_cmd_return(struct media_engine *me, struct me_cmd *cmd);

/* media_thread.c */
void *me_thread_main(void *arg);

/* media_record.c: media thread side */
void me_rec_begin(struct me_rec *rec, uint64_t now);
void me_rec_put(struct me_thread *t, struct me_rec *rec, unsigned ch, const struct rtp_hdr *h,
		uint8_t pt, uint64_t now);
void me_rec_tick(struct me_thread *t, struct me_rec *rec, uint64_t now);
/* Write out what is placed and hand @rec to the disk thread to finish. */
void me_rec_end(struct me_thread *t, struct me_rec *rec, uint64_t now);
/* media_record.c: the disk thread */
void *me_disk_main(void *arg);

#endif
