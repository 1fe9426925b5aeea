// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: parsing of command and response buffers.
 *
 * The resource manager must know every handle and session a command
 * names before it reaches the TPM, so that it can load them, map virtual
 * handles and refuse what belongs to another client.  A client that
 * writes a buffer the resource manager cannot parse could otherwise slip
 * a handle past those checks, so the parser is at least as strict as the
 * TPM: every length is checked against the bytes written, and what does
 * not parse is refused with a response code before the TPM sees it.
 *
 * Handles are never encrypted (parameter encryption covers only the first
 * parameter), so both areas can always be read.
 */
#include <linux/kernel.h>
#include <linux/unaligned.h>
#include <linux/tpm.h>
#include "tpm2-rm-cmd.h"

/* A session in the authorization area: handle, nonce, attributes, hmac. */
#define TPM2_RM_AUTH_MIN	(4 + 2 + 1 + 2)

struct tpm2_rm_reader {
	const u8 *buf;
	size_t len;
	size_t off;
};

static bool rd_u8(struct tpm2_rm_reader *r, u8 *v)
{
	if (r->len - r->off < 1)
		return false;
	*v = r->buf[r->off++];
	return true;
}

static bool rd_u16(struct tpm2_rm_reader *r, u16 *v)
{
	if (r->len - r->off < 2)
		return false;
	*v = get_unaligned_be16(r->buf + r->off);
	r->off += 2;
	return true;
}

static bool rd_u32(struct tpm2_rm_reader *r, u32 *v)
{
	if (r->len - r->off < 4)
		return false;
	*v = get_unaligned_be32(r->buf + r->off);
	r->off += 4;
	return true;
}

/* Skip a TPM2B: a 16-bit size and that many bytes. */
static bool rd_tpm2b(struct tpm2_rm_reader *r)
{
	u16 size;

	if (!rd_u16(r, &size) || r->len - r->off < size)
		return false;
	r->off += size;
	return true;
}

/*
 * The authorization area: a 32-bit size, then one to three sessions that
 * fill exactly that size.
 */
static u32 parse_auth_area(struct tpm2_rm_reader *r, struct tpm2_rm_cmd *cmd)
{
	struct tpm2_rm_reader a;
	u32 auth_size;

	if (!rd_u32(r, &auth_size))
		return TPM2_RC_AUTHSIZE;
	if (auth_size < TPM2_RM_AUTH_MIN || auth_size > r->len - r->off)
		return TPM2_RC_AUTHSIZE;

	a.buf = r->buf;
	a.off = r->off;
	a.len = r->off + auth_size;
	while (a.off < a.len) {
		u8 i = cmd->nr_sessions;

		if (i == TPM2_RM_MAX_SESSIONS)
			return TPM2_RC_AUTHSIZE;
		cmd->session_off[i] = a.off;
		if (!rd_u32(&a, &cmd->sessions[i]) || !rd_tpm2b(&a) ||
		    !rd_u8(&a, &cmd->session_attrs[i]) || !rd_tpm2b(&a))
			return TPM2_RC_AUTHSIZE;
		cmd->nr_sessions++;
	}
	r->off = a.len;
	return 0;
}

/**
 * tpm2_rm_parse_cmd() - parse the header, handle area and auth area
 * @buf:	the command as the client wrote it
 * @len:	bytes written
 * @attrs:	TPMA_CC of the command code (from the chip's table)
 * @cmd:	filled with what was found
 *
 * The header's size must equal @len, the handle area must fit, and a
 * TPM_ST_SESSIONS command must carry one to three well-formed sessions
 * whose sizes add up to the authorization size exactly.
 *
 * Return: 0, or the TPM response code (without a layer) that the command
 * is refused with: TPM2_RC_BAD_TAG, TPM2_RC_COMMAND_SIZE,
 * TPM2_RC_INSUFFICIENT or TPM2_RC_AUTHSIZE.
 */
u32 tpm2_rm_parse_cmd(const u8 *buf, size_t len, u32 attrs,
		      struct tpm2_rm_cmd *cmd)
{
	struct tpm2_rm_reader r = { .buf = buf, .len = len };
	u32 rc;
	u8 i;

	memset(cmd, 0, sizeof(*cmd));
	if (len < TPM_HEADER_SIZE)
		return TPM2_RC_COMMAND_SIZE;
	rd_u16(&r, &cmd->tag);
	rd_u32(&r, &cmd->size);
	rd_u32(&r, &cmd->cc);
	cmd->attrs = attrs;
	if (cmd->size != len)
		return TPM2_RC_COMMAND_SIZE;
	if (cmd->tag != TPM2_ST_NO_SESSIONS && cmd->tag != TPM2_ST_SESSIONS)
		return TPM2_RC_BAD_TAG;

	cmd->nr_handles = tpm2_rm_cc_handles(attrs);
	if (cmd->nr_handles > TPM2_RM_MAX_HANDLES)
		return TPM2_RC_INSUFFICIENT;
	for (i = 0; i < cmd->nr_handles; i++)
		if (!rd_u32(&r, &cmd->handles[i]))
			return TPM2_RC_INSUFFICIENT;

	if (cmd->tag == TPM2_ST_SESSIONS) {
		rc = parse_auth_area(&r, cmd);
		if (rc)
			return rc;
	}
	cmd->params_off = r.off;
	return 0;
}

/**
 * tpm2_rm_parse_rsp() - parse a response to a parsed command
 * @buf:	the response from the TPM
 * @len:	its length
 * @cmd:	the command it answers
 * @rsp:	filled with what was found
 *
 * On success the response carries a handle when the command's rHandle
 * attribute is set, and, for a TPM_ST_SESSIONS response, one session per
 * command session after the parameters; their attributes say which
 * sessions the TPM has ended (continueSession clear).
 *
 * Return: 0, or -EIO if the response does not have the expected shape.
 */
int tpm2_rm_parse_rsp(const u8 *buf, size_t len, const struct tpm2_rm_cmd *cmd,
		      struct tpm2_rm_rsp *rsp)
{
	struct tpm2_rm_reader r = { .buf = buf, .len = len };
	u32 param_size;
	u8 i;

	memset(rsp, 0, sizeof(*rsp));
	if (len < TPM_HEADER_SIZE)
		return -EIO;
	rd_u16(&r, &rsp->tag);
	rd_u32(&r, &rsp->size);
	rd_u32(&r, &rsp->rc);
	if (rsp->size != len)
		return -EIO;
	if (rsp->rc)
		return 0;

	if (tpm2_rm_cc_rhandle(cmd->attrs)) {
		if (!rd_u32(&r, &rsp->handle))
			return -EIO;
		rsp->has_handle = true;
	}
	if (rsp->tag != TPM2_ST_SESSIONS)
		return 0;

	if (!rd_u32(&r, &param_size) || param_size > r.len - r.off)
		return -EIO;
	r.off += param_size;
	for (i = 0; i < cmd->nr_sessions; i++) {
		if (!rd_tpm2b(&r) || !rd_u8(&r, &rsp->session_attrs[i]) ||
		    !rd_tpm2b(&r))
			return -EIO;
		rsp->nr_sessions++;
	}
	return r.off == r.len ? 0 : -EIO;
}

/**
 * tpm2_rm_error_rsp() - write a 10-byte error response
 * @buf:	at least TPM_HEADER_SIZE bytes
 * @rc:		the response code, layer included
 *
 * Return: the length of the response.
 */
size_t tpm2_rm_error_rsp(u8 *buf, u32 rc)
{
	put_unaligned_be16(TPM2_ST_NO_SESSIONS, buf);
	put_unaligned_be32(TPM_HEADER_SIZE, buf + 2);
	put_unaligned_be32(rc, buf + 6);
	return TPM_HEADER_SIZE;
}

/**
 * tpm2_rm_saved_handle() - the handle a ContextLoad's context was saved from
 * @cmd:	a parsed command
 * @buf:	the command
 *
 * Return: the savedHandle of its TPMS_CONTEXT (after the u64 sequence),
 * or 0 if @cmd is not a ContextLoad long enough to name one.
 */
u32 tpm2_rm_saved_handle(const struct tpm2_rm_cmd *cmd, const u8 *buf)
{
	if (cmd->cc != TPM2_CC_CONTEXT_LOAD || cmd->size < cmd->params_off + 12)
		return 0;
	return get_unaligned_be32(buf + cmd->params_off + 8);
}
