/*
 * What the holder's files share: the frame format, the relay's address and exit code, the
 * bounded buffer, and the functions one file defines for another. Every holder file
 * includes it first (it sets _GNU_SOURCE before any system header).
 */
#ifndef SHELLROOM_HOLDER_H
#define SHELLROOM_HOLDER_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FRAME_MAX (32 * 1024)
/* client -> holder */
#define F_INPUT 1
#define F_RESIZE 2
/* holder -> client */
#define F_OUTPUT 3
#define F_EXIT 4
#define F_HELLO 5 /* u64 offset of the first replayed byte, u32 replay length */
/* The abstract socket's name: its version changes with the frame format. */
#define RELAY_PREFIX "shellroom-holder-1/"
/* handover's exit status when no holder listens under NAME. */
#define EXIT_NO_HOLDER 3
/* Where handover finds the worker's IPC channel (Node's `stdio: [..., "ipc"]` as the fourth). */
#define HANDOVER_FD 3

struct buffer {
  unsigned char data[FRAME_MAX + 5 + 64];
  size_t len;
};

/* holder-wire.c: errors, encoding, frames, sockets */

/* Prints what failed with errno and exits 125. */
void die(const char *what);
void set_nonblocking(int fd);
/* Big-endian, as in every frame. */
void put_u32(unsigned char *p, uint32_t v);
void put_u64(unsigned char *p, uint64_t v);
uint32_t get_u32(const unsigned char *p);
uint64_t get_u64(const unsigned char *p);
/* Blocking write of all of buf (bounded wait); 0 or -1. */
int write_all(int fd, const void *buf, size_t len);
/* Appends one frame to `out`; -1 when it has no room. */
int frame(struct buffer *out, int type, const void *payload, uint32_t len);
/* Non-blocking: writes what it can of `out`, keeps the rest. */
int flush(int fd, struct buffer *out);
/* 1 with one whole frame at the front of `in`, 0 when none is complete yet, -1 on a bad frame. */
int next_frame(struct buffer *in, int *type, unsigned char **payload, uint32_t *len, size_t *consumed);
/* Drops the first n bytes of `in`. */
void consume(struct buffer *in, size_t n);
/* The holder's socket path for NAME, in a private folder of this user (dies otherwise). */
void socket_path(char *path, size_t size, const char *name);
/* A connected socket to the holder at path, or -1 when nobody answers. */
int connect_to(const char *path);
/* The relay's abstract address for NAME; its length, 0 when NAME does not fit. */
socklen_t abstract_address(struct sockaddr_un *addr, const char *name);

/* holder-serve.c: the holder daemon */

/* Starts the holder for NAME with COMMAND on its terminal, in the background; returns once it listens. */
void start_holder(const char *path, const char *name, unsigned short cols, unsigned short rows, char **command);

/* holder-client.c: the two ways in */

/* The attach: the header, then output to stdout and stdin to the shell; returns the exit status. */
int run_client(int sock);
/* The hand-over on the worker's host: NAME's abstract socket, connected, passed to the worker on HANDOVER_FD; EXIT_NO_HOLDER without one. */
int run_handover(const char *name);

#endif
