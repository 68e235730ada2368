// berth_sys: the syscalls JavaScript cannot make. Two halves, each in its own file:
//   packet.cc  AF_PACKET sockets (ARP/NDP responders): bind to ifindex + EtherType, multicast
//              membership, send, and an event-loop driven receive (uv_poll, drain per wakeup).
//   tcp.cc     TCP sockets for the BGP speaker: TCP_MD5SIG (RFC 2385), IP_TTL/IPV6_UNICAST_HOPS,
//              IP_MINTTL/IPV6_MINHOPCOUNT (GTSM, RFC 5082), SO_BINDTODEVICE, bind, non-blocking
//              connect and a one-shot writability wait. The fds are handed to node's net module.
//   udp.cc     UDP with the received TTL / hop limit (BFD, RFC 5881 §5): IP_RECVTTL, recvmsg, sendto.
// Errors are thrown as JS Errors with `code` (errno name), `errno` and `syscall` set, like node's own.
#include <napi.h>
#include "common.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  berth::InitCommon(env, exports);
  berth::InitPacket(env, exports);
  berth::InitTcp(env, exports);
  berth::InitUdp(env, exports);
  return exports;
}

NODE_API_MODULE(berth_sys, Init)
