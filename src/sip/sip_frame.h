/*
 * sip_frame: cut a byte stream (TCP, TLS) into whole SIP messages
 * (RFC 3261 §18.3): headers up to the empty line, then exactly
 * Content-Length bytes of body. CRLF keep-alives (RFC 5626 §3.5.1) between
 * messages are reported so the transport can answer them.
 *
 * It looks only at what framing needs (the end of the header section and
 * Content-Length); sip_msg_parse() validates the rest.
 */
#ifndef SIP_FRAME_H
#define SIP_FRAME_H

#include <stddef.h>

#include "sip/sip_msg.h"

enum sip_frame_result {
	SIP_FRAME_MSG = 0,   /* *used bytes hold one message */
	SIP_FRAME_MORE,	     /* no whole message yet; read more and call again */
	SIP_FRAME_KEEPALIVE, /* *used bytes of CRLFs: "\r\n\r\n" is a ping, "\r\n" a pong */
};

/*
 * Look at the unconsumed bytes @buf[0..@len). Returns an enum
 * sip_frame_result, or -EBADMSG (no usable Content-Length: missing,
 * negative, conflicting, garbled) or -EMSGSIZE (the message would exceed
 * @lim->max_msg) with @perr filled: both are unrecoverable on a stream, so
 * the caller closes the connection. @lim may be NULL.
 */
int sip_frame(const char *buf, size_t len, const struct sip_limits *lim, size_t *used,
	      struct sip_perr *perr);

#endif
