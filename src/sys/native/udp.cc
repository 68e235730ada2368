// UDP sockets whose received TTL / hop limit is visible: BFD (RFC 5881 §5 single hop: a packet must
// arrive with TTL 255; RFC 5883 §2 multihop: at least the configured minimum). node:dgram cannot
// read it, so the receive side is here: IP_RECVTTL / IPV6_RECVHOPLIMIT, and recvmsg(2) returning the
// IP_TTL / IPV6_HOPLIMIT control message with each datagram.
//
// The TypeScript side (src/sys/udp.ts) creates the fd here, binds and sets the sending TTL with the
// tcp.* helpers (the options are the same), waits for readability with tcp.FdWatch and drains the
// socket with recv() until it returns null.
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace berth {
namespace {

// socket(family) -> fd: non-blocking, close-on-exec UDP with the received TTL / hop limit reported.
// IPv6 sockets are v6-only (an IPv4 peer gets an IPv4 socket).
Napi::Value Socket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = FamilyArg(info, 0);
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(env, errno, "socket");
  int one = 1;
  int rc = family == 4 ? setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof one)
                       : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
  if (rc == 0 && family == 6) rc = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (rc < 0) {
    int err = errno;
    ::close(fd);
    throw ErrnoError(env, err, family == 4 ? "setsockopt(IP_RECVTTL)" : "setsockopt(IPV6_RECVHOPLIMIT)");
  }
  return Napi::Number::New(env, fd);
}

// recv(fd, buffer) -> { length, address, port, ttl } or null when nothing is queued (EAGAIN).
// ttl is -1 when the kernel attached no TTL / hop limit. A datagram longer than the buffer is
// reported with its full length (MSG_TRUNC) so the caller can tell.
Napi::Value Recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  if (info.Length() < 2 || !info[1].IsBuffer()) throw Napi::TypeError::New(env, "buffer must be a Buffer");
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  sockaddr_storage from{};
  iovec iov{buf.Data(), buf.Length()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int)) * 2];
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    throw ErrnoError(env, errno, "recvmsg");
  }
  int ttl = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL;
    bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT;
    if (v4 || v6) std::memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
  }
  char text[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (from.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&from);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    port = ntohs(sin->sin_port);
  } else if (from.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&from);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    port = ntohs(sin6->sin6_port);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("length", Napi::Number::New(env, static_cast<double>(n)));
  out.Set("address", Napi::String::New(env, text));
  out.Set("port", Napi::Number::New(env, port));
  out.Set("ttl", Napi::Number::New(env, ttl));
  return out;
}

// sendTo(fd, family, address, port, buffer) -> bytes sent.
Napi::Value SendTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  int family = FamilyArg(info, 1);
  sockaddr_storage to;
  socklen_t len = ToSockaddr(env, family, StringArg(info, 2, "address"), IntArg(info, 3, "port"), &to);
  if (info.Length() < 5 || !info[4].IsBuffer()) throw Napi::TypeError::New(env, "payload must be a Buffer");
  auto buf = info[4].As<Napi::Buffer<uint8_t>>();
  ssize_t n;
  do {
    n = sendto(fd, buf.Data(), buf.Length(), 0, reinterpret_cast<sockaddr*>(&to), len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw ErrnoError(env, errno, "sendto");
  return Napi::Number::New(env, static_cast<double>(n));
}

// localPort(fd) -> the bound port (getsockname).
Napi::Value LocalPort(const Napi::CallbackInfo& info) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(IntArg(info, 0, "fd"), reinterpret_cast<sockaddr*>(&ss), &len) < 0) throw ErrnoError(info.Env(), errno, "getsockname");
  int port = ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                     : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return Napi::Number::New(info.Env(), port);
}

}  // namespace

void InitUdp(Napi::Env env, Napi::Object exports) {
  Napi::Object udp = Napi::Object::New(env);
  udp.Set("socket", Napi::Function::New(env, Socket, "socket"));
  udp.Set("recv", Napi::Function::New(env, Recv, "recv"));
  udp.Set("sendTo", Napi::Function::New(env, SendTo, "sendTo"));
  udp.Set("localPort", Napi::Function::New(env, LocalPort, "localPort"));
  exports.Set("udp", udp);
}

}  // namespace berth
