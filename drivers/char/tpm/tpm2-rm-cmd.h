/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TPM 2.0 resource manager: the shape of a command and of its response,
 * as far as the resource manager needs to know it.
 *
 * Parsing is pure: it reads a buffer and fills one of the structures
 * below, or says why the buffer is malformed.  Nothing here talks to a
 * TPM or looks at a client's state, so KUnit can feed it anything.
 */
#ifndef __TPM2_RM_CMD_H__
#define __TPM2_RM_CMD_H__

#include <linux/types.h>

/* A TPM 2.0 command names at most three handles and three sessions. */
#define TPM2_RM_MAX_HANDLES	3
#define TPM2_RM_MAX_SESSIONS	3

/* Handle types: bits 31:24 of a handle (TPM 2.0 Part 2, TPM_HT). */
#define TPM2_HT_PCR		0x00
#define TPM2_HT_NV_INDEX	0x01
#define TPM2_HT_HMAC_SESSION	0x02
#define TPM2_HT_POLICY_SESSION	0x03
#define TPM2_HT_PERMANENT	0x40
#define TPM2_HT_TRANSIENT	0x80
#define TPM2_HT_PERSISTENT	0x81

#define TPM2_RM_HT(h)		((u8)((h) >> 24))
#define TPM2_RS_PW		0x40000009

/* Fields of TPMA_CC beyond those include/linux/tpm.h names. */
#define TPM2_CC_ATTR_FLUSHED	BIT(24)
#define TPM2_CC_ATTR_RHANDLE_BIT BIT(28)

/**
 * struct tpm2_rm_cmd - what the resource manager needs from a command
 * @tag:		TPM_ST_NO_SESSIONS or TPM_ST_SESSIONS
 * @size:		the size field of the header (equal to the bytes written)
 * @cc:			command code
 * @attrs:		TPMA_CC of @cc from the chip's command table
 * @nr_handles:		handles in the handle area
 * @handles:		the handle area, as the client wrote it
 * @nr_sessions:	sessions in the authorization area
 * @sessions:		session handles of the authorization area
 * @session_attrs:	TPMA_SESSION of each session
 * @session_off:	offset of each session handle in the buffer
 * @params_off:		offset of the parameter area
 *
 * The handle area starts at TPM_HEADER_SIZE: handle i is at
 * TPM_HEADER_SIZE + 4 * i.  FlushContext's handle is a parameter, but the
 * kernel's command table gives FlushContext one handle, so it is in
 * @handles[0] like any other.
 */
struct tpm2_rm_cmd {
	u16 tag;
	u32 size;
	u32 cc;
	u32 attrs;
	u8 nr_handles;
	u32 handles[TPM2_RM_MAX_HANDLES];
	u8 nr_sessions;
	u32 sessions[TPM2_RM_MAX_SESSIONS];
	u8 session_attrs[TPM2_RM_MAX_SESSIONS];
	u16 session_off[TPM2_RM_MAX_SESSIONS];
	u32 params_off;
};

/**
 * struct tpm2_rm_rsp - what the resource manager needs from a response
 * @tag:		tag of the response
 * @size:		size field of the response
 * @rc:			response code
 * @has_handle:		a handle follows the header (success, rHandle set)
 * @handle:		that handle
 * @nr_sessions:	sessions in the response authorization area
 * @session_attrs:	TPMA_SESSION returned for each command session
 */
struct tpm2_rm_rsp {
	u16 tag;
	u32 size;
	u32 rc;
	bool has_handle;
	u32 handle;
	u8 nr_sessions;
	u8 session_attrs[TPM2_RM_MAX_SESSIONS];
};

/* Response codes a malformed command is refused with (format zero/one). */
#define TPM2_RC_BAD_TAG		0x01E
#define TPM2_RC_INSUFFICIENT	0x09A
#define TPM2_RC_COMMAND_SIZE	0x142
#define TPM2_RC_AUTHSIZE	0x144
#define TPM2_RC_AUTH_CONTEXT	0x145
#define TPM2_RC_SIZE		0x095

u32 tpm2_rm_parse_cmd(const u8 *buf, size_t len, u32 attrs,
		      struct tpm2_rm_cmd *cmd);
int tpm2_rm_parse_rsp(const u8 *buf, size_t len, const struct tpm2_rm_cmd *cmd,
		      struct tpm2_rm_rsp *rsp);
size_t tpm2_rm_error_rsp(u8 *buf, u32 rc);
u32 tpm2_rm_saved_handle(const struct tpm2_rm_cmd *cmd, const u8 *buf);

static inline u8 tpm2_rm_cc_handles(u32 attrs)
{
	return (attrs >> 25) & 0x7;
}

static inline bool tpm2_rm_cc_rhandle(u32 attrs)
{
	return attrs & TPM2_CC_ATTR_RHANDLE_BIT;
}

/*
 * Does the command take a free object slot of its own?  Those that
 * return a handle do, and TPM2_Create, which builds the new object in a
 * slot (TPM_RC_OBJECT_MEMORY when none is free).
 */
static inline bool tpm2_rm_cc_takes_object(u32 cc, u32 attrs)
{
	return tpm2_rm_cc_rhandle(attrs) || cc == 0x153;	/* TPM2_Create */
}

static inline bool tpm2_rm_is_session(u32 handle)
{
	return TPM2_RM_HT(handle) == TPM2_HT_HMAC_SESSION ||
	       TPM2_RM_HT(handle) == TPM2_HT_POLICY_SESSION;
}

/*
 * Do two handles name the same context?  The TPM knows a session by its
 * index alone (FlushContext of 0x02000005 ends the policy session
 * 0x03000005), so session handles compare by index.
 */
static inline bool tpm2_rm_same_handle(u32 a, u32 b)
{
	if (tpm2_rm_is_session(a) && tpm2_rm_is_session(b))
		return (a & 0xFFFFFF) == (b & 0xFFFFFF);
	return a == b;
}

#endif /* __TPM2_RM_CMD_H__ */
