/*
 * crc32c.h - CRC-32C (Castagnoli), as in iSCSI, ext4 and leveldb.
 *
 * Uses the SSE4.2 crc32 instruction, three streams at once joined with a
 * carry-less multiply, when the CPU has both (chosen once at start), else a
 * slicing-by-8 table. Raw storage checks every frame with it, so it must
 * cost little for buffers of tens to hundreds of bytes.
 */
#ifndef TAPIO_UTIL_CRC32C_H
#define TAPIO_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc (0 to start) over len bytes. */
uint32_t tp_crc32c(uint32_t crc, const void *data, size_t len);

/* The portable implementation, for tests to compare against. */
uint32_t tp_crc32c_sw(uint32_t crc, const void *data, size_t len);

#endif
