#pragma once
// What a module built as a shared object exports, so `<LoadModule>` can check it was built for
// this server before running any of its code. A module's CMake target gets the export from
// collage_add_module(... LOADABLE); out-of-tree modules use COLLAGE_DECLARE_MODULE themselves.

#include <cstdint>

namespace collage {

class Registry;

// Bumped whenever a public header changes in a way that breaks modules built against the old one.
inline constexpr std::uint32_t kModuleAbiVersion = 4;

#define COLLAGE_STRINGIFY_(x) #x
#define COLLAGE_STRINGIFY(x) COLLAGE_STRINGIFY_(x)
// The compiler family and C++ library ABI: a module built with another cannot share our types.
#if defined(__clang__)
#define COLLAGE_COMPILER_TAG "clang" COLLAGE_STRINGIFY(__clang_major__)
#else
#define COLLAGE_COMPILER_TAG "gcc" COLLAGE_STRINGIFY(__GNUC__)
#endif
#define COLLAGE_ABI_TAG \
  COLLAGE_COMPILER_TAG  \
  "-cxx11abi" COLLAGE_STRINGIFY(_GLIBCXX_USE_CXX11_ABI) "-cpp" COLLAGE_STRINGIFY(__cplusplus)

struct ModuleAbi {
  std::uint32_t abi_version;
  const char* abi_tag;
  const char* name;
  void (*register_module)(Registry& registry);
};

}  // namespace collage

// Declares the exported entry point of a loadable module.
#define COLLAGE_DECLARE_MODULE(module_name, register_function)                                  \
  extern "C" __attribute__((visibility("default"))) const collage::ModuleAbi collage_module = { \
      collage::kModuleAbiVersion, COLLAGE_ABI_TAG, module_name, register_function}
