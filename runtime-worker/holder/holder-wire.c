/* The holder's plumbing: errors, big-endian encoding, bounded frame buffers and its sockets. */
#include "holder.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void die(const char *what) {
  fprintf(stderr, "shellroom-holder: %s: %s\r\n", what, strerror(errno));
  exit(125);
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (24 - 8 * i)); }
void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (56 - 8 * i)); }
uint32_t get_u32(const unsigned char *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
uint64_t get_u64(const unsigned char *p) { return ((uint64_t)get_u32(p) << 32) | get_u32(p + 4); }

/* Writes all of buf, waiting for a slow reader at most ~30 s in all (it may be gone). */
int write_all(int fd, const void *buf, size_t len) {
  const unsigned char *p = buf;
  int waits = 0;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd w = {fd, POLLOUT, 0};
      if (poll(&w, 1, 1000) == 0 && ++waits >= 30) return -1;
      continue;
    }
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int frame(struct buffer *out, int type, const void *payload, uint32_t len) {
  if (out->len + 5 + len > sizeof out->data) return -1;
  out->data[out->len] = (unsigned char)type;
  put_u32(out->data + out->len + 1, len);
  memcpy(out->data + out->len + 5, payload, len);
  out->len += 5 + len;
  return 0;
}

/* Sends what it can of `out` on a non-blocking fd; keeps the rest. */
int flush(int fd, struct buffer *out) {
  if (out->len == 0) return 0;
  ssize_t n = write(fd, out->data, out->len);
  if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
  memmove(out->data, out->data + n, out->len - (size_t)n);
  out->len -= (size_t)n;
  return 0;
}

/* Takes one whole frame off the front of `in`; 0 when none is complete yet, -1 on a bad frame. */
int next_frame(struct buffer *in, int *type, unsigned char **payload, uint32_t *len, size_t *consumed) {
  if (in->len < 5) return 0;
  *len = get_u32(in->data + 1);
  if (*len > FRAME_MAX) return -1;
  if (in->len < 5 + *len) return 0;
  *type = in->data[0];
  *payload = in->data + 5;
  *consumed = 5 + *len;
  return 1;
}

void consume(struct buffer *in, size_t n) {
  memmove(in->data, in->data + n, in->len - n);
  in->len -= n;
}

void socket_path(char *path, size_t size, const char *name) {
  const char *dir = getenv("SHELLROOM_HOLDER_DIR");
  char fallback[64];
  if (!dir || !*dir) {
    snprintf(fallback, sizeof fallback, "/tmp/.shellroom-holder-%u", (unsigned)getuid());
    dir = fallback;
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) die("mkdir");
  struct stat st;
  /* Only our own private folder: another user's directory could hold a planted socket. */
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) { errno = EPERM; die(dir); }
  chmod(dir, 0700);
  if ((size_t)snprintf(path, size, "%s/%s.sock", dir, name) >= size) { errno = ENAMETOOLONG; die("socket path"); }
}

int connect_to(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
  close(fd);
  return -1;
}

/* The abstract address for NAME (sun_path starts with a NUL); its length for bind/connect. */
socklen_t abstract_address(struct sockaddr_un *addr, const char *name) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  int n = snprintf(addr->sun_path + 1, sizeof addr->sun_path - 1, "%s%s", RELAY_PREFIX, name);
  if (n < 0 || (size_t)n >= sizeof addr->sun_path - 1) return 0;
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}
