/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "rproc/kernel.h"
#include "util.h"

static const char *const state_table[_RPROC_STATE_MAX] = {
	[RPROC_STATE_OFFLINE] = "offline",   [RPROC_STATE_SUSPENDED] = "suspended",
	[RPROC_STATE_RUNNING] = "running",   [RPROC_STATE_CRASHED] = "crashed",
	[RPROC_STATE_DELETED] = "deleted",   [RPROC_STATE_ATTACHED] = "attached",
	[RPROC_STATE_DETACHED] = "detached", [RPROC_STATE_INVALID] = "invalid",
};

static const char *const coredump_table[_RPROC_COREDUMP_MAX] = {
	[RPROC_COREDUMP_DISABLED] = "disabled",
	[RPROC_COREDUMP_ENABLED] = "enabled",
	[RPROC_COREDUMP_INLINE] = "inline",
};

static const char *const command_table[_RPROC_CMD_MAX] = {
	[RPROC_CMD_START] = "start",
	[RPROC_CMD_STOP] = "stop",
	[RPROC_CMD_DETACH] = "detach",
};

/* Compare a table word with s, ignoring trailing white space in s (the kernel's "\n"). */
static bool word_eq(const char *word, const char *s)
{
	size_t n = strlen(word);

	if (strncmp(word, s, n) != 0)
		return false;
	for (s += n; *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

enum rproc_state rproc_state_from_string(const char *s)
{
	if (!s)
		return RPROC_STATE_INVALID;
	for (int i = 0; i < _RPROC_STATE_MAX; i++)
		if (word_eq(state_table[i], s))
			return (enum rproc_state) i;
	return RPROC_STATE_INVALID;
}

const char *rproc_state_to_string(enum rproc_state state)
{
	if ((unsigned) state >= _RPROC_STATE_MAX)
		return "invalid";
	return state_table[state];
}

enum rproc_coredump_mode rproc_coredump_mode_from_string(const char *s)
{
	if (!s)
		return RPROC_COREDUMP_INVALID;
	for (int i = 0; i < _RPROC_COREDUMP_MAX; i++)
		if (word_eq(coredump_table[i], s))
			return (enum rproc_coredump_mode) i;
	return RPROC_COREDUMP_INVALID;
}

const char *rproc_coredump_mode_to_string(enum rproc_coredump_mode mode)
{
	if ((unsigned) mode >= _RPROC_COREDUMP_MAX)
		return NULL;
	return coredump_table[mode];
}

const char *rproc_command_to_string(enum rproc_command cmd)
{
	if ((unsigned) cmd >= _RPROC_CMD_MAX)
		return NULL;
	return command_table[cmd];
}
