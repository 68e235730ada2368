// TCP sockets for the BGP speaker: the options node's net module does not expose.
//
// The TypeScript side creates an fd here, sets options, binds, then either connects (non-blocking,
// FdWatch waits for writability, SO_ERROR tells the outcome) or listens, and hands the fd to node's
// net.Socket / net.Server which own it from then on. Options:
//   TCP_MD5SIG           RFC 2385 segment signatures, one key per peer address (set on the listening
//                        socket for every peer, accepted sockets inherit them; on an outgoing socket
//                        before connect). An empty key deletes the entry.
//   IP_TTL / IPV6_UNICAST_HOPS      outgoing TTL / hop limit (eBGP multihop, GTSM sends 255).
//   IP_MINTTL / IPV6_MINHOPCOUNT    GTSM, RFC 5082 §3: drop segments below this TTL / hop limit.
//   SO_BINDTODEVICE      pin the session to an interface (unnumbered, VRF-less setups).
#include "common.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif
#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif

namespace berth {
namespace {

void SetInt(Napi::Env env, int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) < 0) throw ErrnoError(env, errno, what);
}

int GetInt(Napi::Env env, int fd, int level, int name, const char* what) {
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(fd, level, name, &value, &len) < 0) throw ErrnoError(env, errno, what);
  return value;
}

// socket(family) -> fd: a non-blocking, close-on-exec TCP socket.
Napi::Value Socket(const Napi::CallbackInfo& info) {
  int family = FamilyArg(info, 0);
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(info.Env(), errno, "socket");
  return Napi::Number::New(info.Env(), fd);
}

// setMd5(fd, peerFamily, peerAddress, key: Buffer) -- empty key deletes the peer's entry.
Napi::Value SetMd5(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  int family = FamilyArg(info, 1);
  std::string addr = StringArg(info, 2, "address");
  if (info.Length() < 4 || !info[3].IsBuffer()) throw Napi::TypeError::New(env, "key must be a Buffer");
  auto key = info[3].As<Napi::Buffer<uint8_t>>();
  tcp_md5sig sig{};
  if (key.Length() > TCP_MD5SIG_MAXKEYLEN) throw Napi::RangeError::New(env, "MD5 key longer than 80 bytes");
  ToSockaddr(env, family, addr, 0, &sig.tcpm_addr);
  sig.tcpm_keylen = static_cast<uint16_t>(key.Length());
  std::memcpy(sig.tcpm_key, key.Data(), key.Length());
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) < 0) {
    int err = errno;
    // Deleting a key that is not there is not an error for us: the wanted state holds.
    if (!(key.Length() == 0 && err == ENOENT)) throw ErrnoError(env, err, "setsockopt(TCP_MD5SIG)");
  }
  return env.Undefined();
}

// setTtl(fd, family, ttl) / getTtl(fd, family): IP_TTL or IPV6_UNICAST_HOPS.
Napi::Value SetTtl(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int family = FamilyArg(info, 1);
  int ttl = IntArg(info, 2, "ttl");
  if (family == 4) SetInt(info.Env(), fd, IPPROTO_IP, IP_TTL, ttl, "setsockopt(IP_TTL)");
  else SetInt(info.Env(), fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, "setsockopt(IPV6_UNICAST_HOPS)");
  return info.Env().Undefined();
}

Napi::Value GetTtl(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int family = FamilyArg(info, 1);
  int v = family == 4 ? GetInt(info.Env(), fd, IPPROTO_IP, IP_TTL, "getsockopt(IP_TTL)")
                      : GetInt(info.Env(), fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "getsockopt(IPV6_UNICAST_HOPS)");
  return Napi::Number::New(info.Env(), v);
}

// setMinTtl(fd, family, minTtl) / getMinTtl(fd, family): IP_MINTTL or IPV6_MINHOPCOUNT (GTSM).
Napi::Value SetMinTtl(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int family = FamilyArg(info, 1);
  int v = IntArg(info, 2, "minTtl");
  if (family == 4) SetInt(info.Env(), fd, IPPROTO_IP, IP_MINTTL, v, "setsockopt(IP_MINTTL)");
  else SetInt(info.Env(), fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, v, "setsockopt(IPV6_MINHOPCOUNT)");
  return info.Env().Undefined();
}

Napi::Value GetMinTtl(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int family = FamilyArg(info, 1);
  int v = family == 4 ? GetInt(info.Env(), fd, IPPROTO_IP, IP_MINTTL, "getsockopt(IP_MINTTL)")
                      : GetInt(info.Env(), fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, "getsockopt(IPV6_MINHOPCOUNT)");
  return Napi::Number::New(info.Env(), v);
}

// bindToDevice(fd, ifname) -- "" removes the binding.
Napi::Value BindToDevice(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  std::string dev = StringArg(info, 1, "device");
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev.c_str(), static_cast<socklen_t>(dev.size())) < 0) {
    throw ErrnoError(info.Env(), errno, "setsockopt(SO_BINDTODEVICE)");
  }
  return info.Env().Undefined();
}

// setReuseAddr(fd): for listeners, so a restarted speaker can bind while old sessions sit in TIME_WAIT.
Napi::Value SetReuseAddr(const Napi::CallbackInfo& info) {
  SetInt(info.Env(), IntArg(info, 0, "fd"), SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)");
  return info.Env().Undefined();
}

// setV6Only(fd, on)
Napi::Value SetV6Only(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  bool on = info.Length() > 1 && info[1].ToBoolean().Value();
  SetInt(info.Env(), fd, IPPROTO_IPV6, IPV6_V6ONLY, on ? 1 : 0, "setsockopt(IPV6_V6ONLY)");
  return info.Env().Undefined();
}

// bind(fd, family, address, port)
Napi::Value Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  int family = FamilyArg(info, 1);
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(env, family, StringArg(info, 2, "address"), IntArg(info, 3, "port"), &ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) throw ErrnoError(env, errno, "bind");
  return env.Undefined();
}

// connect(fd, family, address, port) -> true when connected at once, false when in progress.
Napi::Value Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  int family = FamilyArg(info, 1);
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(env, family, StringArg(info, 2, "address"), IntArg(info, 3, "port"), &ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return Napi::Boolean::New(env, true);
  if (errno == EINPROGRESS) return Napi::Boolean::New(env, false);
  throw ErrnoError(env, errno, "connect");
}

// socketError(fd) -> SO_ERROR as a JS error (or null): the outcome of a non-blocking connect.
Napi::Value SocketError(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int err = GetInt(env, IntArg(info, 0, "fd"), SOL_SOCKET, SO_ERROR, "getsockopt(SO_ERROR)");
  if (err == 0) return env.Null();
  return ErrnoError(env, err, "connect").Value();
}

Napi::Value Listen(const Napi::CallbackInfo& info) {
  if (::listen(IntArg(info, 0, "fd"), IntArg(info, 1, "backlog")) < 0) {
    throw ErrnoError(info.Env(), errno, "listen");
  }
  return info.Env().Undefined();
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  if (::close(IntArg(info, 0, "fd")) < 0) throw ErrnoError(info.Env(), errno, "close");
  return info.Env().Undefined();
}

// new FdWatch(fd, writable, onReady): calls onReady() once when the fd is readable (or writable),
// then stops. stop() cancels. Used to wait for a non-blocking connect to finish.
class FdWatch : public Napi::ObjectWrap<FdWatch> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdWatch", {InstanceMethod("stop", &FdWatch::StopJs)});
  }

  explicit FdWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatch>(info) {
    Napi::Env env = info.Env();
    int fd = IntArg(info, 0, "fd");
    bool writable = info.Length() > 1 && info[1].ToBoolean().Value();
    if (info.Length() < 3 || !info[2].IsFunction()) throw Napi::TypeError::New(env, "onReady must be a function");
    onReady_ = Napi::Persistent(info[2].As<Napi::Function>());
    asyncContext_ = new Napi::AsyncContext(env, "berth.FdWatch");
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    int rc = uv_poll_init_socket(loop, poll_, fd);
    if (rc == 0) rc = uv_poll_start(poll_, writable ? UV_WRITABLE : UV_READABLE, &FdWatch::OnReady);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      throw Napi::Error::New(env, std::string("uv_poll: ") + uv_strerror(rc));
    }
    Ref();
  }

  ~FdWatch() override {
    Stop();
    delete asyncContext_;
  }

 private:
  static void OnReady(uv_poll_t* handle, int /*status*/, int /*events*/) {
    auto* self = static_cast<FdWatch*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    self->Stop();
    {
      Napi::CallbackScope cbScope(env, *self->asyncContext_);
      try {
        self->onReady_.Call({});
      } catch (const Napi::Error& e) {
        napi_fatal_exception(env, e.Value());
      }
    }
    self->Unref();  // last: the wrapper may be collected from here on
  }

  Napi::Value StopJs(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) {
      Stop();
      Unref();
    }
    return info.Env().Undefined();
  }

  void Stop() {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }

  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference onReady_;
  Napi::AsyncContext* asyncContext_ = nullptr;
};

}  // namespace

void InitTcp(Napi::Env env, Napi::Object exports) {
  Napi::Object tcp = Napi::Object::New(env);
  tcp.Set("socket", Napi::Function::New(env, Socket, "socket"));
  tcp.Set("setMd5", Napi::Function::New(env, SetMd5, "setMd5"));
  tcp.Set("setTtl", Napi::Function::New(env, SetTtl, "setTtl"));
  tcp.Set("getTtl", Napi::Function::New(env, GetTtl, "getTtl"));
  tcp.Set("setMinTtl", Napi::Function::New(env, SetMinTtl, "setMinTtl"));
  tcp.Set("getMinTtl", Napi::Function::New(env, GetMinTtl, "getMinTtl"));
  tcp.Set("bindToDevice", Napi::Function::New(env, BindToDevice, "bindToDevice"));
  tcp.Set("setReuseAddr", Napi::Function::New(env, SetReuseAddr, "setReuseAddr"));
  tcp.Set("setV6Only", Napi::Function::New(env, SetV6Only, "setV6Only"));
  tcp.Set("bind", Napi::Function::New(env, Bind, "bind"));
  tcp.Set("connect", Napi::Function::New(env, Connect, "connect"));
  tcp.Set("socketError", Napi::Function::New(env, SocketError, "socketError"));
  tcp.Set("listen", Napi::Function::New(env, Listen, "listen"));
  tcp.Set("close", Napi::Function::New(env, Close, "close"));
  tcp.Set("FdWatch", FdWatch::Define(env));
  exports.Set("tcp", tcp);
}

}  // namespace berth
