// Shared helpers of the berth_sys addon: errno -> JS error, argument checks.
#pragma once
#include <napi.h>
#include <cerrno>
#include <cstring>
#include <string>

namespace berth {

// A JS Error shaped like node's system errors: message "syscall: strerror", code "EXXX", errno, syscall.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);

// Throws a TypeError unless info[i] is a number; returns it as int.
int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what);
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what);

void InitCommon(Napi::Env env, Napi::Object exports);
void InitPacket(Napi::Env env, Napi::Object exports);
void InitTcp(Napi::Env env, Napi::Object exports);

}  // namespace berth
