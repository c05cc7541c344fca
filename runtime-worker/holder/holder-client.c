/*
 * The two ways in to a holder: the attaching client (inside the container) and the relay
 * (on the worker's host, in the container's network namespace).
 */
#include "holder.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the attaching client */

static volatile sig_atomic_t resized = 1;
static void on_winch(int sig) { (void)sig; resized = 1; }

int run_client(int sock) {
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
int run_relay(const char *name) {
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
