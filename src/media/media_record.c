/*
 * media_record: call recording for the media engine. The media thread
 * decodes each leg's received audio into a one-second ring per channel at
 * the place its RTP timestamp says, and writes the frames that are 60 ms old
 * as stereo blocks (A left, B right) of 100 ms, silence where nothing came;
 * so reordering within 60 ms is undone and gaps keep their length.
 *
 * The disk thread does what may block for long: the periodic fdatasync,
 * and at the end wav_finish() (sizes, fsync, close) and the SHA-256 of the
 * finished file, read back, which it then hands to the owner. The media
 * thread only ever write()s, which lands in the page cache.
 *
 * Not a mixer of the two parties into one channel, nor a jitter buffer for
 * the relay.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#define LOG_MODULE "media"
#include "base/log.h"
#include "media/media_engine_internal.h"

#define NS_PER_S 1000000000ull

/* Frames since the recording began, by the monotonic clock. */
static int64_t now_pos(const struct me_rec *rec, uint64_t now)
{
	uint64_t d = now > rec->start_ns ? now - rec->start_ns : 0;

	return (int64_t)(d / NS_PER_S * ME_RATE + d % NS_PER_S * ME_RATE / NS_PER_S);
}

void me_rec_begin(struct me_rec *rec, uint64_t now)
{
	rec->start_ns = now;
	rec->out_pos = 0;
}

static void disk_request(struct media_engine *me, struct me_rec *rec, unsigned flag)
{
	pthread_mutex_lock(&me->disk_lock);
	rec->disk_flags |= flag;
	if (!rec->queued) {
		rec->queued = true;
		list_append(&me->disk_q, &rec->le);
		pthread_cond_signal(&me->disk_cond);
	}
	pthread_mutex_unlock(&me->disk_lock);
}

/* Anchor channel @c's timestamps at the current time: a new or restarted
 * stream, or one whose clock went too far from ours. */
static void anchor(struct me_rec *rec, struct me_rec_chan *c, const struct rtp_hdr *h, uint64_t now)
{
	int64_t pos = now_pos(rec, now);

	c->anchored = true;
	c->ssrc = h->ssrc;
	c->base_ts = h->ts;
	c->base_pos = pos > (int64_t)rec->out_pos ? pos : (int64_t)rec->out_pos;
	c->late = 0;
}

void me_rec_put(struct me_thread *t, struct me_rec *rec, unsigned ch, const struct rtp_hdr *h,
		uint8_t pt, uint64_t now)
{
	struct me_rec_chan *c = &rec->ch[ch];
	const int16_t *lin = t->me->lin[pt == 0 ? 0 : 1];
	size_t n = h->payload_len, off, k;
	int64_t pos;

	if (n == 0)
		return;
	if (n > ME_REC_RING / 4)
		n = ME_REC_RING / 4;
	if (!c->anchored || c->ssrc != h->ssrc)
		anchor(rec, c, h, now);
	pos = c->base_pos + (int32_t)(h->ts - c->base_ts);
	if (pos < (int64_t)rec->out_pos) {
		/* Too late for its place: a straggler is dropped, but a run of
		 * them means the sender's clock fell behind ours: re-anchor. */
		if (++c->late < 3)
			return;
		anchor(rec, c, h, now);
		pos = c->base_pos;
	} else if (pos + (int64_t)n > (int64_t)rec->out_pos + ME_REC_RING) {
		anchor(rec, c, h, now); /* a jump forward (hold, a sender's reset) */
		pos = c->base_pos;
		if (pos + (int64_t)n > (int64_t)rec->out_pos + ME_REC_RING)
			return; /* the writer is a second behind; nowhere to put it */
	}
	c->late = 0;
	/* Decoded by table, in at most two runs around the ring's end. */
	off = (uint64_t)pos & (ME_REC_RING - 1);
	k = n < ME_REC_RING - off ? n : ME_REC_RING - off;
	for (size_t i = 0; i < k; i++)
		c->ring[off + i] = lin[h->payload[i]];
	for (size_t i = k; i < n; i++)
		c->ring[i - k] = lin[h->payload[i]];
	if ((uint64_t)pos + n > c->end_pos)
		c->end_pos = (uint64_t)pos + n;
}

/* Write frames up to @upto from the rings (then silent again) into the file. */
static void rec_write(struct me_thread *t, struct me_rec *rec, uint64_t upto)
{
	while (rec->out_pos < upto) {
		size_t off = rec->out_pos & (ME_REC_RING - 1);
		size_t k = upto - rec->out_pos;
		int err;

		if (k > ME_REC_CHUNK)
			k = ME_REC_CHUNK;
		if (k > ME_REC_RING - off)
			k = ME_REC_RING - off;
		for (size_t i = 0; i < k; i++) {
			t->mix[2 * i] = rec->ch[0].ring[off + i];
			t->mix[2 * i + 1] = rec->ch[1].ring[off + i];
		}
		memset(&rec->ch[0].ring[off], 0, k * sizeof(int16_t));
		memset(&rec->ch[1].ring[off], 0, k * sizeof(int16_t));
		if (!rec->err) {
			err = wav_writer_write(&rec->w, t->mix, k);
			if (err) {
				rec->err = err;
				log_warn("recording %s: %s; the rest is lost", rec->path,
					 strerror(-err));
			}
		}
		rec->out_pos += k;
	}
}

void me_rec_tick(struct me_thread *t, struct me_rec *rec, uint64_t now)
{
	int64_t due = now_pos(rec, now) - ME_REC_DELAY;

	/* 100 ms per write(2), not a tick's worth: a thousand recordings
	 * would otherwise cost as many system calls as their packets. */
	if (due >= (int64_t)rec->out_pos + ME_REC_BATCH)
		rec_write(t, rec, (uint64_t)due);
	if (now >= rec->next_fsync_ns) {
		disk_request(t->me, rec, ME_DISK_FSYNC);
		rec->next_fsync_ns = now + (uint64_t)t->me->conf.record_fsync_ms * 1000000u;
	}
}

void me_rec_end(struct me_thread *t, struct me_rec *rec, uint64_t now)
{
	uint64_t upto = (uint64_t)now_pos(rec, now);

	/* Everything placed goes in, the reorder delay included. */
	for (int i = 0; i < 2; i++) {
		if (rec->ch[i].end_pos > upto)
			upto = rec->ch[i].end_pos;
	}
	rec_write(t, rec, upto);
	rec->duration_ms = rec->out_pos * 1000 / ME_RATE;
	/* WARNING: from here the disk thread owns @rec, then the owner. */
	disk_request(t->me, rec, ME_DISK_FINISH);
}

/* SHA-256 of the file at @path in lowercase hex, read with @buf. */
static int file_sha256(const char *path, uint8_t *buf, size_t size, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int fd, err = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		err = -ENOMEM;
		goto out;
	}
	while ((n = read(fd, buf, size)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			err = -EIO;
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32) {
		err = -EIO;
		goto out;
	}
	for (unsigned i = 0; i < 32; i++) {
		static const char digits[] = "0123456789abcdef";

		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return err;
}

static void rec_finish(struct media_engine *me, struct me_rec *rec)
{
	int err = wav_finish(&rec->w);

	if (!rec->err)
		rec->err = err;
	rec->bytes = WAV_HDR_SIZE + rec->w.data_len;
	if (!rec->err)
		rec->err = file_sha256(rec->path, me->disk_buf, 64 * 1024, rec->sha256);
	if (rec->err)
		log_warn("recording %s: %s", rec->path, strerror(-rec->err));
	me_cmd_return(me, rec->cmd);
}

void *me_disk_main(void *arg)
{
	struct media_engine *me = arg;

	for (;;) {
		struct list_elem *e;
		struct me_rec *rec;
		unsigned flags;

		pthread_mutex_lock(&me->disk_lock);
		while (list_empty(&me->disk_q) && !me->disk_stop)
			pthread_cond_wait(&me->disk_cond, &me->disk_lock);
		e = list_head(&me->disk_q);
		if (!e) {
			pthread_mutex_unlock(&me->disk_lock);
			break;
		}
		list_unlink(e);
		rec = list_entry(e, struct me_rec, le);
		flags = rec->disk_flags;
		rec->disk_flags = 0;
		rec->queued = false;
		pthread_mutex_unlock(&me->disk_lock);
		if (flags & ME_DISK_FINISH)
			rec_finish(me, rec);
		else if (flags & ME_DISK_FSYNC)
			(void)fdatasync(rec->w.fd); /* the media thread goes on writing meanwhile */
	}
	return NULL;
}
