#include "common.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

namespace berth {

static const char* ErrnoName(int err) {
  switch (err) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(EINTR) E(EIO) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY)
    E(EEXIST) E(ENODEV) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOSPC) E(EPIPE) E(ERANGE) E(ENOSYS)
    E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT)
    E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH)
    E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ETIMEDOUT) E(ECONNREFUSED)
    E(EHOSTDOWN) E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS) E(ENXIO)
#undef E
    default: return "EUNKNOWN";
  }
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  std::string msg = std::string(syscall) + ": " + std::strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  }
  return info[i].As<Napi::Number>().Int32Value();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  }
  return info[i].As<Napi::String>().Utf8Value();
}

// Parses an address of the given family (4 or 6) and port into a sockaddr_storage.
socklen_t ToSockaddr(Napi::Env env, int family, const std::string& addr, int port, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  if (family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, addr.c_str(), &sin->sin_addr) != 1) {
      throw Napi::TypeError::New(env, "not an IPv4 address: " + addr);
    }
    return sizeof *sin;
  }
  if (family == 6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    std::string host = addr;
    auto pct = host.find('%');  // fe80::1%eth0
    if (pct != std::string::npos) {
      sin6->sin6_scope_id = if_nametoindex(host.substr(pct + 1).c_str());
      host = host.substr(0, pct);
    }
    if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) {
      throw Napi::TypeError::New(env, "not an IPv6 address: " + addr);
    }
    return sizeof *sin6;
  }
  throw Napi::RangeError::New(env, "family must be 4 or 6");
}

int FamilyArg(const Napi::CallbackInfo& info, size_t i) {
  int family = IntArg(info, i, "family");
  if (family != 4 && family != 6) throw Napi::RangeError::New(info.Env(), "family must be 4 or 6");
  return family;
}

// ifIndex(name) -> index: if_nametoindex(3), in the caller's network namespace.
static Napi::Value IfIndex(const Napi::CallbackInfo& info) {
  std::string name = StringArg(info, 0, "name");
  unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) throw ErrnoError(info.Env(), errno, "if_nametoindex");
  return Napi::Number::New(info.Env(), idx);
}

void InitCommon(Napi::Env env, Napi::Object exports) {
  exports.Set("ifIndex", Napi::Function::New(env, IfIndex, "ifIndex"));
}

}  // namespace berth
