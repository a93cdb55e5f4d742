/*
 * sip_peer: where a SIP message came from, and so where its answer goes.
 * Shared by the transport (which fills it for every message it hands up)
 * and the transaction layer (which sends through it).
 */
#ifndef SIP_PEER_H
#define SIP_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sip/sip_msg.h"

struct sip_peer {
	enum sip_transport transport; /* UDP: unreliable; TCP, TLS, SCTP, WS, WSS: reliable */
	struct sockaddr_storage addr; /* AF_INET or AF_INET6 address and port */
	uint64_t conn_id;	      /* stream connection (the transport's id); 0 for UDP */
};

/* True for the transports on which RFC 3261 §17 skips retransmissions. */
static inline bool sip_peer_reliable(const struct sip_peer *peer)
{
	switch (peer->transport) {
	case SIP_TRANSPORT_TCP:
	case SIP_TRANSPORT_TLS:
	case SIP_TRANSPORT_SCTP:
	case SIP_TRANSPORT_WS:
	case SIP_TRANSPORT_WSS:
		return true;
	case SIP_TRANSPORT_UDP:
	case SIP_TRANSPORT_OTHER:
		break;
	}
	return false;
}

#endif
