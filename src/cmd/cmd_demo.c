/*
 * demo: `shenggu serve` with a ready demo tenant, for a newcomer (what
 * `make run` starts). Writes the demo's provisioning document into the
 * data folder, prints the number to call and the users to register, then
 * serves with it. Any option of serve may follow (--sip, --data...).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"

/* The demo tenant: an IVR in English and Mandarin on one number, an agent
 * reached from it, a queue (music, position announcements, agents by
 * skill) on another, trunks on loopback. */
static const char demo_doc[] =
    "{\n"
    "  \"version\": 1,\n"
    "  \"operators\": [{ \"id\": \"ops\", \"name\": \"Demo operator\",\n"
    "    \"password\": \"demo-operator-pass\" }],\n"
    "  \"tenants\": [{\n"
    "    \"id\": \"demo\", \"name\": \"Shenggu demo\", \"domain\": \"demo.example\",\n"
    "    \"seats\": 10, \"district\": \"Guanshanhu\", \"park\": \"Big Data Park\",\n"
    "    \"timezone\": \"Asia/Shanghai\",\n"
    "    \"trunks\": [{ \"id\": \"loopback\", \"from\": [\"127.0.0.0/8\", \"::1\"] }],\n"
    "    \"numbers\": [\n"
    "      { \"number\": \"8585100001\", \"route\": { \"ivr\": \"main\" } },\n"
    "      { \"number\": \"8585100002\", \"route\": { \"user\": \"1001\" } },\n"
    "      { \"number\": \"8585100003\", \"route\": { \"queue\": \"general\" } }\n"
    "    ],\n"
    "    \"users\": [\n"
    "      { \"id\": \"1001\", \"name\": \"Li Na\", \"password\": \"demo-1001\", \"roles\": "
    "[\"agent\"], \"skills\": { \"general\": 5 } },\n"
    "      { \"id\": \"1002\", \"name\": \"Wang Wei\", \"password\": \"demo-1002\", \"roles\": "
    "[\"agent\"], \"skills\": { \"general\": 3 } },\n"
    "      { \"id\": \"admin\", \"name\": \"Demo admin\", \"password\": \"demo-admin-pass\",\n"
    "        \"roles\": [\"tenant-admin\", \"supervisor\"] }\n"
    "    ],\n"
    "    \"pause_reasons\": { \"2\": \"break\", \"3\": \"training\" },\n"
    "    \"queues\": [{ \"id\": \"general\", \"strategy\": \"longest-idle\",\n"
    "      \"skills\": { \"general\": 1 }, \"wrapup_s\": 5, \"ring_timeout_s\": 15,\n"
    "      \"max_wait_s\": 300, \"announce_s\": 30 }],\n"
    "    \"ivr\": [{\n"
    "      \"id\": \"main\", \"lang\": \"en\", \"start\": \"welcome\",\n"
    "      \"nodes\": [\n"
    "        { \"id\": \"welcome\", \"type\": \"menu\",\n"
    "          \"prompt\": { \"tts\": \"Welcome to the Shenggu demo. To speak to an agent, press "
    "1. To wait in the queue, press 2. 中文服务请按9。\" },\n"
    "          \"options\": {\n"
    "            \"1\": { \"user\": \"1001\", \"prompt\": { \"tts\": \"Connecting you to an "
    "agent.\" } },\n"
    "            \"2\": { \"queue\": \"general\", \"prompt\": { \"tts\": \"Please hold.\" } },\n"
    "            \"9\": { \"node\": \"zh\" }\n"
    "          },\n"
    "          \"timeout_s\": 6, \"retries\": 2, \"timeout\": { \"queue\": \"general\" } },\n"
    "        { \"id\": \"zh\", \"type\": \"menu\",\n"
    "          \"prompt\": { \"tts\": \"人工服务请按1，排队等候请按2。\", \"voice\": \"cmn\" },\n"
    "          \"options\": {\n"
    "            \"1\": { \"user\": \"1001\" },\n"
    "            \"2\": { \"queue\": \"general\" }\n"
    "          },\n"
    "          \"timeout_s\": 6, \"retries\": 2, \"timeout\": { \"queue\": \"general\" } }\n"
    "      ]\n"
    "    }]\n"
    "  }]\n"
    "}\n";

int cmd_demo(int argc, char **argv)
{
	const char *data = "./var", *sip = "127.0.0.1:5060", *http = "127.0.0.1:8080";
	char path[4096], *args[64];
	FILE *f;
	int n = 0;

	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--data"))
			data = argv[i + 1];
		else if (!strcmp(argv[i], "--sip"))
			sip = argv[i + 1];
		else if (!strcmp(argv[i], "--http"))
			http = argv[i + 1];
	}
	if (argc > 56) {
		fprintf(stderr, "demo: too many options\n");
		return 2;
	}
	if (mkdir(data, 0750) && errno != EEXIST) {
		fprintf(stderr, "demo: cannot create data folder %s: %s\n", data, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/demo.json", data);
	f = fopen(path, "w");
	if (!f || fputs(demo_doc, f) < 0 || fclose(f)) {
		fprintf(stderr, "demo: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("Shenggu demo\n"
	       "  tenant       demo (SIP domain demo.example), provisioned from %s\n"
	       "  call         sip:8585100001@%s   the IVR: press 1 for the agent, 2 to queue\n"
	       "               sip:8585100002@%s   straight to agent 1001\n"
	       "               sip:8585100003@%s   the queue: agents log in first\n"
	       "  agent codes  dial *20 log in, *21 log out, *22 ready, *23 not ready\n"
	       "               (*232 break, *233 training) from a registered phone\n"
	       "  agents       1001 / demo-1001 and 1002 / demo-1002 at demo.example,\n"
	       "               registrar and outbound proxy %s (UDP or TCP)\n"
	       "  with baresip: in ~/.baresip/accounts put\n"
	       "      <sip:1001@demo.example>;auth_pass=demo-1001;outbound=\"sip:%s\"\n"
	       "    then, from another baresip (its own -f folder), dial\n"
	       "      /dial sip:8585100001@%s\n"
	       "  records      build/shenggu cdr --tenant demo --data %s\n"
	       "               build/shenggu queue-log --tenant demo --data %s\n"
	       "  API          http://%s/api/v1/ (docs/API.md): log in with\n"
	       "               "
	       "{\"tenant\":\"demo\",\"user\":\"admin\",\"password\":\"demo-admin-pass\"}\n"
	       "               (agents: 1001 / demo-1001; the platform operator: ops /\n"
	       "               demo-operator-pass without a tenant) at POST /api/v1/login;\n"
	       "               live events on ws://%s/api/v1/events?token=...\n\n",
	       path, sip, sip, sip, sip, sip, sip, data, data, http, http);
	fflush(stdout);
	args[n++] = (char *)"serve";
	args[n++] = (char *)"--provision";
	args[n++] = path;
	/* baresip in Debian 12 answers only MD5 challenges. */
	args[n++] = (char *)"--digest-order";
	args[n++] = (char *)"md5-only";
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	return cmd_serve(n, args);
}
