/*
 * media_relay_bench: Shenggu's media engine as a stand-alone relay for
 * bench/bench_media.sh. It runs the engine (one media thread, optionally
 * pinned) and creates bridged sessions on request of the load generator
 * (bench/rtp_load.c), over a tiny text protocol on UDP, so that no SIP is
 * involved:
 *
 *   "call TAG PORT_A PORT_B"  -> "ok TAG RELAY_A RELAY_B"  (PCMU both legs,
 *                                remotes 127.0.0.1:PORT_A / PORT_B, bridged,
 *                                recorded when --record DIR is given)
 *   "reset"                   -> "ok" once every session is destroyed and
 *                                every recording finished (and deleted)
 *   "quit"                    -> "ok", then exit
 *
 * Usage: media_relay_bench --ctl PORT [--addr 127.0.0.1] [--ports MIN-MAX]
 *                          [--cpu N] [--record DIR]
 * Loopback only; it stops on "quit", SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "media/media_engine.h"

#define MAX_CALLS 20000

struct bench {
	struct media_engine *me;
	const char *record_dir;
	uint64_t ids[MAX_CALLS];
	size_t n;
	unsigned recordings; /* started, not yet finished */
	unsigned long rec_errors;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_event(void *arg, const struct media_event *ev)
{
	struct bench *b = arg;

	if (ev->type != MEDIA_EV_RECORD_DONE)
		return;
	if (ev->record.err)
		b->rec_errors++;
	/* The figures are what matters, not the files: keep the disk clear. */
	unlink(ev->record.path);
	b->recordings--;
}

static int call_create(struct bench *b, unsigned tag, uint16_t pa, uint16_t pb, char *reply,
		       size_t size)
{
	struct media_leg_info legs[2];
	uint64_t id;
	int err;

	if (b->n == MAX_CALLS)
		return -ENOSPC;
	err = media_session_create(b->me, &id, legs);
	if (err)
		return err;
	for (int i = 0; i < 2 && !err; i++) {
		struct media_remote r = {.addr = STR("127.0.0.1"),
					 .port = i ? pb : pa,
					 .pt = 0,
					 .te_pt = 101,
					 .ptime = 20,
					 .dir = MEDIA_DIR_SENDRECV};

		err = media_leg_remote(b->me, id, (enum media_leg)i, &r);
	}
	if (!err)
		err = media_bridge(b->me, id, true);
	if (!err && b->record_dir) {
		char path[512];

		snprintf(path, sizeof(path), "%s/call-%u.wav", b->record_dir, tag);
		unlink(path);
		err = media_record_start(b->me, id, path);
		if (!err)
			b->recordings++;
	}
	if (err) {
		media_session_destroy(b->me, id);
		return err;
	}
	b->ids[b->n++] = id;
	snprintf(reply, size, "ok %u %u %u", tag, legs[0].rtp_port, legs[1].rtp_port);
	return 0;
}

/* Destroy every session and wait for the recordings to be finished. */
static void reset(struct bench *b)
{
	for (size_t i = 0; i < b->n; i++)
		media_session_destroy(b->me, b->ids[i]);
	b->n = 0;
	for (int k = 0; k < 3000; k++) {
		struct media_engine_stats st;
		struct pollfd pfd = {.fd = media_engine_event_fd(b->me), .events = POLLIN};

		media_engine_drain(b->me);
		media_engine_stats_get(b->me, &st);
		if (!st.sessions && !b->recordings)
			return;
		poll(&pfd, 1, 10);
	}
	fprintf(stderr, "media_relay_bench: reset: sessions still pending\n");
}

int main(int argc, char **argv)
{
	struct bench *b;
	struct media_conf conf;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	const char *addr = "127.0.0.1";
	unsigned ctl_port = 0, pmin = 20000, pmax = 39999;
	int cpu = -1, fd, err;

	b = calloc(1, sizeof(*b));
	if (!b)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ctl") && i + 1 < argc)
			ctl_port = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--addr") && i + 1 < argc)
			addr = argv[++i];
		else if (!strcmp(argv[i], "--ports") && i + 1 < argc)
			sscanf(argv[++i], "%u-%u", &pmin, &pmax);
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			cpu = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--record") && i + 1 < argc)
			b->record_dir = argv[++i];
		else {
			fprintf(stderr,
				"usage: %s --ctl PORT [--addr IP] [--ports MIN-MAX] "
				"[--cpu N] [--record DIR]\n",
				argv[0]);
			return 2;
		}
	}
	if (!ctl_port || ctl_port > 65535 || pmin > 65535 || pmax > 65535)
		return 2;
	media_conf_init(&conf);
	conf.addr4 = addr;
	conf.port_min = (uint16_t)pmin;
	conf.port_max = (uint16_t)pmax;
	if (cpu >= 0) {
		conf.pin_threads = true;
		conf.cpu_first = (unsigned)cpu;
	}
	err = media_engine_alloc(&b->me, &conf, on_event, b);
	if (err) {
		fprintf(stderr, "media_relay_bench: engine: %s\n", strerror(-err));
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sa.sin_port = htons((uint16_t)ctl_port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("media_relay_bench: control socket");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN},
					{.fd = media_engine_event_fd(b->me), .events = POLLIN}};
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		char req[256], reply[256];
		unsigned tag, pa, pb;
		ssize_t n;

		if (poll(pfd, 2, 200) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			media_engine_drain(b->me);
		if (!pfd[0].revents)
			continue;
		n = recvfrom(fd, req, sizeof(req) - 1, 0, (struct sockaddr *)&from, &flen);
		if (n <= 0)
			continue;
		req[n] = '\0';
		if (sscanf(req, "call %u %u %u", &tag, &pa, &pb) == 3) {
			err = call_create(b, tag, (uint16_t)pa, (uint16_t)pb, reply, sizeof(reply));
			if (err)
				snprintf(reply, sizeof(reply), "err %u %s", tag, strerror(-err));
		} else if (!strncmp(req, "reset", 5)) {
			reset(b);
			snprintf(reply, sizeof(reply), "ok");
		} else if (!strncmp(req, "quit", 4)) {
			snprintf(reply, sizeof(reply), "ok");
			stop = 1;
		} else {
			snprintf(reply, sizeof(reply), "err unknown");
		}
		sendto(fd, reply, strlen(reply), 0, (struct sockaddr *)&from, flen);
	}
	reset(b);
	if (b->rec_errors)
		fprintf(stderr, "media_relay_bench: %lu recordings failed\n", b->rec_errors);
	media_engine_free(b->me);
	close(fd);
	free(b);
	return 0;
}
