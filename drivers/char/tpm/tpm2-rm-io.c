// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: the commands it sends on its own behalf.
 *
 * This is the only file that builds ContextSave, ContextLoad,
 * FlushContext and GetCapability commands; everything goes through the
 * transport in &struct tpm2_rm_ops, so the KUnit suite can put a fake TPM
 * there.  Each function returns 0, a positive TPM response code, or a
 * negative errno from the transport.
 */
#include <kunit/static_stub.h>
#include <linux/slab.h>
#include "tpm.h"
#include <linux/unaligned.h>
#include "tpm2-rm.h"
#include "tpm2-rm-io.h"

#define CREATE_TRACE_POINTS
#include <trace/events/tpm2_rm.h>

/**
 * tpm2_rm_saw_rc() - look at the response code of any command to the TPM
 * @rm:		resource manager
 * @cc:		the command's code
 * @rc:		the response code
 *
 * Only records what it sees; tpm2_rm_sync_tpm() acts on it.
 */
void tpm2_rm_saw_rc(struct tpm2_rm *rm, u32 cc, u32 rc)
{
	if (cc == TPM2_CC_STARTUP) {
		/* INITIALIZE here means "already started" */
		if (!rc) {
			rm->tpm_lost = true;
			rm->tpm_started = true;
		}
	} else if (rc == TPM2_RC_INITIALIZE) {
		rm->tpm_lost = true;
	}
}

static void put_header(u8 *buf, u32 len, u32 cc)
{
	put_unaligned_be16(TPM2_ST_NO_SESSIONS, buf);
	put_unaligned_be32(len, buf + 2);
	put_unaligned_be32(cc, buf + 6);
}

/**
 * tpm2_rm_xmit() - send one command and check the response's shape
 * @rm:		resource manager
 * @buf:	command, TPM_BUFSIZE bytes of room
 * @len:	command length
 *
 * Every response code is shown to tpm2_rm_saw_rc(), which watches for
 * the TPM losing its memory (acted on by tpm2-rm-reset.c).
 *
 * Return: the response length (at least a header), or a negative errno.
 */
ssize_t tpm2_rm_xmit(struct tpm2_rm *rm, u8 *buf, size_t len)
{
	u32 cc = get_unaligned_be32(buf + 6);
	ssize_t ret;

	rm->stats.tpm_commands++;
	ret = rm->ops->transmit(rm, buf, len);
	if (ret >= 0 && (ret < TPM_HEADER_SIZE ||
			 get_unaligned_be32(buf + 2) != ret))
		ret = -EIO;
	if (ret >= 0)
		tpm2_rm_saw_rc(rm, cc, get_unaligned_be32(buf + 6));
	return ret;
}

static int rm_io(struct tpm2_rm *rm, u32 len, size_t *rsp_len)
{
	ssize_t ret = tpm2_rm_xmit(rm, rm->io, len);

	if (ret < 0)
		return ret;
	*rsp_len = ret;
	return get_unaligned_be32(rm->io + 6);
}

/**
 * tpm2_rm_dup() - copy a context or command for the resource manager
 * @src:	what to copy
 * @len:	its length
 *
 * Every copy the resource manager keeps of a saved context is made
 * here, charged to the caller's memory cgroup; the KUnit suite makes it
 * fail to test what follows a failure.
 *
 * Return: the copy, or NULL.
 */
void *tpm2_rm_dup(const void *src, size_t len)
{
	KUNIT_STATIC_STUB_REDIRECT(tpm2_rm_dup, src, len);
	return kmemdup(src, len, GFP_KERNEL_ACCOUNT);
}

/*
 * A session was saved but the copy could not be kept: a saved session
 * nobody holds a context of would never be refreshed, and once the
 * context gap reached it every session save on the chip would fail.
 * Load it again from the response still in @rm->io (a session keeps its
 * handle), so it is as it was.  Should that fail too, end it.
 *
 * Return: -ENOMEM if the session is loaded again, -ENODATA if it ended.
 */
static int undo_session_save(struct tpm2_rm *rm, size_t len)
{
	u32 handle = get_unaligned_be32(rm->io + TPM_HEADER_SIZE + 8);
	size_t rlen;

	put_header(rm->io, len, TPM2_CC_CONTEXT_LOAD);
	rm->stats.loads++;
	if (!rm_io(rm, len, &rlen))
		return -ENOMEM;
	tpm2_rm_flush(rm, handle);
	return -ENODATA;
}

/**
 * tpm2_rm_save() - ContextSave a loaded context
 * @rm:		resource manager
 * @handle:	TPM handle of the context
 * @blob:	on success, a new allocation holding the TPMS_CONTEXT
 * @blob_len:	its length
 *
 * The allocation is charged to the caller's memory cgroup.  If it fails,
 * a session is loaded again (see undo_session_save()).
 *
 * Return: 0, a TPM response code, or a negative errno; for a session,
 * -ENOMEM means it is loaded as before, -ENODATA that it ended.
 */
int tpm2_rm_save(struct tpm2_rm *rm, u32 handle, u8 **blob, u16 *blob_len)
{
	size_t len;
	int rc;

	put_header(rm->io, TPM_HEADER_SIZE + 4, TPM2_CC_CONTEXT_SAVE);
	put_unaligned_be32(handle, rm->io + TPM_HEADER_SIZE);
	rm->stats.saves++;
	rc = rm_io(rm, TPM_HEADER_SIZE + 4, &len);
	trace_tpm2_rm_save(rm->cur_client, handle, rc);
	if (rc)
		return rc;
	/* TPMS_CONTEXT: sequence, savedHandle, hierarchy, TPM2B blob */
	if (len < TPM_HEADER_SIZE + 18 || len - TPM_HEADER_SIZE > U16_MAX)
		return -EIO;
	*blob = tpm2_rm_dup(rm->io + TPM_HEADER_SIZE, len - TPM_HEADER_SIZE);
	if (!*blob)
		return tpm2_rm_is_session(handle) ?
		       undo_session_save(rm, len) : -ENOMEM;
	*blob_len = len - TPM_HEADER_SIZE;
	return 0;
}

/**
 * tpm2_rm_load() - ContextLoad a saved context
 * @rm:		resource manager
 * @blob:	TPMS_CONTEXT
 * @blob_len:	its length
 * @handle:	on success, the handle the TPM gave it
 *
 * Return: 0, a TPM response code, or a negative errno.
 */
int tpm2_rm_load(struct tpm2_rm *rm, const u8 *blob, u16 blob_len, u32 *handle)
{
	size_t len;
	int rc;

	if (TPM_HEADER_SIZE + blob_len > TPM_BUFSIZE)
		return -E2BIG;
	put_header(rm->io, TPM_HEADER_SIZE + blob_len, TPM2_CC_CONTEXT_LOAD);
	memcpy(rm->io + TPM_HEADER_SIZE, blob, blob_len);
	rm->stats.loads++;
	rc = rm_io(rm, TPM_HEADER_SIZE + blob_len, &len);
	if (!rc && len < TPM_HEADER_SIZE + 4)
		rc = -EIO;
	*handle = rc ? 0 : get_unaligned_be32(rm->io + TPM_HEADER_SIZE);
	trace_tpm2_rm_load(rm->cur_client, *handle, rc);
	return rc;
}

static int send_flush(struct tpm2_rm *rm, u32 handle)
{
	size_t len;
	int rc;

	put_header(rm->io, TPM_HEADER_SIZE + 4, TPM2_CC_FLUSH_CONTEXT);
	put_unaligned_be32(handle, rm->io + TPM_HEADER_SIZE);
	rm->stats.flushes++;
	rc = rm_io(rm, TPM_HEADER_SIZE + 4, &len);
	trace_tpm2_rm_flush(rm->cur_client, handle, rc);
	return rc;
}

/* TPM_RC_HANDLE, of the handle or of the parameter: the TPM holds no such context. */
static bool flushed_or_gone(int rc)
{
	return !rc || (rc > 0 && (rc & 0xBF) == TPM2_RC_HANDLE);
}

/**
 * tpm2_rm_flush() - FlushContext a handle
 * @rm:		resource manager
 * @handle:	TPM handle
 *
 * A failed flush is sent once more at once (a transport hiccup, or the
 * TPM asking for a retry).  Should that fail too, the TPM may still hold
 * the context although nobody's books do: its handle is kept in
 * @rm->unflushed and flushed again by tpm2_rm_retry_flushes().
 *
 * Return: 0, a TPM response code, or a negative errno.
 */
int tpm2_rm_flush(struct tpm2_rm *rm, u32 handle)
{
	unsigned int i;
	int rc;

	rc = send_flush(rm, handle);
	if (!flushed_or_gone(rc))
		rc = send_flush(rm, handle);
	if (flushed_or_gone(rc))
		return rc;
	for (i = 0; i < rm->nr_unflushed; i++)
		if (rm->unflushed[i] == handle)
			return rc;
	/* full only if the TPM fails every flush: its trace event tells */
	if (rm->nr_unflushed < ARRAY_SIZE(rm->unflushed))
		rm->unflushed[rm->nr_unflushed++] = handle;
	return rc;
}

/**
 * tpm2_rm_unflushed_gone() - the TPM no longer holds what a failed flush
 *	may have left
 * @rm:		resource manager
 * @handle:	a handle the TPM just gave out (a session by its index,
 *		tpm2_rm_same_handle()); 0 after the TPM emptied its object
 *		slots, for every transient handle
 */
void tpm2_rm_unflushed_gone(struct tpm2_rm *rm, u32 handle)
{
	unsigned int i, n = 0;
	u32 h;

	for (i = 0; i < rm->nr_unflushed; i++) {
		h = rm->unflushed[i];
		if (handle ? !tpm2_rm_same_handle(h, handle) :
			     tpm2_rm_is_session(h))
			rm->unflushed[n++] = h;
	}
	rm->nr_unflushed = n;
}

/**
 * tpm2_rm_retry_flushes() - flush what a failed FlushContext left behind
 * @rm:		resource manager
 *
 * Called by tpm2_rm_sync_tpm() at every entry point of the resource
 * manager, before anything else is sent: a handle on the list cannot
 * have been handed to anyone since but to the resource manager itself,
 * which takes it off the list when the TPM gives it out
 * (tpm2_rm_set_resident()).  The one exception needs the transport to
 * fail on every attempt, the first after the TPM ran the flush, and the
 * chip to serve other commands meanwhile.  Sends nothing while the list
 * is empty.
 */
void tpm2_rm_retry_flushes(struct tpm2_rm *rm)
{
	unsigned int i, n = 0;

	for (i = 0; i < rm->nr_unflushed; i++)
		if (!flushed_or_gone(send_flush(rm, rm->unflushed[i])))
			rm->unflushed[n++] = rm->unflushed[i];
	rm->nr_unflushed = n;
}

/**
 * tpm2_rm_get_property() - read one TPM_PT property
 * @rm:		resource manager
 * @prop:	property
 * @value:	its value
 *
 * Return: 0, a TPM response code, or a negative errno (-ENOENT if the TPM
 * does not report @prop).
 */
int tpm2_rm_get_property(struct tpm2_rm *rm, u32 prop, u32 *value)
{
	size_t len;
	int rc;

	put_header(rm->io, TPM_HEADER_SIZE + 12, TPM2_CC_GET_CAPABILITY);
	put_unaligned_be32(TPM2_CAP_TPM_PROPERTIES, rm->io + 10);
	put_unaligned_be32(prop, rm->io + 14);
	put_unaligned_be32(1, rm->io + 18);
	rc = rm_io(rm, TPM_HEADER_SIZE + 12, &len);
	if (rc)
		return rc;
	/* moreData u8, capability u32, count u32, {property, value} */
	if (len < TPM_HEADER_SIZE + 17 ||
	    get_unaligned_be32(rm->io + 15) < 1 ||
	    get_unaligned_be32(rm->io + 19) != prop)
		return -ENOENT;
	*value = get_unaligned_be32(rm->io + 23);
	return 0;
}

/**
 * tpm2_rm_learn_room() - ask the TPM how many contexts it holds
 * @rm:		resource manager
 *
 * Object and session slots, sessions in existence and the context gap's
 * bound; the minimums of TPM 2.0 Part 2 where the TPM does not say.
 */
void tpm2_rm_learn_room(struct tpm2_rm *rm)
{
	u32 v;

	rm->room_known = true;
	rm->max_objects = 3;
	rm->max_sessions = 3;
	rm->max_active = 64;
	rm->gap_max = 0xFF;
	if (!tpm2_rm_get_property(rm, TPM2_PT_HR_TRANSIENT_MIN, &v) && v)
		rm->max_objects = v;
	if (!tpm2_rm_get_property(rm, TPM2_PT_HR_LOADED_MIN, &v) && v)
		rm->max_sessions = v;
	if (!tpm2_rm_get_property(rm, TPM2_PT_ACTIVE_SESSIONS_MAX, &v) && v)
		rm->max_active = v;
	if (!tpm2_rm_get_property(rm, TPM2_PT_CONTEXT_GAP_MAX, &v) && v)
		rm->gap_max = v;
}

/**
 * tpm2_rm_get_handles() - list handles of one type, GetCapability(HANDLES)
 * @rm:		resource manager
 * @first:	first handle to list; its top byte is the type
 * @out:	where the handles go
 * @max:	room in @out
 * @n:		handles listed
 * @more:	the TPM has more after the last one listed
 *
 * Return: 0, a TPM response code, or a negative errno (-EIO if the
 * response does not parse).
 */
int tpm2_rm_get_handles(struct tpm2_rm *rm, u32 first, u32 *out,
			unsigned int max, unsigned int *n, bool *more)
{
	unsigned int i, count;
	size_t len;
	int rc;

	put_header(rm->io, TPM_HEADER_SIZE + 12, TPM2_CC_GET_CAPABILITY);
	put_unaligned_be32(TPM2_CAP_HANDLES, rm->io + 10);
	put_unaligned_be32(first, rm->io + 14);
	put_unaligned_be32(max, rm->io + 18);
	rc = rm_io(rm, TPM_HEADER_SIZE + 12, &len);
	if (rc)
		return rc;
	/* moreData u8, capability u32, count u32, handles */
	if (len < TPM_HEADER_SIZE + 9)
		return -EIO;
	count = get_unaligned_be32(rm->io + 15);
	if (count > max || len < TPM_HEADER_SIZE + 9 + 4 * (size_t)count)
		return -EIO;
	for (i = 0; i < count; i++)
		out[i] = get_unaligned_be32(rm->io + 19 + 4 * i);
	*n = count;
	*more = rm->io[10];
	return 0;
}
