/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Firmware staging: the validated bytes are the loaded bytes.
 *
 * rprocd reads an image once, into a directory only it writes
 * (/run/rprocd/firmware), under a name made of its SHA-256 digest
 * ("sha256-HEX"), validates that copy, and hands the kernel the copy's name.
 * Nobody can change a staged file between the check and the kernel's read,
 * and the same bytes always have the same name. Runs in worker threads: no
 * global state, no logging.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rproc/firmware.h"

#define FW_DIGEST_HEX_LEN 64
#define FW_STAGE_DIR	  "/run/rprocd/firmware"
#define FW_STAGE_PREFIX	  "sha256-"
#define FW_DIGEST_PREFIX  "sha256:"

/*
 * fw_check_owner() - sshd's StrictModes for a firmware image
 * @root: host path of the managed system's root ("/" outside tests): the walk stops there
 * @path: host path of the image, symbolic links resolved or not
 * @ret_why: on refusal, "PATH: …" naming the path, its owner and mode (malloc'd)
 *
 * The file, and every directory from it up to @root, must be owned by root
 * (or by rprocd's own user) and writable by nobody else: not by the group,
 * not by others. Symbolic links are resolved first, so the directories
 * checked are the ones the bytes come from.
 *
 * Return: 0, -EPERM with @ret_why set when refused, or another negative errno.
 */
int fw_check_owner(const char *root, const char *path, char **ret_why);

struct fw_stage {
	/* Input: borrowed. */
	const char *src;  /* host path of the image */
	const char *root; /* host path of the root, for fw_check_owner() */
	const char *dir;  /* host path of the staging directory (made 0700) */
	bool strict;	  /* apply fw_check_owner() to src */
	bool copy;	  /* false: only read, hash and validate src */
	int src_fd;	  /* >= 0: read this instead of opening src (not closed) */
	const struct rproc_fw_expect *expect; /* the validator's expectations */
	char *const *digests; /* FirmwareDigest=: "sha256:HEX" allowed (NULL: any) */
	/* host path of the name as found, its last link not followed, whose directory
	 * the strict check covers too (NULL: src's) */
	const char *given;

	/* Output. */
	char digest[FW_DIGEST_HEX_LEN + 1]; /* of what was read */
	char *name;			    /* "sha256-HEX" in dir (copy), malloc'd */
	struct rproc_fw_info info;	    /* the validator's findings */
	int fw_error;			    /* > 0: the validator's verdict (enum rproc_fw_error) */
	const char *failed_step;	    /* on failure: a static string */
	char *why;			    /* on failure: a sentence naming the path (malloc'd) */
};

/**
 * fw_stage() - read, hash, (copy,) validate and pin an image
 *
 * With @copy, the image is copied into @dir while it is hashed, the copy is
 * validated, and only a valid copy gets its name (a temporary file is
 * renamed; the same digest staged before is kept as it is). Without, the
 * image itself is hashed and validated from one open file.
 *
 * Return: 0; a positive enum rproc_fw_error (refused by the validator:
 * s->fw_error); -EPERM (fw_check_owner() refused, s->why); -EKEYREJECTED
 * (the digest is not one of s->digests, s->why shows both); or another
 * negative errno with s->failed_step.
 */
int fw_stage(struct fw_stage *s);
void fw_stage_done(struct fw_stage *s);

/* "sha256:HEX" (64 lowercase hex digits) or its uppercase spelling. */
bool fw_digest_is_valid(const char *s);

/* sha256 of a whole buffer as 64 lowercase hex digits. 0 or a negative errno. */
int fw_sha256_hex(const void *buf, size_t len, char hex[FW_DIGEST_HEX_LEN + 1]);
