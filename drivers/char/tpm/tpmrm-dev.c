// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/tpmrmN: the TPM 2.0 device with a resource manager in front.
 *
 * Each open file is one client of the chip's resource manager
 * (tpm2-rm-*.c): it sees only its own objects and sessions, and shares
 * the TPM's slots with every other client.  Reads, writes and polling
 * are those of /dev/tpmN (tpm-dev-common.c).
 */
#include <linux/slab.h>
#include "tpm-dev.h"

struct tpmrm_priv {
	struct file_priv priv;
	struct tpm_space space;
};

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
	struct tpmrm_priv *priv = container_of(fpriv, struct tpmrm_priv, priv);
	struct tpm_chip *chip = fpriv->chip;

	tpm_common_release(file, fpriv);
	tpm2_rm_close(chip, &priv->space);
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
