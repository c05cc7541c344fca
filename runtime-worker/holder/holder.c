/*
 * shellroom-holder: keeps a terminal's shell alive inside a student's container, apart
 * from whoever is looking at it, so that a worker crash or upgrade costs a reattach, not
 * the student's shell.
 *
 *   shellroom-holder attach NAME COLS ROWS -- COMMAND [ARGS...]
 *   shellroom-holder start NAME COLS ROWS -- COMMAND [ARGS...]
 *   shellroom-holder relay NAME
 *   shellroom-holder init NAME COLS ROWS -- COMMAND [ARGS...]
 *
 * The first attach for NAME starts a holder daemon (its own session, reparented to the
 * container's init) that owns a pseudo-terminal with COMMAND on it, keeps the last
 * RING_BYTES of output and counts every byte since the shell started. Each attach is a
 * client on the holder's unix socket: it writes a fixed header with that count and the
 * replayed bytes, then relays live output to its stdout and its stdin to the shell. A
 * newer client replaces an older one (the old worker's exec is gone or about to be).
 * When the shell exits, the client exits with the shell's status. `start` only starts the
 * holder (the warm pool's shells: the first attach then gets the prompt from the replay).
 *
 * `init` is a container's command: it starts the holder for NAME as `start` does, then
 * waits for ever as `idle` (docker-init above it reaps and forwards signals), so the main terminal's
 * shell is running from the container's first moment, without a `docker exec`.
 *
 * The holder also listens on an abstract socket (RELAY_PREFIX NAME) in the container's
 * network namespace. `relay` runs on the worker's host, inside that namespace only (the
 * worker starts it with nsenter --net as nobody), and passes the holder's frames through
 * unchanged: the worker then reaches a running shell without a `docker exec`, and an
 * abstract name can only lead to sockets of the student's own container, never to a path
 * the student could point at a host socket.
 *
 * Why C, and our own: it must run in any image an instructor builds (so: one static
 * binary, no libc or interpreter assumed), and dtach/abduco neither replay output with a
 * byte offset nor exit with the shell's status. Every buffer is bounded; both directions
 * are non-blocking, so Ctrl-C reaches the shell while its output is held back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define RING_BYTES (256 * 1024)
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
/* relay's exit status when no holder listens under NAME. */
#define EXIT_NO_HOLDER 3

struct buffer {
  unsigned char data[FRAME_MAX + 5 + 64];
  size_t len;
};

static void die(const char *what) {
  fprintf(stderr, "shellroom-holder: %s: %s\r\n", what, strerror(errno));
  exit(125);
}

static void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (24 - 8 * i)); }
static void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (56 - 8 * i)); }
static uint32_t get_u32(const unsigned char *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
static uint64_t get_u64(const unsigned char *p) { return ((uint64_t)get_u32(p) << 32) | get_u32(p + 4); }

/* Writes all of buf, waiting for a slow reader at most ~30 s in all (it may be gone). */
static int write_all(int fd, const void *buf, size_t len) {
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

static int frame(struct buffer *out, int type, const void *payload, uint32_t len) {
  if (out->len + 5 + len > sizeof out->data) return -1;
  out->data[out->len] = (unsigned char)type;
  put_u32(out->data + out->len + 1, len);
  memcpy(out->data + out->len + 5, payload, len);
  out->len += 5 + len;
  return 0;
}

/* Sends what it can of `out` on a non-blocking fd; keeps the rest. */
static int flush(int fd, struct buffer *out) {
  if (out->len == 0) return 0;
  ssize_t n = write(fd, out->data, out->len);
  if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
  memmove(out->data, out->data + n, out->len - (size_t)n);
  out->len -= (size_t)n;
  return 0;
}

/* Takes one whole frame off the front of `in`; 0 when none is complete yet, -1 on a bad frame. */
static int next_frame(struct buffer *in, int *type, unsigned char **payload, uint32_t *len, size_t *consumed) {
  if (in->len < 5) return 0;
  *len = get_u32(in->data + 1);
  if (*len > FRAME_MAX) return -1;
  if (in->len < 5 + *len) return 0;
  *type = in->data[0];
  *payload = in->data + 5;
  *consumed = 5 + *len;
  return 1;
}

static void consume(struct buffer *in, size_t n) {
  memmove(in->data, in->data + n, in->len - n);
  in->len -= n;
}

static void socket_path(char *path, size_t size, const char *name) {
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

static int connect_to(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
  close(fd);
  return -1;
}

/* The abstract address for NAME (sun_path starts with a NUL); its length for bind/connect. */
static socklen_t abstract_address(struct sockaddr_un *addr, const char *name) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  int n = snprintf(addr->sun_path + 1, sizeof addr->sun_path - 1, "%s%s", RELAY_PREFIX, name);
  if (n < 0 || (size_t)n >= sizeof addr->sun_path - 1) return 0;
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* ---------------------------------------------------------------- the holder daemon */

static unsigned char ring[RING_BYTES];
static uint64_t total_out; /* bytes the shell has written since it started */

static void ring_put(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) ring[(total_out + i) % RING_BYTES] = p[i];
  total_out += n;
}

/* The replay a new client gets: the header, then the ring's bytes in order (blocking). */
static int send_replay(int fd) {
  uint64_t kept = total_out < RING_BYTES ? total_out : RING_BYTES;
  uint64_t start = total_out - kept;
  unsigned char hello[5 + 12];
  hello[0] = F_HELLO;
  put_u32(hello + 1, 12);
  put_u64(hello + 5, start);
  put_u32(hello + 13, (uint32_t)kept);
  if (write_all(fd, hello, sizeof hello) != 0) return -1;
  for (uint64_t at = start; at < total_out;) {
    unsigned char chunk[5 + FRAME_MAX];
    uint32_t n = 0;
    while (n < FRAME_MAX && at < total_out) chunk[5 + n++] = ring[at++ % RING_BYTES];
    chunk[0] = F_OUTPUT;
    put_u32(chunk + 1, n);
    if (write_all(fd, chunk, 5 + n) != 0) return -1;
  }
  return 0;
}

static volatile sig_atomic_t child_changed = 0;
static void on_child(int sig) { (void)sig; child_changed = 1; }

/* Applies the client's frames in order: resizes at once, input into `pending` for the terminal. */
static int take_frames(struct buffer *in, struct buffer *pending, int master) {
  int type; unsigned char *payload; uint32_t len; size_t used;
  int state;
  while (pending->len == 0 && (state = next_frame(in, &type, &payload, &len, &used)) == 1) {
    if (type == F_RESIZE && len == 4) {
      struct winsize ws = {.ws_col = (unsigned short)((payload[0] << 8) | payload[1]), .ws_row = (unsigned short)((payload[2] << 8) | payload[3])};
      if (ws.ws_col > 0 && ws.ws_row > 0) ioctl(master, TIOCSWINSZ, &ws);
    } else if (type == F_INPUT) {
      memcpy(pending->data, payload, len);
      pending->len = len;
    }
    consume(in, used);
  }
  return pending->len == 0 && state < 0 ? -1 : 0;
}

static void run_holder(int listener, int relay_listener, int master, pid_t child) {
  int client = -1;
  struct buffer in = {.len = 0}, pending = {.len = 0}, out = {.len = 0};
  int exit_status = -1;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN); /* a closed tab hangs up the shell, not its holder */
  struct sigaction sa = {.sa_handler = on_child}; /* no SA_RESTART: the exit interrupts poll */
  sigaction(SIGCHLD, &sa, NULL);
  for (;;) {
    if (exit_status < 0) {
      int status;
      child_changed = 0;
      if (waitpid(child, &status, WNOHANG) == child) exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    struct pollfd fds[4];
    /* Read the shell only while what was read last has gone out: a slow client holds it. */
    int want_master = client < 0 || out.len == 0;
    fds[0] = (struct pollfd){listener, POLLIN, 0};
    fds[1] = (struct pollfd){master, (short)((want_master ? POLLIN : 0) | (pending.len > 0 ? POLLOUT : 0)), 0};
    fds[2] = (struct pollfd){client, (short)((in.len < sizeof in.data ? POLLIN : 0) | (out.len > 0 ? POLLOUT : 0)), 0};
    fds[3] = (struct pollfd){relay_listener, POLLIN, 0};
    /* Once the shell has exited, whatever it left is read, then the client is told. */
    int ready = poll(fds, 4, exit_status >= 0 ? 50 : -1);
    if (ready < 0 && errno != EINTR) die("poll");
    int master_done = 0;
    int arriving = ready <= 0 ? -1 : (fds[0].revents & POLLIN) ? listener : (fds[3].revents & POLLIN) ? relay_listener : -1;
    if (arriving >= 0) {
      int fresh = accept4(arriving, NULL, NULL, SOCK_CLOEXEC);
      if (fresh >= 0) {
        if (client >= 0) close(client); /* the newest attach wins */
        client = fresh;
        in.len = pending.len = out.len = 0;
        if (send_replay(client) != 0) { close(client); client = -1; }
        else set_nonblocking(client);
        continue;
      }
    }
    if (ready > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) && want_master) {
      unsigned char chunk[FRAME_MAX];
      ssize_t got = read(master, chunk, sizeof chunk);
      if (got > 0) {
        ring_put(chunk, (size_t)got);
        if (client >= 0) frame(&out, F_OUTPUT, chunk, (uint32_t)got);
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        master_done = 1; /* every process on the terminal has closed it */
      }
    }
    if (pending.len > 0 && ready > 0 && (fds[1].revents & POLLOUT)) {
      ssize_t wrote = write(master, pending.data, pending.len);
      if (wrote > 0) { memmove(pending.data, pending.data + wrote, pending.len - (size_t)wrote); pending.len -= (size_t)wrote; }
    }
    if (client >= 0 && ready > 0) {
      if ((fds[2].revents & POLLOUT) && flush(client, &out) != 0) { close(client); client = -1; continue; }
      if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t got = read(client, in.data + in.len, sizeof in.data - in.len);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) { close(client); client = -1; in.len = pending.len = out.len = 0; continue; }
        if (got > 0) in.len += (size_t)got;
      }
    }
    if (client >= 0 && take_frames(&in, &pending, master) != 0) { close(client); client = -1; in.len = pending.len = out.len = 0; }
    if (exit_status >= 0 && (master_done || ready == 0) && (client < 0 || out.len == 0)) break;
  }
  if (client >= 0) {
    unsigned char payload[4];
    put_u32(payload, (uint32_t)exit_status);
    frame(&out, F_EXIT, payload, 4);
    fcntl(client, F_SETFL, fcntl(client, F_GETFL) & ~O_NONBLOCK);
    write_all(client, out.data, out.len);
  }
}

/* Starts the holder for NAME in the background; returns once it listens. */
static void start_holder(const char *path, const char *name, unsigned short cols, unsigned short rows, char **command) {
  unlink(path); /* a socket nobody answers on is a dead holder's */
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  mode_t old = umask(0077);
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
  umask(old);
  if (listen(listener, 4) != 0) die("listen");
  /* Optional: without it (the name is taken) attaches still come through the path socket. */
  int relay_listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un relay_addr;
  socklen_t relay_len = abstract_address(&relay_addr, name);
  if (relay_listener >= 0 && (relay_len == 0 || bind(relay_listener, (struct sockaddr *)&relay_addr, relay_len) != 0 || listen(relay_listener, 4) != 0)) {
    close(relay_listener);
    relay_listener = -1;
  }

  pid_t daemon = fork();
  if (daemon < 0) die("fork");
  if (daemon > 0) { close(listener); if (relay_listener >= 0) close(relay_listener); waitpid(daemon, NULL, 0); return; }
  /* First child: a new session, then fork again so the holder is reparented to init. */
  setsid();
  pid_t holder = fork();
  if (holder < 0) _exit(1);
  if (holder > 0) _exit(0);
  int master;
  struct winsize ws = {.ws_col = cols, .ws_row = rows};
  pid_t child = forkpty(&master, NULL, NULL, &ws);
  if (child < 0) _exit(1);
  if (child == 0) {
    close(listener);
    if (relay_listener >= 0) close(relay_listener);
    signal(SIGHUP, SIG_DFL); /* the shell is hung up when its tab closes, whatever its starter ignored */
    execvp(command[0], command);
    fprintf(stderr, "shellroom-holder: cannot run %s: %s\r\n", command[0], strerror(errno));
    _exit(127);
  }
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); if (devnull > 2) close(devnull); }
  set_nonblocking(master);
  set_nonblocking(listener);
  if (relay_listener >= 0) set_nonblocking(relay_listener);
  run_holder(listener, relay_listener, master, child);
  unlink(path);
  _exit(0);
}

/* ---------------------------------------------------------------- the attaching client */

static volatile sig_atomic_t resized = 1;
static void on_winch(int sig) { (void)sig; resized = 1; }

static int run_client(int sock) {
  struct termios raw;
  /* Raw both ways on the exec's own terminal: bytes pass through untouched. */
  if (tcgetattr(0, &raw) == 0) { cfmakeraw(&raw); tcsetattr(0, TCSANOW, &raw); }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_winch};
  sigaction(SIGWINCH, &sa, NULL);

  /* The header first, in a form the worker reads before anything else. */
  struct buffer in = {.len = 0};
  while (in.len < 17) {
    ssize_t got = read(sock, in.data + in.len, 17 - in.len);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return 125;
    in.len += (size_t)got;
  }
  if (in.data[0] != F_HELLO) return 125;
  char header[64];
  int hlen = snprintf(header, sizeof header, "SRHOLD1 %016llx %08x\n", (unsigned long long)get_u64(in.data + 5), get_u32(in.data + 13));
  if (write_all(1, header, (size_t)hlen) != 0) return 125;
  in.len = 0;

  set_nonblocking(0);
  set_nonblocking(1);
  set_nonblocking(sock);
  struct buffer to_holder = {.len = 0}, to_stdout = {.len = 0};
  for (;;) {
    /*
     * Complete frames are taken first, every turn, as far as stdout's buffer has room: a
     * full `in` is then never left waiting with nothing polled that could drain it.
     */
    int type; unsigned char *payload; uint32_t len; size_t used;
    int state;
    while ((state = next_frame(&in, &type, &payload, &len, &used)) == 1) {
      if (type == F_EXIT && len == 4) {
        fcntl(1, F_SETFL, fcntl(1, F_GETFL) & ~O_NONBLOCK);
        write_all(1, to_stdout.data, to_stdout.len);
        return (int)(get_u32(payload) & 0xff);
      }
      if (type == F_OUTPUT) {
        if (to_stdout.len + len > sizeof to_stdout.data) break; /* stdout is behind: wait */
        memcpy(to_stdout.data + to_stdout.len, payload, len);
        to_stdout.len += len;
      }
      consume(&in, used);
    }
    if (state < 0) return 125;
    if (resized) {
      resized = 0;
      struct winsize ws;
      if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        unsigned char p[4] = {(unsigned char)(ws.ws_col >> 8), (unsigned char)ws.ws_col, (unsigned char)(ws.ws_row >> 8), (unsigned char)ws.ws_row};
        if (frame(&to_holder, F_RESIZE, p, 4) != 0) resized = 1; /* no room yet: next turn */
      }
    }
    struct pollfd fds[3] = {
      {to_holder.len == 0 ? 0 : -1, POLLIN, 0},
      {to_stdout.len > 0 ? 1 : -1, POLLOUT, 0},
      {sock, (short)((in.len < sizeof in.data ? POLLIN : 0) | (to_holder.len > 0 ? POLLOUT : 0)), 0},
    };
    if (poll(fds, 3, -1) < 0) { if (errno == EINTR) continue; return 125; }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      unsigned char chunk[FRAME_MAX];
      ssize_t got = read(0, chunk, sizeof chunk);
      if (got > 0) frame(&to_holder, F_INPUT, chunk, (uint32_t)got);
      else if (got == 0 || (errno != EAGAIN && errno != EINTR)) return 0; /* the worker went away: detach */
    }
    if ((fds[1].revents & POLLOUT) && flush(1, &to_stdout) != 0) return 0;
    if ((fds[2].revents & POLLOUT) && flush(sock, &to_holder) != 0) return 0;
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = read(sock, in.data + in.len, sizeof in.data - in.len);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return 0; /* replaced by a newer attach */
      if (got > 0) in.len += (size_t)got;
    }
  }
}

/* ---------------------------------------------------------------- the relay (on the worker's host) */

/*
 * Passes bytes both ways between stdin/stdout and the holder's abstract socket, untouched.
 * Both directions are non-blocking and buffered apart, so input (a Ctrl-C) still goes in
 * while the worker is not reading output.
 */
static int run_relay(const char *name) {
  struct sockaddr_un addr;
  socklen_t len = abstract_address(&addr, name);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || len == 0 || connect(sock, (struct sockaddr *)&addr, len) != 0) return EXIT_NO_HOLDER;
  signal(SIGPIPE, SIG_IGN);
  set_nonblocking(0);
  set_nonblocking(1);
  set_nonblocking(sock);
  struct buffer to_holder = {.len = 0}, to_stdout = {.len = 0};
  for (;;) {
    struct pollfd fds[3] = {
      {to_holder.len == 0 ? 0 : -1, POLLIN, 0},
      {to_stdout.len > 0 ? 1 : -1, POLLOUT, 0},
      {sock, (short)((to_stdout.len == 0 ? POLLIN : 0) | (to_holder.len > 0 ? POLLOUT : 0)), 0},
    };
    if (poll(fds, 3, -1) < 0) { if (errno == EINTR) continue; return 125; }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = read(0, to_holder.data, sizeof to_holder.data);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return 0; /* the worker detached */
      if (got > 0) to_holder.len = (size_t)got;
    }
    if ((fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) && flush(1, &to_stdout) != 0) return 0;
    if ((fds[2].revents & POLLOUT) && flush(sock, &to_holder) != 0) return 0;
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = read(sock, to_stdout.data, sizeof to_stdout.data);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        /* The holder ended the attach (the shell exited, or a newer attach won): pass on what is left. */
        fcntl(1, F_SETFL, fcntl(1, F_GETFL) & ~O_NONBLOCK);
        write_all(1, to_stdout.data, to_stdout.len);
        return 0;
      }
      if (got > 0) to_stdout.len = (size_t)got;
    }
  }
}

static int valid_name(const char *name) {
  if (!*name) return 0;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-')) return 0;
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "idle") == 0) {
    signal(SIGHUP, SIG_IGN);
    for (;;) pause();
  }
  int init = argc >= 2 && strcmp(argv[1], "init") == 0;
  /*
   * The container's command carries the main tab's tag until it becomes `idle`: a hang-up of
   * that tab (the warm pool's, before a setup script) arriving first must not end the container.
   */
  if (init) {
    signal(SIGHUP, SIG_IGN);
    argv[1] = "start"; /* the same start, then the wait below */
  }
  if (argc == 3 && strcmp(argv[1], "relay") == 0) {
    if (!valid_name(argv[2])) { fprintf(stderr, "shellroom-holder: bad name\n"); return 2; }
    return run_relay(argv[2]);
  }
  int start_only = argc >= 2 && strcmp(argv[1], "start") == 0;
  if (argc < 7 || (!start_only && strcmp(argv[1], "attach") != 0) || strcmp(argv[5], "--") != 0) {
    fprintf(stderr, "usage: shellroom-holder attach|start|init NAME COLS ROWS -- COMMAND [ARGS...], or relay NAME\n");
    return 2;
  }
  const char *name = argv[2];
  if (!valid_name(name)) { fprintf(stderr, "shellroom-holder: bad name\n"); return 2; }
  unsigned short cols = (unsigned short)atoi(argv[3]), rows = (unsigned short)atoi(argv[4]);
  char path[108];
  socket_path(path, sizeof path, name);
  if (start_only) {
    /*
     * A socket already there is taken as a running holder: connecting to find out would
     * replace its attached client. A dead holder's socket costs nothing: the next attach
     * finds nobody answering and starts the shell then.
     */
    struct stat st;
    if (init) {
      /* What an exec'd terminal gets besides the container's environment. */
      char value[16];
      snprintf(value, sizeof value, "%u", cols ? cols : 80);
      setenv("COLUMNS", value, 1);
      snprintf(value, sizeof value, "%u", rows ? rows : 24);
      setenv("LINES", value, 1);
      setenv("COLORTERM", "truecolor", 1);
    }
    if (lstat(path, &st) != 0) start_holder(path, name, cols ? cols : 80, rows ? rows : 24, argv + 6);
    if (init) {
      /* Waits under a name of its own: hanging up the terminal's tagged processes must not end the container. */
      execl("/proc/self/exe", "shellroom-holder", "idle", (char *)NULL);
      for (;;) pause();
    }
    return 0;
  }
  int sock = connect_to(path);
  if (sock < 0) {
    start_holder(path, name, cols ? cols : 80, rows ? rows : 24, argv + 6);
    for (int i = 0; i < 200 && sock < 0; i++) {
      sock = connect_to(path);
      if (sock < 0) usleep(10000);
    }
    if (sock < 0) die("connect");
  }
  return run_client(sock);
}
