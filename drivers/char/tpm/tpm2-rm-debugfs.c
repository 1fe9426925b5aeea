// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: who holds what, in debugfs.
 *
 * /sys/kernel/debug/tpmN/rm/clients (root only) lists every open
 * /dev/tpmrmN file with what it holds and what it waits for, then the
 * sessions handed off by clients that closed.  The format is described
 * in Documentation/ABI/testing/debugfs-tpm-rm.
 *
 * Locking: the listing reads the resource manager's state under the
 * chip's tpm_mutex, as the sysfs counters do, and never sends a TPM
 * command.  It takes the mutex once per read() (seq_file's start() to
 * stop()), which emits as many clients as fit in one seq_file buffer,
 * so thousands of clients never keep the chip for long.  Between two
 * reads the place is kept as the number of the last client shown:
 * numbers are handed out in increasing order and a new client joins the
 * tail of &tpm2_rm.clients, so a client open for the whole listing is
 * shown exactly once, and one opened or closed meanwhile at most once.
 * A client's contexts (at most rm_max_client_contexts) and the
 * hand-offs (at most rm_max_orphans) are each shown in one piece.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include "tpm.h"
#include "tpm2-rm.h"

enum rm_part { PART_HEADER, PART_CLIENTS, PART_HANDOFFS, PART_END };

/* The hand-off record; the header is SEQ_START_TOKEN. */
#define HANDOFFS_TOKEN	((void *)2)

/**
 * struct rm_clients_iter - a reader's place in the listing
 * @chip:	the chip
 * @part:	what comes next, see &enum rm_part
 * @last_id:	number of the last client shown, 0 before the first
 * @locked:	start() took the chip's tpm_mutex, stop() drops it
 */
struct rm_clients_iter {
	struct tpm_chip *chip;
	enum rm_part part;
	u32 last_id;
	bool locked;
};

static const char *const queue_names[] = {
	[TPM2_RM_Q_NONE] = "admit",
	[TPM2_RM_Q_HOLDERS] = "holders",
	[TPM2_RM_Q_NEW] = "new",
	[TPM2_RM_Q_USER] = "user",
};

static const char *const kind_names[] = {
	[TPM2_RM_OBJECT] = "object",
	[TPM2_RM_SEQUENCE] = "sequence",
	[TPM2_RM_SESSION] = "session",
};

static const char *ctx_state(const struct tpm2_rm_ctx *ctx)
{
	if (ctx->revoked)
		return "revoked";
	if (ctx->dead)
		return "lost";
	if (ctx->resident)
		return "resident";
	if (ctx->kind == TPM2_RM_SESSION && ctx->client_saved)
		return "client-saved";
	if (ctx->blob)
		return "rm-saved";
	return "none";
}

/* The task name, with blanks, backslashes and non-ASCII in octal. */
static void show_comm(struct seq_file *m, const char *comm, size_t len)
{
	size_t i;

	if (!len || !comm[0]) {
		seq_putc(m, '-');
		return;
	}
	for (i = 0; i < len && comm[i]; i++) {
		u8 ch = comm[i];

		if (ch > ' ' && ch < 0x7f && ch != '\\')
			seq_putc(m, ch);
		else
			seq_printf(m, "\\%03o", ch);
	}
}

/* One line per record type: "#", the type, the names of its columns. */
static const char header[] =
	"# client ID PID UID COMM COMMANDS TPM_COMMANDS OBJECTS SEQUENCES SESSIONS WAIT WAIT_MS\n"
	"# context CLIENT KIND HANDLE STATE TPM_HANDLE AGE_MS\n"
	"# handoff HANDLE AGE_MS UID\n";

static void show_client(struct seq_file *m, struct tpm2_rm *rm,
			struct tpm2_rm_client *c)
{
	unsigned int n[3] = { 0 };
	struct tpm2_rm_ctx *ctx;
	u64 now = tpm2_rm_now(rm);

	list_for_each_entry(ctx, &c->ctxs, node)
		if (ctx->kind <= TPM2_RM_SESSION && !ctx->revoked)
			n[ctx->kind]++;
	seq_printf(m, "client %u %d %u ", c->id, c->pid,
		   from_kuid_munged(seq_user_ns(m), c->uid));
	show_comm(m, c->comm, sizeof(c->comm));
	seq_printf(m, " %llu %llu %u %u %u ", c->commands, c->tpm_commands,
		   n[TPM2_RM_OBJECT], n[TPM2_RM_SEQUENCE], n[TPM2_RM_SESSION]);
	if (c->wait_ticket && c->queue < ARRAY_SIZE(queue_names))
		seq_printf(m, "%s %llu\n", queue_names[c->queue],
			   now - min(now, c->wait_since));
	else
		seq_puts(m, "- -\n");

	list_for_each_entry(ctx, &c->ctxs, node) {
		seq_printf(m, "context %u %s 0x%08x %s ", c->id,
			   ctx->kind < ARRAY_SIZE(kind_names) ?
			   kind_names[ctx->kind] : "unknown",
			   ctx->vhandle, ctx_state(ctx));
		if (ctx->resident)
			seq_printf(m, "0x%08x ", ctx->phandle);
		else
			seq_puts(m, "- ");
		if (ctx->kind == TPM2_RM_SESSION)
			seq_printf(m, "%llu\n", now - min(now, ctx->since));
		else
			seq_puts(m, "-\n");
	}
}

static void show_handoffs(struct seq_file *m, struct tpm2_rm *rm)
{
	struct tpm2_rm_ctx *ctx;
	u64 now = tpm2_rm_now(rm);

	list_for_each_entry(ctx, &rm->orphans, node)
		seq_printf(m, "handoff 0x%08x %llu %u\n", ctx->vhandle,
			   now - min(now, ctx->since),
			   from_kuid_munged(seq_user_ns(m), ctx->user->uid));
}

/* The record at @it's place; the caller holds the chip's tpm_mutex. */
static void *clients_cur(struct rm_clients_iter *it)
{
	struct tpm2_rm_client *c;

	switch (it->part) {
	case PART_HEADER:
		return SEQ_START_TOKEN;
	case PART_CLIENTS:
		list_for_each_entry(c, &it->chip->rm->clients, node)
			if (c->id > it->last_id)
				return c;
		it->part = PART_HANDOFFS;
		fallthrough;
	case PART_HANDOFFS:
		return HANDOFFS_TOKEN;
	default:
		return NULL;
	}
}

static void *clients_start(struct seq_file *m, loff_t *pos)
{
	struct rm_clients_iter *it = m->private;

	if (mutex_lock_killable(&it->chip->tpm_mutex))
		return ERR_PTR(-EINTR);
	it->locked = true;
	if (!*pos) {
		it->part = PART_HEADER;
		it->last_id = 0;
	}
	return clients_cur(it);
}

static void *clients_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct rm_clients_iter *it = m->private;
	struct list_head *head = &it->chip->rm->clients;
	struct tpm2_rm_client *c = v;

	++*pos;
	if (v == SEQ_START_TOKEN) {
		it->part = PART_CLIENTS;
		return clients_cur(it);
	}
	if (v == HANDOFFS_TOKEN) {
		it->part = PART_END;
		return NULL;
	}
	it->last_id = c->id;
	if (list_is_last(&c->node, head)) {
		it->part = PART_HANDOFFS;
		return HANDOFFS_TOKEN;
	}
	return list_next_entry(c, node);
}

static void clients_stop(struct seq_file *m, void *v)
{
	struct rm_clients_iter *it = m->private;

	if (it->locked) {
		it->locked = false;
		mutex_unlock(&it->chip->tpm_mutex);
	}
}

static int clients_show(struct seq_file *m, void *v)
{
	struct rm_clients_iter *it = m->private;

	if (v == SEQ_START_TOKEN)
		seq_puts(m, header);
	else if (v == HANDOFFS_TOKEN)
		show_handoffs(m, it->chip->rm);
	else
		show_client(m, it->chip->rm, v);
	return 0;
}

static const struct seq_operations clients_sops = {
	.start = clients_start,
	.next = clients_next,
	.stop = clients_stop,
	.show = clients_show,
};

static int clients_open(struct inode *inode, struct file *file)
{
	struct rm_clients_iter *it;

	it = __seq_open_private(file, &clients_sops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->chip = inode->i_private;
	return 0;
}

static const struct file_operations clients_fops = {
	.owner = THIS_MODULE,
	.open = clients_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

/**
 * tpm2_rm_debugfs_add() - create tpmN/rm/clients in debugfs
 * @chip:	a TPM 2.0 chip whose /dev/tpmrmN was just added
 *
 * Failures are not reported: debugfs is an aid, never a dependency.
 */
void tpm2_rm_debugfs_add(struct tpm_chip *chip)
{
	struct dentry *dir;

	if (!chip->rm)
		return;
	dir = debugfs_create_dir(dev_name(&chip->dev), NULL);
	dir = debugfs_create_dir("rm", dir);
	debugfs_create_file("clients", 0400, dir, chip, &clients_fops);
}

/**
 * tpm2_rm_debugfs_remove() - remove the chip's tpmN directory in debugfs
 * @chip:	a chip being unregistered
 *
 * Waits for a read in progress; later reads of a file still open fail.
 */
void tpm2_rm_debugfs_remove(struct tpm_chip *chip)
{
	debugfs_lookup_and_remove(dev_name(&chip->dev), NULL);
}
