// A module that claims another module ABI: <LoadModule> must refuse it before running its code.
#include "collage/module_abi.h"

namespace {
void must_never_run(collage::Registry&) {
  __builtin_trap();
}
}  // namespace

extern "C" __attribute__((visibility("default"))) const collage::ModuleAbi collage_module = {
    collage::kModuleAbiVersion + 1, COLLAGE_ABI_TAG, "badabi", must_never_run};
