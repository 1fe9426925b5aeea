// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the TPM 2.0 resource manager.
 *
 * tpm2_rm_parse: the command and response parsers, on valid buffers and
 * on every way a buffer can lie about itself.
 */
#include <kunit/test.h>
#include <linux/moduleparam.h>
#include <linux/unaligned.h>
#include <linux/random.h>
#include <linux/tpm.h>
#include "tpm2-rm-cmd.h"

#define CC_ATTRS(handles, rhandle) \
	(((handles) << 25) | ((rhandle) ? TPM2_CC_ATTR_RHANDLE_BIT : 0))

/* A little command builder. */
struct tbuf {
	u8 b[512];
	size_t n;
};

static void put8(struct tbuf *t, u8 v)
{
	t->b[t->n++] = v;
}

static void put16(struct tbuf *t, u16 v)
{
	put_unaligned_be16(v, t->b + t->n);
	t->n += 2;
}

static void put32(struct tbuf *t, u32 v)
{
	put_unaligned_be32(v, t->b + t->n);
	t->n += 4;
}

static void put_session(struct tbuf *t, u32 handle, u16 nonce, u8 attrs,
			u16 hmac)
{
	put32(t, handle);
	put16(t, nonce);
	memset(t->b + t->n, 0xA5, nonce);
	t->n += nonce;
	put8(t, attrs);
	put16(t, hmac);
	memset(t->b + t->n, 0x5A, hmac);
	t->n += hmac;
}

static void fix_size(struct tbuf *t)
{
	put_unaligned_be32(t->n, t->b + 2);
}

/* TPM2_Sign(keyHandle) with one HMAC session and a 32-byte digest. */
static void build_sign(struct tbuf *t, u32 key, u32 session)
{
	size_t auth;

	t->n = 0;
	put16(t, TPM2_ST_SESSIONS);
	put32(t, 0);
	put32(t, 0x15D);
	put32(t, key);
	auth = t->n;
	put32(t, 0);
	put_session(t, session, 16, TPM2_SA_CONTINUE_SESSION, 32);
	put_unaligned_be32(t->n - auth - 4, t->b + auth);
	put16(t, 32);
	memset(t->b + t->n, 1, 32);
	t->n += 32;
	fix_size(t);
}

static void parse_cmd_no_sessions(struct kunit *test)
{
	struct tpm2_rm_cmd cmd;
	struct tbuf t = {};

	put16(&t, TPM2_ST_NO_SESSIONS);
	put32(&t, 0);
	put32(&t, TPM2_CC_FLUSH_CONTEXT);
	put32(&t, 0x80FFFFFE);
	fix_size(&t);
	KUNIT_ASSERT_EQ(test, 0, tpm2_rm_parse_cmd(t.b, t.n, CC_ATTRS(1, 0), &cmd));
	KUNIT_EXPECT_EQ(test, cmd.cc, TPM2_CC_FLUSH_CONTEXT);
	KUNIT_EXPECT_EQ(test, cmd.nr_handles, 1);
	KUNIT_EXPECT_EQ(test, cmd.handles[0], 0x80FFFFFE);
	KUNIT_EXPECT_EQ(test, cmd.nr_sessions, 0);
	KUNIT_EXPECT_EQ(test, cmd.params_off, 14);
}

static void parse_cmd_sessions(struct kunit *test)
{
	struct tpm2_rm_cmd cmd;
	struct tbuf t;
	size_t auth;

	build_sign(&t, 0x80000001, 0x02000000);
	KUNIT_ASSERT_EQ(test, 0, tpm2_rm_parse_cmd(t.b, t.n, CC_ATTRS(1, 0), &cmd));
	KUNIT_EXPECT_EQ(test, cmd.nr_sessions, 1);
	KUNIT_EXPECT_EQ(test, cmd.sessions[0], 0x02000000);
	KUNIT_EXPECT_EQ(test, cmd.session_attrs[0], TPM2_SA_CONTINUE_SESSION);
	KUNIT_EXPECT_EQ(test, cmd.session_off[0], 18);
	KUNIT_EXPECT_EQ(test, cmd.params_off, t.n - 34);

	/* three sessions, the first a password */
	t.n = 0;
	put16(&t, TPM2_ST_SESSIONS);
	put32(&t, 0);
	put32(&t, 0x15D);
	put32(&t, 0x81000001);
	auth = t.n;
	put32(&t, 0);
	put_session(&t, TPM2_RS_PW, 0, 1, 0);
	put_session(&t, 0x03000002, 32, 0, 0);
	put_session(&t, 0x02000005, 0, 0x40, 20);
	put_unaligned_be32(t.n - auth - 4, t.b + auth);
	fix_size(&t);
	KUNIT_ASSERT_EQ(test, 0, tpm2_rm_parse_cmd(t.b, t.n, CC_ATTRS(1, 0), &cmd));
	KUNIT_EXPECT_EQ(test, cmd.nr_sessions, 3);
	KUNIT_EXPECT_EQ(test, cmd.sessions[0], TPM2_RS_PW);
	KUNIT_EXPECT_EQ(test, cmd.sessions[1], 0x03000002);
	KUNIT_EXPECT_EQ(test, cmd.sessions[2], 0x02000005);
	KUNIT_EXPECT_EQ(test, cmd.session_attrs[2], 0x40);
	KUNIT_EXPECT_EQ(test, cmd.params_off, t.n);
}

static void parse_cmd_malformed(struct kunit *test)
{
	struct tpm2_rm_cmd cmd;
	struct tbuf t;
	size_t n;

	build_sign(&t, 0x80000001, 0x02000000);

	/* the header's size must be the bytes written */
	KUNIT_EXPECT_EQ(test, TPM2_RC_COMMAND_SIZE,
			tpm2_rm_parse_cmd(t.b, t.n - 1, CC_ATTRS(1, 0), &cmd));
	KUNIT_EXPECT_EQ(test, TPM2_RC_COMMAND_SIZE,
			tpm2_rm_parse_cmd(t.b, 9, CC_ATTRS(1, 0), &cmd));

	/* every truncation before the parameters is refused */
	for (n = TPM_HEADER_SIZE; n < t.n - 34; n++) {
		put_unaligned_be32(n, t.b + 2);
		KUNIT_EXPECT_NE(test, 0, tpm2_rm_parse_cmd(t.b, n, CC_ATTRS(1, 0), &cmd));
	}
	fix_size(&t);

	/* bad tag */
	put_unaligned_be16(0x8003, t.b);
	KUNIT_EXPECT_EQ(test, TPM2_RC_BAD_TAG,
			tpm2_rm_parse_cmd(t.b, t.n, CC_ATTRS(1, 0), &cmd));
	put_unaligned_be16(TPM2_ST_SESSIONS, t.b);

	/* authorization size larger than the buffer, and too small */
	put_unaligned_be32(0xFFFFFFFF, t.b + 14);
	KUNIT_EXPECT_EQ(test, TPM2_RC_AUTHSIZE,
			tpm2_rm_parse_cmd(t.b, t.n, CC_ATTRS(1, 0), &cmd));
	put_unaligned_be32(8, t.b + 14);
	KUNIT_EXPECT_EQ(test, TPM2_RC_AUTHSIZE,
			tpm2_rm_parse_cmd(t.b, t.n, CC_ATTRS(1, 0), &cmd));

	/* a nonce that runs past the authorization area */
	build_sign(&t, 0x80000001, 0x02000000);
	put_unaligned_be16(200, t.b + 22);
	KUNIT_EXPECT_EQ(test, TPM2_RC_AUTHSIZE,
			tpm2_rm_parse_cmd(t.b, t.n, CC_ATTRS(1, 0), &cmd));

	/* more than three handles in the command table */
	build_sign(&t, 0x80000001, 0x02000000);
	KUNIT_EXPECT_EQ(test, TPM2_RC_INSUFFICIENT,
			tpm2_rm_parse_cmd(t.b, t.n, CC_ATTRS(7, 0), &cmd));
}

static void parse_cmd_four_sessions(struct kunit *test)
{
	struct tpm2_rm_cmd cmd;
	struct tbuf t = {};
	size_t auth;
	int i;

	put16(&t, TPM2_ST_SESSIONS);
	put32(&t, 0);
	put32(&t, 0x17B);
	auth = t.n;
	put32(&t, 0);
	for (i = 0; i < 4; i++)
		put_session(&t, 0x02000000 + i, 0, 1, 0);
	put_unaligned_be32(t.n - auth - 4, t.b + auth);
	fix_size(&t);
	KUNIT_EXPECT_EQ(test, TPM2_RC_AUTHSIZE,
			tpm2_rm_parse_cmd(t.b, t.n, CC_ATTRS(0, 0), &cmd));
}

/* Random bytes and random mutations of a valid command never overrun. */
static void parse_cmd_random(struct kunit *test)
{
	struct tpm2_rm_cmd cmd;
	struct tbuf t;
	int i;

	for (i = 0; i < 20000; i++) {
		size_t n;

		build_sign(&t, 0x80000001, 0x02000000);
		n = get_random_u32_below(t.n + 1);
		t.b[get_random_u32_below(t.n)] = get_random_u8();
		if (i & 1)
			put_unaligned_be32(n, t.b + 2);
		if (!tpm2_rm_parse_cmd(t.b, n, CC_ATTRS(i % 4, 0), &cmd)) {
			KUNIT_EXPECT_LE(test, cmd.params_off, n);
			KUNIT_EXPECT_LE(test, cmd.nr_sessions, 3);
		}
	}
}

static void parse_rsp(struct kunit *test)
{
	struct tbuf *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct tbuf *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	struct tpm2_rm_cmd cmd;
	struct tpm2_rm_rsp rsp;

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, t);
	build_sign(c, 0x80000001, 0x02000000);
	KUNIT_ASSERT_EQ(test, 0, tpm2_rm_parse_cmd(c->b, c->n, CC_ATTRS(1, 0), &cmd));

	put16(t, TPM2_ST_SESSIONS);
	put32(t, 0);
	put32(t, 0);
	put32(t, 6);		/* parameterSize */
	put16(t, 4);
	put32(t, 0xDEADBEEF);
	put16(t, 16);		/* nonce */
	t->n += 16;
	put8(t, 0);		/* continueSession clear: session ended */
	put16(t, 32);
	t->n += 32;
	fix_size(t);
	KUNIT_ASSERT_EQ(test, 0, tpm2_rm_parse_rsp(t->b, t->n, &cmd, &rsp));
	KUNIT_EXPECT_EQ(test, rsp.rc, 0);
	KUNIT_EXPECT_FALSE(test, rsp.has_handle);
	KUNIT_EXPECT_EQ(test, rsp.nr_sessions, 1);
	KUNIT_EXPECT_EQ(test, rsp.session_attrs[0], 0);

	/* a session area that does not end the response is refused */
	t->n -= 1;
	fix_size(t);
	KUNIT_EXPECT_EQ(test, -EIO, tpm2_rm_parse_rsp(t->b, t->n, &cmd, &rsp));

	/* error responses are ten bytes and carry nothing else */
	t->n = tpm2_rm_error_rsp(t->b, 0x902);
	KUNIT_ASSERT_EQ(test, 0, tpm2_rm_parse_rsp(t->b, t->n, &cmd, &rsp));
	KUNIT_EXPECT_EQ(test, rsp.rc, 0x902);
	KUNIT_EXPECT_EQ(test, rsp.size, TPM_HEADER_SIZE);
}

static void parse_rsp_handle(struct kunit *test)
{
	struct tpm2_rm_cmd cmd;
	struct tpm2_rm_rsp rsp;
	struct tbuf t = {};

	/* ContextLoad: no handles, a response handle */
	put16(&t, TPM2_ST_NO_SESSIONS);
	put32(&t, 0);
	put32(&t, TPM2_CC_CONTEXT_LOAD);
	put32(&t, 0);
	fix_size(&t);
	KUNIT_ASSERT_EQ(test, 0, tpm2_rm_parse_cmd(t.b, t.n, CC_ATTRS(0, 1), &cmd));

	t.n = 0;
	put16(&t, TPM2_ST_NO_SESSIONS);
	put32(&t, 0);
	put32(&t, 0);
	put32(&t, 0x80000002);
	fix_size(&t);
	KUNIT_ASSERT_EQ(test, 0, tpm2_rm_parse_rsp(t.b, t.n, &cmd, &rsp));
	KUNIT_EXPECT_TRUE(test, rsp.has_handle);
	KUNIT_EXPECT_EQ(test, rsp.handle, 0x80000002);
	KUNIT_EXPECT_EQ(test, -EIO, tpm2_rm_parse_rsp(t.b, t.n - 1, &cmd, &rsp));
}

/* make fuzz boots with tpm.rm_kunit_fuzz_rounds=1000000 */
static unsigned int fuzz_rounds = 100000;
module_param_named(rm_kunit_fuzz_rounds, fuzz_rounds, uint, 0444);
MODULE_PARM_DESC(rm_kunit_fuzz_rounds,
		 "Mutated buffers each parser fuzzing test of the KUnit suite parses");

/* One mutation of a valid command: flip bytes, lie about sizes, cut. */
static size_t mutate(struct tbuf *t, u32 seed)
{
	size_t n = t->n;
	unsigned int i;

	for (i = 0; i < 1 + seed % 4; i++)
		t->b[get_random_u32_below(t->n)] = get_random_u8();
	switch (seed % 5) {
	case 0:		/* the size field lies */
		put_unaligned_be32(get_random_u32(), t->b + 2);
		break;
	case 1:		/* truncated, consistently */
		n = get_random_u32_below(t->n + 1);
		put_unaligned_be32(n, t->b + 2);
		break;
	case 2:		/* an authorization size that overflows */
		if (t->n >= 18)
			put_unaligned_be32(0xFFFFFFF0 + seed % 16, t->b + 14);
		break;
	case 3:		/* a nonce or HMAC size past the end */
		if (t->n >= 24)
			put_unaligned_be16(0xFFFF - seed % 8, t->b + 22);
		break;
	}
	return n;
}

/*
 * Parse mutated commands from an allocation of exactly their length, so
 * that KASAN sees any read past the end; every rejection is one of the
 * documented codes, and what is accepted is within bounds.
 */
static void parse_cmd_fuzz(struct kunit *test)
{
	struct tpm2_rm_cmd cmd;
	struct tbuf *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	unsigned int i, j, refused = 0;
	size_t n;
	u32 rc;
	u8 *b;

	KUNIT_ASSERT_NOT_NULL(test, t);
	for (i = 0; i < fuzz_rounds; i++) {
		t->n = 0;
		build_sign(t, 0x80000001, i & 1 ? 0x02000000 : TPM2_RS_PW);
		n = mutate(t, get_random_u32());
		b = kmemdup(t->b, n ?: 1, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, b);
		rc = tpm2_rm_parse_cmd(b, n, CC_ATTRS(i % 4, i & 4 ? 1 : 0), &cmd);
		if (rc) {
			refused++;
			KUNIT_EXPECT_TRUE(test, rc == TPM2_RC_BAD_TAG ||
					  rc == TPM2_RC_COMMAND_SIZE ||
					  rc == TPM2_RC_INSUFFICIENT ||
					  rc == TPM2_RC_AUTHSIZE);
		} else {
			KUNIT_EXPECT_LE(test, cmd.params_off, n);
			KUNIT_EXPECT_LE(test, cmd.nr_sessions, 3);
			for (j = 0; j < cmd.nr_sessions; j++)
				KUNIT_EXPECT_LE(test, cmd.session_off[j] + 4, n);
		}
		kfree(b);
	}
	kunit_info(test, "%u mutated commands, %u refused\n", fuzz_rounds,
		   refused);
}

/* The same for responses, against a parsed command of each shape. */
static void parse_rsp_fuzz(struct kunit *test)
{
	struct tbuf *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct tbuf *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	struct tpm2_rm_cmd cmd;
	struct tpm2_rm_rsp rsp;
	unsigned int i, refused = 0;
	size_t n;
	int rc;
	u8 *b;

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, t);
	for (i = 0; i < fuzz_rounds; i++) {
		c->n = 0;
		build_sign(c, 0x80000001, 0x02000000);
		rc = tpm2_rm_parse_cmd(c->b, c->n, CC_ATTRS(1, i & 1), &cmd);
		KUNIT_ASSERT_EQ(test, rc, 0);
		t->n = 0;
		put16(t, i & 2 ? TPM2_ST_SESSIONS : TPM2_ST_NO_SESSIONS);
		put32(t, 0);
		put32(t, 0);
		if (i & 1)
			put32(t, 0x80000002);
		put32(t, 4);
		put32(t, 0);
		put16(t, 16);
		t->n += 16;
		put8(t, 1);
		put16(t, 32);
		t->n += 32;
		fix_size(t);
		n = mutate(t, get_random_u32());
		b = kmemdup(t->b, n ?: 1, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, b);
		rc = tpm2_rm_parse_rsp(b, n, &cmd, &rsp);
		KUNIT_EXPECT_TRUE(test, rc == 0 || rc == -EIO);
		refused += rc != 0;
		if (!rc) {
			KUNIT_EXPECT_LE(test, rsp.size, n);
			KUNIT_EXPECT_LE(test, rsp.nr_sessions, cmd.nr_sessions);
		}
		kfree(b);
	}
	kunit_info(test, "%u mutated responses, %u refused\n", fuzz_rounds,
		   refused);
}

static struct kunit_case tpm2_rm_parse_cases[] = {
	KUNIT_CASE(parse_cmd_no_sessions),
	KUNIT_CASE(parse_cmd_sessions),
	KUNIT_CASE(parse_cmd_malformed),
	KUNIT_CASE(parse_cmd_four_sessions),
	KUNIT_CASE(parse_cmd_random),
	KUNIT_CASE(parse_rsp),
	KUNIT_CASE(parse_rsp_handle),
	KUNIT_CASE_SLOW(parse_cmd_fuzz),
	KUNIT_CASE_SLOW(parse_rsp_fuzz),
	{}
};

static struct kunit_suite tpm2_rm_parse_suite = {
	.name = "tpm2_rm_parse",
	.test_cases = tpm2_rm_parse_cases,
};

kunit_test_suites(&tpm2_rm_parse_suite);

MODULE_DESCRIPTION("KUnit tests for the TPM 2.0 resource manager");
MODULE_LICENSE("GPL");
