/* SPDX-License-Identifier: MIT */
#include "error.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char err_buf[HP_ERR_MAX];
static _Thread_local char err_fallback[HP_ERR_MAX];

int hp_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	return err;
}

int hp_err_prefix(int err, const char *fmt, ...)
{
	char prefix[HP_ERR_MAX];
	char inner[HP_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (err_buf[0])
		snprintf(inner, sizeof(inner), "%s", err_buf);
	else
		snprintf(inner, sizeof(inner), "%s", strerror(-err));
	snprintf(err_buf, sizeof(err_buf), "%s%s", prefix, inner);
	return err;
}

const char *hp_err_msg(int err)
{
	if (err_buf[0])
		return err_buf;
	snprintf(err_fallback, sizeof(err_fallback), "%s", strerror(err < 0 ? -err : err));
	return err_fallback;
}

void hp_err_clear(void)
{
	err_buf[0] = '\0';
}
