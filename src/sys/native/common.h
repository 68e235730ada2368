// Shared helpers of the berth_sys addon: errno -> JS error, argument checks.
#pragma once
#include <napi.h>
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/socket.h>

namespace berth {

// A JS Error shaped like node's system errors: message "syscall: strerror", code "EXXX", errno, syscall.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);

// Throws a TypeError unless info[i] is a number; returns it as int.
int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what);
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what);

// Parses an address of family 4 or 6 (IPv6 may carry %ifname) and a port; throws a TypeError/RangeError.
socklen_t ToSockaddr(Napi::Env env, int family, const std::string& addr, int port, sockaddr_storage* out);
// info[i] as a family (4 or 6); throws a RangeError otherwise.
int FamilyArg(const Napi::CallbackInfo& info, size_t i);

void InitCommon(Napi::Env env, Napi::Object exports);
void InitPacket(Napi::Env env, Napi::Object exports);
void InitTcp(Napi::Env env, Napi::Object exports);
void InitUdp(Napi::Env env, Napi::Object exports);

}  // namespace berth
