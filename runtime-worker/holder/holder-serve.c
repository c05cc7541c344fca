/*
 * The holder daemon: owns the pseudo-terminal with the shell on it, keeps the last
 * RING_BYTES of its output and the count of every byte, and serves one client at a time
 * (the newest attach wins) on its path socket and its abstract relay socket.
 */
#include "holder.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RING_BYTES (256 * 1024)

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
void start_holder(const char *path, const char *name, unsigned short cols, unsigned short rows, char **command) {
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
