/* err: text for errno values (see err.h). */
#include <string.h>

#include "base/err.h"

const char *err_str(int err)
{
	const char *s;

	if (err < 0)
		err = -err;
	if (err == 0)
		return "success";
	/* strerrordesc_np is thread-safe and never formats into a shared buffer. */
	s = strerrordesc_np(err);
	return s ? s : "unknown error";
}
