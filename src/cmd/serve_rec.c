/*
 * serve_rec: recording paths and the start-up repair and indexing pass
 * (see serve_rec.h). Plain POSIX file calls; SHA-256 with OpenSSL's EVP,
 * as the media engine computes it for a recording that closed normally, so
 * both give the same hex for the same file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define LOG_MODULE "call"
#include "base/log.h"
#include "base/mem.h"
#include "cmd/serve_rec.h"
#include "media/wav.h"
#include "store/store.h"

/* Below recordings/: <tenant>/<YYYY>/<MM>/<DD>/<uuid>.wav. */
#define SCAN_LEVELS 5
#define UUID_MAX    39 /* store_recording's uuid buffer, less the NUL */
#define BUF_SIZE    (64 * 1024)
#define HEAD_SIZE   4096 /* enough for any header our writer or a sane one makes */

/* One path component of ours: not empty, no '/', no leading '.'. */
static bool is_component(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '/' || (unsigned char)s[i] < 0x20)
			return false;
	}
	return true;
}

int serve_rec_path(const char *data_dir, const char *tenant, const char *uuid, uint64_t now_ms,
		   char rel[SERVE_REC_PATH_SIZE], char *abs, size_t abs_size)
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	size_t dlen;
	int n;

	if (!data_dir || !tenant || !uuid || !rel || !abs ||
	    !is_component(tenant, STORE_ID_SIZE - 1) || !is_component(uuid, UUID_MAX) ||
	    !gmtime_r(&t, &tm))
		return -EINVAL;
	n = snprintf(rel, SERVE_REC_PATH_SIZE, "recordings/%s/%04d/%02d/%02d/%s.wav", tenant,
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, uuid);
	if (n < 0 || n >= SERVE_REC_PATH_SIZE)
		return -ENAMETOOLONG;
	n = snprintf(abs, abs_size, "%s/%s", data_dir, rel);
	if (n < 0 || (size_t)n >= abs_size)
		return -ENAMETOOLONG;
	/* Every folder below the data folder, each cut out of @abs in turn:
	 * mkdir of one that exists is one cheap system call. */
	dlen = strlen(data_dir) + 1;
	for (char *p = strchr(abs + dlen, '/'); p; p = strchr(p + 1, '/')) {
		int rc;

		*p = '\0';
		rc = mkdir(abs, 0750);
		if (rc && errno != EEXIST) {
			int err = -errno;

			*p = '/';
			return err;
		}
		*p = '/';
	}
	return 0;
}

struct scan {
	struct store *st;
	char path[4096]; /* <data>/recordings/... : what is being looked at */
	size_t rel;	 /* where the path relative to the data folder starts */
	size_t comp[SCAN_LEVELS];
	uint8_t *buf; /* BUF_SIZE */
	struct serve_rec_stats n;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Up to @size bytes from the start of @fd; the count or -errno. */
static ssize_t read_head(int fd, uint8_t *buf, size_t size)
{
	size_t len = 0;

	while (len < size) {
		ssize_t n = pread(fd, buf + len, size - len, (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* Does the file at @path say another size than it has (a writer killed
 * before its close)? Errors count as "yes": wav_repair() tells more. */
static bool needs_repair(struct scan *sc, const char *path, off_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return true;
	n = read_head(fd, sc->buf, 8);
	close(fd);
	return n != 8 || (uint64_t)le32(sc->buf + 4) + 8 != (uint64_t)size;
}

/* Duration, size and SHA-256 of the (consistent) WAVE file at @path. */
static int measure(struct scan *sc, const char *path, uint64_t *duration_ms, uint64_t *bytes,
		   char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct wav_info wi;
	EVP_MD_CTX *ctx = NULL;
	uint64_t avail, declared, frames;
	struct stat sb;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		err = -errno;
		goto out;
	}
	n = read_head(fd, sc->buf, HEAD_SIZE);
	if (n < 0) {
		err = (int)n;
		goto out;
	}
	/* The header's view of the head: the data chunk runs past it, so
	 * the frames are counted from the chunk's size and the file's. */
	err = wav_parse(&wi, sc->buf, (size_t)n);
	if (err)
		goto out;
	avail = (uint64_t)sb.st_size - (uint64_t)(wi.data - sc->buf);
	declared = le32(wi.data - 4);
	frames = (declared < avail ? declared : avail) / wi.block_align;
	*duration_ms = frames * 1000 / wi.rate;
	*bytes = (uint64_t)sb.st_size;

	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		err = -ENOMEM;
		goto out;
	}
	for (off_t off = 0;; off += n) {
		n = pread(fd, sc->buf, BUF_SIZE, off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(ctx, sc->buf, (size_t)n)) {
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

/* Exactly @n digits, then the next '/'. */
static bool digits_at(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return s[n] == '/';
}

/* A .wav at the bottom of the layout: repair and index it if the store
 * does not know it as it is. */
static void scan_file(struct scan *sc, const struct stat *sb)
{
	const char *rel = sc->path + sc->rel, *name = sc->path + sc->comp[4];
	size_t tlen = sc->comp[1] - 1 - sc->comp[0], ulen = strlen(name) - 4;
	char tenant[STORE_ID_SIZE], uuid[UUID_MAX + 1], hex[65];
	struct store_recording row, r;
	uint64_t duration_ms = 0, bytes = 0;
	bool known, repair;
	int err;

	if (!digits_at(sc->path + sc->comp[1], 4) || !digits_at(sc->path + sc->comp[2], 2) ||
	    !digits_at(sc->path + sc->comp[3], 2) || tlen >= sizeof(tenant) || !ulen ||
	    ulen >= sizeof(uuid)) {
		log_debug("recordings: not in the layout, left alone path=%s", rel);
		return;
	}
	sc->n.files++;
	err = store_recording_get(sc->st, rel, &row);
	if (!err && row.bytes == (int64_t)sb->st_size)
		return; /* known, and whole */
	if (err && err != -ENOENT) {
		log_warn("recordings: cannot look up path=%s err=\"%s\"", rel, strerror(-err));
		sc->n.failed++;
		return;
	}
	known = !err;
	repair = needs_repair(sc, sc->path, sb->st_size);
	err = wav_repair(sc->path);
	if (!err)
		err = measure(sc, sc->path, &duration_ms, &bytes, hex);
	if (err) {
		log_warn("recordings: cannot repair path=%s err=\"%s\"", rel, strerror(-err));
		sc->n.failed++;
		return;
	}
	memcpy(tenant, sc->path + sc->comp[0], tlen);
	tenant[tlen] = '\0';
	memcpy(uuid, name, ulen);
	uuid[ulen] = '\0';
	r = (struct store_recording){
	    .path = rel,
	    .tenant_id = tenant,
	    .call_uuid = uuid,
	    .duration_ms = (int64_t)duration_ms,
	    .bytes = (int64_t)bytes,
	    .sha256 = hex,
	    /* A new row: when the file was last written is the best we know. */
	    .created_ms = known
			      ? row.created_ms
			      : (int64_t)sb->st_mtim.tv_sec * 1000 + sb->st_mtim.tv_nsec / 1000000,
	};
	err = store_recording_put(sc->st, &r);
	if (err) {
		log_error("recordings: metadata not stored path=%s err=\"%s\"", rel,
			  strerror(-err));
		sc->n.failed++;
		return;
	}
	sc->n.indexed++;
	if (repair)
		sc->n.repaired++;
	log_info("recording %s path=%s duration_ms=%llu bytes=%llu",
		 repair ? "repaired" : "indexed", rel, (unsigned long long)duration_ms,
		 (unsigned long long)bytes);
}

/* Folder @fd (taken) at @level below recordings/, whose path is sc->path. */
static void scan_dir(struct scan *sc, int fd, unsigned level)
{
	size_t base = strlen(sc->path);
	struct dirent *de;
	DIR *d = fdopendir(fd);

	if (!d) {
		log_warn("recordings: cannot read %s: %s", sc->path, strerror(errno));
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat sb;

		/* Dot files are no recordings: ".", "..", editors' and tools' litter. */
		if (de->d_name[0] == '.' || base + 1 + len >= sizeof(sc->path))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW))
			continue;
		sc->path[base] = '/';
		memcpy(sc->path + base + 1, de->d_name, len + 1);
		sc->comp[level] = base + 1;
		/* Symbolic links are not followed, and nothing deeper than the
		 * layout is visited: the walk stays bounded and inside. */
		if (level < SCAN_LEVELS - 1 && S_ISDIR(sb.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				scan_dir(sc, sub, level + 1);
		} else if (level == SCAN_LEVELS - 1 && S_ISREG(sb.st_mode) && len > 4 &&
			   !strcmp(de->d_name + len - 4, ".wav")) {
			scan_file(sc, &sb);
		}
		sc->path[base] = '\0';
	}
	closedir(d);
}

int serve_rec_scan(struct store *st, const char *data_dir, struct serve_rec_stats *out)
{
	struct scan *sc;
	int fd, n, err = 0;

	if (!st || !data_dir)
		return -EINVAL;
	sc = mem_zalloc(sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->st = st;
	sc->buf = mem_alloc(BUF_SIZE);
	if (!sc->buf) {
		err = -ENOMEM;
		goto out;
	}
	n = snprintf(sc->path, sizeof(sc->path), "%s/recordings", data_dir);
	if (n < 0 || (size_t)n >= sizeof(sc->path)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	sc->rel = strlen(data_dir) + 1;
	fd = open(sc->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		/* No recording was ever made here: nothing to do. */
		err = errno == ENOENT ? 0 : -errno;
		if (err)
			log_error("recordings: cannot open %s: %s", sc->path, strerror(-err));
		goto out;
	}
	scan_dir(sc, fd, 0);
	log_info("recordings repaired=%u indexed=%u failed=%u files=%u", sc->n.repaired,
		 sc->n.indexed, sc->n.failed, sc->n.files);
out:
	if (!err && out)
		*out = sc->n;
	mem_free(sc->buf);
	mem_free(sc);
	return err;
}
