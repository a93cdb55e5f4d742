/*
 * log: one line per event on stderr (or a sink chosen at start-up).
 *
 *   2026-11-23T11:24:03.123Z info  sip: listening addr=127.0.0.1:5060 proto=udp
 *
 * Messages follow "event text key=value key=value"; values with spaces are
 * quoted by the caller. Each line is written with one write(2) call so lines
 * from several threads never interleave.
 *
 * The level and the sink are the one process-wide setting in the project:
 * main sets them once before any thread starts, and they are only read after
 * that. Debug lines check the level before formatting anything.
 *
 * Use: #define LOG_MODULE "sip" before including this header.
 */
#ifndef BASE_LOG_H
#define BASE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_NONE, /* log nothing */
};

/* Receives one whole formatted line, newline included. */
typedef void(log_sink_h)(enum log_level lvl, const char *line, size_t len, void *arg);

/* Start-up only (before threads): the lowest level written, default info. */
void log_set_level(enum log_level lvl);
/* Start-up only: NULL restores stderr. */
void log_set_sink(log_sink_h *sink, void *arg);
bool log_enabled(enum log_level lvl);
/* "debug", "info", "warn", "error", "none" -> 0 and *lvl, or -EINVAL. */
int log_level_parse(const char *s, enum log_level *lvl);
const char *log_level_name(enum log_level lvl);

void log_write(enum log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level lvl, const char *module, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#ifndef LOG_MODULE
#define LOG_MODULE "-"
#endif

#define log_at_(lvl, ...)                                        \
	do {                                                     \
		if (log_enabled(lvl))                            \
			log_write(lvl, LOG_MODULE, __VA_ARGS__); \
	} while (0)
#define log_debug(...) log_at_(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_at_(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_at_(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_at_(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
