/*
 * media_engine: the RTP media relay that anchors the media of B2BUA calls.
 *
 * A session is one call: two legs, A (the caller) and B (the callee), each
 * with its own local RTP/RTCP port pair. The engine latches each leg to its
 * remote (symmetric RTP), relays audio between the legs when bridged
 * (transcoding PCMU <-> PCMA when the legs differ), relays and reports RFC
 * 4733 digits, plays prompts into a leg, records both legs into one stereo
 * WAV, watches for RTP timeouts and terminates RTCP per leg.
 *
 * Threads. The engine runs conf->threads media threads, each with its own
 * epoll loop and a timerfd tick; a session lives on one of them from
 * creation to destruction and its state is touched by that thread only.
 * Everything in this header but media_audio_ref()/unref() and
 * media_engine_event_fd() is called from ONE owner thread (the call
 * control's event loop): the API queues commands to the media threads and
 * returns without waiting for them, except media_session_stats(), which
 * waits for the answer. Events travel back through one queue: the engine
 * makes media_engine_event_fd() readable, the owner polls it in its own loop
 * (uv_poll) and calls media_engine_drain(), which runs the handler on the
 * owner's thread. A handler may call any function here but
 * media_engine_drain() and media_engine_free().
 *
 * Packets. Each media thread waits in one epoll_wait() for its sockets, its
 * tick and its commands together; a readable socket is read with one
 * recvmmsg() (up to 32 packets), and what is relayed goes out with one
 * sendmmsg(): parse the header, rewrite SSRC, sequence number and
 * timestamp in place (and the payload through a table when PCMU meets
 * PCMA). Nothing is allocated per packet. Recordings are written (write(2),
 * 100 ms at a time) by the media thread; syncing, closing and hashing them
 * is done by one disk thread. DTMF, latch and timeout events are dropped
 * (counted, and warned about at the next drain) if the owner lets the
 * queue fill up; prompt and recording results are never lost.
 *
 * Memory. Every allocation happens on the owner's thread (sessions, command
 * nodes, recordings, audio), and so does every free: the media threads hand
 * memory back through the event queue and never call mem_alloc() or
 * mem_free(), nor drop the last reference to an audio buffer. So the owner
 * must drain: a command's node is freed at the drain after the media thread
 * has seen it. Per session: one allocation of 2.3 KiB (struct me_session,
 * both legs' state), 4 sockets per configured address family, plus 33 KiB
 * while it records (a one-second ring per channel); per command 336 bytes
 * until drained. Each media thread has 80 KiB of packet buffers; the event
 * ring starts at 1024 events (170 KiB) and doubles when found half full.
 *
 * Errors: 0 or a negative errno. -EINVAL for bad arguments, -ENOENT for an
 * unknown (or already destroyed) session id, -ENOMEM, -ENOSPC when the port
 * range has no free pair, -EADDRINUSE when every free pair failed to bind.
 *
 * Not here: SDP (sdp.h decides what goes into struct media_remote), SRTP,
 * codecs other than G.711, a jitter buffer on the relay path (packets are
 * forwarded as they come; only the recorder reorders), conferences.
 */
#ifndef MEDIA_MEDIA_ENGINE_H
#define MEDIA_MEDIA_ENGINE_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/str.h"

struct media_engine;

#define MEDIA_PORT_MIN_DEFAULT	    20000
#define MEDIA_PORT_MAX_DEFAULT	    29999
#define MEDIA_RTP_TIMEOUT_DEFAULT   30000 /* ms */
#define MEDIA_SETUP_TIMEOUT_DEFAULT 60000 /* ms */
#define MEDIA_RTCP_INTERVAL_DEFAULT 5000  /* ms */
#define MEDIA_RECORD_FSYNC_DEFAULT  2000  /* ms */
#define MEDIA_TICK_DEFAULT	    10	  /* ms */
#define MEDIA_THREADS_MAX	    64

struct media_conf {
	unsigned threads; /* media threads, 0 = 1, at most MEDIA_THREADS_MAX */
	unsigned tick_ms; /* 10 or 20, 0 = 10: the pace of prompts and the recorder */
	/*
	 * The media addresses to bind (literals, e.g. "192.0.2.10", "2001:db8::1"),
	 * NULL for none; at least one. The engine binds exactly these, never the
	 * wildcard. With both, every leg has sockets in both families on the same
	 * port numbers, and sends from the family of its remote.
	 */
	const char *addr4;
	const char *addr6;
	uint16_t port_min, port_max;   /* inclusive; 0, 0 = 20000..29999; even pairs in between */
	uint32_t rtp_timeout_ms;       /* no RTP after media flowed: 0 = 30000 */
	uint32_t rtp_setup_timeout_ms; /* no RTP at all since the remote was set: 0 = 60000 */
	uint32_t rtcp_interval_ms;     /* our SR/RR per leg: 0 = 5000 */
	uint32_t record_fsync_ms;      /* recordings reach the disk this often: 0 = 2000 */
	/*
	 * Latching (symmetric RTP): each leg sends to the source of the first
	 * valid RTP packet it receives and drops every other source from then
	 * on. With latch_any, that first source may be any address: callers
	 * behind NAT send from an address their SDP does not show, so this is
	 * what makes them work, at the price that whoever guesses the port and
	 * sends first (before the real party) captures the leg's media. Without
	 * it, only a source whose IP equals the SDP's may latch: safe, but NATed
	 * callers get no audio. media_conf_init() sets it (the common choice);
	 * a zeroed conf is strict.
	 */
	bool latch_any;
	bool pin_threads; /* pin media thread i to CPU cpu_first + i */
	unsigned cpu_first;
};

/* Fill @conf with the defaults (threads 1, 10 ms tick, latch_any, no address). */
void media_conf_init(struct media_conf *conf);

enum media_leg {
	MEDIA_LEG_A = 0, /* the caller */
	MEDIA_LEG_B = 1, /* the callee */
};

/* The remote's SDP direction attribute (RFC 3264 §5.1): what the remote wants. */
enum media_dir {
	MEDIA_DIR_SENDRECV = 0,
	MEDIA_DIR_SENDONLY, /* the remote only sends (it holds us): we send it nothing */
	MEDIA_DIR_RECVONLY, /* the remote only receives: its packets are dropped */
	MEDIA_DIR_INACTIVE, /* neither way; RTCP goes on */
};

enum media_event_type {
	MEDIA_EV_DTMF = 1,    /* a key press received on a leg (RFC 4733) */
	MEDIA_EV_PLAY_DONE,   /* a prompt finished, or was stopped or replaced */
	MEDIA_EV_RTP_TIMEOUT, /* a leg stopped receiving media */
	MEDIA_EV_LATCHED,     /* a leg latched to a source */
	MEDIA_EV_RECORD_DONE, /* a recording is closed, synced and hashed */
};

struct media_event {
	enum media_event_type type;
	uint64_t session;
	enum media_leg leg; /* MEDIA_LEG_A for RECORD_DONE */
	union {
		struct {
			char digit;	      /* '0'-'9', '*', '#', 'A'-'D' */
			uint32_t duration_ms; /* of the key press */
		} dtmf;
		struct {
			uint32_t play_id; /* as given to media_play() */
			bool completed;	  /* played to the end; false: stopped or replaced */
		} play;
		struct {
			bool setup;  /* no media ever: rtp_setup_timeout_ms since the remote */
			uint32_t ms; /* the timeout that expired */
		} timeout;
		struct {
			struct sockaddr_storage addr; /* the latched source */
			socklen_t addr_len;
		} latched;
		struct {
			const char *path; /* valid during the handler only */
			uint64_t duration_ms;
			uint64_t bytes;	 /* of the file */
			char sha256[65]; /* hex of the file's SHA-256, "" when err */
			int err; /* 0, or the first write/sync error (the file may be short) */
		} record;
	};
};

/* Runs on the owner's thread, inside media_engine_drain(); @ev lives for the call. */
typedef void(media_event_h)(void *arg, const struct media_event *ev);

/*
 * Start the engine: bind nothing yet, start the media threads and one disk
 * thread (which syncs, closes and hashes recordings so that a media thread
 * never waits on the disk). @conf is copied. 0, -EINVAL (no address, a bad
 * literal, tick not 10/20, a range without a whole even pair), -ENOMEM, or
 * -errno of epoll/eventfd/timerfd/pthread_create.
 */
int media_engine_alloc(struct media_engine **mep, const struct media_conf *conf, media_event_h *h,
		       void *arg);

/*
 * Stop: every session is torn down (recordings finished and synced, prompts
 * dropped), the threads are joined and everything is freed. The handler is
 * not called for what was still pending. NULL is fine.
 */
void media_engine_free(struct media_engine *me);

/* The descriptor that turns readable when events wait; poll it for reading. Any thread. */
int media_engine_event_fd(const struct media_engine *me);

/*
 * Run the handler for every event waiting, in the order the media threads
 * produced them, and free what the media threads handed back. Returns the
 * events delivered (>= 0). Cheap when nothing waits.
 */
int media_engine_drain(struct media_engine *me);

struct media_engine_stats {
	unsigned sessions;	 /* created, not yet released by their media thread */
	unsigned ports_in_use;	 /* RTP+RTCP pairs held (2 per live session) */
	unsigned port_pairs;	 /* in the range */
	uint64_t events_dropped; /* DTMF/latch/timeout events lost to a full queue */
};

void media_engine_stats_get(struct media_engine *me, struct media_engine_stats *st);

/* What the SDP of a leg needs. */
struct media_leg_info {
	uint16_t rtp_port;	      /* even */
	uint16_t rtcp_port;	      /* rtp_port + 1 */
	char addr4[INET_ADDRSTRLEN];  /* "" when no IPv4 address is configured */
	char addr6[INET6_ADDRSTRLEN]; /* "" when no IPv6 address is configured */
};

/*
 * Create a session: allocate and bind both legs' ports here, on the calling
 * thread, so that they can go into an SDP at once, then hand the session to
 * the least loaded media thread. The legs start unbridged, without a remote
 * (every packet dropped until media_leg_remote()). On success *@idp is the
 * session's id (never 0) and @out[MEDIA_LEG_A], @out[MEDIA_LEG_B] its legs.
 * 0, -EINVAL, -ENOMEM, -ENOSPC, -EADDRINUSE, or -errno of socket/bind.
 */
int media_session_create(struct media_engine *me, uint64_t *idp, struct media_leg_info out[2]);

/*
 * Tear a session down: the prompts end (PLAY_DONE, not completed), the
 * recording is finished (RECORD_DONE), the sockets are closed; the ports go
 * back to the pool when the media thread has closed them, which a later
 * drain notices. The id is unknown from this call on. 0 or -ENOENT.
 */
int media_session_destroy(struct media_engine *me, uint64_t id);

/* What the remote's SDP says about one leg. */
struct media_remote {
	struct str addr;    /* IPv4 or IPv6 literal of c= (borrowed for the call) */
	uint16_t port;	    /* RTP port of m=; 0: the stream is refused, nothing sent */
	uint16_t rtcp_port; /* a=rtcp (RFC 3605); 0: port + 1 */
	uint8_t pt;	    /* 0 (PCMU) or 8 (PCMA) */
	int te_pt;	    /* telephone-event payload type 0..127, or -1 */
	uint16_t ptime;	    /* ms, 10..120 in steps of 10; 0: 20 */
	enum media_dir dir;
};

/*
 * Set or change a leg's remote (initial SDP, re-INVITE, hold). A new address
 * or port unlatches the leg so that the new remote can latch; the timeouts
 * restart. "0.0.0.0" (RFC 2543 hold) sends nothing. 0, -EINVAL (bad
 * literal, pt, te_pt or ptime), -EAFNOSUPPORT (no local address of that
 * family), -ENOENT, -ENOMEM. @r is copied.
 */
int media_leg_remote(struct media_engine *me, uint64_t id, enum media_leg leg,
		     const struct media_remote *r);

/*
 * Relay A <-> B (on) or stop relaying (off). Each leg's outgoing stream has
 * our own SSRC, and sequence numbers and timestamps continue across changes
 * of source (another remote SSRC, prompt to relay), with the marker set on
 * the first packet after one. 0, -ENOENT or -ENOMEM.
 */
int media_bridge(struct media_engine *me, uint64_t id, bool on);

/* 8 kHz 16-bit mono PCM, immutable once made; refcounted across threads. */
struct media_audio;

/*
 * Copy @n samples of @pcm (n > 0) into a new buffer with one reference.
 * 0, -EINVAL or -ENOMEM.
 */
int media_audio_alloc(struct media_audio **ap, const int16_t *pcm, size_t n);
/* Any thread; atomics. ref returns @a; unref frees at zero and returns NULL. */
struct media_audio *media_audio_ref(struct media_audio *a);
struct media_audio *media_audio_unref(struct media_audio *a);
size_t media_audio_samples(const struct media_audio *a);

/*
 * Play @audio into @leg, paced at the leg's ptime and encoded with its
 * codec, from the next tick; @loop repeats it until stopped. A prompt
 * already playing on the leg is replaced (its PLAY_DONE says not
 * completed). While a leg plays, audio bridged into it is dropped: the
 * prompt wins. Takes a reference on @audio (the caller keeps its own) that
 * is dropped on the owner's thread when the PLAY_DONE is drained.
 * 0, -EINVAL, -ENOENT or -ENOMEM.
 */
int media_play(struct media_engine *me, uint64_t id, enum media_leg leg, struct media_audio *audio,
	       bool loop, uint32_t play_id);

/* Stop the prompt of @leg, if any (PLAY_DONE, not completed). 0, -ENOENT, -ENOMEM. */
int media_play_stop(struct media_engine *me, uint64_t id, enum media_leg leg);

/*
 * Record the call into a new stereo 8 kHz 16-bit WAV at @path: leg A's
 * received audio on the left, leg B's on the right, placed by RTP timestamp
 * (late packets within 60 ms are put in their place, gaps are silence),
 * synced at least every record_fsync_ms. The file is created here (it must
 * not exist: -EEXIST; mode 0600), so a bad path fails now. One recording per
 * session at a time (-EALREADY). 0, -EINVAL, -ENOENT, -ENOMEM or -errno.
 */
int media_record_start(struct media_engine *me, uint64_t id, const char *path);

/* Finish the recording (RECORD_DONE follows). 0, -ENOENT, -ENOTCONN (none), -ENOMEM. */
int media_record_stop(struct media_engine *me, uint64_t id);

/* Counters of one leg since the session was created. */
struct media_leg_stats {
	uint64_t pkts_in, bytes_in;   /* accepted RTP (bytes: UDP payload) */
	uint64_t pkts_out, bytes_out; /* sent RTP: relayed and prompts */
	uint64_t dropped_foreign;     /* from a source other than the latched one */
	uint64_t dropped;	      /* malformed, unknown payload type, no remote, direction */
	uint64_t rtcp_in, rtcp_out;
	int32_t lost;	    /* RFC 3550 cumulative loss of the current remote source */
	uint32_t jitter_ms; /* its interarrival jitter */
	bool latched;
	struct sockaddr_storage source; /* when latched */
	/* What the remote reported about our stream in its last RTCP report. */
	bool remote_report;
	uint8_t remote_fraction_lost; /* 1/256 */
	int32_t remote_lost;
	uint32_t remote_jitter_ms;
	uint32_t rtt_ms; /* from LSR/DLSR, 0 when unknown */
};

/*
 * Read both legs' counters: asks the session's media thread and blocks until
 * it answers, which it does between two batches of packets (microseconds).
 * 0 or -ENOENT.
 */
int media_session_stats(struct media_engine *me, uint64_t id, struct media_leg_stats st[2]);

#endif
