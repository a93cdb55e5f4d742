/*
 * serve: the platform daemon.
 *
 * Opens the store (--db, default SQLite under --data), applies a
 * provisioning document when given one (--provision), restores the
 * registrations, and runs one worker loop: the SIP transport (UDP and TCP
 * on --sip) feeds the transaction layer, which absorbs retransmissions and
 * hands each new request here once. REGISTER goes to the multi-tenant
 * registrar; OPTIONS (the keep-alive probe of phones, trunks and Kamailio's
 * dispatcher) gets 200 with our capabilities; CANCEL is matched; any other
 * method gets 501 until call control lands. Malformed requests are answered
 * by the transport (400, 505, 513). SIGINT or SIGTERM stops it cleanly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <unistd.h>

#define LOG_MODULE "serve"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/mbuf.h"
#include "cmd/cmd.h"
#include "cmd/serve_api.h"
#include "cmd/serve_call.h"
#include "cmd/serve_reg.h"
#include "loop/loop.h"
#include "sip/sip_msg.h"
#include "sip/sip_print.h"
#include "sip/sip_tport.h"
#include "sip/sip_tx.h"
#include "prov/prov.h"
#include "reg/reg.h"
#include "store/store.h"

#define SIP_ALLOW     "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER"
#define SERVER_HEADER "Server: Shenggu/" SHENGGU_VERSION "\r\n"

struct serve {
	uint32_t tag_seed[2]; /* random at start: To tags cannot be guessed */
	struct loop *loop;
	struct sip_tport *sip;
	struct sip_txl *txl;
	struct store *store;
	struct serve_reg *reg;	 /* the registrar and its binding writes */
	struct serve_call *call; /* calls: B2BUA, media, IVR, CDRs */
	struct serve_api *api;	 /* HTTP: REST, events, web UI */
	char openapi[4200];	 /* the OpenAPI document's path, for the API */
	char http_host[64];	 /* kept: libwebsockets keeps a pointer to it */
	struct mbuf out;	 /* a response being built */
};

/*
 * Our To tag for a response to @req (RFC 3261 §19.3: unique, random): the
 * hash of its Call-ID and From tag under two random seeds, so every dialog
 * gets its own and a retransmitted request gets the same one.
 */
static void to_tag(const struct serve *s, const struct sip_msg *req, char buf[17])
{
	uint32_t h[2];

	for (int k = 0; k < 2; k++) {
		struct str parts[2] = {req->call_id, req->from->tag};

		h[k] = s->tag_seed[k];
		for (int i = 0; i < 2; i++) {
			for (size_t j = 0; j < parts[i].len; j++) {
				h[k] ^= (unsigned char)parts[i].p[j];
				h[k] *= 16777619u;
			}
		}
	}
	snprintf(buf, 17, "%08x%08x", h[0], h[1]);
}

/* A new request, once per transaction; @st is NULL for an ACK to a 2xx. */
static void on_request(void *arg, struct sip_tx *st, const struct sip_msg *req,
		       const struct sip_peer *src)
{
	struct serve *s = arg;
	struct sip_reply r = {0};
	char tag[17];
	int err;

	/* Calls: INVITE, CANCEL, ACK and whatever belongs to a call's dialogs. */
	if (req->method != SIP_METHOD_REGISTER && s->call &&
	    serve_call_request(s->call, st, req, src))
		return;
	if (!st)
		return;
	switch (req->method) {
	case SIP_METHOD_REGISTER:
		s->out.pos = s->out.end = 0;
		err = reg_request(serve_reg_reg(s->reg), req, src, clock_real_ms(), &s->out);
		if (err > 0) {
			/* The challenge to a request without credentials is answered
			 * statelessly (RFC 3261 §8.2.7): half of every registration,
			 * and nothing worth remembering for Timer J. */
			if (err == 401 && !sip_msg_hdr(req, SIP_HDR_AUTHORIZATION))
				err = sip_tx_respond_stateless(st, s->out.buf, s->out.end);
			else
				err = sip_tx_respond(st, s->out.buf, s->out.end);
			if (err)
				log_debug("REGISTER answer not sent err=%d", err);
			return;
		}
		log_warn("REGISTER failed err=%d", err);
		r.status = 500;
		r.headers = STR(SERVER_HEADER);
		break;
	case SIP_METHOD_OPTIONS:
		r.status = 200;
		r.headers = STR("Allow: " SIP_ALLOW "\r\nAccept: application/sdp\r\n"
				"Supported: path\r\n" SERVER_HEADER);
		break;
	default:
		r.status = 501;
		r.headers = STR("Allow: " SIP_ALLOW "\r\n" SERVER_HEADER);
		break;
	}
	to_tag(s, req, tag);
	r.to_tag = str_cstr(tag);
	err = sip_tx_reply(st, req, &r);
	if (err)
		log_debug("reply not sent status=%u err=%d", r.status, err);
}

/* A response of no transaction: a retransmitted 2xx of a call's B leg. */
static void on_stray(void *arg, const struct sip_msg *resp, const struct sip_peer *src)
{
	struct serve *s = arg;

	if (s->call)
		serve_call_stray(s->call, resp, src);
}

static int on_tx_send(void *arg, const struct sip_peer *peer, const void *buf, size_t len)
{
	struct serve *s = arg;

	return sip_tport_send(s->sip, peer, buf, len);
}

/* Every well-formed message from the transport goes to the transaction layer. */
static void on_sip(const struct sip_msg *msg, const struct sip_peer *from, void *arg)
{
	struct serve *s = arg;
	int r = sip_txl_recv(s->txl, msg, from);

	if (r < 0)
		log_debug("message not handled err=%d", r);
}

/* The transport's and the transaction layer's counters, once, at the stop. */
static void log_stop(const struct serve *s, int signum)
{
	struct sip_tport_stats st;
	struct sip_txl_stats ts;

	sip_tport_stats(s->sip, &st);
	sip_txl_stats(s->txl, &ts);
	log_info("stopping signal=%d rx=%llu tx=%llu bad=%llu tx_rejected=%llu tx_done_early=%llu "
		 "tx_stateless=%llu",
		 signum, (unsigned long long)st.rx, (unsigned long long)st.tx,
		 (unsigned long long)st.bad, (unsigned long long)ts.rejected,
		 (unsigned long long)ts.done_early, (unsigned long long)ts.stateless);
}

static void on_signal(int signum, void *arg)
{
	struct serve *s = arg;

	if (!s->sip)
		return; /* already stopping */
	log_stop(s, signum);
	serve_api_stop(s->api);	  /* the API reads the ACD of the calls */
	serve_call_free(s->call); /* BYE to the calls still up, their CDRs */
	s->call = NULL;
	serve_reg_free(s->reg);
	s->reg = NULL;
	sip_txl_free(s->txl);
	s->txl = NULL;
	sip_tport_free(s->sip);
	s->sip = NULL;
	loop_stop(s->loop);
}

/* "HOST:PORT" or "[V6]:PORT" into @ss. */
static int parse_hostport(const char *text, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	char *end;
	long port;
	size_t hl;

	if (!colon)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || port < 0 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - text);
	if (hl >= 2 && text[0] == '[' && text[hl - 1] == ']') {
		text++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -EINVAL;
}

static int ensure_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0750) && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (access(dir, R_OK | W_OK | X_OK))
		return -errno;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: shenggu serve [--sip HOST:PORT] [--http HOST:PORT] [--data DIR] [--db URL]\n"
	    "                     [--provision FILE] [--digest-order ORDER] [--log-level LEVEL]\n"
	    "  --sip HOST:PORT       SIP over UDP and TCP (default 127.0.0.1:5060; [::1]:5060)\n"
	    "  --http HOST:PORT      the API, the event stream and the web UI (default\n"
	    "                        127.0.0.1:8080; \"off\" for none)\n"
	    "  --web DIR             the web UI's files (default ./web when it exists)\n"
	    "  --data DIR            data folder (default ./var)\n"
	    "  --db URL              sqlite:PATH (default sqlite:DIR/shenggu.db) or\n"
	    "                        postgresql://USER@HOST:PORT/DB\n"
	    "  --provision FILE      apply this provisioning document before serving\n"
	    "  --media ADDR          RTP address (default: the SIP address)\n"
	    "  --rtp-ports MIN-MAX   RTP port range (default 20000-29999)\n"
	    "  --rtp-timeout SECONDS a call whose RTP stops this long ends (default 30;\n"
	    "                        60 before the first packet)\n"
	    "  --digest-order ORDER  challenges of a 401: sha256-first (default, RFC 8760),\n"
	    "                        md5-first (for clients reading only the first one) or\n"
	    "                        md5-only (for clients refusing unknown algorithms)\n"
	    "  --log-level LEVEL     debug, info, warn or error (default info)\n");
}

/* The options, from --config first, then from the command line. */
struct opts {
	const char *sip, *data, *db, *provision, *media, *http, *web;
	unsigned rtp_min, rtp_max, rtp_timeout_s;
	enum reg_digest digest;
};

/* Apply "--@name @val"; 0, or -EINVAL for an unknown option or value. */
static int set_option(struct opts *o, const char *name, const char *val)
{
	enum log_level lvl;

	if (!strcmp(name, "sip"))
		o->sip = val;
	else if (!strcmp(name, "data"))
		o->data = val;
	else if (!strcmp(name, "db"))
		o->db = val;
	else if (!strcmp(name, "provision"))
		o->provision = val;
	else if (!strcmp(name, "media"))
		o->media = val;
	else if (!strcmp(name, "http"))
		o->http = val;
	else if (!strcmp(name, "web"))
		o->web = val;
	else if (!strcmp(name, "rtp-timeout")) {
		char end;

		if (sscanf(val, "%u%c", &o->rtp_timeout_s, &end) != 1 || !o->rtp_timeout_s ||
		    o->rtp_timeout_s > 3600)
			return -EINVAL;
	} else if (!strcmp(name, "rtp-ports")) {
		char end;

		if (sscanf(val, "%u-%u%c", &o->rtp_min, &o->rtp_max, &end) != 2 ||
		    o->rtp_min < 1024 || o->rtp_max > 65535 || o->rtp_min + 3 > o->rtp_max)
			return -EINVAL;
	} else if (!strcmp(name, "digest-order") && !strcmp(val, "sha256-first"))
		o->digest = REG_DIGEST_SHA256_FIRST;
	else if (!strcmp(name, "digest-order") && !strcmp(val, "md5-first"))
		o->digest = REG_DIGEST_MD5_FIRST;
	else if (!strcmp(name, "digest-order") && !strcmp(val, "md5-only"))
		o->digest = REG_DIGEST_MD5_ONLY;
	else if (!strcmp(name, "log-level") && !log_level_parse(val, &lvl))
		log_set_level(lvl);
	else
		return -EINVAL;
	return 0;
}

/*
 * --config FILE: a JSON object of the same options without their dashes,
 * e.g. {"sip": "0.0.0.0:5060", "data": "/var/lib/shenggu", "log-level": "info"}.
 * The command line overrides it. *@rootp keeps the strings alive.
 */
static int load_config(struct opts *o, const char *path, json_t **rootp)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *val;
	const char *key;

	if (!root) {
		fprintf(stderr, "shenggu serve: --config %s: line %d: %s\n", path, jerr.line,
			jerr.text);
		return -EINVAL;
	}
	*rootp = root;
	if (!json_is_object(root)) {
		fprintf(stderr, "shenggu serve: --config %s: expected a JSON object\n", path);
		return -EINVAL;
	}
	json_object_foreach(root, key, val)
	{
		if (!strcmp(key, "config") || !json_is_string(val)) {
			fprintf(stderr,
				"shenggu serve: --config %s: %s: expected a string option\n", path,
				key);
			return -EINVAL;
		}
		if (set_option(o, key, json_string_value(val))) {
			fprintf(stderr, "shenggu serve: --config %s: %s: unknown option or value\n",
				path, key);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The HTTP side (--http). The default address is a convenience: when it is
 * taken the node serves SIP without HTTP; an address given explicitly must
 * work.
 */
static int start_http(struct serve *s, const struct opts *o, const char *db)
{
	struct serve_api_conf conf = {.web_dir = o->web,
				      .db_url = db,
				      .data_dir = o->data,
				      .journal = serve_call_journal(s->call),
				      .call = s->call};
	struct sockaddr_storage ss;
	char *host = s->http_host, errbuf[256];
	struct stat sb;
	int err;

	if (parse_hostport(o->http ? o->http : "127.0.0.1:8080", &ss)) {
		log_error("--http %s: expected HOST:PORT", o->http);
		return -EINVAL;
	}
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
			  sizeof(s->http_host));
		conf.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
			  sizeof(s->http_host));
		conf.port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	conf.host = host;
	if (!conf.web_dir && !stat("web", &sb) && S_ISDIR(sb.st_mode))
		conf.web_dir = "web";
	if (conf.web_dir) {
		snprintf(s->openapi, sizeof(s->openapi), "%s/openapi.json", conf.web_dir);
		conf.openapi = s->openapi;
	}
	err = serve_api_alloc(&s->api, &conf, s->loop, s->store, serve_call_acd(s->call), s->reg,
			      errbuf, sizeof(errbuf));
	if (err && !o->http) {
		log_warn("no HTTP: the default address is unusable addr=%s:%u err=\"%s\"", host,
			 conf.port, errbuf);
		return 0;
	}
	if (err) {
		log_error("cannot serve HTTP addr=%s err=\"%s\"", o->http, errbuf);
		return err;
	}
	log_info("serving HTTP addr=%s:%u web=%s", host, conf.port,
		 conf.web_dir ? conf.web_dir : "none");
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct opts o = {.sip = "127.0.0.1:5060", .data = "./var"};
	const char *sip, *data, *db, *provision;
	enum reg_digest digest;
	char url[4200], errbuf[512];
	struct sip_tport_conf conf;
	struct serve s = {0};
	json_t *config = NULL;
	int err, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
	}
	/* The file first, whatever its place: the command line wins. */
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--config") && load_config(&o, argv[i + 1], &config)) {
			json_decref(config);
			return 2;
		}
	}
	for (int i = 1; i < argc; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val || strncmp(opt, "--", 2)) {
			usage(stderr);
			json_decref(config);
			return 2;
		}
		if (!strcmp(opt, "--config"))
			continue;
		if (set_option(&o, opt + 2, val)) {
			fprintf(stderr, "shenggu serve: bad option '%s %s'\n", opt, val);
			usage(stderr);
			json_decref(config);
			return 2;
		}
	}
	sip = o.sip;
	data = o.data;
	db = o.db;
	provision = o.provision;
	digest = o.digest;
	mbuf_init(&s.out, 65535);
	if (RAND_bytes((unsigned char *)s.tag_seed, sizeof(s.tag_seed)) != 1) {
		log_error("no randomness for tags");
		goto out;
	}
	sip_tport_conf_default(&conf);
	if (parse_hostport(sip, &conf.addr)) {
		fprintf(stderr, "shenggu serve: --sip %s: expected HOST:PORT\n", sip);
		rc = 2;
		goto out;
	}
	err = ensure_dir(data);
	if (err) {
		log_error("data folder unusable dir=%s err=\"%s\"", data, strerror(-err));
		goto out;
	}
	if (!db) {
		if (store_url_default(url, sizeof(url), data)) {
			log_error("data folder path too long dir=%s", data);
			goto out;
		}
		db = url;
	}
	err = store_open(&s.store, db, errbuf, sizeof(errbuf));
	if (err) {
		log_error("cannot open the database db=%s err=\"%s\"", db, errbuf);
		goto out;
	}
	if (provision) {
		struct prov_summary sum;
		char line[512];

		err = prov_apply_file(s.store, provision, &sum, errbuf, sizeof(errbuf));
		if (err) {
			log_error("provisioning refused file=%s: %s", provision, errbuf);
			goto out;
		}
		prov_summary_format(&sum, line, sizeof(line));
		log_info("provisioned file=%s %s", provision, line);
	}
	err = loop_alloc(&s.loop);
	if (err) {
		log_error("cannot start the event loop err=\"%s\"", strerror(-err));
		goto out;
	}
	err = serve_reg_alloc(&s.reg, s.store, db, loop_timers(s.loop), digest);
	if (err) {
		log_error("cannot start the registrar err=\"%s\"", strerror(-err));
		goto out;
	}
	{
		const struct sip_tx_ops ops = {
		    .send = on_tx_send, .request = on_request, .stray = on_stray};

		err = sip_txl_alloc(&s.txl, NULL, loop_timers(s.loop), &ops, &s);
		if (err) {
			log_error("cannot start the transaction layer err=\"%s\"", strerror(-err));
			goto out;
		}
	}
	err = sip_tport_alloc(&s.sip, s.loop, &conf, on_sip, &s);
	if (err) {
		log_error("cannot open SIP port addr=%s proto=udp+tcp err=\"%s\"", sip,
			  strerror(-err));
		goto out;
	}
	{
		struct serve_call_conf cc = {
		    .sip_addr = conf.addr,
		    .media_addr = o.media,
		    .rtp_min = (uint16_t)o.rtp_min,
		    .rtp_max = (uint16_t)o.rtp_max,
		    .data_dir = data,
		    .db_url = db,
		    .rtp_timeout_ms = o.rtp_timeout_s * 1000,
		};

		err = serve_call_alloc(&s.call, &cc, s.loop, s.txl, s.store, serve_reg_reg(s.reg));
		if (err)
			goto out;
	}
	err = loop_signal(s.loop, SIGINT, on_signal, &s);
	err = err ? err : loop_signal(s.loop, SIGTERM, on_signal, &s);
	if (err) {
		log_error("cannot handle signals err=\"%s\"", strerror(-err));
		goto out;
	}
	if (strcmp(o.http ? o.http : "", "off")) {
		err = start_http(&s, &o, db);
		if (err)
			goto out;
	}
	log_info("listening addr=%s proto=udp+tcp data=%s db=%s version=%s", sip, data, db,
		 SHENGGU_VERSION);
	loop_run(s.loop);
	log_info("stopped");
	rc = 0;
out:
	json_decref(config);
	/* After a failed start-up, close what was opened and let the loop
	 * finish closing its handles (on_signal did this for a normal stop). */
	if (s.loop) {
		serve_api_stop(s.api);
		serve_call_free(s.call);
		serve_reg_free(s.reg);
		sip_txl_free(s.txl);
		sip_tport_free(s.sip);
		loop_stop(s.loop);
		loop_run(s.loop);
	}
	serve_api_free(s.api);
	loop_free(s.loop);
	store_close(s.store);
	mbuf_reset(&s.out);
	return rc;
}
