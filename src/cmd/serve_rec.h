/*
 * serve_rec: the recordings folder of `shenggu serve`. Where a call's
 * recording goes, <data>/recordings/<tenant>/<YYYY>/<MM>/<DD>/<uuid>.wav
 * (folders made on demand, mode 0750), and the start-up pass that repairs
 * what a crash or kill -9 left behind (a WAV whose sizes are still the
 * writer's placeholders) and indexes it in the store.
 *
 * Not here: which calls are recorded (serve_call.c, by the tenant's
 * policy), writing the audio (the media engine), nor the metadata of a
 * recording that closed normally (serve_call.c, on RECORD_DONE).
 *
 * Threads: the caller's (the event loop's, or start-up); blocking file
 * calls, so the scan runs before the server takes calls.
 */
#ifndef SERVE_REC_H
#define SERVE_REC_H

#include <stdint.h>

struct store;

/* A recording's path relative to the data folder, NUL included:
 * "recordings/" + tenant id (64) + "/YYYY/MM/DD/" + uuid + ".wav". */
#define SERVE_REC_PATH_SIZE 160

/*
 * The path of call @uuid's recording for tenant @tenant (an id: no '/'),
 * dated by the UTC day of @now_ms: relative to @data_dir into @rel, and as
 * a path to open into @abs; the folders are created. 0, -ENAMETOOLONG,
 * -EINVAL (a tenant or uuid that is no path component), or -errno of
 * mkdir.
 */
int serve_rec_path(const char *data_dir, const char *tenant, const char *uuid, uint64_t now_ms,
		   char rel[SERVE_REC_PATH_SIZE], char *abs, size_t abs_size);

struct serve_rec_stats {
	unsigned files;	   /* recordings found in the layout above */
	unsigned repaired; /* whose WAV sizes had to be fixed */
	unsigned indexed;  /* metadata rows written (a new file, or another size) */
	unsigned failed;   /* left as they were (each logged) */
};

/*
 * Walk <@data_dir>/recordings (the layout above, nothing deeper), and for
 * each .wav without a metadata row in @st, or whose row's size differs
 * from the file's: wav_repair() it, then store its duration, size and
 * SHA-256 (tenant and uuid from its path; created_ms from the file's
 * modification time for a new row). Files outside the layout are left
 * alone. Logs one summary line. @out may be NULL. 0 (also when there is
 * no recordings folder), -ENOMEM, or -errno of opening the folder; a
 * file that cannot be repaired or indexed is counted, not an error.
 */
int serve_rec_scan(struct store *st, const char *data_dir, struct serve_rec_stats *out);

#endif
