// AF_PACKET sockets for the L2 responders (ARP, IPv6 NDP).
//
// One socket = one interface (ifindex) + one EtherType, SOCK_RAW: frames are sent and received whole,
// Ethernet header included. Receive path: a uv_poll watches the fd; each wakeup drains every pending
// frame (bounded per wakeup so one busy socket cannot starve the loop) and hands them to JavaScript in
// one callback, onFrames(count). Nothing is allocated per frame: recvfrom(2) writes each frame
// straight into a receive area JavaScript allocated once (a Buffer), and a second JavaScript array
// (Int32Array) gets four numbers per frame: offset, length, ifindex, sll_pkttype. The area is reused
// by the next wakeup, so JavaScript must finish with (or copy) a frame inside the callback.
// An optional classic BPF program (SO_ATTACH_FILTER, attached before bind(2)) keeps frames the
// responder would drop (every IPv6 frame but Neighbor Solicitations, ARP replies) in the kernel. Frames we sent
// ourselves (PACKET_OUTGOING) are dropped here and, where the kernel supports it, never queued at all
// (PACKET_IGNORE_OUTGOING, Linux 4.20). Send path: send(2) on the bound socket, non-blocking.
// Multicast: PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP with PACKET_MR_MULTICAST, used for the
// solicited-node groups of NDP (33:33:ff:xx:xx:xx, RFC 4291 §2.7.1 / RFC 2464 §7).
// Per-CPU receive (openFanout): N sockets of one fanout group in PACKET_FANOUT_CPU mode, created in
// order so that socket i gets the frames the kernel receives on CPU i (the kernel picks member
// `cpu % N`, members indexed in join order). A thread pinned to CPU i (pinThread) that owns socket i
// (new PacketSocket(..., fd)) is woken on the CPU the request arrived on: no cross-CPU wake-up.
// A socket with EtherType 0 is send-only: bound to the interface, it never receives.
#include "common.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <vector>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace berth {
namespace {

#include <linux/filter.h>

// Largest frame kept whole (jumbo frames included); longer ones are truncated to this length.
constexpr size_t kMaxFrame = 16384;
constexpr int kMaxFramesPerWakeup = 1024;
constexpr int kMetaPerFrame = 4;  // offset, length, ifindex, pkttype

// Reads an optional classic BPF program argument (struct sock_filter[] bytes, host byte order).
std::vector<sock_filter> FilterArg(const Napi::CallbackInfo& info, size_t i) {
  std::vector<sock_filter> program;
  if (info.Length() > i && info[i].IsBuffer()) {
    auto f = info[i].As<Napi::Buffer<uint8_t>>();
    if (f.Length() == 0 || f.Length() % sizeof(sock_filter) != 0 || f.Length() / sizeof(sock_filter) > BPF_MAXINSNS) {
      throw Napi::RangeError::New(info.Env(), "filter must be 1..4096 instructions of 8 bytes");
    }
    program.resize(f.Length() / sizeof(sock_filter));
    std::memcpy(program.data(), f.Data(), f.Length());
  }
  return program;
}

// socket(2) + options + filter + bind(2). Returns the fd, or -1 with errno set and *failed naming
// the call that failed. EtherType 0: bound to the interface but no protocol, so nothing is queued
// (a send-only socket; see packet(7), "protocol 0").
int OpenBound(int ifindex, int etherType, int rcvbuf, const std::vector<sock_filter>& program, const char** failed) {
  // Protocol 0 at socket(2): nothing is queued until bind(2) names the interface and EtherType, so
  // no frame from another interface slips in between.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *failed = "socket";
    return -1;
  }
  int one = 1;
  // A burst (a LAN-wide ARP storm, a 10k req/s benchmark) must queue while JavaScript is busy.
  // SO_RCVBUFFORCE passes net.core.rmem_max with CAP_NET_ADMIN; without it, SO_RCVBUF (capped).
  if (rcvbuf > 0 && etherType != 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  // Best effort: older kernels lack it, the receive loop filters PACKET_OUTGOING anyway.
  (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  // The filter goes on before bind(2), so no frame is ever queued unfiltered.
  if (!program.empty()) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(program.size());
    prog.filter = const_cast<sock_filter*>(program.data());
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
      int err = errno;
      ::close(fd);
      errno = err;
      *failed = "setsockopt(SO_ATTACH_FILTER)";
      return -1;
    }
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(static_cast<uint16_t>(etherType));
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    *failed = "bind";
    return -1;
  }
  return fd;
}

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {
                           InstanceMethod("send", &PacketSocket::Send),
                           InstanceMethod("addMembership", &PacketSocket::AddMembership),
                           InstanceMethod("dropMembership", &PacketSocket::DropMembership),
                           InstanceMethod("stats", &PacketSocket::Stats),
                           InstanceMethod("ref", &PacketSocket::RefLoop),
                           InstanceMethod("unref", &PacketSocket::UnrefLoop),
                           InstanceMethod("close", &PacketSocket::Close),
                           InstanceMethod("detach", &PacketSocket::Detach),
                           InstanceAccessor("fd", &PacketSocket::GetFd, nullptr),
                       });
  }

  // new PacketSocket(ifindex, etherType, onFrames, receiveBufferBytes, area, meta, filter, fd)
  //   etherType: 0 for a send-only socket (never receives; no event-loop watch)
  //   area: Buffer (at least kMaxFrame bytes) the frames are received into
  //   meta: Int32Array of at least 4 entries; its length / 4 bounds the frames per callback
  //   filter: Buffer of struct sock_filter (8 bytes each, host byte order), or undefined
  //   fd: optional; adopt this already bound socket (from openFanout) instead of opening one. The
  //       PacketSocket owns it from then on (closes it on close()).
  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    ifindex_ = IntArg(info, 0, "ifindex");
    etherType_ = IntArg(info, 1, "etherType");
    if (info.Length() < 3 || !info[2].IsFunction()) {
      throw Napi::TypeError::New(env, "onFrames must be a function");
    }
    if (ifindex_ <= 0) throw Napi::RangeError::New(env, "ifindex must be positive");
    if (etherType_ < 0 || etherType_ > 0xffff) throw Napi::RangeError::New(env, "etherType out of range");
    onFrames_ = Napi::Persistent(info[2].As<Napi::Function>());
    if (info.Length() < 6 || !info[4].IsBuffer() || !info[5].IsTypedArray()) {
      throw Napi::TypeError::New(env, "receive area (Buffer) and meta (Int32Array) are required");
    }
    auto area = info[4].As<Napi::Buffer<uint8_t>>();
    auto meta = info[5].As<Napi::TypedArray>();
    if (meta.TypedArrayType() != napi_int32_array) throw Napi::TypeError::New(env, "meta must be an Int32Array");
    if (area.Length() < kMaxFrame) throw Napi::RangeError::New(env, "receive area too small");
    if (meta.ElementLength() < static_cast<size_t>(kMetaPerFrame)) throw Napi::RangeError::New(env, "meta too small");
    // The references keep both alive (and their memory in place: neither can be detached from C++'s
    // point of view while referenced, and JavaScript never transfers them).
    areaRef_ = Napi::Persistent(info[4].As<Napi::Object>());
    metaRef_ = Napi::Persistent(info[5].As<Napi::Object>());
    area_ = area.Data();
    areaLen_ = area.Length();
    auto metaArr = info[5].As<Napi::Int32Array>();
    meta_ = metaArr.Data();
    maxFrames_ = static_cast<int>(metaArr.ElementLength() / kMetaPerFrame);
    if (maxFrames_ > kMaxFramesPerWakeup) maxFrames_ = kMaxFramesPerWakeup;
    std::vector<sock_filter> program = FilterArg(info, 6);
    int adopt = info.Length() > 7 && info[7].IsNumber() ? info[7].As<Napi::Number>().Int32Value() : -1;
    asyncContext_ = new Napi::AsyncContext(env, "berth.PacketSocket");

    if (adopt >= 0) {
      fd_ = adopt;
    } else {
      int rcvbuf = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
      const char* failed = "socket";
      fd_ = OpenBound(ifindex_, etherType_, rcvbuf, program, &failed);
      if (fd_ < 0) throw ErrnoError(env, errno, failed);
    }
    if (etherType_ != 0) {
      uv_loop_t* loop = nullptr;
      napi_get_uv_event_loop(env, &loop);
      poll_ = new uv_poll_t;
      poll_->data = this;
      int rc = uv_poll_init_socket(loop, poll_, fd_);
      if (rc == 0) rc = uv_poll_start(poll_, UV_READABLE, &PacketSocket::OnReadable);
      if (rc != 0) {
        delete poll_;
        poll_ = nullptr;
        ::close(fd_);
        fd_ = -1;
        throw Napi::Error::New(env, std::string("uv_poll: ") + uv_strerror(rc));
      }
    }
    Ref();  // an open socket stays alive while JavaScript holds no reference but the loop does
  }

  ~PacketSocket() override {
    Shutdown();
    delete asyncContext_;
  }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<PacketSocket*>(handle->data);
    if (self == nullptr) return;
    self->Drain(status);
  }

  void Drain(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status < 0 && fd_ >= 0) {
      // The kernel flags a packet socket with ENETDOWN when its interface goes down (and re-arms
      // it when the interface comes back). libuv reports that error once and stops the poll, so
      // clear the pending error and watch again: the socket must survive a link flap.
      int err = 0;
      socklen_t len = sizeof err;
      (void)getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      uv_poll_start(poll_, UV_READABLE, &PacketSocket::OnReadable);
    }
    int n = 0;
    size_t used = 0;
    while (n < maxFrames_ && fd_ >= 0 && areaLen_ - used >= kMaxFrame) {
      sockaddr_ll from{};
      socklen_t fromLen = sizeof from;
      ssize_t got = recvfrom(fd_, area_ + used, kMaxFrame, MSG_DONTWAIT | MSG_TRUNC,
                             reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (got < 0) break;  // EAGAIN: drained. Other errors (ENETDOWN when the link drops) retry later.
      if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own (or our host's) transmissions
      size_t len = static_cast<size_t>(got) > kMaxFrame ? kMaxFrame : static_cast<size_t>(got);
      int32_t* m = meta_ + n * kMetaPerFrame;
      m[0] = static_cast<int32_t>(used);
      m[1] = static_cast<int32_t>(len);
      m[2] = from.sll_ifindex;
      m[3] = from.sll_pkttype;
      used += (len + 7) & ~static_cast<size_t>(7);
      n++;
    }
    if (n == 0) return;
    Napi::CallbackScope cbScope(env, *asyncContext_);
    try {
      onFrames_.Call(Value(), {Napi::Number::New(env, n)});
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "send");
    if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "frame must be a Buffer");
    auto frame = info[0].As<Napi::Buffer<uint8_t>>();
    ssize_t sent = ::send(fd_, frame.Data(), frame.Length(), MSG_DONTWAIT);
    if (sent < 0 && errno == ENETDOWN) {
      // Possibly the stale error of an earlier link flap (reported by the first call after it):
      // try once more; a link that is really down answers ENETDOWN again.
      sent = ::send(fd_, frame.Data(), frame.Length(), MSG_DONTWAIT);
    }
    if (sent < 0) throw ErrnoError(env, errno, "send");
    return Napi::Number::New(env, static_cast<double>(sent));
  }

  void Membership(const Napi::CallbackInfo& info, int op, const char* name) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, name);
    if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "mac must be a Buffer");
    auto mac = info[0].As<Napi::Buffer<uint8_t>>();
    if (mac.Length() != 6) throw Napi::RangeError::New(env, "mac must be 6 bytes");
    packet_mreq mreq{};
    mreq.mr_ifindex = ifindex_;
    mreq.mr_type = PACKET_MR_MULTICAST;
    mreq.mr_alen = 6;
    std::memcpy(mreq.mr_address, mac.Data(), 6);
    if (setsockopt(fd_, SOL_PACKET, op, &mreq, sizeof mreq) < 0) throw ErrnoError(env, errno, name);
  }

  Napi::Value AddMembership(const Napi::CallbackInfo& info) {
    Membership(info, PACKET_ADD_MEMBERSHIP, "setsockopt(PACKET_ADD_MEMBERSHIP)");
    return info.Env().Undefined();
  }

  Napi::Value DropMembership(const Napi::CallbackInfo& info) {
    Membership(info, PACKET_DROP_MEMBERSHIP, "setsockopt(PACKET_DROP_MEMBERSHIP)");
    return info.Env().Undefined();
  }

  // Kernel counters since the previous call (PACKET_STATISTICS resets on read): received, dropped.
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "getsockopt(PACKET_STATISTICS)");
    tpacket_stats st{};
    socklen_t len = sizeof st;
    if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) {
      throw ErrnoError(env, errno, "getsockopt(PACKET_STATISTICS)");
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("packets", Napi::Number::New(env, st.tp_packets));
    out.Set("drops", Napi::Number::New(env, st.tp_drops));
    return out;
  }

  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool wasOpen = fd_ >= 0;
    Shutdown();
    if (wasOpen) Unref();
    return info.Env().Undefined();
  }

  // detach() -> fd: stops watching the socket and gives its fd up without closing it (to hand it to
  // another thread's PacketSocket). Frames that arrive meanwhile wait in the kernel's queue.
  Napi::Value Detach(const Napi::CallbackInfo& info) {
    int fd = fd_;
    fd_ = -1;  // Shutdown() must not close it
    Shutdown();
    if (fd >= 0) Unref();
    return Napi::Number::New(info.Env(), fd);
  }

  void Shutdown() {
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  int fd_ = -1;
  int ifindex_ = 0;
  int etherType_ = 0;
  uv_poll_t* poll_ = nullptr;
  uint8_t* area_ = nullptr;
  size_t areaLen_ = 0;
  int32_t* meta_ = nullptr;
  int maxFrames_ = 0;
  Napi::ObjectReference areaRef_;
  Napi::ObjectReference metaRef_;
  Napi::FunctionReference onFrames_;
  Napi::AsyncContext* asyncContext_ = nullptr;
};

// openFanout(ifindex, etherType, filter, receiveBufferBytes, count) -> fds[count]: sockets of one new
// fanout group (packet(7) PACKET_FANOUT), mode PACKET_FANOUT_CPU, in join order: fds[i] receives the
// frames the kernel handles on CPU i (for i < count; CPU c goes to member c % count). The group id
// is chosen by the kernel (PACKET_FANOUT_FLAG_UNIQUEID, Linux 4.2), so two berth processes in one
// network namespace never share a group. PACKET_FANOUT_FLAG_ROLLOVER: when one member's receive
// buffer is nearly full (its thread is stalled), frames go to another member rather than being dropped.
// The fds are non-blocking and close-on-exec; the caller hands each to a PacketSocket (or closes it).
Napi::Value OpenFanout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = IntArg(info, 0, "ifindex");
  int etherType = IntArg(info, 1, "etherType");
  if (ifindex <= 0) throw Napi::RangeError::New(env, "ifindex must be positive");
  if (etherType <= 0 || etherType > 0xffff) throw Napi::RangeError::New(env, "etherType out of range");
  std::vector<sock_filter> program = FilterArg(info, 2);
  int rcvbuf = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  int count = IntArg(info, 4, "count");
  if (count < 1 || count > 1024) throw Napi::RangeError::New(env, "count must be 1..1024");
  std::vector<int> fds;
  auto fail = [&](int err, const char* what) {
    for (int fd : fds) ::close(fd);
    return ErrnoError(env, err, what);
  };
  int group = 0;
  for (int i = 0; i < count; i++) {
    const char* failed = "socket";
    int fd = OpenBound(ifindex, etherType, rcvbuf, program, &failed);
    if (fd < 0) throw fail(errno, failed);
    fds.push_back(fd);
    int flags = PACKET_FANOUT_FLAG_ROLLOVER | (i == 0 ? PACKET_FANOUT_FLAG_UNIQUEID : 0);
    int arg = group | ((PACKET_FANOUT_CPU | flags) << 16);
    if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) < 0) throw fail(errno, "setsockopt(PACKET_FANOUT)");
    if (i == 0) {
      int got = 0;
      socklen_t len = sizeof got;
      if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &got, &len) < 0) throw fail(errno, "getsockopt(PACKET_FANOUT)");
      group = got & 0xffff;
    }
  }
  Napi::Array out = Napi::Array::New(env, fds.size());
  for (size_t i = 0; i < fds.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds[i]));
  return out;
}

// closeFd(fd): for fds from openFanout that never reached a PacketSocket.
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  if (fd >= 0) ::close(fd);
  return info.Env().Undefined();
}

// pinThread(cpu): sched_setaffinity(2) of the calling thread only (pid 0 = the caller's thread id).
Napi::Value PinThread(const Napi::CallbackInfo& info) {
  int cpu = IntArg(info, 0, "cpu");
  if (cpu < 0 || cpu >= CPU_SETSIZE) throw Napi::RangeError::New(info.Env(), "cpu out of range");
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) < 0) throw ErrnoError(info.Env(), errno, "sched_setaffinity");
  return info.Env().Undefined();
}

// threadAffinity() -> the CPUs the calling thread may run on (sched_getaffinity(2)), ascending.
Napi::Value ThreadAffinity(const Napi::CallbackInfo& info) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) < 0) throw ErrnoError(info.Env(), errno, "sched_getaffinity");
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (CPU_ISSET(c, &set)) out.Set(n++, Napi::Number::New(info.Env(), c));
  }
  return out;
}

// currentCpu() -> the CPU the calling thread runs on now (sched_getcpu(3)); for tests and diagnostics.
Napi::Value CurrentCpu(const Napi::CallbackInfo& info) {
  int c = sched_getcpu();
  if (c < 0) throw ErrnoError(info.Env(), errno, "sched_getcpu");
  return Napi::Number::New(info.Env(), c);
}

}  // namespace

void InitPacket(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Define(env));
  exports.Set("openFanout", Napi::Function::New(env, OpenFanout, "openFanout"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("pinThread", Napi::Function::New(env, PinThread, "pinThread"));
  exports.Set("threadAffinity", Napi::Function::New(env, ThreadAffinity, "threadAffinity"));
  exports.Set("currentCpu", Napi::Function::New(env, CurrentCpu, "currentCpu"));
}

}  // namespace berth
