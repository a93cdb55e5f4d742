/*
 * err: the project's one error convention.
 *
 * Functions that can fail return int: 0 on success, a negative errno value on
 * failure (-EINVAL, -ENOMEM, -EPROTO, -ETIMEDOUT...). Counting functions
 * return >= 0 or a negative errno. Nothing is ever stored in a global "last
 * error". Domain outcomes (a SIP 486, a full queue) are values, not errors.
 */
#ifndef BASE_ERR_H
#define BASE_ERR_H

#include <errno.h>

/* Text for a negative (or positive) errno value; never NULL, thread-safe. */
const char *err_str(int err);

#endif
