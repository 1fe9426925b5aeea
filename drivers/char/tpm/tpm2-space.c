// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: the entry points the TPM core calls.
 *
 * This file is thin glue.  It gives the resource manager (tpm2-rm-*.c) a
 * transport through tpm_transmit(), runs client commands under the chip
 * lock, and makes room for commands that do not come through the
 * resource manager: the kernel's own (IMA, trusted keys, hwrng, HMAC
 * sessions) and those written to /dev/tpmN.
 *
 * It also keeps the two context helpers the kernel's HMAC session code
 * uses for its null key (tpm2_save_context(), tpm2_load_context()).
 */
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include "tpm.h"
#include "tpm2-rm.h"

static ssize_t chip_transmit(struct tpm2_rm *rm, u8 *buf, size_t len)
{
	struct tpm_chip *chip = rm->priv;
	ssize_t ret = tpm_transmit(chip, buf, TPM_BUFSIZE);

	/* -EAGAIN means "wait for a session" to tpm2_rm_transmit() */
	return ret == TPM2_RM_WAIT ? -EIO : ret;
}

static int chip_cc_attrs(struct tpm2_rm *rm, u32 cc, u32 *attrs)
{
	struct tpm_chip *chip = rm->priv;
	int i = tpm2_find_cc(chip, cc);

	if (i < 0)
		return -EOPNOTSUPP;
	*attrs = chip->cc_attrs_tbl[i];
	return 0;
}

static const struct tpm2_rm_ops chip_rm_ops = {
	.transmit = chip_transmit,
	.cc_attrs = chip_cc_attrs,
};

/**
 * tpm2_rm_chip_init() - give a chip its resource manager
 * @chip:	a chip being allocated
 *
 * Return: 0 or -ENOMEM.
 */
int tpm2_rm_chip_init(struct tpm_chip *chip)
{
	chip->rm = tpm2_rm_alloc(&chip_rm_ops, chip);
	if (!chip->rm)
		return -ENOMEM;
	/* the kernel's HMAC session (tpm2-sessions.c) must never wait */
	chip->rm->kernel_reserve = IS_ENABLED(CONFIG_TCG_TPM2_HMAC);
	return 0;
}

/**
 * tpm2_rm_chip_free() - free a chip's resource manager
 * @chip:	a chip being released; no /dev/tpmrmN file is open
 */
void tpm2_rm_chip_free(struct tpm_chip *chip)
{
	tpm2_rm_free(chip->rm);
	chip->rm = NULL;
}

/**
 * tpm2_rm_open() - a /dev/tpmrmN file is opened
 * @chip:	the chip
 * @space:	the file's space
 *
 * Return: 0 or -ENOMEM.
 */
int tpm2_rm_open(struct tpm_chip *chip, struct tpm_space *space)
{
	struct tpm2_rm_client *c;

	mutex_lock(&chip->tpm_mutex);
	c = tpm2_rm_client_alloc(chip->rm, current_fsuid());
	if (c) {
		c->pid = task_tgid_nr(current);
		get_task_comm(c->comm, current);
	}
	space->client = c;
	mutex_unlock(&chip->tpm_mutex);
	return c ? 0 : -ENOMEM;
}

/**
 * tpm2_rm_close() - a /dev/tpmrmN file is closed
 * @chip:	the chip
 * @space:	the file's space
 *
 * Everything the client held is flushed from the TPM, if the TPM is still
 * there, and freed.
 */
void tpm2_rm_close(struct tpm_chip *chip, struct tpm_space *space)
{
	bool usable = !tpm_try_get_ops(chip);

	if (!usable)
		mutex_lock(&chip->tpm_mutex);
	chip->rm->busy = true;
	tpm2_rm_client_free(space->client, usable);
	chip->rm->busy = false;
	space->client = NULL;
	if (usable)
		tpm_put_ops(chip);
	else
		mutex_unlock(&chip->tpm_mutex);
}

/**
 * tpm2_rm_transmit() - run a command written to /dev/tpmrmN, once
 * @chip:	the chip; the caller holds its ops (tpm_try_get_ops())
 * @space:	the file's space
 * @buf:	command; the response replaces it
 * @bufsiz:	size of @buf
 *
 * The kernel's own HMAC session, if one is left, is ended first.  A
 * command that must wait for a session is not waited for here: the
 * caller lets go of the chip, sleeps and calls again, or gives up
 * (tpmrm-dev.c).
 *
 * Return: the response length, %TPM2_RM_WAIT (@buf still holds the
 * command), or a negative errno.
 */
ssize_t tpm2_rm_transmit(struct tpm_chip *chip, struct tpm_space *space,
			 u8 *buf, size_t bufsiz)
{
	struct tpm2_rm *rm = chip->rm;
	ssize_t ret;

	tpm2_end_auth_session(chip);
	/* O_NONBLOCK files are served by a worker; their process acts on */
	space->client->alone = !(current->flags & PF_WQ_WORKER) &&
			       get_nr_threads(current) == 1 &&
			       task_tgid_nr(current) == space->client->pid;
	rm->busy = true;
	ret = tpm2_rm_command(space->client, buf, bufsiz);
	rm->busy = false;
	return ret;
}

/**
 * tpm2_rm_raw_command() - a command arrives through /dev/tpmN
 * @chip:	the chip; the caller holds its ops
 *
 * A client of the raw device sees and may use every slot of the TPM, so
 * it gets the TPM as if no resource manager kept anything resident.
 */
void tpm2_rm_raw_command(struct tpm_chip *chip)
{
	if (!chip->rm || !(chip->flags & TPM_CHIP_FLAG_TPM2))
		return;
	chip->rm->busy = true;
	tpm2_rm_evict_all(chip->rm);
	chip->rm->busy = false;
}

/**
 * tpm2_rm_foreign_prepare() - make room for a command the kernel sends
 * @chip:	the chip; the caller holds its ops
 * @buf:	the command
 * @bufsiz:	size of @buf
 */
void tpm2_rm_foreign_prepare(struct tpm_chip *chip, u8 *buf, size_t bufsiz)
{
	struct tpm2_rm *rm = chip->rm;
	u32 len;

	if (!rm || rm->busy)
		return;
	rm->stats.other_commands++;
	if (!(chip->flags & TPM_CHIP_FLAG_TPM2) || !chip->cc_attrs_tbl ||
	    bufsiz < TPM_HEADER_SIZE)
		return;
	len = min_t(u32, get_unaligned_be32(buf + 2), bufsiz);
	rm->busy = true;
	tpm2_rm_foreign_room(rm, buf, len);
	rm->busy = false;
}

/**
 * tpm2_rm_foreign_retry() - may a kernel command be repeated?
 * @chip:	the chip; the caller holds its ops
 * @cc:		the command's code
 * @rc:		the TPM's response code
 *
 * If the TPM ran out of object or session memory, or of session
 * handles, and the resource manager could free one, the command is worth
 * sending again.  The resource manager also learns from @rc whether the
 * TPM was reset (tpm2-rm-reset.c).
 *
 * Return: true if it should be sent again.
 */
bool tpm2_rm_foreign_retry(struct tpm_chip *chip, u32 cc, u32 rc)
{
	struct tpm2_rm *rm = chip->rm;
	bool again;

	if (!rm || rm->busy || !(chip->flags & TPM_CHIP_FLAG_TPM2))
		return false;
	rm->busy = true;
	again = tpm2_rm_foreign_retry_rc(rm, cc, rc);
	rm->busy = false;
	return again;
}

/**
 * tpm2_save_context() - save a context into a buffer
 * @chip:	the chip; the caller holds its ops
 * @handle:	the handle to save
 * @buf:	where the TPMS_CONTEXT goes
 * @buf_size:	size of @buf
 * @offset:	where in @buf; advanced past the context on success
 *
 * Return: 0; -ENOENT if the handle is not loaded; -ENOMEM if @buf is too
 * small; -EFAULT on any other failure.
 */
int tpm2_save_context(struct tpm_chip *chip, u32 handle, u8 *buf,
		      unsigned int buf_size, unsigned int *offset)
{
	struct tpm_buf tbuf;
	unsigned int size;
	int rc;

	rc = tpm_buf_init(&tbuf, TPM2_ST_NO_SESSIONS, TPM2_CC_CONTEXT_SAVE);
	if (rc)
		return rc;
	tpm_buf_append_u32(&tbuf, handle);
	rc = tpm_transmit_cmd(chip, &tbuf, 0, NULL);
	if (!rc) {
		size = tpm_buf_length(&tbuf) - TPM_HEADER_SIZE;
		if (*offset + size <= buf_size) {
			memcpy(buf + *offset, tbuf.data + TPM_HEADER_SIZE, size);
			*offset += size;
		} else {
			rc = -ENOMEM;
		}
	} else if (rc > 0) {
		rc = tpm2_rc_value(rc) == TPM2_RC_REFERENCE_H0 ? -ENOENT : -EFAULT;
	} else {
		rc = -EFAULT;
	}
	tpm_buf_destroy(&tbuf);
	return rc;
}

/**
 * tpm2_load_context() - load a context saved by tpm2_save_context()
 * @chip:	the chip; the caller holds its ops
 * @buf:	buffer holding the TPMS_CONTEXT
 * @offset:	where in @buf; advanced past the context on success
 * @handle:	the handle the TPM gave it
 *
 * Return: 0; -EINVAL if the TPM says the context failed its integrity
 * check (e.g. after a TPM reset); -ENOENT if the context is stale or
 * gone; -EFAULT on any other failure.
 */
int tpm2_load_context(struct tpm_chip *chip, u8 *buf, unsigned int *offset,
		      u32 *handle)
{
	/* TPMS_CONTEXT: sequence u64, savedHandle, hierarchy, TPM2B blob */
	const unsigned int fixed = 8 + 4 + 4 + 2;
	unsigned int size;
	struct tpm_buf tbuf;
	int rc;

	size = fixed + get_unaligned_be16(buf + *offset + fixed - 2);
	rc = tpm_buf_init(&tbuf, TPM2_ST_NO_SESSIONS, TPM2_CC_CONTEXT_LOAD);
	if (rc)
		return rc;
	tpm_buf_append(&tbuf, buf + *offset, size);
	rc = tpm_transmit_cmd(chip, &tbuf, 4, NULL);
	if (!rc) {
		*handle = get_unaligned_be32(tbuf.data + TPM_HEADER_SIZE);
		*offset += size;
	} else if (rc > 0 && tpm2_rc_value(rc) == TPM2_RC_INTEGRITY) {
		rc = -EINVAL;
	} else if (rc > 0 && (tpm2_rc_value(rc) == TPM2_RC_HANDLE ||
			      rc == TPM2_RC_REFERENCE_H0)) {
		*handle = 0;
		rc = -ENOENT;
	} else {
		rc = -EFAULT;
	}
	tpm_buf_destroy(&tbuf);
	return rc;
}
