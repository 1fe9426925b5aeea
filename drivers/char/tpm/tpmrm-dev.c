// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/tpmrmN: the TPM 2.0 device with a resource manager in front.
 *
 * Each open file is one client of the chip's resource manager
 * (tpm2-rm-*.c): it sees only its own objects and sessions, and shares
 * the TPM's slots with every other client.  Reads, writes and polling
 * are those of /dev/tpmN (tpm-dev-common.c).
 *
 * A command may have to wait for a TPM session (tpm2-rm-sessions.c).  It
 * waits holding nothing of the chip, so that other clients can run and
 * end theirs, and the chip can be suspended or removed meanwhile:
 *
 *  - a blocking write() sleeps on the client's wait queue.  A signal ends
 *    the wait, answered RM|TPM_RC_CANCELED; the freezer does not: the
 *    write() is restarted once the task thaws, still in the queue;
 *  - an O_NONBLOCK command gives up its tpm_dev_wq worker and the file's
 *    buffer_mutex.  An entry on the client's wait queue and a timer
 *    queue its work again.  The command stays in flight (poll() is not
 *    readable, read() says -EAGAIN, another write() -EBUSY); close()
 *    ends it at once.
 *
 * A command that waited takes the chip again as a new one does, with
 * tpm_try_get_ops(), so nothing is sent to a suspended chip, to one
 * that is gone or to one that failed to start.  Across a suspend it
 * keeps waiting (nothing is sent until the chip resumed); a chip that
 * is gone or fails to start ends it, and its place in the queue.
 */
#include <linux/freezer.h>
#include <linux/jiffies.h>
#include <linux/sched/jobctl.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include "tpm-dev.h"
#include "tpm2-rm.h"

/* tpmrm_async.flags: a wake-up or the timer may queue the work */
#define TPMRM_ARMED	0

/*
 * What an O_NONBLOCK command needs to wait for a session, allocated when
 * the file's first one does: an idle file stays small.
 */
struct tpmrm_async {
	struct wait_queue_entry wait;	/* on the client's waitq, if armed */
	struct timer_list timer;
	struct tpmrm_priv *priv;
	unsigned long flags;		/* also tested by the wake-up, timer */
};

/* Locking: the fields after @space are the file's buffer_mutex's. */
struct tpmrm_priv {
	struct file_priv priv;
	struct tpm_space space;
	struct tpmrm_async *async;
	unsigned long wait_seq;		/* client's wake_seq when told to wait */
	unsigned int wait_ms;		/* ask again after this long */
	bool waiting;			/* the client may be queued */
	bool armed;			/* @async's wake-up and timer are set */
	bool closing;
};

static struct tpmrm_priv *to_tpmrm(struct file_priv *fpriv)
{
	return container_of(fpriv, struct tpmrm_priv, priv);
}

/* Leave the queue for a session: the command is not sent. */
static u32 tpmrm_dequeue(struct tpmrm_priv *priv)
{
	struct tpm_chip *chip = priv->priv.chip;
	u32 rc;

	/* the resource manager lives as long as the chip, even if gone */
	mutex_lock(&chip->tpm_mutex);
	rc = tpm2_rm_wait_cancel(priv->space.client);
	mutex_unlock(&chip->tpm_mutex);
	priv->waiting = false;
	return rc;
}

/*
 * Take the chip with tpm_try_get_ops(), which fails while the chip is
 * suspended: a command that waited then waits on (returns 1), rather
 * than fail.
 */
static int tpmrm_take_chip(struct tpmrm_priv *priv)
{
	struct tpm_chip *chip = priv->priv.chip;
	int rc, i;

	for (i = 0; i < 2; i++) {
		rc = tpm_try_get_ops(chip);
		if (!rc || !priv->waiting)
			return rc;
		if (READ_ONCE(chip->flags) & TPM_CHIP_FLAG_SUSPENDED)
			return 1;
		/* again, in case the chip resumed since */
	}
	return rc;
}

/*
 * Run the file's command once.  Return: the response length, a negative
 * errno (@take_err, if not 0, when the chip cannot be taken), or
 * %TPM2_RM_WAIT with @wait_seq and @wait_ms set.
 */
static ssize_t tpmrm_run(struct tpmrm_priv *priv, int take_err)
{
	struct file_priv *fpriv = &priv->priv;
	struct tpm2_rm_client *c = priv->space.client;
	struct tpm_chip *chip = fpriv->chip;
	ssize_t ret;

	ret = tpmrm_take_chip(priv);
	if (ret > 0) {
		/* suspended: ask again as last told, or when woken */
		priv->wait_seq = READ_ONCE(c->wake_seq);
		return TPM2_RM_WAIT;
	}
	if (ret) {
		if (priv->waiting)
			tpmrm_dequeue(priv);
		return take_err ? take_err : ret;
	}
	ret = tpm2_rm_transmit(chip, &priv->space, fpriv->data_buffer,
			       TPM_BUFSIZE);
	priv->waiting = ret == TPM2_RM_WAIT;
	if (priv->waiting) {
		/* under the chip's mutex, which every wake-up holds */
		priv->wait_seq = c->wake_seq;
		priv->wait_ms = c->wait_ms;
	}
	tpm_put_ops(chip);
	return ret;
}

static bool rm_woken(struct tpm2_rm_client *c, unsigned long seq)
{
	return READ_ONCE(c->wake_seq) != seq;
}

/* The freezer, not a signal, interrupted the wait (both set SIGPENDING). */
static bool tpmrm_freezing(void)
{
	return freezing(current) ||
	       (READ_ONCE(current->jobctl) & JOBCTL_TRAP_FREEZE);
}

/**
 * tpmrm_command() - run a blocking command written to /dev/tpmrmN
 * @fpriv:	the file; the caller holds its buffer_mutex
 *
 * A command that must wait for a session sleeps with the chip let go,
 * until the resource manager wakes the client or the time it gave has
 * passed, and is run again.  A signal ends the wait, answered
 * RM|TPM_RC_CANCELED.  The freezer does not: the write() is restarted
 * after it, and the client keeps its place in the queue meanwhile (a
 * signal handler run by then does not end the wait either).
 *
 * Return: the response length in the file's buffer, -EPIPE if the chip
 * cannot be used, -ERESTARTNOINTR to let the task freeze, or another
 * negative errno.
 */
ssize_t tpmrm_command(struct file_priv *fpriv)
{
	struct tpmrm_priv *priv = to_tpmrm(fpriv);
	struct tpm2_rm_client *c = priv->space.client;
	unsigned long seq, tmo;
	ssize_t ret;
	long left;

	for (;;) {
		ret = tpmrm_run(priv, -EPIPE);
		if (ret != TPM2_RM_WAIT)
			return ret;
		seq = priv->wait_seq;
		tmo = msecs_to_jiffies(priv->wait_ms);
		left = wait_event_interruptible_timeout(c->waitq,
							rm_woken(c, seq), tmo);
		if (left >= 0)
			continue;
		if (tpmrm_freezing())
			return -ERESTARTNOINTR;
		return tpm2_rm_error_rsp(fpriv->data_buffer,
					 tpmrm_dequeue(priv));
	}
}

static void tpmrm_requeue(struct tpmrm_async *a)
{
	if (test_and_clear_bit(TPMRM_ARMED, &a->flags))
		tpm_common_requeue(&a->priv->priv);
}

/* The resource manager woke the client (with the client's waitq locked). */
static int tpmrm_woken(struct wait_queue_entry *wait, unsigned int mode,
		       int sync, void *key)
{
	tpmrm_requeue(container_of(wait, struct tpmrm_async, wait));
	return 0;
}

static void tpmrm_wait_over(struct timer_list *t)
{
	struct tpmrm_async *a = from_timer(a, t, timer);

	tpmrm_requeue(a);
}

/* An O_NONBLOCK command waits: whichever comes first queues its work. */
static int tpmrm_arm(struct tpmrm_priv *priv)
{
	struct tpm2_rm_client *c = priv->space.client;
	struct tpmrm_async *a = priv->async;

	if (!a) {
		a = kzalloc(sizeof(*a), GFP_KERNEL);
		if (!a)
			return -ENOMEM;
		init_waitqueue_func_entry(&a->wait, tpmrm_woken);
		timer_setup(&a->timer, tpmrm_wait_over, 0);
		a->priv = priv;
		priv->async = a;
	}
	set_bit(TPMRM_ARMED, &a->flags);
	add_wait_queue(&c->waitq, &a->wait);
	mod_timer(&a->timer, jiffies + msecs_to_jiffies(priv->wait_ms));
	priv->armed = true;
	/* woken since tpm2_rm_command(), before the entry was queued */
	if (READ_ONCE(c->wake_seq) != priv->wait_seq)
		tpmrm_requeue(a);
	return 0;
}

/* Neither a wake-up nor the timer queues the work once this returns. */
static void tpmrm_disarm(struct tpmrm_priv *priv)
{
	struct tpmrm_async *a = priv->async;

	if (!priv->armed)
		return;
	remove_wait_queue(&priv->space.client->waitq, &a->wait);
	timer_delete_sync(&a->timer);
	clear_bit(TPMRM_ARMED, &a->flags);
	priv->armed = false;
}

/**
 * tpmrm_async_command() - run an O_NONBLOCK command, in tpm_dev_wq
 * @fpriv:	the file; the caller holds its buffer_mutex
 *
 * A command that must wait for a session does not wait here: its work
 * is queued again when the resource manager wakes the client, or when
 * the time it gave has passed, and it stays in flight meanwhile.  If the
 * file is being closed, the wait ends at once, answered
 * RM|TPM_RC_CANCELED; if the kernel is out of memory, RM|TPM_RC_MEMORY.
 *
 * Return: the response length in the file's buffer, or a negative errno
 * (those of tpm_try_get_ops() as they are); 0 if it waits.
 */
ssize_t tpmrm_async_command(struct file_priv *fpriv)
{
	struct tpmrm_priv *priv = to_tpmrm(fpriv);
	ssize_t ret;

	tpmrm_disarm(priv);
	ret = tpmrm_run(priv, 0);
	if (ret != TPM2_RM_WAIT)
		return ret;
	if (priv->closing)
		return tpm2_rm_error_rsp(fpriv->data_buffer,
					 tpmrm_dequeue(priv));
	if (!tpmrm_arm(priv))
		return 0;
	tpmrm_dequeue(priv);
	return tpm2_rm_error_rsp(fpriv->data_buffer,
				 TPM2_RM_RC(TPM2_RC_MEMORY));
}

static int tpmrm_open(struct inode *inode, struct file *file)
{
	struct tpm_chip *chip = container_of(inode->i_cdev, struct tpm_chip,
					     cdevs);
	struct tpmrm_priv *priv;

	priv = kzalloc(sizeof(*priv), GFP_KERNEL_ACCOUNT);
	if (!priv)
		return -ENOMEM;
	if (tpm2_rm_open(chip, &priv->space)) {
		kfree(priv);
		return -ENOMEM;
	}
	tpm_common_open(file, chip, &priv->priv, &priv->space);
	return nonseekable_open(inode, file);
}

static int tpmrm_release(struct inode *inode, struct file *file)
{
	struct file_priv *fpriv = file->private_data;
	struct tpmrm_priv *priv = to_tpmrm(fpriv);
	struct tpm_chip *chip = fpriv->chip;

	/*
	 * A command waiting for a session goes no further; one not run yet
	 * still runs (tpm_common_release() waits for it), but does not wait.
	 * The client leaves the queue in tpm2_rm_close().
	 */
	mutex_lock(&fpriv->buffer_mutex);
	priv->closing = true;
	tpmrm_disarm(priv);
	if (priv->waiting)
		fpriv->command_enqueued = false;
	mutex_unlock(&fpriv->buffer_mutex);
	tpm_common_release(file, fpriv);
	tpm2_rm_close(chip, &priv->space);
	kfree(priv->async);
	kfree(priv);
	return 0;
}

const struct file_operations tpmrm_fops = {
	.owner = THIS_MODULE,
	.open = tpmrm_open,
	.read = tpm_common_read,
	.write = tpm_common_write,
	.poll = tpm_common_poll,
	.release = tpmrm_release,
};

/* The rm device holds a reference on the chip's main device. */
static void tpm_devs_release(struct device *dev)
{
	struct tpm_chip *chip = container_of(dev, struct tpm_chip, devs);

	put_device(&chip->dev);
}

/**
 * tpm_devs_add() - create /dev/tpmrmN for a TPM 2.0 chip
 * @chip:	the chip
 *
 * Return: 0 or a negative errno.
 */
int tpm_devs_add(struct tpm_chip *chip)
{
	int rc;

	device_initialize(&chip->devs);
	chip->devs.parent = chip->dev.parent;
	chip->devs.class = &tpmrm_class;
	chip->devs.release = tpm_devs_release;
	chip->devs.devt = MKDEV(MAJOR(tpm_devt),
				chip->dev_num + TPM_NUM_DEVICES);
	/* dropped by tpm_devs_release() */
	get_device(&chip->dev);

	cdev_init(&chip->cdevs, &tpmrm_fops);
	chip->cdevs.owner = THIS_MODULE;
	rc = dev_set_name(&chip->devs, "tpmrm%d", chip->dev_num);
	if (!rc)
		rc = cdev_device_add(&chip->cdevs, &chip->devs);
	if (rc) {
		dev_err(&chip->dev, "cannot add tpmrm%d: %d\n", chip->dev_num, rc);
		put_device(&chip->devs);
	}
	return rc;
}

/**
 * tpm_devs_remove() - remove /dev/tpmrmN
 * @chip:	the chip
 */
void tpm_devs_remove(struct tpm_chip *chip)
{
	cdev_device_del(&chip->cdevs, &chip->devs);
	put_device(&chip->devs);
}
