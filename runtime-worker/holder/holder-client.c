/*
 * The two ways in to a holder: the attaching client (inside the container) and the hand-over
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

/* ---------------------------------------------------------------- the hand-over (on the worker's host) */

/*
 * Connects to the holder's abstract socket (nsenter put this process in the container's network
 * namespace, and only there) and hands the connected socket to the worker over its IPC channel
 * (fd HANDOVER_FD), as the message Node reads a passed handle from: a JSON line with the socket
 * in SCM_RIGHTS beside it. Node answers with a line of its own once it holds the socket; then
 * this process leaves, and the worker talks to the holder with no process in between (before, a
 * relay process stayed for the attach's life and copied every byte twice).
 */
int run_handover(const char *name) {
  struct sockaddr_un addr;
  socklen_t len = abstract_address(&addr, name);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || len == 0 || connect(sock, (struct sockaddr *)&addr, len) != 0) return EXIT_NO_HOLDER;
  static const char line[] = "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"holder\":\"connected\"}}\n";
  struct iovec iov = {.iov_base = (void *)line, .iov_len = sizeof line - 1};
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
  struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
  rights->cmsg_level = SOL_SOCKET;
  rights->cmsg_type = SCM_RIGHTS;
  rights->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(rights), &sock, sizeof(int));
  ssize_t sent;
  do sent = sendmsg(HANDOVER_FD, &message, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent != (ssize_t)iov.iov_len) { perror("shellroom-holder: hand-over"); return 125; }
  /* Node's acknowledgement (or the channel's end): the socket is the worker's from here. */
  char ack[256];
  ssize_t got;
  do got = read(HANDOVER_FD, ack, sizeof ack);
  while (got < 0 && errno == EINTR);
  return 0;
}
