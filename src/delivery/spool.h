/*
 * spool.h - batches that wait on disk for a receiver to come back.
 *
 * One directory per output; one file per batch, named by its sequence so a
 * directory listing gives the send order. A file is a small header (magic,
 * version, sequence, sizes, CRC-32 of the rest) and the batch blob. Files
 * are written to a temporary name and renamed, so a crash leaves either
 * the whole batch or nothing. The directory is locked (flock) by one
 * collector at a time. Files that fail their checks are set aside as
 * *.bad and counted, never sent.
 */
#ifndef TAPIO_DELIVERY_SPOOL_H
#define TAPIO_DELIVERY_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "delivery/batch.h"

#define TP_SPOOL_HDR_SIZE 32

struct tp_spool {
	char dir[4096];
	int dir_fd;
	int lock_fd;
};

/* Create (mkdir -p) and lock dir. */
int tp_spool_open(struct tp_spool *s, const char *dir, char *err, size_t errlen);
void tp_spool_close(struct tp_spool *s);

/* Write b (blob loaded) as its file; returns the file size or -errno. */
long tp_spool_write(struct tp_spool *s, const struct tp_batch *b);
/* Load b's blob from its file (b->seq names it). The sizes in b must match
 * the file's. Returns 0, -ENOENT, -EBADMSG (bad file) or -errno. */
int tp_spool_load(struct tp_spool *s, struct tp_batch *b);
int tp_spool_remove(struct tp_spool *s, uint64_t seq);
/* Rename a bad file to <name>.bad so it is kept for a look but not resent. */
void tp_spool_set_aside(struct tp_spool *s, uint64_t seq);

/* Every batch file, in sequence order: fn gets a batch with its blob loaded
 * (and must take or free it). Bad files are set aside and reported through
 * bad(nevents if known else 0). Returns the number of batches or -errno. */
int tp_spool_scan(struct tp_spool *s, void (*fn)(void *ctx, struct tp_batch *b),
		  void (*bad)(void *ctx, const char *name, uint32_t nevents, const char *why),
		  void *ctx);

/* Size on disk of a batch's file. */
static inline size_t tp_spool_file_size(const struct tp_batch *b)
{
	return TP_SPOOL_HDR_SIZE + tp_batch_blob_len(b);
}

/* Parse and check a whole spool file image; on success *b is a new batch. For
 * the scanner and the fuzzer. Returns 0 or -EBADMSG with why set. */
int tp_spool_parse(const uint8_t *p, size_t len, struct tp_batch **b, const char **why);

#endif
